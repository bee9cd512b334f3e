"""A loopback stand-in for paperless-ngx's REST API, in the shapes its documentation gives
(docs/api.md "POSTing documents"; the list endpoints of Django REST framework): token auth, the
name lookups of correspondents, tags, document types and custom fields, creating the first
three, and `POST /api/documents/post_document/` (multipart) answering the consumption task's UUID.
It records every upload, can fail on purpose (503s first), and refuses a file it already holds
the way paperless's consumer does (there: in the task; here: not recorded twice)."""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

KINDS = ("correspondents", "tags", "document_types", "custom_fields")


@dataclass
class Upload:
    form: dict[str, list[str]]
    filename: str
    content: bytes


@dataclass
class Paperless:
    token: str = "paperless-token-0123"
    fail_first: int = 0  # answer 503 to this many uploads first
    objects: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {k: [] for k in KINDS})
    uploads: list[Upload] = field(default_factory=list)
    calls: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, name: str, **extra: Any) -> int:
        with self.lock:
            new = {"id": len(self.objects[kind]) + 1, "name": name, **extra}
            self.objects[kind].append(new)
            return int(new["id"])

    def start(self) -> Paperless:
        paperless = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server API)
                self._handle("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._handle("POST")

            def _handle(self, method: str) -> None:
                parts = urlsplit(self.path)
                paperless.calls.append((method, parts.path))
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.headers.get("Authorization") != f"Token {paperless.token}":
                    return self._json(401, {"detail": "Invalid token."})
                segments = [s for s in parts.path.split("/") if s]
                if segments[:1] != ["api"] or len(segments) < 2:
                    return self._json(404, {"detail": "Not found."})
                kind = segments[1]
                if method == "POST" and segments[1:] == ["documents", "post_document"]:
                    return self._post_document(body)
                if kind not in KINDS or len(segments) != 2:
                    return self._json(404, {"detail": "Not found."})
                if method == "GET":
                    wanted = parse_qs(parts.query).get("name__iexact", [None])[0]
                    results = [o for o in paperless.objects[kind]
                               if wanted is None or o["name"].lower() == wanted.lower()]
                    return self._json(200, {"count": len(results), "next": None, "previous": None, "results": results})
                name = json.loads(body or b"{}").get("name")
                if not name:
                    return self._json(400, {"name": ["This field is required."]})
                return self._json(201, {"id": paperless.add(kind, name), "name": name})

            def _post_document(self, body: bytes) -> None:
                with paperless.lock:
                    if paperless.fail_first > 0:
                        paperless.fail_first -= 1
                        return self._json(503, {"detail": "busy"})
                message = BytesParser(policy=HTTP).parsebytes(
                    f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode() + body)
                form: dict[str, list[str]] = {}
                filename, content = "", b""
                for part in message.iter_parts():
                    name = part.get_param("name", header="content-disposition")
                    if name == "document":
                        filename, content = part.get_filename() or "", part.get_payload(decode=True) or b""
                    else:
                        form.setdefault(str(name), []).append(part.get_content().strip())
                if not content:
                    return self._json(400, {"document": ["No file was submitted."]})
                digest = hashlib.md5(content).hexdigest()  # noqa: S324 - paperless's own duplicate check uses MD5
                with paperless.lock:
                    if all(hashlib.md5(u.content).hexdigest() != digest for u in paperless.uploads):  # noqa: S324
                        paperless.uploads.append(Upload(form, filename, content))
                return self._json(200, str(uuid.uuid4()))

            def _json(self, status: int, value: Any) -> None:
                data = json.dumps(value).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
