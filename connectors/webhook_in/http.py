"""The HTTP side of webhook sources: one POST route per source, served by the app's HTTP server.

For each request: the body is read up to `max_body_bytes` (413 beyond), the provider's signature is
checked over the raw body (401 bad or missing, 403 stale or replayed, logged without the body),
the payload is turned into RFC 5322 bytes (4xx when malformed) and written durably to the spool
(spool.py) — and only then answered 200. OCR and routing happen later, when the daemon fetches
from `WebhookSource`, so a slow OCR never times out a provider and a crash after the 200 loses
nothing. A provider message id seen before is answered 200 and not stored again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from connectors.webhook_in.config import WebhookSourceConfig
from connectors.webhook_in.providers import InboundRequest, Provider, ProviderContext, Reply, WebhookError, get_provider
from connectors.webhook_in.providers.fetch import AttachmentFetcher
from connectors.webhook_in.spool import Spool

log = logging.getLogger("connectors.webhook_in")

FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


@dataclass
class Endpoint:
    """One webhook source as the HTTP server sees it."""

    config: WebhookSourceConfig
    provider: Provider
    spool: Spool
    fetcher: AttachmentFetcher

    @classmethod
    def for_source(cls, config: WebhookSourceConfig, spool: Spool) -> Endpoint:
        return cls(config, get_provider(config.provider), spool, AttachmentFetcher(config))


def spool_status(endpoints: Sequence[Endpoint]) -> dict[str, Any]:
    """What /healthz says about the webhook sources: provider, path and spooled messages."""
    return {
        e.config.name: {"provider": e.config.provider, "path": e.config.url_path, "spooled": e.spool.count()}
        for e in endpoints
    }


def routes(endpoints: Sequence[Endpoint], clock: Callable[[], float] = time.time) -> list[Any]:
    """Starlette routes: POST on each source's path."""
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    by_path = {e.config.url_path: e for e in endpoints}

    async def receive(request: Request) -> JSONResponse:
        endpoint = by_path[request.url.path]
        started = time.monotonic()
        try:
            inbound = await _read_request(request, endpoint.config, Request)
            status, body = await run_in_threadpool(_handle, endpoint, inbound, clock)
        except WebhookError as exc:
            _log_refusal(endpoint, request, exc)
            headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
            return JSONResponse({"error": exc.reason}, status_code=exc.status, headers=headers)
        log.debug(
            "event=webhook_answered source=%s status=%d ms=%.1f",
            endpoint.config.name,
            status,
            (time.monotonic() - started) * 1000,
        )
        return JSONResponse(body, status_code=status)

    return [Route(path, receive, methods=["POST"]) for path in by_path]


async def _read_request(request: Any, config: WebhookSourceConfig, request_cls: Any) -> InboundRequest:
    """The raw body (bounded), and for form providers the parsed fields and files."""
    limit = config.max_body_bytes
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise WebhookError(413, f"body over max_body_bytes ({limit})")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise WebhookError(413, f"body over max_body_bytes ({limit})")
        chunks.append(chunk)
    body = b"".join(chunks)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    headers = {k.lower(): v for k, v in request.headers.items()}
    query = dict(request.query_params)
    if not get_provider(config.provider).parses_form:
        return InboundRequest(headers, body, content_type, query=query)
    if content_type not in FORM_TYPES:
        raise WebhookError(415, f"expected {' or '.join(FORM_TYPES)}, got {content_type or 'no Content-Type'}")

    async def replay() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    from starlette.formparsers import MultiPartException

    form_request = request_cls(request.scope, replay)
    try:
        form = await form_request.form(max_files=200, max_fields=2000, max_part_size=limit)
    except MultiPartException as exc:
        raise WebhookError(400, f"malformed form body: {exc.message}") from None
    fields: dict[str, str] = {}
    files: dict[str, tuple[str, str, bytes]] = {}
    try:
        for name, value in form.multi_items():
            if isinstance(value, str):
                fields.setdefault(name, value)
            else:
                files[name] = (
                    value.filename or "",
                    value.content_type or "application/octet-stream",
                    await value.read(),
                )
    finally:
        await form.close()
    return InboundRequest(headers, body, content_type, fields, files, query)


def _handle(endpoint: Endpoint, request: InboundRequest, clock: Callable[[], float]) -> tuple[int, dict[str, Any]]:
    """Verify, normalize, store: runs in a worker thread (fsync and attachment fetches block)."""
    config, spool = endpoint.config, endpoint.spool
    tokens: list[str] = []

    def seen_before(token: str) -> bool:
        tokens.append(token)
        return spool.token_used(token)

    ctx = ProviderContext(config, clock, seen_before, endpoint.fetcher)
    if not config.allow_unsigned:
        endpoint.provider.verify(request, ctx)
    try:
        result = endpoint.provider.normalize(request, ctx)
    except WebhookError:
        raise
    except Exception as exc:  # a payload that trips a provider module: refuse it, keep serving
        log.exception("event=webhook_normalize_failed source=%s error=%s", config.name, type(exc).__name__)
        raise WebhookError(422, f"payload could not be read ({type(exc).__name__})") from exc
    if isinstance(result, Reply):
        spool.use_tokens(tokens, 2 * config.replay_window)
        log.info("event=webhook_reply source=%s status=%d", config.name, result.status)
        return result.status, result.body
    try:
        key, new = spool.store(result.raw, result.provider_id)
    except OSError as exc:
        log.error("event=spool_write_failed source=%s error=%s", config.name, exc)
        raise WebhookError(503, "cannot store the message right now", retry_after=60) from exc
    # the token is spent only once the message is safe: a retry after a failed write must pass
    spool.use_tokens(tokens, 2 * config.replay_window)
    log.info(
        "event=%s source=%s key=%s bytes=%d",
        "webhook_stored" if new else "webhook_duplicate",
        config.name,
        key,
        len(result.raw),
    )
    return 200, {"stored": key, "duplicate": not new}


def _log_refusal(endpoint: Endpoint, request: Any, exc: WebhookError) -> None:
    client = request.client.host if request.client else "?"
    level = logging.ERROR if exc.status >= 500 else logging.WARNING
    log.log(
        level,
        "event=webhook_refused source=%s status=%d reason=%s client=%s bytes=%s",
        endpoint.config.name,
        exc.status,
        exc.reason,
        client,
        request.headers.get("content-length", "?"),
    )
