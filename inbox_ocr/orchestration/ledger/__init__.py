"""The ledger: SQLite (WAL) in state_dir, or PostgreSQL (`ledger.url`), in six stores over one database.

    ledger.messages     one row per message: status, outcome, acknowledgement (messages.py)
    ledger.deliveries   the webhook outbox rows (deliveries.py)
    ledger.audit        each message's audit trail (audit.py)
    ledger.cursors      small values sources keep between runs (cursors.py)
    ledger.reviews      the review queue: held messages and people's decisions (reviews.py)
    ledger.invoices     invoices seen across messages, to spot one that arrives twice (invoices.py)
    ledger.queue        messages waiting for a worker, with the work queue on (queue.py)

`Ledger` is also the SourceState of the ports (kernel/ports.py) that sources ask what is handled.
Records in and out are typed (records.py); the schema and its migrations are in db.py.
"""

from __future__ import annotations

from pathlib import Path

from inbox_ocr.orchestration.ledger.audit import AuditTrail
from inbox_ocr.orchestration.ledger.cursors import CursorStore
from inbox_ocr.orchestration.ledger.db import connect, is_url, ledger_path
from inbox_ocr.orchestration.ledger.deliveries import DeliveryStore
from inbox_ocr.orchestration.ledger.invoices import InvoiceStore
from inbox_ocr.orchestration.ledger.messages import MessageStore
from inbox_ocr.orchestration.ledger.queue import QueueStore
from inbox_ocr.orchestration.ledger.records import (
    AuditEntry,
    DeliveryRecord,
    DeliveryStatus,
    HeldReview,
    MessageIdentity,
    MessageRecord,
    NewDelivery,
    Outcome,
    ReviewRecord,
)
from inbox_ocr.orchestration.ledger.reviews import Decision, ReviewConflict, ReviewStore

__all__ = [
    "AuditEntry", "Decision", "DeliveryRecord", "DeliveryStatus", "HeldReview", "Ledger", "MessageIdentity",
    "MessageRecord", "NewDelivery", "Outcome", "ReviewConflict", "ReviewRecord", "ledger_path",
]


class Ledger:
    """The state database of one state directory. Thread-safe."""

    def __init__(self, where: str | Path) -> None:
        """`where`: the SQLite file, or a postgresql:// URL."""
        self.db = connect(where)
        self.where = self.db.where  # for messages: the file, or the URL without its password
        self.shared = is_url(where)  # a database other processes (and machines) may use too
        self.messages = MessageStore(self.db)
        self.deliveries = DeliveryStore(self.db)
        self.audit = AuditTrail(self.db)
        self.cursors = CursorStore(self.db)
        self.reviews = ReviewStore(self.db)
        self.invoices = InvoiceStore(self.db)
        self.queue = QueueStore(self.db)

    @classmethod
    def in_state_dir(cls, state_dir: Path) -> Ledger:
        return cls(ledger_path(state_dir))

    def close(self) -> None:
        self.db.close()

    def counts(self) -> dict[str, int]:
        """Messages and deliveries by status: `messages_done`, `outbox_pending` ... (readiness, metrics)."""
        out = {f"messages_{k}": v for k, v in self.messages.counts().items()}
        out.update({f"outbox_{k}": v for k, v in self.deliveries.counts().items()})
        return out

    # SourceState (kernel/ports.py)

    def handled_keys(self, source: str, prefix: str = "") -> set[str]:
        """Handled, held for review, or waiting for a worker: none of these is fetched again now."""
        return self.messages.handled_keys(source, prefix) | self.queue.keys(source, prefix)

    def is_known(self, source: str, message_id: str | None, content_hash: str) -> bool:
        return self.messages.is_known(source, message_id, content_hash)

    def get_cursor(self, source: str, name: str) -> str | None:
        return self.cursors.get(source, name)

    def set_cursor(self, source: str, name: str, value: str) -> None:
        self.cursors.set(source, name, value)
