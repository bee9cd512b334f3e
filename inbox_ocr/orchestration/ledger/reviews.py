"""The review queue: messages a `review` action holds, and the decisions people make on them.

A held message has status `held` and one row here with the decision that waits (its mailbox
changes and webhooks) and the message as received. A decision rewrites the message's row (status
done, the decided actions, the corrected documents) with its outbox rows and audit entries in one
transaction; the source is acknowledged on the next pass, as for any committed message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from inbox_ocr.kernel.models import MessageStatus, RoutingDecision
from inbox_ocr.orchestration.ledger.audit import add_audit
from inbox_ocr.orchestration.ledger.db import Connection, Database, Row, now_iso
from inbox_ocr.orchestration.ledger.deliveries import add_deliveries
from inbox_ocr.orchestration.ledger.invoices import add_invoices
from inbox_ocr.orchestration.ledger.records import NewDelivery, ReviewRecord


class ReviewConflict(Exception):
    """The message is not (or no longer) waiting for review: decided by someone else meanwhile."""


@dataclass(frozen=True)
class Decision:
    """A person's decision on a held message, as the ledger writes it."""

    status: str  # approved | rejected
    reviewer: str
    decision: RoutingDecision  # the actions that now apply
    documents: tuple[dict[str, Any], ...]  # the documents with the corrected fields
    deliveries: tuple[NewDelivery, ...]
    audit: tuple[tuple[str, str], ...]


class ReviewStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def pending(self, limit: int = 200) -> list[ReviewRecord]:
        rows = self.db.query("SELECT * FROM reviews WHERE status = 'pending' ORDER BY created_at, message LIMIT ?",
                             (limit,))
        return [_record(r) for r in rows]

    def count_pending(self) -> int:
        return int(self.db.query("SELECT COUNT(*) FROM reviews WHERE status = 'pending'")[0][0])

    def get(self, message: int) -> ReviewRecord | None:
        rows = self.db.query("SELECT * FROM reviews WHERE message = ?", (message,))
        return _record(rows[0]) if rows else None

    def decide(self, message: int, decision: Decision) -> None:
        """Write a decision; raises ReviewConflict when the message is not waiting for one."""
        stamp = now_iso()
        chosen = decision.decision
        with self.db.transaction() as db:
            changed = db.execute(
                "UPDATE reviews SET status = ?, decided_by = ?, decided_at = ? "
                "WHERE message = ? AND status = 'pending'",
                (decision.status, decision.reviewer, stamp, message),
            ).rowcount
            if changed != 1:
                raise ReviewConflict(_state(db, message))
            db.execute(
                """UPDATE messages SET status = ?, rule = ?, actions = ?, mailbox = ?, documents = ?, updated_at = ?,
                   acked_at = NULL WHERE id = ? AND status = ?""",
                (MessageStatus.DONE.value, chosen.rule, json.dumps(list(chosen.actions)),
                 chosen.mailbox.model_dump_json(), json.dumps(list(decision.documents)), stamp, message,
                 MessageStatus.HELD.value),
            )
            add_deliveries(db, message, decision.deliveries, stamp)
            for event, detail in decision.audit:
                add_audit(db, message, event, detail, stamp)
            add_invoices(db, message, decision.documents)  # as corrected


def _state(db: Connection, message: int) -> str:
    row = db.execute("SELECT status, decided_by, decided_at FROM reviews WHERE message = ?", (message,)).fetchone()
    if row is None:
        return f"message {message} is not held for review"
    return f"message {message} was {row[0]} by {row[1]} at {row[2]}"


def _record(row: Row) -> ReviewRecord:
    data = dict(row)
    data["held"] = RoutingDecision.model_validate_json(data["held"])
    data["raw"] = bytes(data["raw"])
    return ReviewRecord(**data)
