"""The ledger's database: one SQLite file (WAL) in state_dir by default, or PostgreSQL
(`ledger.url: postgresql://...`, postgres.py); its schema and its migrations.

The stores write their SQL once, with `?` placeholders and the syntax both databases share
(`INSERT ... ON CONFLICT`, `UPDATE ... RETURNING`); a `Database` runs it on its own connection.

The schema version is SQLite's `user_version` (PostgreSQL: the `schema_version` table). A ledger
written by an older version is upgraded in place when it is opened (each step in one transaction);
a ledger from a newer version is refused with a clear error rather than misread.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from inbox_ocr.kernel.errors import TransientError
from inbox_ocr.kernel.models import MailboxChanges, MessageStatus
from inbox_ocr.orchestration.ledger.records import DeliveryStatus

FILE_NAME = "ledger.sqlite3"


def ledger_path(state_dir: Path) -> Path:
    """Where the ledger of a state directory lives."""
    return state_dir / FILE_NAME


def is_url(where: str | Path) -> bool:
    """Whether the ledger is a PostgreSQL database (a URL) rather than an SQLite file."""
    return str(where).startswith(("postgresql://", "postgres://"))


class Row(Protocol):
    """A result row: by column name (`row["id"]`) and by position (`row[0]`), and `dict(row)`."""

    def __getitem__(self, key: int | str) -> Any: ...
    def keys(self) -> Any: ...


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


class Connection(Protocol):
    """What a store's statements run on inside `Database.transaction()`."""

    def execute(self, sql: str, args: Any = (), /) -> Cursor: ...


class Database(Protocol):
    """One ledger database; thread-safe. The stores share one."""

    dialect: str  # "sqlite" | "postgresql"
    where: str  # shown in messages: the file, or the URL without its password

    def transaction(self) -> AbstractContextManager[Connection]:
        """A write transaction; raises TransientError when it cannot be committed."""
        ...

    def unsynced(self) -> AbstractContextManager[None]:
        """Commits inside may skip the wait for the disk (a lost one only means an idempotent redo)."""
        ...

    def query(self, sql: str, args: Sequence[Any] = ()) -> list[Any]: ...

    def close(self) -> None: ...


def connect(where: str | Path) -> Database:
    """The ledger database at `where`: an SQLite file path, or a postgresql:// URL."""
    if is_url(where):
        from inbox_ocr.orchestration.ledger.postgres import PostgresDatabase

        return PostgresDatabase(str(where))
    return SqliteDatabase(where)


def _check(column: str, values: type[MessageStatus] | type[DeliveryStatus]) -> str:
    return f"CHECK ({column} IN ({', '.join(repr(v.value) for v in values)}))"


MESSAGES_TABLE = f"""
CREATE TABLE IF NOT EXISTS {{name}} (
    id            INTEGER PRIMARY KEY,
    source        TEXT NOT NULL,
    key           TEXT NOT NULL,
    message_id    TEXT,
    content_hash  TEXT NOT NULL,
    subject       TEXT,
    sender        TEXT,
    status        TEXT NOT NULL {_check("status", MessageStatus)},
    attempts      INTEGER NOT NULL DEFAULT 0,
    error         TEXT,
    rule          TEXT,
    actions       TEXT,           -- JSON list of the actions decided, as the config writes them
    documents     TEXT,           -- JSON list of document summaries
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    acked_at      TEXT,
    mailbox       TEXT,           -- JSON MailboxChanges applied on ack (redone after a crash)
    UNIQUE (source, key)
);
"""

MESSAGE_INDEXES = """
CREATE INDEX IF NOT EXISTS messages_identity ON messages (source, message_id, content_hash);
CREATE INDEX IF NOT EXISTS messages_status ON messages (status, updated_at);
CREATE INDEX IF NOT EXISTS messages_unacked ON messages (source) WHERE acked_at IS NULL;
"""

REVIEWS_TABLE = """
CREATE TABLE IF NOT EXISTS reviews (
    message     INTEGER PRIMARY KEY REFERENCES messages (id),
    reason      TEXT NOT NULL,
    held        TEXT NOT NULL,    -- JSON RoutingDecision whose actions wait for the decision
    raw         BLOB NOT NULL,    -- the message as received: page images, the webhook payload after approval
    status      TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    created_at  TEXT NOT NULL,
    decided_by  TEXT,
    decided_at  TEXT
);
CREATE INDEX IF NOT EXISTS reviews_pending ON reviews (status, created_at);
"""

INVOICES_TABLE = """
CREATE TABLE IF NOT EXISTS invoices (
    vendor   TEXT NOT NULL,     -- vat:<id> or name:<name without legal form>
    number   TEXT NOT NULL,     -- the invoice number without spaces, dashes, dots and slashes
    total    TEXT NOT NULL,     -- the gross total, two decimals
    message  INTEGER NOT NULL REFERENCES messages (id),
    PRIMARY KEY (vendor, number, total, message)
);
CREATE INDEX IF NOT EXISTS invoices_message ON invoices (message);
"""

QUEUED_TABLE = """
CREATE TABLE IF NOT EXISTS queued (
    source         TEXT NOT NULL,
    key            TEXT NOT NULL,
    raw            BLOB NOT NULL,   -- the message as the source handed it over
    meta           TEXT NOT NULL,   -- JSON: the rest of the RawMessage (folder, size, received_at)
    enqueued_at    REAL NOT NULL,   -- when its key was last sent to the broker
    claimed_until  REAL,            -- a worker works on it until then
    PRIMARY KEY (source, key)
);
"""

