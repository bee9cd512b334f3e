"""The three helpdesks' REST APIs, as far as routing needs them (paths and JSON shapes as their
public documentation describes them; see README "Routing inside a helpdesk" for what was assumed).

    Front       https://api2.frontapp.com          Authorization: Bearer <API token>
    Zendesk     https://<subdomain>.zendesk.com/api/v2   Basic <agent email>/token:<API token>
    Help Scout  https://api.helpscout.net/v2       Authorization: Bearer <OAuth access token>
"""

from __future__ import annotations

from typing import Any

from connectors.helpdesk.api import ApiClient, Helpdesk, Names, pages
from inbox_ocr.kernel.errors import DeliveryRejected


def _front_items(data: Any) -> list[Any]:
    return [r for r in data.get("_results") or [] if isinstance(r, dict)]


def _front_next(data: Any) -> str | None:
    nxt = (data.get("_pagination") or {}).get("next")
    return nxt if isinstance(nxt, str) and nxt else None


class Front(Helpdesk):
    name = "Front"

    def __init__(self, api: ApiClient) -> None:
        super().__init__(api)
        self.tags = Names("Front tag", lambda: ((t["name"], t["id"]) for t in self._list("/tags")))
        self.inboxes = Names("Front inbox", lambda: ((i["name"], i["id"]) for i in self._list("/inboxes")))
        self.teammates = Names("Front teammate", self._teammates)

    def _list(self, path: str) -> list[Any]:
        return list(pages(self.api, path, _front_items, _front_next))

    def names_for(self, op: str) -> Names | None:
        return {"tag": self.tags, "move": self.inboxes, "assign": self.teammates}.get(op)

    def _teammates(self) -> list[tuple[str, str]]:
        out = []
        for t in self._list("/teammates"):
            full = f"{t.get('first_name') or ''} {t.get('last_name') or ''}".strip()
            out += [(str(v), t["id"]) for v in (t.get("email"), t.get("username"), full) if v]
        return out

    def tag(self, conversation: str, name: str) -> str:
        self.api.request("POST", f"/conversations/{conversation}/tags", {"tag_ids": [self.tags.id_of(name)]})
        return f"tagged {name!r}"

    def move(self, conversation: str, name: str) -> str:
        self.api.request("PATCH", f"/conversations/{conversation}", {"inbox_id": self.inboxes.id_of(name)})
        return f"moved to {name!r}"

    def assign(self, conversation: str, person: str) -> str:
        teammate = self.teammates.id_of(person)
        self.api.request("PUT", f"/conversations/{conversation}/assignee", {"assignee_id": teammate})
        return f"assigned to {person!r}"

    def comments(self, conversation: str) -> list[str]:
        return [str(c.get("body") or "") for c in self._list(f"/conversations/{conversation}/comments")]

    def comment(self, conversation: str, body: str) -> str:
        self.api.request("POST", f"/conversations/{conversation}/comments", {"body": body})
        return "comment added"

    def done(self, conversation: str) -> str:
        self.api.request("PATCH", f"/conversations/{conversation}", {"status": "archived"})
        return "archived"


def _zendesk(key: str) -> Any:
    return lambda data: [r for r in data.get(key) or [] if isinstance(r, dict)]


def _zendesk_next(data: Any) -> str | None:
    nxt = data.get("next_page")
    return nxt if isinstance(nxt, str) and nxt else None


