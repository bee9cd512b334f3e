"""Webhook sinks: HTTP(S) POST, or a drop folder (file://) an ERP imports from.

The outbox stores one standard JSON payload per action (inbox_ocr/outbox.py); a sink renders it
through the webhook's Jinja2 template (sandboxed) at delivery time, so a fixed template and
`inbox-ocr outbox retry ID` re-drive a dead letter. Shipped templates live in
inbox_ocr/templates/webhooks: generic, jira, zendesk, freshdesk, erp_invoice.

HTTP delivery sends `Idempotency-Key`, authenticates as configured (bearer, basic, or an HMAC
signature of the exact body bytes), follows a redirect only to the same scheme, host and port
(never to another host), and goes through a circuit breaker per target: after `breaker_failures`
failures in a row a target gets nothing for `breaker_cooldown` seconds, then one trial request.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlparse

import requests

import inbox_ocr
from connectors.base import Delivery, Sink
from inbox_ocr.errors import ConfigError, DeliveryFailed, DeliveryRejected
from inbox_ocr.settings import WebhookConfig

log = logging.getLogger(__name__)

USER_AGENT = "inbox-ocr/0.1"
RETRYABLE_STATUS = frozenset({408, 425, 429})
SHIPPED_TEMPLATES = Path(inbox_ocr.__file__).resolve().parent / "templates" / "webhooks"
MAX_REDIRECTS = 3
INVOICE_TYPES = ("invoice", "credit_note")


def signature(secret: str, body: bytes) -> str:
    """The X-Signature header value: `sha256=` + hex HMAC-SHA256 of the exact body bytes."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# --------------------------------------------------------------------------- templates


class PayloadTemplate:
    """A webhook's payload template, compiled once (a syntax error is a config error at start)."""

    def __init__(self, webhook: str, spec: str, variables: dict[str, str], content_type: str) -> None:
        from jinja2 import ChainableUndefined, TemplateSyntaxError, Undefined
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        path = _template_path(spec)
        try:
            source = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError("<config>", [f"webhooks.{webhook}.template: cannot read {path}: {exc.strerror}"]) from exc
        # undefined lookups (a field the extraction did not find) chain to null instead of failing
        env = ImmutableSandboxedEnvironment(undefined=ChainableUndefined, autoescape=False, keep_trailing_newline=False)

        def to_json(value: Any) -> str:
            return json.dumps(None if isinstance(value, Undefined) else value, ensure_ascii=False, default=str)

        env.filters["tojson"] = to_json
        try:
            self.template = env.from_string(source)
        except TemplateSyntaxError as exc:
            raise ConfigError(
                "<config>", [f"webhooks.{webhook}.template: {path.name} line {exc.lineno}: {exc.message}"]
            ) from exc
        self.name = path.name
        self.webhook = webhook
        self.variables = dict(variables)
        self.is_json = "json" in content_type

    def render(self, payload: bytes) -> bytes:
        """The body for one delivery. A template that fails or renders invalid JSON makes the
        delivery a dead letter (DeliveryRejected): retrying the same template would not help."""
        from jinja2 import TemplateError

        try:
            data = json.loads(payload)
            text = self.template.render(template_context(data, self.variables, self.webhook))
        except (ValueError, TemplateError) as exc:
            raise DeliveryRejected(f"template {self.name} failed: {type(exc).__name__}: {exc}") from exc
        if self.is_json:
            try:
                json.loads(text)
            except ValueError as exc:
                raise DeliveryRejected(f"template {self.name} rendered invalid JSON: {exc}") from exc
        return text.encode("utf-8")


def template_context(payload: dict[str, Any], variables: dict[str, str], webhook: str) -> dict[str, Any]:
    """What a template sees: the payload's keys, plus `payload` itself, `vars`, and the first
    invoice or credit note (else the first document) as `document`, its `fields` and `doc_type`."""
    documents = [d for d in payload.get("documents") or [] if isinstance(d, dict)]
    document = next((d for d in documents if d.get("doc_type") in INVOICE_TYPES), documents[0] if documents else None)
    return {
        **payload,
        "payload": payload,
        "vars": variables,
        "webhook": webhook,
        "documents": documents,
        "document": document,
        "fields": (document or {}).get("fields") or {},
        "doc_type": (document or {}).get("doc_type"),
    }


def _template_path(spec: str) -> Path:
    shipped = SHIPPED_TEMPLATES / f"{spec}.json.j2"
    return shipped if "/" not in spec and shipped.exists() else Path(spec)


def shipped_templates() -> list[str]:
    return sorted(p.name.removesuffix(".json.j2") for p in SHIPPED_TEMPLATES.glob("*.json.j2"))


