"""The audit trail: what happened to a message, one event per row (received, read, routed, acked,
delivered ...), written in the same transactions as the changes it records."""

from __future__ import annotations

from inbox_ocr.kernel import secrets
from inbox_ocr.orchestration.ledger.db import Connection, Database, now_iso
from inbox_ocr.orchestration.ledger.records import AuditEntry


def add_audit(db: Connection, message: int, event: str, detail: str, at: str | None = None) -> None:
    """One audit row, inside the caller's transaction."""
    db.execute("INSERT INTO audit (message, at, event, detail) VALUES (?, ?, ?, ?)",
               (message, at or now_iso(), event, secrets.mask(detail) if detail else detail))


class AuditTrail:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, message: int, event: str, detail: str = "") -> None:
        with self.db.transaction() as db:
            add_audit(db, message, event, detail)

    def of(self, message: int) -> list[AuditEntry]:
        rows = self.db.query("SELECT at, event, detail FROM audit WHERE message = ? ORDER BY id", (message,))
        return [AuditEntry(r["at"], r["event"], r["detail"] or "") for r in rows]
