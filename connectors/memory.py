"""In-memory fakes of the interfaces in base.py, for unit tests of one piece."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from inbox_ocr.models import Action, RawMessage


@dataclass
class MemoryState:
    """SourceState kept in dicts."""

    handled: dict[str, set[str]] = field(default_factory=dict)
    identities: set[tuple[str, str | None, str]] = field(default_factory=set)
    cursors: dict[tuple[str, str], str] = field(default_factory=dict)

    def handled_keys(self, source: str, prefix: str = "") -> set[str]:
        return {k for k in self.handled.get(source, set()) if k.startswith(prefix)}

    def is_known(self, source: str, message_id: str | None, content_hash: str) -> bool:
        return (source, message_id, content_hash) in self.identities

    def get_cursor(self, source: str, name: str) -> str | None:
        return self.cursors.get((source, name))

    def set_cursor(self, source: str, name: str, value: str) -> None:
        self.cursors[(source, name)] = value


@dataclass
class MemorySource:
    """A source holding messages in a list; records acks and failures."""

    name: str = "memory"
    messages: list[RawMessage] = field(default_factory=list)
    acked: list[tuple[str, tuple[Action, ...]]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    fail_ack_for: set[str] = field(default_factory=set)

    def add(self, key: str, raw: bytes) -> RawMessage:
        msg = RawMessage(source=self.name, key=key, raw=raw)
        self.messages.append(msg)
        return msg

    def fetch(self, limit: int | None = None) -> Iterator[RawMessage]:
        done = {k for k, _ in self.acked} | {k for k, _ in self.failed}
        pending = [m for m in self.messages if m.key not in done]
        yield from pending[:limit] if limit is not None else pending

    def ack(self, message: RawMessage, actions: Sequence[Action]) -> None:
        if message.key in self.fail_ack_for:
            raise ConnectionError(f"simulated crash while acknowledging {message.key}")
        if all(k != message.key for k, _ in self.acked):
            self.acked.append((message.key, tuple(actions)))

    def fail(self, message: RawMessage, reason: str) -> None:
        if all(k != message.key for k, _ in self.failed):
            self.failed.append((message.key, reason))

    def close(self) -> None:
        return None
