"""Webhook sources: an HTTP server (Starlette on uvicorn, in a thread of the daemon) with one path
per webhook source and `/healthz`, and a `Source` that reads what the server spooled.

For each request: the body is read up to `max_body_bytes` (413 beyond), the provider's signature is
checked over the raw body (401 bad or missing, 403 stale or replayed, logged without the body),
the payload is turned into RFC 5322 bytes (4xx when malformed) and written durably to the spool
(webhook_spool.py) — and only then answered 200. OCR and routing happen later, when the daemon's
pipeline fetches from `WebhookSource`, so a slow OCR never times out a provider and a crash after
the 200 loses nothing. A provider message id seen before is answered 200 and not stored again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from connectors.base import SourceState
from connectors.fsutil import fsync_dir
from connectors.providers import Context, InboundRequest, Provider, Reply, WebhookError, get_provider
from connectors.providers.fetch import AttachmentFetcher
from connectors.webhook_spool import Spool, open_spool
from inbox_ocr.errors import SourceUnavailable
from inbox_ocr.models import MAILBOX_ACTIONS, Action, RawMessage
from inbox_ocr.settings import Config, HttpSettings, WebhookSourceConfig

log = logging.getLogger("connectors.webhook_in")

FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def spool_dir(state_dir: Path, source: str) -> Path:
    return state_dir / "inbound" / source


# --------------------------------------------------------------------------- the source


class WebhookSource:
    """Reads the spool of one webhook source like a Maildir: `fetch` yields new/ oldest first,
    `ack` deletes (or moves to cur/ with `keep_processed`), `fail` moves to the quarantine folder.
    Mailbox actions (move, keyword, flag, mark_seen) have no meaning here: warned once per kind."""

    def __init__(self, config: WebhookSourceConfig, state: SourceState, state_dir: Path) -> None:
        self.name = config.name
        self.config = config
        self.state = state
        self.spool = open_spool(spool_dir(state_dir, config.name))
        self._warned: set[str] = set()

    def fetch(self, limit: int | None = None) -> Iterator[RawMessage]:
        if self.spool.closed:
            raise SourceUnavailable(f"spool of {self.name} is closed")
        handled = self.state.handled_keys(self.name)
        count = 0
        for key, path in self.spool.pending():
            if limit is not None and count >= limit:
                return
            if key in handled:  # committed, but the ack did not happen before a crash: do it now
                self._finish(key)
                continue
            try:
                raw = path.read_bytes()
                received = datetime.fromtimestamp(path.stat().st_mtime, UTC)
            except FileNotFoundError:
                continue
            except OSError as exc:
                log.warning("event=spool_unreadable source=%s key=%s error=%s", self.name, key, exc)
                continue
            count += 1
            yield RawMessage(source=self.name, key=key, folder="INBOX", raw=raw, received_at=received)

    def ack(self, message: RawMessage, actions: Sequence[Action]) -> None:
        for action in actions:
            if action.kind in MAILBOX_ACTIONS and action.kind not in self._warned:
                self._warned.add(action.kind)
                log.warning(
                    "event=action_not_applicable source=%s action=%s reason=a webhook source has no "
                    "mailbox (warned once per action kind)",
                    self.name,
                    action.kind,
                )
        self._finish(message.key)

    def _finish(self, key: str) -> None:
        path = self.spool.locate(key)
        if path is None:
            return  # an earlier ack got this far
        if self.config.keep_processed:
            path.replace(self.spool.root / "cur" / f"{key}:2,S")
        else:
            path.unlink(missing_ok=True)
        fsync_dir(path.parent)

    def fail(self, message: RawMessage, reason: str) -> None:
        path = self.spool.locate(message.key)
        if path is None:
            return
        folder = self.spool.root / f".{self.config.quarantine_folder.replace('/', '.')}"
        for sub in ("tmp", "new", "cur"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        path.replace(folder / "cur" / f"{message.key}:2,")
        fsync_dir(path.parent)
        log.warning("event=quarantined source=%s key=%s reason=%s", self.name, message.key, reason)

    def wait_for_mail(self, timeout: float, stop: threading.Event | None = None) -> None:
        """Return when the server has spooled a message (or after `timeout`, or on `stop`), so that
        the daemon processes webhook mail at once instead of on the next poll."""
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0 and not (stop is not None and stop.is_set()):
            if self.spool.arrived.wait(min(remaining, 0.5)):
                self.spool.arrived.clear()
                return

    def close(self) -> None:
        # the daemon closes sources after it stopped the HTTP server that shares this spool
        self.spool.close()


# --------------------------------------------------------------------------- the HTTP app


@dataclass
class Endpoint:
    config: WebhookSourceConfig
    provider: Provider
    spool: Spool
    fetcher: AttachmentFetcher


def build_app(configs: Sequence[WebhookSourceConfig], state_dir: Path, clock: Callable[[], float] = time.time) -> Any:
    """The Starlette app: POST on each source's path, GET /healthz."""
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    endpoints = {
        c.url_path: Endpoint(
            c, get_provider(c.provider), open_spool(spool_dir(state_dir, c.name)), AttachmentFetcher(c)
        )
        for c in configs
    }

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "status": "ok",
                "sources": {
                    e.config.name: {"provider": e.config.provider, "path": path, "spooled": e.spool.count()}
                    for path, e in endpoints.items()
                },
            }
        )

    async def receive(request: Request) -> JSONResponse:
        endpoint = endpoints[request.url.path]
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

    from inbox_ocr.metrics import routes as metrics_routes

    routes = [Route("/healthz", healthz, methods=["GET"]), *metrics_routes()]  # + /metrics, /readyz
    routes += [Route(path, receive, methods=["POST"]) for path in endpoints]
    return Starlette(routes=routes)


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

    ctx = Context(config, clock, seen_before, endpoint.fetcher)
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


