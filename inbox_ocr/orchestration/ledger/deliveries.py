"""The outbox rows: webhook deliveries committed with their message, delivered later with retries.

Where several processes share the ledger (PostgreSQL), a sender first claims the due rows it will
send (`claim`): `SELECT ... FOR UPDATE SKIP LOCKED` picks rows no other sender is claiming at that
moment, and their next attempt moves a lease ahead, so no other sender sees them due while this one
sends. A sender that dies mid-send leaves its rows due again when the lease runs out (the receiver
tells a redelivery by its idempotency key). On SQLite one daemon holds the state directory, and a
claim is the due rows as they are.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from inbox_ocr.kernel import secrets
from inbox_ocr.orchestration.ledger.audit import add_audit
from inbox_ocr.orchestration.ledger.db import Connection, Database, Row, now_iso
from inbox_ocr.orchestration.ledger.records import DeliveryRecord, DeliveryStatus, NewDelivery


def add_deliveries(db: Connection, message: int, deliveries: Iterable[NewDelivery], stamp: str) -> None:
    """Outbox rows of a message, due now, inside the caller's transaction; a row whose idempotency
    key is there already (the same message processed again) is not added twice."""
    for d in deliveries:
        db.execute(
            """INSERT INTO outbox (message, webhook, idempotency_key, payload, status, attempts,
                                   next_attempt_at, created_at)
               VALUES (?, ?, ?, ?, 'pending', 0, ?, ?) ON CONFLICT DO NOTHING""",
            (message, d.webhook, d.idempotency_key, d.payload, time.time(), stamp),
        )


class DeliveryStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def due(self, now: float, limit: int = 100) -> list[DeliveryRecord]:
        rows = self.db.query(
            "SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id "
            "LIMIT ?",
            (now, limit),
        )
        return [_record(r) for r in rows]

    def claim(self, now: float, limit: int, lease: float) -> list[DeliveryRecord]:
        """The due rows this sender is to send, oldest first (see the module's note)."""
        if self.db.dialect != "postgresql":
            return self.due(now, limit)
        with self.db.transaction() as db:
            rows = db.execute(
                "UPDATE outbox SET next_attempt_at = ? WHERE id IN (SELECT id FROM outbox WHERE status = 'pending' "
                "AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ? FOR UPDATE SKIP LOCKED) RETURNING *",
                (now + lease, now, limit),
            ).fetchall()
        return sorted((_record(r) for r in rows), key=lambda r: r.id)

    def recent(self, status: DeliveryStatus | None = None, limit: int = 50) -> list[DeliveryRecord]:
        if status:
            rows = self.db.query("SELECT * FROM outbox WHERE status = ? ORDER BY id DESC LIMIT ?",
                                 (status.value, limit))
        else:
            rows = self.db.query("SELECT * FROM outbox ORDER BY id DESC LIMIT ?", (limit,))
        return [_record(r) for r in rows]

    def of_message(self, message: int) -> list[DeliveryRecord]:
        return [_record(r) for r in self.db.query("SELECT * FROM outbox WHERE message = ? ORDER BY id", (message,))]

    def get(self, delivery_id: int) -> DeliveryRecord | None:
        rows = self.db.query("SELECT * FROM outbox WHERE id = ?", (delivery_id,))
        return _record(rows[0]) if rows else None

    def succeeded(self, delivery_id: int, receipt: str) -> None:
        stamp = now_iso()
        with self.db.transaction() as db:
            db.execute(
                "UPDATE outbox SET status = 'delivered', attempts = attempts + 1, receipt = ?, delivered_at = ?, "
                "last_error = NULL WHERE id = ?",
                (receipt, stamp, delivery_id),
            )
            _audit(db, delivery_id, "delivered", receipt, stamp)

    def failed(self, delivery_id: int, error: str, next_attempt_at: float | None) -> None:
        """Count a failed attempt; `next_attempt_at=None` makes it a dead letter. The error is stored
        with configured secrets masked and cut to MAX_ERROR characters (a receiver's answer may echo
        our credentials back)."""
        stamp = now_iso()
        error = _clip(secrets.mask(error))
        with self.db.transaction() as db:
            if next_attempt_at is None:
                db.execute("UPDATE outbox SET status = 'dead', attempts = attempts + 1, last_error = ? WHERE id = ?",
                           (error, delivery_id))
                event = "dead_letter"
            else:
                db.execute(
                    "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ?",
                    (error, next_attempt_at, delivery_id),
                )
                event = "delivery_failed"
            _audit(db, delivery_id, event, error, stamp)

    def requeue(self, delivery_id: int) -> bool:
        """Make a dead (or pending) delivery due now with a fresh attempt count."""
        with self.db.transaction() as db:
            cur = db.execute(
                "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ? "
                "WHERE id = ? AND status IN ('dead', 'pending')",
                (time.time(), delivery_id),
            )
            return cur.rowcount == 1

    def counts(self) -> dict[str, int]:
        """Deliveries by status."""
        return {r[0]: r[1] for r in self.db.query("SELECT status, COUNT(*) FROM outbox GROUP BY status")}


def _audit(db: Connection, delivery_id: int, event: str, detail: str, stamp: str) -> None:
    row = db.execute("SELECT message, webhook FROM outbox WHERE id = ?", (delivery_id,)).fetchone()
    if row is not None:
        add_audit(db, row[0], event, f"{row[1]}: {detail}", stamp)


def _record(row: Row) -> DeliveryRecord:
    data = dict(row)
    data["status"] = DeliveryStatus(data["status"])
    return DeliveryRecord(**data)


MAX_ERROR = 500


def _clip(text: str) -> str:
    return text if len(text) <= MAX_ERROR else text[: MAX_ERROR - 1] + "…"
