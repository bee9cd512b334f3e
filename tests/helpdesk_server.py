"""A loopback stand-in for the Front, Zendesk and Help Scout REST APIs, as far as inbox-ocr uses
them: the paths, methods, auth headers and JSON shapes of each API's public documentation, the
state they change (tags, inbox/group/mailbox, assignee, comments, status), 429 with Retry-After,
and failures on purpose. Every call is recorded.

    FakeHelpdesk("front").start()      http://127.0.0.1:<port>       Bearer <token>
    FakeHelpdesk("zendesk").start()    .../api/v2                    Basic <agent>/token:<token>
    FakeHelpdesk("helpscout").start()  .../v2                        Bearer <token>
"""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TOKEN = "helpdesk-token-1"
Answer = tuple[int, Any, dict[str, str]]  # status, JSON body (None: empty), headers
ZENDESK_USER = "agent@example.com/token"


@dataclass
class Call:
    method: str
    path: str
    body: Any


@dataclass
class Failure:
    """Answer the next request matching `method` (None: any) and `path` (a prefix) with `status`;
    with `after=True` the request's change is made first (an answer lost on the way back)."""

    method: str | None
    path: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    after: bool = False


@dataclass
class Conversation:
    tags: list[str] = field(default_factory=list)
    place: str | None = None  # inbox / group / mailbox id
    assignee: str | None = None
    comments: list[str] = field(default_factory=list)
    status: str = "open"
    priority: str | None = None


