"""Messages waiting for a worker (the work queue, `queue.broker_url`): the scheduler stores each
new message here, in the ledger database every worker can read, and sends its key to the broker.

Why the ledger and not the broker or a spool directory: workers on other machines already reach
the ledger (PostgreSQL), there is no shared file system to set up, a Redis that loses its data
loses no message (the scheduler sends the keys of rows waiting too long again), and a row leaves
this table only after its outcome is committed. A worker claims a row before it works on it (a
lease, so that a key sent twice is not processed twice at the same time).
"""

from __future__ import annotations

import json

from inbox_ocr.kernel.models import RawMessage
from inbox_ocr.orchestration.ledger.db import Database


class QueueStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def put(self, raw: RawMessage, now: float) -> bool:
        """Store a message for a worker; False when it is waiting already."""
        with self.db.transaction() as db:
            return db.execute(
                "INSERT INTO queued (source, key, raw, meta, enqueued_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                (raw.source, raw.key, raw.raw, raw.model_dump_json(exclude={"raw"}), now),
            ).rowcount == 1

    def claim(self, source: str, key: str, now: float, lease: float) -> tuple[RawMessage | None, float | None]:
        """(the message, None) claimed for `lease` seconds; (None, None) when it is not waiting
        (done already); (None, until) while another worker's claim on it runs until `until`."""
        with self.db.transaction() as db:
            row = db.execute(
                "UPDATE queued SET claimed_until = ? WHERE source = ? AND key = ? "
                "AND (claimed_until IS NULL OR claimed_until < ?) RETURNING raw, meta",
                (now + lease, source, key, now),
            ).fetchone()
            if row is None:
                held = db.execute("SELECT claimed_until FROM queued WHERE source = ? AND key = ?",
                                  (source, key)).fetchone()
                return None, (float(held[0]) if held is not None else None)
        return RawMessage.model_validate({**json.loads(row[1]), "raw": bytes(row[0])}), None

    def remove(self, source: str, key: str) -> None:
        """The message's outcome is committed (or it is to be fetched from its source again)."""
        with self.db.transaction() as db:
            db.execute("DELETE FROM queued WHERE source = ? AND key = ?", (source, key))

    def keys(self, source: str, prefix: str = "") -> set[str]:
        rows = self.db.query("SELECT key FROM queued WHERE source = ? AND key >= ? AND key < ?",
                             (source, prefix, prefix + "\U0010ffff"))
        return {r[0] for r in rows}

    def stale(self, now: float, older_than: float) -> list[tuple[str, str]]:
        """(source, key) of rows sent to the broker longer ago than `older_than` and not claimed now
        (the broker lost the key, or a worker died before it claimed it)."""
        rows = self.db.query(
            "SELECT source, key FROM queued WHERE enqueued_at < ? AND (claimed_until IS NULL OR claimed_until < ?) "
            "ORDER BY enqueued_at", (now - older_than, now))
        return [(r[0], r[1]) for r in rows]

    def resent(self, source: str, key: str, now: float) -> None:
        with self.db.transaction() as db:
            db.execute("UPDATE queued SET enqueued_at = ? WHERE source = ? AND key = ?", (now, source, key))

    def depth(self) -> tuple[int, float | None]:
        """How many messages wait for a worker, and when the oldest was stored."""
        row = self.db.query("SELECT COUNT(*), MIN(enqueued_at) FROM queued")[0]
        return int(row[0]), (float(row[1]) if row[1] is not None else None)
