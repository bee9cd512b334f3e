"""Circuit breakers per webhook target: after `breaker_failures` failures in a row a target gets
nothing for `breaker_cooldown` seconds, then one trial request."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from urllib.parse import urlparse

from connectors.webhook_out.config import WebhookConfig
from inbox_ocr.kernel.errors import DeliveryFailed

log = logging.getLogger("connectors.webhook_out")


class CircuitBreaker:
    """Closed → open after `failures` in a row → after `cooldown`, half-open: one trial request;
    its success closes the circuit, its failure opens it again."""

    def __init__(self, target: str, failures: int, cooldown: float, clock: Callable[[], float]) -> None:
        self.target = target
        self.failures = failures
        self.cooldown = cooldown
        self.clock = clock
        self.consecutive = 0
        self.opened_at: float | None = None
        self.lock = threading.Lock()

    @property
    def state(self) -> str:
        if self.opened_at is None:
            return "closed"
        return "half-open" if self.clock() - self.opened_at >= self.cooldown else "open"

    def before_request(self) -> None:
        with self.lock:
            if self.state == "open":
                assert self.opened_at is not None
                wait = self.cooldown - (self.clock() - self.opened_at)
                raise DeliveryFailed(
                    f"circuit open for {self.target} after {self.consecutive} failures in a row; "
                    f"next trial in {wait:.0f}s"
                )

    def succeeded(self) -> None:
        with self.lock:
            if self.opened_at is not None:
                log.info("event=circuit_closed target=%s", self.target)
            self.consecutive, self.opened_at = 0, None

    def failed(self) -> None:
        with self.lock:
            self.consecutive += 1
            if self.opened_at is not None or self.consecutive >= self.failures:
                if self.state != "open":
                    log.warning(
                        "event=circuit_open target=%s failures=%d cooldown=%.0fs",
                        self.target,
                        self.consecutive,
                        self.cooldown,
                    )
                self.opened_at = self.clock()


class Breakers:
    """One breaker per target (scheme, host, port), shared by every webhook that posts there."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._by_target: dict[str, CircuitBreaker] = {}
        self._lock = threading.Lock()

    def for_url(self, url: str, config: WebhookConfig) -> CircuitBreaker:
        target = origin(url)
        with self._lock:
            breaker = self._by_target.get(target)
            if breaker is None:
                breaker = self._by_target[target] = CircuitBreaker(
                    target, config.breaker_failures, config.breaker_cooldown, self.clock
                )
            return breaker


def origin(url: str) -> str:
    """scheme://host:port of a URL, the port made explicit."""
    parts = urlparse(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme, 0)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"
