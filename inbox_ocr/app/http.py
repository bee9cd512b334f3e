"""The daemon's HTTP server: Starlette on uvicorn, in a thread of the daemon.

    GET  /healthz          200 while the process serves (liveness), with the webhook spools' sizes
    GET  /readyz           200 when the ledger answers and no source is failing, else 503 with reasons
    GET  /metrics          Prometheus text format (kernel/metrics.py)
    POST /hooks/<source>   each webhook source's endpoint (connectors/webhook_in/http.py)
    /ocr, /ocr/predict, /ocr/health, /api/extract   the REST API with http.api_tokens (app/rest.py)
    /, /login, /review, /try, /messages, /outbox     the web UI with http.users (app/web)

It runs when webhook sources are configured or `http.enabled` is set (app/wiring.py decides).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from connectors.webhook_in import Endpoint, routes, spool_status
from inbox_ocr.app.config import HttpSettings
from inbox_ocr.kernel.errors import SourceUnavailable
from inbox_ocr.kernel.metrics import READINESS, render

if TYPE_CHECKING:
    from inbox_ocr.app.rest import Api
    from inbox_ocr.app.web import WebUi

log = logging.getLogger("inbox_ocr.http")


def build_app(endpoints: Sequence[Endpoint], clock: Callable[[], float] = time.time, api: Api | None = None,
              ui: WebUi | None = None) -> Any:
    """The Starlette app: the operations routes, one POST route per webhook source, the REST API
    (app/rest.py) when `api` is given and the web UI (app/web) when `ui` is."""
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "sources": spool_status(endpoints)})

    async def metrics(request: Request) -> Response:
        body, content_type = await run_in_threadpool(render)
        return Response(body, media_type=content_type)

    async def readyz(request: Request) -> JSONResponse:
        ready, problems = await run_in_threadpool(READINESS.check)
        body: dict[str, Any] = {"status": "ready" if ready else "not ready"}
        if problems:
            body["problems"] = problems
        return JSONResponse(body, status_code=200 if ready else 503)

    ops = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
    ]
    extra = []
    middleware = []
    if api is not None:
        from inbox_ocr.app.rest import api_routes

        extra += api_routes(api)
    if ui is not None:
        from inbox_ocr.app.web import ui_middleware, ui_routes

        extra += ui_routes(ui)
        middleware = ui_middleware(ui.config)
    return Starlette(routes=[*ops, *routes(endpoints, clock), *extra], middleware=middleware)


class HttpServer:
    """uvicorn serving an app in a background thread; `start` returns once it listens."""

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
        self.thread = threading.Thread(target=self.server.run, name="http", daemon=True)

    def start(self, timeout: float = 10.0) -> HttpServer:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise SourceUnavailable(f"the HTTP server cannot listen on {self.http.host}:{self.http.port}")
            time.sleep(0.02)
        log.info("event=http_server_started address=%s:%d", self.http.host, self.port)
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
