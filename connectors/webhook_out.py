"""Webhook sinks: HTTP(S) POST with an HMAC signature, or a drop folder (file://) an ERP imports from."""

from __future__ import annotations

import hashlib
import hmac
import os
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlparse

import requests

from connectors.base import Delivery, Sink
from inbox_ocr.errors import DeliveryFailed, DeliveryRejected
from inbox_ocr.settings import WebhookConfig

USER_AGENT = "inbox-ocr/0.1"
RETRYABLE_STATUS = frozenset({408, 425, 429})


def signature(secret: str, body: bytes) -> str:
    """The X-Signature header value: `sha256=` + hex HMAC-SHA256 of the exact body bytes."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class HttpSink:
    def __init__(self, name: str, config: WebhookConfig, session: requests.Session | None = None) -> None:
        self.name = name
        self.config = config
        self.session = session or requests.Session()

    def deliver(self, delivery: Delivery) -> str:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Idempotency-Key": delivery.idempotency_key,
            **self.config.headers,
        }
        if self.config.secret is not None:
            headers["X-Signature"] = signature(self.config.secret.get_secret_value(), delivery.payload)
        try:
            response = self.session.post(
                self.config.url, data=delivery.payload, headers=headers, timeout=self.config.timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise DeliveryFailed(f"{type(exc).__name__}: {_short(str(exc))}") from exc
        status = response.status_code
        if 200 <= status < 300:
            return f"HTTP {status}"
        if 300 <= status < 400:
            raise DeliveryRejected(f"HTTP {status}: redirect to {response.headers.get('Location', '?')} not followed")
        if status >= 500 or status in RETRYABLE_STATUS:
            raise DeliveryFailed(f"HTTP {status}")
        raise DeliveryRejected(f"HTTP {status}: {_short(response.text)}")


class FileSink:
    """Writes each payload as `<idempotency key>.json` into a folder, atomically; the same key twice
    overwrites the same file, so a redelivery never makes a second document."""

    def __init__(self, name: str, config: WebhookConfig) -> None:
        self.name = name
        parsed = urlparse(config.url)
        self.folder = Path(unquote(parsed.netloc + parsed.path))

    def deliver(self, delivery: Delivery) -> str:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            target = self.folder / f"{delivery.idempotency_key}.json"
            fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-")
            with os.fdopen(fd, "wb") as fh:
                fh.write(delivery.payload)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except OSError as exc:
            raise DeliveryFailed(f"cannot write to {self.folder}: {exc.strerror}") from exc
        return f"file {target.name}"


def make_sink(name: str, config: WebhookConfig) -> Sink:
    if config.url.startswith("file://"):
        return FileSink(name, config)
    return HttpSink(name, config)


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
