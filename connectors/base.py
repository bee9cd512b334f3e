"""The interfaces between the core and the outside world, documented once here.

Implementations are named for their technology (``maildir.py``, ``imap.py``, ``webhook_in.py``,
``webhook_out.py``, ``memory.py``) and do not repeat these docs. One contract test suite
(``tests/contract``) runs, parametrized, over every implementation.

The life of a message
---------------------
1. ``Source.fetch()`` yields :class:`RawMessage` objects that have not been acknowledged yet.
   A message stays visible to ``fetch`` until it is acknowledged or failed, so a crash anywhere
   before that simply means it is fetched again (the ledger makes the second pass cheap).
2. The pipeline processes the message, then commits the ledger row and the outbox rows for the
   webhook actions in one SQLite transaction.
3. Only then ``Source.ack(message, actions)`` applies the mailbox actions (move, keyword,
   mark_seen, flag) on the source. ``ack`` must be idempotent: after a crash between step 2 and 3
   it is called again for the same message, possibly after the first call half-happened.
4. ``Source.fail(message, reason)`` puts a message that cannot be processed aside (a quarantine
   folder or keyword) so that it is not fetched again; also idempotent.

Webhook actions never go through the source: the outbox delivers them through a :class:`Sink`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol, runtime_checkable

from inbox_ocr.models import Action, RawMessage


@runtime_checkable
class Source(Protocol):
    """Where messages come from, and where mailbox actions are applied."""

    name: str

    def fetch(self, limit: int | None = None) -> Iterator[RawMessage]:
        """Yield unacknowledged messages, oldest first, at most ``limit`` of them.

        Raises SourceUnavailable when the source cannot be reached right now. A single message
        that cannot be read from the source is skipped with a log line, not raised."""
        ...

    def ack(self, message: RawMessage, actions: Sequence[Action]) -> None:
        """Apply the mailbox actions to a message whose outcome is committed in the ledger.

        Idempotent. Actions the source cannot perform (a keyword on a server without
        custom keywords) are skipped with a warning, never an error. With no actions the
        message is only marked as handled so that ``fetch`` does not return it again
        (sources that cannot mark anything rely on the ledger for that)."""
        ...

    def fail(self, message: RawMessage, reason: str) -> None:
        """Put a message that cannot be processed aside (quarantine folder or keyword). Idempotent."""
        ...

    def close(self) -> None:
        """Release connections and files. Safe to call twice."""
        ...


class SourceState(Protocol):
    """What a source may ask the ledger, so that it fetches only what is not handled yet.

    Keys are the `RawMessage.key` values the source itself produced. The ledger implements this;
    tests may use `connectors.memory.MemoryState`."""

    def handled_keys(self, source: str, prefix: str = "") -> set[str]:
        """Keys of this source (starting with `prefix`) whose outcome is committed and acknowledged."""
        ...

    def is_known(self, source: str, message_id: str | None, content_hash: str) -> bool:
        """Whether a message with this Message-ID and content hash was already handled from this
        source under another key (IMAP UIDVALIDITY change, a message copied back)."""
        ...

    def get_cursor(self, source: str, name: str) -> str | None:
        """A small value a source keeps between runs (a UIDVALIDITY, a refreshed OAuth token id)."""
        ...

    def set_cursor(self, source: str, name: str, value: str) -> None: ...


class Delivery(Protocol):
    """One outbox row handed to a sink (read-only)."""

    @property
    def id(self) -> int: ...
    @property
    def webhook(self) -> str: ...
    @property
    def idempotency_key(self) -> str: ...
    @property
    def payload(self) -> bytes: ...
    @property
    def attempts(self) -> int: ...


class Sink(Protocol):
    """Where webhook actions go (an HTTP endpoint, a drop folder)."""

    name: str

    def deliver(self, delivery: Delivery) -> str:
        """Deliver one payload; return a short receipt (e.g. 'HTTP 201').

        The same idempotency key may be delivered more than once after a crash; receivers are
        expected to dedupe on the ``Idempotency-Key`` header. Raises DeliveryFailed (retry
        later) or DeliveryRejected (dead letter at once)."""
        ...
