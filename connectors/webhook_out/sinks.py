"""Webhook sinks: HTTP(S) POST, or a drop folder (file://) an ERP imports from.

The outbox stores one standard JSON payload per action (inbox_ocr/orchestration/outbox.py); a sink
renders it through the webhook's Jinja2 template (templates.py) at delivery time, so a fixed
template and `inbox-ocr outbox retry ID` re-drive a dead letter.

HTTP delivery sends `Idempotency-Key`, authenticates as configured (bearer, basic, or an HMAC
signature of the exact body bytes), follows a 307/308 redirect only to the same scheme, host and
port (never to another host or port), and goes through a circuit breaker per target: after `breaker_failures`
failures in a row a target gets nothing for `breaker_cooldown` seconds, then one trial request.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import tempfile
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

import requests

from connectors.httpguard import UnsafeUrl, connect_origin
from connectors.webhook_out.breaker import Breakers
from connectors.webhook_out.config import WebhookConfig
from connectors.webhook_out.templates import PayloadTemplate
from inbox_ocr.kernel.errors import DeliveryFailed, DeliveryRejected
from inbox_ocr.kernel.ports import Delivery, Sink

log = logging.getLogger("connectors.webhook_out")

USER_AGENT = "inbox-ocr/0.1"
RETRYABLE_STATUS = frozenset({408, 425, 429})
MAX_REDIRECTS = 3


def signature(secret: str, body: bytes) -> str:
    """The X-Signature header value: `sha256=` + hex HMAC-SHA256 of the exact body bytes."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


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
        self.breaker = (breakers or Breakers()).for_url(config.url, config)

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
                # 307/308 keep method and body; only those, and only to the same scheme, host and port
                # as the client would connect to (not as urlparse reads the URL: see httpguard): a
                # redirect elsewhere could hand the signed payload and credentials to a stranger
                try:
                    here, there = connect_origin(url), connect_origin(target)
                except UnsafeUrl as exc:
                    raise DeliveryRejected(f"HTTP {status}: redirect not followed: {exc}") from exc
                if status in (307, 308) and there.same_as(here) and not there.has_credentials:
                    url = target
                    continue
                raise DeliveryRejected(f"HTTP {status}: redirect to {there} not followed")
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
    if config.paperless is not None:
        from connectors.webhook_out.paperless import PaperlessSink

        return PaperlessSink(name, config, breakers=breakers)
    if config.url.startswith("file://"):
        return FileSink(name, config)
    return HttpSink(name, config, breakers=breakers)


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
