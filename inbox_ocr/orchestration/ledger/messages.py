"""The messages store: one row per message, keyed on (source, key), with its status and outcome.

Also indexed on (source, Message-ID, content hash) to spot the same message under a new key (an
IMAP UIDVALIDITY change). A message's outcome and the outbox rows of its webhooks are written in
one transaction; the source is acknowledged only after that commit, and `acked_at` records when.
"""

from __future__ import annotations

import json

from inbox_ocr.kernel import secrets
from inbox_ocr.kernel.models import MailboxChanges, MessageStatus
from inbox_ocr.orchestration.ledger.audit import add_audit
from inbox_ocr.orchestration.ledger.db import Connection, Database, Row, now_iso
from inbox_ocr.orchestration.ledger.deliveries import add_deliveries
from inbox_ocr.orchestration.ledger.invoices import add_invoices
from inbox_ocr.orchestration.ledger.records import MessageIdentity, MessageRecord, Outcome

_FINAL = (MessageStatus.DONE.value, MessageStatus.QUARANTINED.value)


class MessageStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def get(self, source: str, key: str) -> MessageRecord | None:
        rows = self.db.query("SELECT * FROM messages WHERE source = ? AND key = ?", (source, key))
        return _record(rows[0]) if rows else None

    def by_id(self, row_id: int) -> MessageRecord | None:
        rows = self.db.query("SELECT * FROM messages WHERE id = ?", (row_id,))
        return _record(rows[0]) if rows else None

    def recent(self, limit: int = 20, status: MessageStatus | None = None) -> list[MessageRecord]:
        if status:
            rows = self.db.query("SELECT * FROM messages WHERE status = ? ORDER BY updated_at DESC, id DESC LIMIT ?",
                                 (status.value, limit))
        else:
            rows = self.db.query("SELECT * FROM messages ORDER BY updated_at DESC, id DESC LIMIT ?", (limit,))
        return [_record(r) for r in rows]

    def search(self, text: str = "", status: MessageStatus | None = None, limit: int = 100) -> list[MessageRecord]:
        """The newest messages whose subject, sender, rule, key or extracted fields contain `text`
        (case-insensitive), of one status or any."""
        where, args = [], []
        if text.strip():
            like = "%" + text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            where.append("(" + " OR ".join(f"lower({column}) LIKE lower(?) ESCAPE '\\'" for column in
                                           ("subject", "sender", "rule", "key", "documents")) + ")")
            args += [like] * 5
        if status is not None:
            where.append("status = ?")
            args.append(status.value)
        sql = "SELECT * FROM messages" + (" WHERE " + " AND ".join(where) if where else "")
        rows = self.db.query(sql + " ORDER BY updated_at DESC, id DESC LIMIT ?", (*args, limit))
        return [_record(r) for r in rows]

    def record_outcome(self, outcome: Outcome) -> int:
        """Write a message's final outcome (done or quarantined) and its outbox rows atomically."""
        stamp = now_iso()
        who = outcome.identity
        with self.db.transaction() as db:
            db.execute(
                """INSERT INTO messages (source, key, message_id, content_hash, subject, sender, status, attempts,
                                         error, rule, actions, mailbox, documents, created_at, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (source, key) DO UPDATE SET
                     message_id = excluded.message_id, content_hash = excluded.content_hash,
                     subject = excluded.subject, sender = excluded.sender, status = excluded.status,
                     attempts = messages.attempts + 1, error = excluded.error, rule = excluded.rule,
                     actions = excluded.actions, mailbox = excluded.mailbox, documents = excluded.documents,
                     updated_at = excluded.updated_at""",
                (who.source, who.key, who.message_id, who.content_hash, who.subject, who.sender,
                 outcome.status.value, secrets.mask_optional(outcome.error), outcome.rule,
                 json.dumps(list(outcome.actions)),
                 outcome.mailbox.model_dump_json(), json.dumps(list(outcome.documents)), stamp, stamp),
            )
            row_id = int(_row_id(db, who.source, who.key))
            add_deliveries(db, row_id, outcome.deliveries, stamp)
            for event, detail in outcome.audit:
                add_audit(db, row_id, event, detail, stamp)
            if outcome.status in (MessageStatus.DONE, MessageStatus.HELD):
                add_invoices(db, row_id, outcome.documents)
            if outcome.review is not None:
                db.execute(
                    """INSERT INTO reviews (message, reason, held, raw, status, created_at)
                       VALUES (?, ?, ?, ?, 'pending', ?)
                       ON CONFLICT (message) DO UPDATE SET reason = excluded.reason, held = excluded.held,
                         raw = excluded.raw, status = 'pending', created_at = excluded.created_at,
                         decided_by = NULL, decided_at = NULL""",
                    (row_id, outcome.review.reason, outcome.review.held.model_dump_json(), outcome.review.raw, stamp),
                )
        return row_id

    def record_failure(self, identity: MessageIdentity, error: str) -> int:
        """Count a transient failure; returns the number of attempts so far."""
        stamp = now_iso()
        error = secrets.mask(error)
        who = identity
        with self.db.transaction() as db:
            db.execute(
                """INSERT INTO messages (source, key, message_id, content_hash, subject, sender, status, attempts,
                                         error, created_at, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?, 'failed', 1, ?, ?, ?)
                   ON CONFLICT (source, key) DO UPDATE SET status = 'failed', attempts = messages.attempts + 1,
                     error = excluded.error, updated_at = excluded.updated_at""",
                (who.source, who.key, who.message_id, who.content_hash, who.subject, who.sender, error, stamp, stamp),
            )
            row = db.execute("SELECT id, attempts FROM messages WHERE source = ? AND key = ?",
                             (who.source, who.key)).fetchone()
            add_audit(db, row[0], "failed", error, stamp)
        return int(row[1])

    def mark_acked(self, row_id: int, detail: str = "") -> None:
        """Note that the source was acknowledged. This commit skips the fsync (the next outcome's
        commit makes it durable): losing it in a power cut only means the idempotent ack is redone."""
        stamp = now_iso()
        with self.db.unsynced(), self.db.transaction() as db:
            db.execute("UPDATE messages SET acked_at = ? WHERE id = ?", (stamp, row_id))
            add_audit(db, row_id, "acked", detail, stamp)

    def unacked(self, source: str) -> list[tuple[int, str]]:
        """(row id, key) of committed messages whose acknowledgement is not noted yet."""
        rows = self.db.query(
            "SELECT id, key FROM messages WHERE source = ? AND acked_at IS NULL AND status IN (?, ?) ORDER BY id",
            (source, *_FINAL),
        )
        return [(int(r[0]), str(r[1])) for r in rows]

    def handled_keys(self, source: str, prefix: str = "") -> set[str]:
        """Keys a source need not hand over: committed and acknowledged, or held for review (fetched
        again once a person decided, to be acknowledged with the decided changes)."""
        rows = self.db.query(
            "SELECT key FROM messages WHERE source = ? AND key >= ? AND key < ? AND "
            "((acked_at IS NOT NULL AND status IN (?, ?)) OR status = ?)",
            (source, prefix, prefix + "\U0010ffff", *_FINAL, MessageStatus.HELD.value),
        )
        return {r[0] for r in rows}

    def is_known(self, source: str, message_id: str | None, content_hash: str) -> bool:
        if message_id:
            rows = self.db.query(
                "SELECT 1 FROM messages WHERE source = ? AND message_id = ? AND content_hash = ? "
                "AND status IN (?, ?, ?) LIMIT 1",
                (source, message_id, content_hash, *_FINAL, MessageStatus.HELD.value),
            )
        else:
            rows = self.db.query(
                "SELECT 1 FROM messages WHERE source = ? AND content_hash = ? AND status IN (?, ?, ?) LIMIT 1",
                (source, content_hash, *_FINAL, MessageStatus.HELD.value),
            )
        return bool(rows)

    def pending(self) -> tuple[int, MessageRecord | None]:
        """How many messages are not settled yet (a failure waiting for its retry, an outcome whose
        acknowledgement is not noted), and the oldest of them."""
        where = "(acked_at IS NULL AND status IN (?, ?)) OR status = ?"
        args = (*_FINAL, MessageStatus.FAILED.value)
        count = int(self.db.query(f"SELECT COUNT(*) FROM messages WHERE {where}", args)[0][0])
        rows = self.db.query(f"SELECT * FROM messages WHERE {where} ORDER BY updated_at, id LIMIT 1", args)
        return count, _record(rows[0]) if rows else None

    def counts(self) -> dict[str, int]:
        """Messages by status."""
        return {r[0]: r[1] for r in self.db.query("SELECT status, COUNT(*) FROM messages GROUP BY status")}


def _row_id(db: Connection, source: str, key: str) -> int:
    return int(db.execute("SELECT id FROM messages WHERE source = ? AND key = ?", (source, key)).fetchone()[0])


def _record(row: Row) -> MessageRecord:
    data = dict(row)
    data["status"] = MessageStatus(data["status"])
    data["actions"] = json.loads(data["actions"] or "[]")
    data["documents"] = json.loads(data["documents"] or "[]")
    data["mailbox"] = MailboxChanges.model_validate_json(data["mailbox"]) if data["mailbox"] else MailboxChanges()
    return MessageRecord(**data)