class FakeHelpdesk:
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.calls: list[Call] = []
        self.failures: list[Failure] = []
        self.conversations: dict[str, Conversation] = {}
        self.lock = threading.Lock()
        if kind == "front":
            self.tags = {"tag_1": "Invoices", "tag_2": "Paid", "tag_3": "Scans"}
            self.places = {"inb_1": "AP Team", "inb_2": "Support"}
            self.people = [{"id": "tea_1", "email": "anna@example.com", "username": "anna",
                            "first_name": "Anna", "last_name": "Ap"}]
        elif kind == "zendesk":
            self.places = {"360001": "Accounts Payable", "360002": "Support"}
            self.people = [{"id": 9001, "email": "anna@example.com", "name": "Anna Ap", "role": "agent"}]
        else:
            self.places = {"101": "Accounts Payable", "102": "Support"}
            self.people = [{"id": 501, "email": "anna@example.com", "firstName": "Anna", "lastName": "Ap"}]

    # ------------------------------------------------------------------ serving

    def start(self) -> FakeHelpdesk:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                auth = self.headers.get("Authorization")
                status, payload, headers = outer.handle(self.command, self.path, body, auth)
                data = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if data:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any  # noqa: N815

            def log_message(self, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def api_url(self) -> str:
        return self.root + {"front": "", "zendesk": "/api/v2", "helpscout": "/v2"}[self.kind]

    def conversation(self, ident: str) -> Conversation:
        return self.conversations.setdefault(str(ident), Conversation())

    def writes(self) -> list[tuple[str, str]]:
        """The calls that change something, as (method, path)."""
        return [(c.method, c.path) for c in self.calls if c.method != "GET"]

    # ------------------------------------------------------------------ the APIs

    def handle(self, method: str, target: str, body: Any, auth: str | None) -> Answer:
        parts = urlsplit(target)
        path, query = parts.path, parse_qs(parts.query)
        with self.lock:
            self.calls.append(Call(method, target, body))
            if auth != self._expected_auth():
                return 401, {"message": "unauthorized"}, {}
            failure = next((f for f in self.failures
                            if f.method in (None, method) and path.startswith(f.path)), None)
            if failure is not None:
                self.failures.remove(failure)
                if not failure.after:
                    return failure.status, {"message": "failure on purpose"}, failure.headers
            answer = {"front": self._front, "zendesk": self._zendesk, "helpscout": self._helpscout}[self.kind](
                method, path, query, body)
            if failure is not None:
                return failure.status, {"message": "failure on purpose (after the change)"}, failure.headers
            return answer

    def _expected_auth(self) -> str:
        if self.kind == "zendesk":
            return "Basic " + base64.b64encode(f"{ZENDESK_USER}:{TOKEN}".encode()).decode()
        return f"Bearer {TOKEN}"

    def _front(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> Answer:
        seg = path.strip("/").split("/")
        if method == "GET" and path == "/tags":  # one tag per page: the client must follow _pagination.next
            items = [{"id": k, "name": v} for k, v in self.tags.items()]
            page = int(query.get("page_token", ["0"])[0])
            nxt = f"{self.root}/tags?page_token={page + 1}" if page + 1 < len(items) else None
            return 200, {"_results": items[page : page + 1], "_pagination": {"next": nxt}}, {}
        if method == "GET" and path == "/inboxes":
            return 200, {"_results": [{"id": k, "name": v} for k, v in self.places.items()],
                         "_pagination": {"next": None}}, {}
        if method == "GET" and path == "/teammates":
            return 200, {"_results": self.people, "_pagination": {"next": None}}, {}
        if len(seg) < 2 or seg[0] != "conversations":
            return 404, {"message": "not found"}, {}
        conv = self.conversation(seg[1])
        rest = seg[2:]
        if method == "POST" and rest == ["tags"]:
            ids = body.get("tag_ids") or []
            if any(i not in self.tags for i in ids):
                return 400, {"message": "unknown tag"}, {}
            conv.tags += [self.tags[i] for i in ids if self.tags[i] not in conv.tags]
            return 204, None, {}
        if method == "PATCH" and not rest:
            if "inbox_id" in body:
                if body["inbox_id"] not in self.places:
                    return 400, {"message": "unknown inbox"}, {}
                conv.place = body["inbox_id"]
            if "status" in body:
                conv.status = body["status"]
            return 204, None, {}
        if method == "PUT" and rest == ["assignee"]:
            conv.assignee = body["assignee_id"]
            return 204, None, {}
        if method == "GET" and rest == ["comments"]:
            return 200, {"_results": [{"id": f"com_{i}", "body": b} for i, b in enumerate(conv.comments)],
                         "_pagination": {"next": None}}, {}
        if method == "POST" and rest == ["comments"]:
            conv.comments.append(body["body"])
            return 201, {"id": f"com_{len(conv.comments)}", "body": body["body"]}, {}
        return 404, {"message": "not found"}, {}

    def _zendesk(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> Answer:
        if not path.startswith("/api/v2/"):
            return 404, {"error": "InvalidEndpoint"}, {}
        seg = path[len("/api/v2/"):].strip("/").split("/")
        if method == "GET" and seg == ["groups"]:
            return 200, {"groups": [{"id": int(k), "name": v} for k, v in self.places.items()],
                         "next_page": None}, {}
        if method == "GET" and seg == ["users"]:
            roles = query.get("role[]", [])
            return 200, {"users": [u for u in self.people if not roles or u["role"] in roles], "next_page": None}, {}
        if len(seg) < 2 or seg[0] != "tickets":
            return 404, {"error": "InvalidEndpoint"}, {}
        ticket = self.conversation(seg[1])
        rest = seg[2:]
        if method == "PUT" and rest == ["tags"]:
            ticket.tags += [t for t in body["tags"] if t not in ticket.tags]
            return 200, {"tags": ticket.tags}, {}
        if method == "GET" and rest == ["comments"]:
            return 200, {"comments": [{"id": i, "body": b, "public": False} for i, b in enumerate(ticket.comments)],
                         "next_page": None}, {}
        if method == "PUT" and not rest:
            fields = body["ticket"]
            if "group_id" in fields:
                if str(fields["group_id"]) not in self.places:
                    return 422, {"error": "RecordInvalid"}, {}
                ticket.place = str(fields["group_id"])
            if "assignee_id" in fields:
                ticket.assignee = str(fields["assignee_id"])
            if "comment" in fields:
                if fields["comment"].get("public") is not False:
                    return 422, {"error": "a public reply was not asked for"}, {}
                ticket.comments.append(fields["comment"]["body"])
            ticket.status = fields.get("status", ticket.status)
            ticket.priority = fields.get("priority", ticket.priority)
            return 200, {"ticket": {"id": int(seg[1]), "status": ticket.status}}, {}
        return 404, {"error": "InvalidEndpoint"}, {}

    def _helpscout(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> Answer:
        if not path.startswith("/v2/"):
            return 404, {"message": "not found"}, {}
        seg = path[len("/v2/"):].strip("/").split("/")
        if method == "GET" and seg == ["mailboxes"]:
            boxes = [{"id": int(k), "name": v} for k, v in self.places.items()]
            return 200, {"_embedded": {"mailboxes": boxes}, "_links": {}}, {}
        if method == "GET" and seg == ["users"]:
            return 200, {"_embedded": {"users": self.people}, "_links": {}}, {}
        if len(seg) < 2 or seg[0] != "conversations":
            return 404, {"message": "not found"}, {}
        conv = self.conversation(seg[1])
        rest = seg[2:]
        if method == "GET" and not rest:
            return 200, {"id": int(seg[1]), "status": conv.status,
                         "tags": [{"id": i, "tag": t} for i, t in enumerate(conv.tags)]}, {}
        if method == "PUT" and rest == ["tags"]:
            conv.tags = list(body["tags"])  # replaces the list, as the documentation says
            return 204, None, {}
        if method == "PATCH" and not rest:
            op, where, value = body["op"], body["path"], body["value"]
            if (op, where) == ("move", "/mailboxId"):
                if str(value) not in self.places:
                    return 400, {"message": "unknown mailbox"}, {}
                conv.place = str(value)
            elif (op, where) == ("replace", "/assignTo"):
                conv.assignee = str(value)
            elif (op, where) == ("replace", "/status"):
                conv.status = value
            else:
                return 400, {"message": f"unsupported patch {op} {where}"}, {}
            return 204, None, {}
        if method == "GET" and rest == ["threads"]:
            threads = [{"id": i, "type": "note", "body": b} for i, b in enumerate(conv.comments)]
            return 200, {"_embedded": {"threads": threads}, "_links": {}}, {}
        if method == "POST" and rest == ["notes"]:
            conv.comments.append(body["text"])
            return 201, None, {"Resource-ID": str(len(conv.comments))}
        return 404, {"message": "not found"}, {}
