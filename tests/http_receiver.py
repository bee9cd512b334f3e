"""A real HTTP server on loopback that plays a webhook receiver: it can refuse for a while,
dedupes on Idempotency-Key as a well-behaved receiver does, and records what it saw."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    secret: str | None = None
    fail_first: int = 0                 # answer 503 to this many requests first
    status: int = 201
    requests: list[Received] = field(default_factory=list)
    accepted: dict[str, Received] = field(default_factory=dict)   # by Idempotency-Key
    bad_signatures: int = 0
    port: int = 0  # 0: any free port
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server API)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                item = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                with receiver.lock:
                    receiver.requests.append(item)
                    if receiver.secret is not None:
                        want = "sha256=" + hmac.new(receiver.secret.encode(), body, hashlib.sha256).hexdigest()
                        if not hmac.compare_digest(want, item.headers.get("x-signature", "")):
                            receiver.bad_signatures += 1
                            self._answer(401)
                            return
                    if receiver.fail_first > 0:
                        receiver.fail_first -= 1
                        self._answer(503)
                        return
                    if receiver.status < 300:  # a refusal (4xx) accepts nothing
                        receiver.accepted.setdefault(item.headers.get("idempotency-key", ""), item)
                self._answer(receiver.status)

            def _answer(self, status: int) -> None:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
