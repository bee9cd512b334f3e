"""Inbound webhook providers: each module turns one provider's signed HTTP request into RFC 5322 bytes.

A provider module exposes one `Provider` object with

- ``verify(request, ctx)``: check the signature over the raw body in constant time; raise
  :class:`WebhookError` (401 missing/bad, 403 stale or replayed) otherwise;
- ``normalize(request, ctx)``: return an :class:`Inbound` (the message to spool), a
  :class:`Reply` (a handshake or an event that carries no mail) or raise :class:`WebhookError`
  (4xx for a malformed payload, 503 when an attachment URL cannot be fetched right now).

Both run in a worker thread (they may fetch attachment URLs with `requests`), never in the
event loop. Nothing here touches the disk: ../http.py stores what `normalize` returns.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from connectors.webhook_in.config import WebhookSourceConfig
    from connectors.webhook_in.providers.fetch import AttachmentFetcher


class WebhookError(Exception):
    """A request we refuse; `status` is the HTTP answer, `reason` is safe to log and to send back."""

    def __init__(self, status: int, reason: str, retry_after: int | None = None) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.retry_after = retry_after


@dataclass(frozen=True)
class InboundRequest:
    """The parts of an HTTP request a provider may look at. Header names are lower case."""

    headers: Mapping[str, str]
    body: bytes
    content_type: str = ""
    form: Mapping[str, str] = field(default_factory=dict)
    files: Mapping[str, tuple[str, str, bytes]] = field(default_factory=dict)  # field -> (filename, type, data)
    query: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Inbound:
    """One message to spool: raw RFC 5322 bytes and the provider's identity of it (for dedupe)."""

    raw: bytes
    provider_id: str


@dataclass(frozen=True)
class Reply:
    """An answer that stores nothing: Front's challenge handshake, an event without mail."""

    status: int = 200
    body: dict[str, Any] = field(default_factory=dict)


@dataclass
class ProviderContext:
    """What verify/normalize need besides the request: the source config, the clock, a replay
    guard (Mailgun tokens) and the attachment fetcher."""

    config: WebhookSourceConfig
    now: Callable[[], float]
    seen_before: Callable[[str], bool]  # records a one-time token; True when it was already used
    fetcher: AttachmentFetcher


class Provider(Protocol):
    name: str
    parses_form: bool  # the body is multipart/form-data or urlencoded; webhook_in parses it first

    def verify(self, request: InboundRequest, ctx: ProviderContext) -> None: ...

    def normalize(self, request: InboundRequest, ctx: ProviderContext) -> Inbound | Reply: ...


def get_provider(name: str) -> Provider:
    """The provider object of `connectors/providers/<name>.py`."""
    module = importlib.import_module(f"connectors.webhook_in.providers.{name}")
    return module.PROVIDER  # type: ignore[no-any-return]
