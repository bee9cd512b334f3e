"""Every interface between the core and the outside world, documented once here.

Implementations are named for their technology (``connectors/maildir.py``, ``connectors/imap/``,
``connectors/webhook_in/``, ``connectors/webhook_out/``, ``connectors/memory.py``) and do not repeat
these docs. One contract test suite (``tests/contract``) runs, parametrized, over every Source and
every Sink.

The life of a message
---------------------
1. ``Source.fetch()`` yields :class:`RawMessage` objects that have not been acknowledged yet.
   A message stays visible to ``fetch`` until it is acknowledged or failed, so a crash anywhere
   before that simply means it is fetched again (the ledger makes the second pass cheap).
2. The runner processes the message (``Reader`` for each attachment, ``Router`` for the
   decision), then commits the ledger row and the outbox rows for the webhooks in one transaction.
3. Only then ``Source.ack(message, changes)`` applies the mailbox changes (move, keywords,
   seen, flagged) on the source. ``ack`` must be idempotent: after a crash between step 2 and 3
   it is called again for the same message, possibly after the first call half-happened.
4. ``Source.fail(message, reason)`` puts a message that cannot be processed aside (a quarantine
   folder) so that it is not fetched again; also idempotent.

Webhook actions never go through the source: the outbox delivers them through a :class:`Sink`. Nor
do the changes of a helpdesk source (``ActsThroughApi``): they become outbox rows too.

Optional abilities of a source are Protocols of their own (``WaitsForMail``, ``CountsPending``,
``ChecksPresence``, ``FiltersByDate``, ``ActsThroughApi``); callers ask ``isinstance(source,
WaitsForMail)``, never ``hasattr``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any, Protocol, runtime_checkable

from inbox_ocr.kernel.models import (
    AnalyzedDocument,
    Document,
    EarlierInvoice,
    HelpdeskCall,
    MailboxChanges,
    ParsedMessage,
    RawMessage,
    RoutingDecision,
)

# --------------------------------------------------------------------------- sources


@runtime_checkable
class Source(Protocol):
    """Where messages come from, and where mailbox changes are applied."""

    name: str

    def fetch(self, limit: int | None = None) -> Iterator[RawMessage]:
        """Yield unacknowledged messages, oldest first, at most ``limit`` of them.

        Raises SourceUnavailable when the source cannot be reached right now. A single message
        that cannot be read from the source is skipped with a log line, not raised."""
        ...

    def ack(self, message: RawMessage, changes: MailboxChanges) -> None:
        """Apply the mailbox changes to a message whose outcome is committed in the ledger.

        Idempotent. Changes the source cannot make (a keyword on a server without custom
        keywords, a folder on a webhook spool) are skipped with a warning, never an error. With
        no changes the message is only marked as handled so that ``fetch`` does not return it
        again (sources that cannot mark anything rely on the ledger for that)."""
        ...

    def fail(self, message: RawMessage, reason: str) -> None:
        """Put a message that cannot be processed aside (quarantine folder). Idempotent."""
        ...

    def close(self) -> None:
        """Release connections and files. Safe to call twice."""
        ...


@runtime_checkable
class WaitsForMail(Protocol):
    """A source that is told when mail arrives (IMAP IDLE, a webhook spool), so the daemon
    processes it at once instead of on the next poll."""

    def wait_for_mail(self, timeout: float, stop: threading.Event | None = None) -> None:
        """Return when new mail may be there, after ``timeout`` seconds, or when ``stop`` is set.
        Raises SourceUnavailable when the connection fails."""
        ...


@runtime_checkable
class CountsPending(Protocol):
    """A source that can say how many messages ``fetch`` would hand over now (progress bars)."""

    def pending_count(self) -> int: ...


@runtime_checkable
class ChecksPresence(Protocol):
    """A source that can say whether a message is still where ``fetch`` finds it. A committed
    message that is gone was acknowledged (moved, deleted) before a crash kept the ledger from
    noting it; the runner notes it then, instead of showing it unacknowledged forever."""

    def has_message(self, key: str) -> bool:
        """Raises SourceUnavailable when the source cannot be asked right now."""
        ...


@runtime_checkable
class ActsThroughApi(Protocol):
    """A source whose messages live in a helpdesk (Front, Zendesk, Help Scout): its mailbox changes
    are made through the helpdesk's API. The runner commits them as outbox rows for the sink named
    ``sink_name`` with the message, so they are durable, retried and sent once; ``ack`` then only
    marks the message handled."""

    sink_name: str

    def api_calls(self, message: RawMessage, changes: MailboxChanges) -> list[HelpdeskCall]:
        """The API calls that make `changes` on the message's conversation, in order (empty when
        the message does not say which conversation it belongs to; logged)."""
        ...


@runtime_checkable
class FiltersByDate(Protocol):
    """A source that can leave out mail received before a day (``backfill --since``)."""

    def set_since(self, day: date | None) -> None: ...


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
        """A small value a source keeps between runs (a UIDVALIDITY, a refreshed OAuth token)."""
        ...

    def set_cursor(self, source: str, name: str, value: str) -> None: ...


# --------------------------------------------------------------------------- sinks


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


@runtime_checkable
class Sink(Protocol):
    """Where webhook actions go (an HTTP endpoint, a drop folder)."""

    name: str

    def deliver(self, delivery: Delivery) -> str:
        """Deliver one payload; return a short receipt (e.g. 'HTTP 201').

        The same idempotency key may be delivered more than once after a crash; receivers are
        expected to dedupe on the ``Idempotency-Key`` header. Raises DeliveryFailed (retry
        later) or DeliveryRejected (dead letter at once)."""
        ...


# --------------------------------------------------------------------------- the seams the pipeline calls


class Reader(Protocol):
    """Reads one attachment (or file) into a Document. Never raises for bad input: a file that
    cannot be read becomes a Document with ``reading="unreadable"`` and an ``error``.

    ``read.InProcessReader`` reads in the calling process; ``read.sandbox.SandboxedReader`` in a
    worker process under time and memory limits."""

    def read(self, data: bytes, *, filename: str, content_type: str, sha256: str, part: str | None = None) -> Document:
        ...

    def close(self) -> None: ...


@runtime_checkable
class InvoiceHistory(Protocol):
    """The invoices of earlier messages (the ledger's), to spot one that arrives twice."""

    def first_seen(self, fields: Mapping[str, Any], source: str, key: str) -> EarlierInvoice | None:
        """The earliest other message with the same vendor, invoice number and total as `fields`
        (a document's fields in their JSON form), or None."""
        ...


class Router(Protocol):
    """Decides what happens to a message from the message and its analysed documents (the rules
    of the config: ``routing.RuleRouter``). Pure: touches no source, ledger or network."""

    def decide(self, source: str, message: ParsedMessage, documents: tuple[AnalyzedDocument, ...]) -> RoutingDecision:
        ...
