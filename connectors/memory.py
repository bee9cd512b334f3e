"""In-memory implementations of the ports (kernel/ports.py): a Source, a Sink and a SourceState
kept in lists and dicts, for tests of one piece and for the contract suites."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

from inbox_ocr.kernel.errors import DeliveryFailed, DeliveryRejected
from inbox_ocr.kernel.models import MailboxChanges, RawMessage
from inbox_ocr.kernel.ports import Delivery


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
    """A source holding messages in a list; records acknowledgements and failures."""

    name: str = "memory"
    messages: list[RawMessage] = field(default_factory=list)
    acked: list[tuple[str, MailboxChanges]] = field(default_factory=list)
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

    def has_message(self, key: str) -> bool:
        return any(m.key == key for m in self.fetch())

    def ack(self, message: RawMessage, changes: MailboxChanges) -> None:
        if message.key in self.fail_ack_for:
            raise ConnectionError(f"simulated crash while acknowledging {message.key}")
        if all(k != message.key for k, _ in self.acked):
            self.acked.append((message.key, changes))

    def fail(self, message: RawMessage, reason: str) -> None:
        if all(k != message.key for k, _ in self.failed):
            self.failed.append((message.key, reason))

    def close(self) -> None:
        return None


@dataclass
class MemorySink:
    """A sink that keeps what it is given, keyed on the idempotency key (a redelivery replaces the
    earlier copy, as a receiver that dedupes would). `refuse` makes the next deliveries fail:
    `"retry"` raises DeliveryFailed, `"reject"` DeliveryRejected."""

    name: str = "memory"
    received: dict[str, bytes] = field(default_factory=dict)
    attempts: int = 0
    refuse: str | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def deliver(self, delivery: Delivery) -> str:
        with self._lock:
            self.attempts += 1
            if self.refuse == "retry":
                raise DeliveryFailed(f"{self.name}: refused for now")
            if self.refuse == "reject":
                raise DeliveryRejected(f"{self.name}: rejected")
            self.received[delivery.idempotency_key] = delivery.payload
            return f"memory {len(self.received)}"