class Zendesk(Helpdesk):
    name = "Zendesk"

    def __init__(self, api: ApiClient) -> None:
        super().__init__(api)
        self.groups = Names("Zendesk group", lambda: ((str(g["name"]), str(g["id"])) for g in
                                                       pages(self.api, "groups", _zendesk("groups"), _zendesk_next)))
        self.agents = Names("Zendesk agent", self._agents)

    def names_for(self, op: str) -> Names | None:
        return {"move": self.groups, "assign": self.agents}.get(op)  # tags are created when added

    def _agents(self) -> list[tuple[str, str]]:
        users = pages(self.api, "users", _zendesk("users"), _zendesk_next, params={"role[]": "agent"})
        return [(str(v), str(u["id"])) for u in users for v in (u.get("email"), u.get("name")) if v]

    def _update(self, ticket: str, fields: dict[str, Any]) -> None:
        self.api.request("PUT", f"tickets/{ticket}", {"ticket": fields})

    def tag(self, conversation: str, name: str) -> str:
        self.api.request("PUT", f"tickets/{conversation}/tags", {"tags": [name]})  # PUT adds, POST would replace
        return f"tagged {name!r}"

    def move(self, conversation: str, name: str) -> str:
        self._update(conversation, {"group_id": int(self.groups.id_of(name))})
        return f"group {name!r}"

    def assign(self, conversation: str, person: str) -> str:
        self._update(conversation, {"assignee_id": int(self.agents.id_of(person))})
        return f"assigned to {person!r}"

    def comments(self, conversation: str) -> list[str]:
        found = pages(self.api, f"tickets/{conversation}/comments", _zendesk("comments"), _zendesk_next)
        return [str(c.get("body") or "") for c in found]

    def comment(self, conversation: str, body: str) -> str:
        self._update(conversation, {"comment": {"body": body, "public": False}})
        return "internal note added"

    def done(self, conversation: str) -> str:
        self._update(conversation, {"status": "solved"})
        return "solved"

    def flag(self, conversation: str) -> str:
        self._update(conversation, {"priority": "high"})
        return "priority high"


def _embedded(key: str) -> Any:
    return lambda data: [r for r in (data.get("_embedded") or {}).get(key) or [] if isinstance(r, dict)]


def _hal_next(data: Any) -> str | None:
    nxt = ((data.get("_links") or {}).get("next") or {}).get("href")
    return nxt if isinstance(nxt, str) and nxt else None


class HelpScout(Helpdesk):
    name = "Help Scout"

    def __init__(self, api: ApiClient) -> None:
        super().__init__(api)
        self.mailboxes = Names("Help Scout mailbox", lambda: ((str(m["name"]), str(m["id"])) for m in
                                                               pages(self.api, "mailboxes", _embedded("mailboxes"),
                                                                     _hal_next)))
        self.users = Names("Help Scout user", self._users)

    def names_for(self, op: str) -> Names | None:
        return {"move": self.mailboxes, "assign": self.users}.get(op)  # tags are created when added

    def _users(self) -> list[tuple[str, str]]:
        out = []
        for u in pages(self.api, "users", _embedded("users"), _hal_next):
            full = f"{u.get('firstName') or ''} {u.get('lastName') or ''}".strip()
            out += [(str(v), str(u["id"])) for v in (u.get("email"), full) if v]
        return out

    def _patch(self, conversation: str, op: str, path: str, value: Any) -> None:
        self.api.request("PATCH", f"conversations/{conversation}", {"op": op, "path": path, "value": value})

    def tag(self, conversation: str, name: str) -> str:
        # Help Scout's PUT .../tags replaces the whole list: read it, add ours
        data = self.api.request("GET", f"conversations/{conversation}") or {}
        tags = [str(t.get("tag")) for t in data.get("tags") or [] if isinstance(t, dict) and t.get("tag")]
        if name.casefold() in (t.casefold() for t in tags):
            return f"tag {name!r} already there"
        self.api.request("PUT", f"conversations/{conversation}/tags", {"tags": [*tags, name]})
        return f"tagged {name!r}"

    def move(self, conversation: str, name: str) -> str:
        self._patch(conversation, "move", "/mailboxId", int(self.mailboxes.id_of(name)))
        return f"moved to {name!r}"

    def assign(self, conversation: str, person: str) -> str:
        self._patch(conversation, "replace", "/assignTo", int(self.users.id_of(person)))
        return f"assigned to {person!r}"

    def comments(self, conversation: str) -> list[str]:
        threads = pages(self.api, f"conversations/{conversation}/threads", _embedded("threads"), _hal_next)
        return [str(t.get("body") or "") for t in threads if t.get("type") == "note"]

    def comment(self, conversation: str, body: str) -> str:
        self.api.request("POST", f"conversations/{conversation}/notes", {"text": body})
        return "note added"

    def done(self, conversation: str) -> str:
        self._patch(conversation, "replace", "/status", "closed")
        return "closed"


def check_id(value: str) -> str:
    """An id as it goes into a URL path: letters, digits, '_' and '-' only."""
    if not value or not all(ch.isalnum() or ch in "_-" for ch in value):
        raise DeliveryRejected(f"conversation id {value!r} is not an id")
    return value
