"""Cursors: small values a source keeps between runs (a folder's UIDVALIDITY, a rotated OAuth token)."""

from __future__ import annotations

from inbox_ocr.orchestration.ledger.db import Database


class CursorStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, source: str, name: str) -> str | None:
        rows = self.db.query("SELECT value FROM cursors WHERE source = ? AND name = ?", (source, name))
        return rows[0][0] if rows else None

    def set(self, source: str, name: str, value: str) -> None:
        with self.db.transaction() as db:
            db.execute(
                "INSERT INTO cursors (source, name, value) VALUES (?, ?, ?) "
                "ON CONFLICT (source, name) DO UPDATE SET value = excluded.value",
                (source, name, value),
            )
