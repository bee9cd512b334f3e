"""The ledger: SQLite (WAL) in state_dir with processed messages, the webhook outbox and an audit trail.

One row per message, keyed on (source, key) — the source's own identity for it — and also indexed on
(Message-ID, content hash) to spot the same message under a new key. A message row and the outbox
rows of its webhook actions are written in one transaction; the source is acknowledged only after
that commit, and `acked_at` records when it was.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from inbox_ocr.errors import TransientError

SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    id            INTEGER PRIMARY KEY,
    source        TEXT NOT NULL,
    key           TEXT NOT NULL,
    message_id    TEXT,
    content_hash  TEXT NOT NULL,
    subject       TEXT,
    sender        TEXT,
    status        TEXT NOT NULL CHECK (status IN ('done', 'failed', 'quarantined')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    error         TEXT,
    rule          TEXT,
    actions       TEXT,           -- JSON list of actions decided
    documents     TEXT,           -- JSON list of document summaries
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    acked_at      TEXT,
    UNIQUE (source, key)
);
CREATE INDEX IF NOT EXISTS messages_identity ON messages (source, message_id, content_hash);
CREATE INDEX IF NOT EXISTS messages_status ON messages (status, updated_at);

CREATE TABLE IF NOT EXISTS outbox (
    id               INTEGER PRIMARY KEY,
    message          INTEGER NOT NULL REFERENCES messages (id),
    webhook          TEXT NOT NULL,
    idempotency_key  TEXT NOT NULL UNIQUE,
    payload          BLOB NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  REAL NOT NULL,
    last_error       TEXT,
    receipt          TEXT,
    created_at       TEXT NOT NULL,
    delivered_at     TEXT
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (status, next_attempt_at);

CREATE TABLE IF NOT EXISTS audit (
    id       INTEGER PRIMARY KEY,
    message  INTEGER REFERENCES messages (id),
    at       TEXT NOT NULL,
    event    TEXT NOT NULL,
    detail   TEXT
);
CREATE INDEX IF NOT EXISTS audit_message ON audit (message);

CREATE TABLE IF NOT EXISTS cursors (
    source  TEXT NOT NULL,
    name    TEXT NOT NULL,
    value   TEXT NOT NULL,
    PRIMARY KEY (source, name)
);
"""


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class MessageRecord:
    id: int
    source: str
    key: str
    message_id: str | None
    content_hash: str
    subject: str | None
    sender: str | None
    status: str
    attempts: int
    error: str | None
    rule: str | None
    actions: list[dict[str, Any]]
    documents: list[dict[str, Any]]
    created_at: str
    updated_at: str
    acked_at: str | None


@dataclass(frozen=True)
class OutboxRecord:
    id: int
    message: int
    webhook: str
    idempotency_key: str
    payload: bytes
    status: str
    attempts: int
    next_attempt_at: float
    last_error: str | None
    receipt: str | None
    created_at: str
    delivered_at: str | None


@dataclass(frozen=True)
class NewDelivery:
    webhook: str
    idempotency_key: str
    payload: bytes