SCHEMA = MESSAGES_TABLE.format(name="messages") + MESSAGE_INDEXES + REVIEWS_TABLE + INVOICES_TABLE + QUEUED_TABLE + f"""
CREATE TABLE IF NOT EXISTS outbox (
    id               INTEGER PRIMARY KEY,
    message          INTEGER NOT NULL REFERENCES messages (id),
    webhook          TEXT NOT NULL,
    idempotency_key  TEXT NOT NULL UNIQUE,
    payload          BLOB NOT NULL,
    status           TEXT NOT NULL {_check("status", DeliveryStatus)},
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


def _v2_mailbox_changes(db: sqlite3.Connection) -> None:
    """Version 1 kept actions as [{"kind", "arg"}] and re-derived the mailbox changes from them;
    version 2 stores the changes themselves (`mailbox`) and the actions as display strings."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(messages)")}
    if "mailbox" not in columns:
        db.execute("ALTER TABLE messages ADD COLUMN mailbox TEXT")
    for row_id, actions in db.execute("SELECT id, actions FROM messages WHERE mailbox IS NULL").fetchall():
        old = [a for a in json.loads(actions or "[]") if isinstance(a, dict)]
        changes = MailboxChanges(
            move_to=next((a.get("arg") for a in old if a.get("kind") == "move"), None),
            keywords=tuple(a["arg"] for a in old if a.get("kind") == "keyword" and a.get("arg")),
            mark_seen=any(a.get("kind") == "mark_seen" for a in old),
            flag=any(a.get("kind") == "flag" for a in old),
        )
        shown = [a["kind"] if a.get("arg") is None else f"{a['kind']}: {a['arg']}" for a in old]
        db.execute("UPDATE messages SET mailbox = ?, actions = ? WHERE id = ?",
                   (changes.model_dump_json(), json.dumps(shown), row_id))


# version -> the step that brings a ledger of version - 1 to it
def _v3_unacked_index(db: sqlite3.Connection) -> None:
    """Each pass asks for the committed messages whose acknowledgement is not noted yet."""
    db.execute("CREATE INDEX IF NOT EXISTS messages_unacked ON messages (source) WHERE acked_at IS NULL")


def _v4_review_queue(db: sqlite3.Connection) -> None:
    """The `held` status (its CHECK is part of the table: SQLite rebuilds the table to change it,
    with foreign keys off meanwhile) and the reviews table."""
    db.execute(MESSAGES_TABLE.format(name="messages_v4"))
    columns = ", ".join(row[1] for row in db.execute("PRAGMA table_info(messages)"))
    db.execute(f"INSERT INTO messages_v4 ({columns}) SELECT {columns} FROM messages")
    db.execute("DROP TABLE messages")
    db.execute("ALTER TABLE messages_v4 RENAME TO messages")
    for statement in (MESSAGE_INDEXES + REVIEWS_TABLE).split(";"):
        if statement.strip():
            db.execute(statement)
    broken = db.execute("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise sqlite3.IntegrityError(f"ledger upgrade to version 4 left {len(broken)} broken references")


def _v5_invoices(db: sqlite3.Connection) -> None:
    """The invoices seen, filled from the messages already in the ledger."""
    from inbox_ocr.orchestration.ledger.invoices import add_invoices

    for statement in INVOICES_TABLE.split(";"):
        if statement.strip():
            db.execute(statement)
    for row_id, documents in db.execute(
            "SELECT id, documents FROM messages WHERE status IN ('done', 'held') AND documents IS NOT NULL").fetchall():
        add_invoices(db, row_id, [d for d in json.loads(documents) if isinstance(d, dict)])


def _v6_work_queue(db: sqlite3.Connection) -> None:
    """Messages waiting for a worker (ledger/queue.py)."""
    db.execute(QUEUED_TABLE)


MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {
    2: _v2_mailbox_changes, 3: _v3_unacked_index, 4: _v4_review_queue, 5: _v5_invoices, 6: _v6_work_queue,
}
VERSION = max(MIGRATIONS)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class SqliteDatabase:
    """A thread-safe connection to the ledger file; the stores share one."""

    dialect = "sqlite"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.where = str(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.lock = threading.RLock()
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.Error as exc:
            raise TransientError(f"cannot open the ledger {self.path}: {exc}{self.space_note(exc)}") from exc
        self._db.row_factory = sqlite3.Row

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        fresh = not self._db.execute("SELECT 1 FROM sqlite_master WHERE name = 'messages'").fetchone()
        if version > VERSION:
            raise TransientError(f"the ledger {self.path} is of schema version {version}, newer than this "
                                 f"program's {VERSION}: upgrade inbox-ocr")
        if fresh:
            self._db.executescript(SCHEMA + f"PRAGMA user_version = {VERSION};")
            return
        self._db.execute("PRAGMA foreign_keys=OFF")  # a step may rebuild a table others refer to
        for step in range(max(version, 1) + 1, VERSION + 1):
            self._db.execute("BEGIN IMMEDIATE")
            try:
                MIGRATIONS[step](self._db)
                self._db.execute(f"PRAGMA user_version = {step}")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        self._db.execute("PRAGMA foreign_keys=ON")

    def close(self) -> None:
        with self.lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield self._db
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise TransientError(f"ledger write failed: {exc}{self.space_note(exc)}") from exc

    @contextmanager
    def unsynced(self) -> Iterator[None]:
        """Commits inside skip the fsync (synchronous=NORMAL): for writes whose loss in a power cut
        only means an idempotent step is redone."""
        with self.lock:
            self._db.execute("PRAGMA synchronous=NORMAL")
            try:
                yield
            finally:
                self._db.execute("PRAGMA synchronous=FULL")

    def query(self, sql: str, args: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self.lock:
            try:
                return self._db.execute(sql, args).fetchall()
            except sqlite3.Error as exc:
                raise TransientError(f"ledger read failed: {exc}") from exc

    def space_note(self, exc: sqlite3.Error) -> str:
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