# --------------------------------------------------------------------------- circuit breaker


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
        target = _origin(url)
        with self._lock:
            breaker = self._by_target.get(target)
            if breaker is None:
                breaker = self._by_target[target] = CircuitBreaker(
                    target, config.breaker_failures, config.breaker_cooldown, self.clock
                )
            return breaker


BREAKERS = Breakers()


# --------------------------------------------------------------------------- sinks


class HttpSink:
    def __init__(
        self,
        name: str,
        config: WebhookConfig,
        session: requests.Session | None = None,
        breakers: Breakers | None = None,
    ) -> None:
        self.name = name
        self.config = config
        self.session = session or requests.Session()
        self.template = (
            PayloadTemplate(name, config.template, config.template_vars, config.content_type)
            if config.template
            else None
        )
        self.breaker = (breakers or BREAKERS).for_url(config.url, config)

    def headers(self, delivery: Delivery, body: bytes) -> dict[str, str]:
        headers = {
            "Content-Type": self.config.content_type,
            "User-Agent": USER_AGENT,
            "Idempotency-Key": delivery.idempotency_key,
            **self.config.headers,
        }
        if self.config.secret is not None:
            headers["X-Signature"] = signature(self.config.secret.get_secret_value(), body)
        auth = self.config.auth
        if auth is not None:
            if auth.type == "bearer" and auth.token is not None:
                headers["Authorization"] = f"Bearer {auth.token.get_secret_value()}"
            elif auth.type == "basic" and auth.password is not None:
                pair = f"{auth.username}:{auth.password.get_secret_value()}".encode()
                headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
            elif auth.type == "hmac" and auth.secret is not None:
                headers[auth.header] = signature(auth.secret.get_secret_value(), body)
        return headers

    def deliver(self, delivery: Delivery) -> str:
        body = self.template.render(delivery.payload) if self.template else delivery.payload
        self.breaker.before_request()
        try:
            receipt = self._post(body, self.headers(delivery, body))
        except DeliveryFailed:
            self.breaker.failed()
            raise
        self.breaker.succeeded()  # a 4xx rejection also shows the target is up
        return receipt

    def _post(self, body: bytes, headers: dict[str, str]) -> str:
        url = self.config.url
        for _ in range(MAX_REDIRECTS + 1):
            try:
                response = self.session.post(
                    url, data=body, headers=headers, timeout=self.config.timeout, allow_redirects=False
                )
            except requests.RequestException as exc:
                raise DeliveryFailed(f"{type(exc).__name__}: {_short(str(exc))}") from exc
            status = response.status_code
            if 200 <= status < 300:
                return f"HTTP {status}"
            if 300 <= status < 400:
                target = urljoin(url, response.headers.get("Location", ""))
                # 307/308 keep method and body; only those, and only on the same origin: a redirect to
                # another host could hand the signed payload and credentials to a stranger
                if status in (307, 308) and _origin(target) == _origin(url):
                    url = target
                    continue
                raise DeliveryRejected(f"HTTP {status}: redirect to {_origin(target)} not followed")
            if status >= 500 or status in RETRYABLE_STATUS:
                raise DeliveryFailed(f"HTTP {status}")
            raise DeliveryRejected(f"HTTP {status}: {_short(response.text)}")
        raise DeliveryRejected(f"more than {MAX_REDIRECTS} redirects")


class FileSink:
    """Writes each payload (rendered through the template, if any) as `<idempotency key>.json`
    into a folder, atomically; the same key twice overwrites the same file, so a redelivery never
    makes a second document."""

    def __init__(self, name: str, config: WebhookConfig) -> None:
        self.name = name
        parsed = urlparse(config.url)
        self.folder = Path(unquote(parsed.netloc + parsed.path))
        self.template = (
            PayloadTemplate(name, config.template, config.template_vars, config.content_type)
            if config.template
            else None
        )

    def deliver(self, delivery: Delivery) -> str:
        body = self.template.render(delivery.payload) if self.template else delivery.payload
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            target = self.folder / f"{delivery.idempotency_key}.json"
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-")
            with os.fdopen(fd, "wb") as fh:
                fh.write(body)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except OSError as exc:
            raise DeliveryFailed(f"cannot write to {self.folder}: {exc.strerror}") from exc
        return f"file {target.name}"


def make_sink(name: str, config: WebhookConfig, breakers: Breakers | None = None) -> Sink:
    if config.url.startswith("file://"):
        return FileSink(name, config)
    return HttpSink(name, config, breakers=breakers)


def _origin(url: str) -> str:
    parts = urlparse(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme, 0)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