class Ledger:
    """Thread-safe access to the state database. Implements connectors.base.SourceState."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.executescript(SCHEMA)
        except sqlite3.Error as exc:
            raise TransientError(f"cannot open the ledger {self.path}: {exc}{self._space_note(exc)}") from exc
        self._db.row_factory = sqlite3.Row

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise TransientError(f"ledger write failed: {exc}{self._space_note(exc)}") from exc

    def _space_note(self, exc: sqlite3.Error) -> str:
        """For a full disk, say where and how full: the admin's next step. (SQLite reports a disk
        that is full to the last byte as a 'disk I/O error' when it cannot even create its -shm file.)"""
        try:
            usage = shutil.disk_usage(self.path.parent)
        except OSError:
            usage = None
        full_error = getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or "full" in str(exc)
        if not full_error and (usage is None or usage.free >= 1024**2):
            return ""
        if usage is None:
            return f" (the state directory {self.path.parent} is on a full disk)"
        return (f" (the state directory {self.path.parent} is on a full disk: {usage.free // 1024} KiB free of "
                f"{usage.total // 1024} KiB)")

    def _query(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return self._db.execute(sql, args).fetchall()
            except sqlite3.Error as exc:
                raise TransientError(f"ledger read failed: {exc}") from exc

    # ------------------------------------------------------------------ messages

    def get(self, source: str, key: str) -> MessageRecord | None:
        rows = self._query("SELECT * FROM messages WHERE source = ? AND key = ?", (source, key))
        return _message(rows[0]) if rows else None

    def message(self, row_id: int) -> MessageRecord | None:
        rows = self._query("SELECT * FROM messages WHERE id = ?", (row_id,))
        return _message(rows[0]) if rows else None

    def recent(self, limit: int = 20, status: str | None = None) -> list[MessageRecord]:
        if status:
            rows = self._query(
                "SELECT * FROM messages WHERE status = ? ORDER BY updated_at DESC, id DESC LIMIT ?", (status, limit)
            )
        else:
            rows = self._query("SELECT * FROM messages ORDER BY updated_at DESC, id DESC LIMIT ?", (limit,))
        return [_message(r) for r in rows]

    def record_outcome(
        self,
        *,
        source: str,
        key: str,
        message_id: str | None,
        content_hash: str,
        subject: str,
        sender: str,
        status: str,
        rule: str | None,
        actions: list[dict[str, Any]],
        documents: list[dict[str, Any]],
        error: str | None = None,
        deliveries: list[NewDelivery] = (),  # type: ignore[assignment]
        audit: list[tuple[str, str]] = (),  # type: ignore[assignment]
    ) -> int:
        """Write a message's final outcome (done or quarantined) and its outbox rows atomically."""
        stamp = now_iso()
        with self.transaction() as db:
            db.execute(
                """INSERT INTO messages (source, key, message_id, content_hash, subject, sender, status, attempts,
                                         error, rule, actions, documents, created_at, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (source, key) DO UPDATE SET
                     message_id = excluded.message_id, content_hash = excluded.content_hash,
                     subject = excluded.subject, sender = excluded.sender, status = excluded.status,
                     attempts = messages.attempts + 1, error = excluded.error, rule = excluded.rule,
                     actions = excluded.actions, documents = excluded.documents, updated_at = excluded.updated_at""",
                (source, key, message_id, content_hash, subject, sender, status, error, rule,
                 json.dumps(actions), json.dumps(documents), stamp, stamp),
            )
            row_id = db.execute("SELECT id FROM messages WHERE source = ? AND key = ?", (source, key)).fetchone()[0]
            for d in deliveries:
                db.execute(
                    """INSERT OR IGNORE INTO outbox (message, webhook, idempotency_key, payload, status, attempts,
                                                     next_attempt_at, created_at)
                       VALUES (?, ?, ?, ?, 'pending', 0, ?, ?)""",
                    (row_id, d.webhook, d.idempotency_key, d.payload, time.time(), stamp),
                )
            for event, detail in audit:
                db.execute("INSERT INTO audit (message, at, event, detail) VALUES (?, ?, ?, ?)",
                           (row_id, stamp, event, detail))
        return int(row_id)

    def record_failure(
        self, *, source: str, key: str, message_id: str | None, content_hash: str, subject: str, sender: str,
        error: str,
    ) -> int:
        """Count a transient failure; returns the number of attempts so far."""
        stamp = now_iso()
        with self.transaction() as db:
            db.execute(
                """INSERT INTO messages (source, key, message_id, content_hash, subject, sender, status, attempts,
                                         error, created_at, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?, 'failed', 1, ?, ?, ?)
                   ON CONFLICT (source, key) DO UPDATE SET status = 'failed', attempts = messages.attempts + 1,
                     error = excluded.error, updated_at = excluded.updated_at""",
                (source, key, message_id, content_hash, subject, sender, error, stamp, stamp),
            )
            row = db.execute("SELECT id, attempts FROM messages WHERE source = ? AND key = ?", (source, key)).fetchone()
            db.execute("INSERT INTO audit (message, at, event, detail) VALUES (?, ?, 'failed', ?)",
                       (row[0], stamp, error))
        return int(row[1])

    def mark_acked(self, row_id: int, detail: str = "") -> None:
        """Note that the source was acknowledged. This commit skips the fsync (the next outcome's
        commit makes it durable): losing it in a power cut only means the idempotent ack is redone."""
        stamp = now_iso()
        with self._lock:
            self._db.execute("PRAGMA synchronous=NORMAL")
            try:
                with self.transaction() as db:
                    db.execute("UPDATE messages SET acked_at = ? WHERE id = ?", (stamp, row_id))
                    db.execute("INSERT INTO audit (message, at, event, detail) VALUES (?, ?, 'acked', ?)",
                               (row_id, stamp, detail))
            finally:
                self._db.execute("PRAGMA synchronous=FULL")

    def audit(self, row_id: int, event: str, detail: str = "") -> None:
        with self.transaction() as db:
            db.execute("INSERT INTO audit (message, at, event, detail) VALUES (?, ?, ?, ?)",
                       (row_id, now_iso(), event, detail))

    def audit_trail(self, row_id: int) -> list[tuple[str, str, str]]:
        rows = self._query("SELECT at, event, detail FROM audit WHERE message = ? ORDER BY id", (row_id,))
        return [(r["at"], r["event"], r["detail"] or "") for r in rows]

    # ------------------------------------------------------------------ SourceState

    def handled_keys(self, source: str, prefix: str = "") -> set[str]:
        rows = self._query(
            "SELECT key FROM messages WHERE source = ? AND key >= ? AND key < ? AND acked_at IS NOT NULL "
            "AND status IN ('done', 'quarantined')",
            (source, prefix, prefix + "\U0010ffff"),
        )
        return {r[0] for r in rows}

    def is_known(self, source: str, message_id: str | None, content_hash: str) -> bool:
        if message_id:
            rows = self._query(
                "SELECT 1 FROM messages WHERE source = ? AND message_id = ? AND content_hash = ? "
                "AND status IN ('done', 'quarantined') LIMIT 1",
                (source, message_id, content_hash),
            )
        else:
            rows = self._query(
                "SELECT 1 FROM messages WHERE source = ? AND content_hash = ? AND status IN ('done', 'quarantined') "
                "LIMIT 1",
                (source, content_hash),
            )
        return bool(rows)

    def get_cursor(self, source: str, name: str) -> str | None:
        rows = self._query("SELECT value FROM cursors WHERE source = ? AND name = ?", (source, name))
        return rows[0][0] if rows else None

    def set_cursor(self, source: str, name: str, value: str) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO cursors (source, name, value) VALUES (?, ?, ?) "
                "ON CONFLICT (source, name) DO UPDATE SET value = excluded.value",
                (source, name, value),
            )

    # ------------------------------------------------------------------ outbox

    def due_deliveries(self, now: float, limit: int = 100) -> list[OutboxRecord]:
        rows = self._query(
            "SELECT * FROM outbox WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, id "
            "LIMIT ?",
            (now, limit),
        )
        return [_outbox(r) for r in rows]

    def outbox(self, status: str | None = None, limit: int = 50) -> list[OutboxRecord]:
        if status:
            rows = self._query("SELECT * FROM outbox WHERE status = ? ORDER BY id DESC LIMIT ?", (status, limit))
        else:
            rows = self._query("SELECT * FROM outbox ORDER BY id DESC LIMIT ?", (limit,))
        return [_outbox(r) for r in rows]

    def delivery(self, delivery_id: int) -> OutboxRecord | None:
        rows = self._query("SELECT * FROM outbox WHERE id = ?", (delivery_id,))
        return _outbox(rows[0]) if rows else None

    def delivery_succeeded(self, delivery_id: int, receipt: str) -> None:
        stamp = now_iso()
        with self.transaction() as db:
            db.execute(
                "UPDATE outbox SET status = 'delivered', attempts = attempts + 1, receipt = ?, delivered_at = ?, "
                "last_error = NULL WHERE id = ?",
                (receipt, stamp, delivery_id),
            )
            db.execute(
                "INSERT INTO audit (message, at, event, detail) SELECT message, ?, 'delivered', webhook || ': ' || ? "
                "FROM outbox WHERE id = ?",
                (stamp, receipt, delivery_id),
            )

    def delivery_failed(self, delivery_id: int, error: str, next_attempt_at: float | None) -> None:
        """Count a failed attempt; `next_attempt_at=None` makes it a dead letter."""
        stamp = now_iso()
        with self.transaction() as db:
            if next_attempt_at is None:
                db.execute(
                    "UPDATE outbox SET status = 'dead', attempts = attempts + 1, last_error = ? WHERE id = ?",
                    (error, delivery_id),
                )
                event = "dead_letter"
            else:
                db.execute(
                    "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ?",
                    (error, next_attempt_at, delivery_id),
                )
                event = "delivery_failed"
            db.execute(
                "INSERT INTO audit (message, at, event, detail) SELECT message, ?, ?, webhook || ': ' || ? "
                "FROM outbox WHERE id = ?",
                (stamp, event, error, delivery_id),
            )

    def requeue(self, delivery_id: int) -> bool:
        """Make a dead (or pending) delivery due now with a fresh attempt count."""
        with self.transaction() as db:
            cur = db.execute(
                "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ? "
                "WHERE id = ? AND status IN ('dead', 'pending')",
                (time.time(), delivery_id),
            )
            return cur.rowcount == 1

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self._query("SELECT status, COUNT(*) FROM messages GROUP BY status"):
            out[f"messages_{r[0]}"] = r[1]
        for r in self._query("SELECT status, COUNT(*) FROM outbox GROUP BY status"):
            out[f"outbox_{r[0]}"] = r[1]
        return out


def _message(row: sqlite3.Row) -> MessageRecord:
    data = dict(row)
    data["actions"] = json.loads(data["actions"] or "[]")
    data["documents"] = json.loads(data["documents"] or "[]")
    return MessageRecord(**data)


def _outbox(row: sqlite3.Row) -> OutboxRecord:
    return OutboxRecord(**dict(row))