# --------------------------------------------------------------------------- the server


class WebhookServer:
    """uvicorn serving the app in a background thread; `start` returns once it listens."""

    def __init__(self, app: Any, http: HttpSettings) -> None:
        import uvicorn

        self.http = http
        self.server = uvicorn.Server(
            uvicorn.Config(
                app,
                host=http.host,
                port=http.port,
                log_level="warning",
                access_log=False,
                lifespan="off",
                timeout_keep_alive=30,
                backlog=1024,
                limit_concurrency=http.max_connections,
                timeout_graceful_shutdown=5,  # then open keep-alive (TLS) connections are cut
                ssl_certfile=str(http.tls_cert) if http.tls_cert else None,
                ssl_keyfile=str(http.tls_key) if http.tls_key else None,
            )
        )
        self.thread = threading.Thread(target=self.server.run, name="webhook-http", daemon=True)

    def start(self, timeout: float = 10.0) -> WebhookServer:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise SourceUnavailable(f"webhook server cannot listen on {self.http.host}:{self.http.port}")
            time.sleep(0.02)
        log.info("event=webhook_server_started address=%s:%d", self.http.host, self.port)
        return self

    @property
    def port(self) -> int:
        return int(self.server.servers[0].sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        scheme = "https" if self.http.tls_cert else "http"
        return f"{scheme}://{self.http.host}:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        if self.thread.is_alive():
            self.thread.join(timeout=15)


def start_server(config: Config, clock: Callable[[], float] = time.time) -> WebhookServer | None:
    """Start the HTTP server when the config has enabled webhook sources or `http.enabled`
    (health, readiness and metrics only); None otherwise."""
    hooks = [s for s in config.sources if isinstance(s, WebhookSourceConfig) and s.enabled]
    if not hooks and not config.http.enabled:
        return None
    app = build_app(hooks, config.state_dir, clock)
    return WebhookServer(app, config.http).start()
