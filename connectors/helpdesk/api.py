"""What the three helpdesk clients share: one HTTP session with the source's credentials, the
mapping of answers to the outbox's errors, and names looked up once.

Errors, as the outbox reads them (kernel/errors.py):
    429, 503 with Retry-After   DeliveryFailed(retry_after=...): the outbox waits at least that long
    5xx, timeouts, resets       DeliveryFailed: retried with backoff
    401, 403, 404, 422, ...     DeliveryRejected: a dead letter at once (a bad token or id does not
                                heal by waiting; fix it and `inbox-ocr outbox retry ID`)
    an unknown name             DeliveryRejected naming it and the names the helpdesk has
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Iterable
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin

import requests

from inbox_ocr.kernel.errors import DeliveryFailed, DeliveryRejected
from inbox_ocr.kernel.models import HelpdeskCall

log = logging.getLogger("connectors.helpdesk")

USER_AGENT = "inbox-ocr/0.1"
MARKER_PREFIX = "inbox-ocr:"
MAX_PAGES = 50  # of a name listing; a helpdesk with more than that many pages of inboxes is not expected


class ApiClient:
    """HTTP calls to one helpdesk account. `auth` is the Authorization header value."""

    def __init__(self, base_url: str, auth: str, timeout: float = 20.0,
                 session: requests.Session | None = None) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.session = session or requests.Session()
        self.session.headers.update({"Authorization": auth, "User-Agent": USER_AGENT, "Accept": "application/json"})
        self.timeout = timeout

    def request(self, method: str, path: str, json: Any = None, params: dict[str, str] | None = None) -> Any:
        """The JSON answer (None for an empty one); raises DeliveryFailed / DeliveryRejected."""
        url = path if path.startswith(("http://", "https://")) else urljoin(self.base_url, path.lstrip("/"))
        if not url.startswith(self.base_url):
            raise DeliveryRejected(f"{method} {url}: not under the configured api_url {self.base_url}")
        try:
            response = self.session.request(method, url, json=json, params=params, timeout=self.timeout,
                                            allow_redirects=False)
        except requests.RequestException as exc:
            raise DeliveryFailed(f"{method} {path}: {type(exc).__name__}") from exc
        status = response.status_code
        if status == 429 or status >= 500:
            raise DeliveryFailed(f"{method} {path}: HTTP {status}", retry_after=retry_after(response))
        if not 200 <= status < 300:
            raise DeliveryRejected(f"{method} {path}: HTTP {status}: {_short(response.text)}")
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise DeliveryRejected(f"{method} {path}: HTTP {status} with a body that is not JSON") from exc


def retry_after(response: requests.Response) -> float | None:
    """Seconds from `Retry-After` (seconds or an HTTP date) or Help Scout's `X-RateLimit-Retry-After`."""
    for header in ("Retry-After", "X-RateLimit-Retry-After"):
        value = response.headers.get(header)
        if not value:
            continue
        try:
            return max(float(value), 0.0)
        except ValueError:
            pass
        try:
            from datetime import UTC, datetime

            return max((parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds(), 0.0)
        except (TypeError, ValueError):
            continue
    return None


def bearer(token: str) -> str:
    return f"Bearer {token}"


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


class Names:
    """Names (inboxes, tags, teammates, groups) looked up through the API once per kind and kept;
    a name not found is looked up again once (it may have been created since), then refused."""

    def __init__(self, what: str, load: Callable[[], Iterable[tuple[str, str]]]) -> None:
        self.what = what
        self.load = load
        self._ids: dict[str, str] | None = None

    def id_of(self, name: str) -> str:
        for fresh in (False, True):
            if self._ids is None or fresh:
                self._ids = {}
                for key, ident in self.load():
                    self._ids.setdefault(key.casefold(), ident)
            found = self._ids.get(name.casefold())
            if found is not None:
                return found
        known = ", ".join(sorted(self._ids or {})[:20]) or "none"
        raise DeliveryRejected(f"no {self.what} named {name!r} (known: {known})")


def marker(key: str) -> str:
    """What a comment carries so that a retry can see it was posted already."""
    return f"[{MARKER_PREFIX}{key[:16]}]"


class Helpdesk:
    """One helpdesk's way of making each HelpdeskCall; the subclasses implement the operations."""

    name = "helpdesk"

    def __init__(self, api: ApiClient) -> None:
        self.api = api

    def perform(self, call: HelpdeskCall, key: str) -> str:
        """Make the call; returns a short receipt. Every operation may be repeated harmlessly."""
        conversation, arg = call.conversation, call.arg or ""
        if call.op == "tag":
            return self.tag(conversation, arg)
        if call.op == "move":
            return self.move(conversation, arg)
        if call.op == "assign":
            return self.assign(conversation, arg)
        if call.op == "comment":
            body = f"{arg}\n\n{marker(key)}"
            if any(marker(key) in text for text in self.comments(conversation)):
                return f"comment already on {conversation}"
            return self.comment(conversation, body)
        if call.op == "done":
            return self.done(conversation)
        return self.flag(conversation)

    def names_for(self, op: str) -> Names | None:
        """The names an operation's argument must be one of (None: any name goes, e.g. new tags)."""
        return None

    def check(self, op: str, name: str) -> None:
        """Raise DeliveryRejected when the helpdesk has no such name for `op` (check-config --online)."""
        names = self.names_for(op)
        if names is not None:
            names.id_of(name)

    def tag(self, conversation: str, name: str) -> str:
        raise NotImplementedError

    def move(self, conversation: str, name: str) -> str:
        raise NotImplementedError

    def assign(self, conversation: str, person: str) -> str:
        raise NotImplementedError

    def comments(self, conversation: str) -> list[str]:
        """The texts of the conversation's comments/notes (to find a marker)."""
        raise NotImplementedError

    def comment(self, conversation: str, body: str) -> str:
        raise NotImplementedError

    def done(self, conversation: str) -> str:
        raise NotImplementedError

    def flag(self, conversation: str) -> str:
        raise DeliveryRejected(f"{self.name} has no flag or star in its API")


def pages(api: ApiClient, path: str, items: Callable[[Any], list[Any]], next_url: Callable[[Any], str | None],
          params: dict[str, str] | None = None) -> Iterable[Any]:
    """Every item of a paginated listing (at most MAX_PAGES pages)."""
    url: str | None = path
    for _ in range(MAX_PAGES):
        if url is None:
            return
        data = api.request("GET", url, params=params if url == path else None)
        yield from items(data or {})
        url = next_url(data or {})


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
