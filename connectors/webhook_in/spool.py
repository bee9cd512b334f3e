"""The durable spool behind webhook sources: a Maildir per source plus a small SQLite file of
provider message ids (dedupe) and one-time tokens (replay guard).

    state_dir/inbound/<source>/new/          stored, not yet handled (what `fetch` returns)
    state_dir/inbound/<source>/cur/          handled, kept only with `keep_processed`
    state_dir/inbound/<source>/.Quarantine/  messages the pipeline could not process
    state_dir/inbound/<source>/spool.sqlite3 ids already stored, tokens already used

A message is written to tmp/, fsynced, renamed into new/ and the directory fsynced before its id
is recorded and before the HTTP answer: a crash at any point either loses nothing that was
answered 2xx or leaves a file whose id is recovered from its name on the next start (the hash of
the provider id is part of every file name), so a redelivery is still recognised.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from connectors.fsutil import fsync_dir

log = logging.getLogger("connectors.webhook_in")

_ID_IN_NAME = re.compile(r"\.H([0-9a-f]{24})\.")
_STRIPES = 64
DEDUPE_SECONDS = 30 * 86400  # far beyond any provider's retry period (hours to a few days)
_INSERT_STORED = "INSERT OR IGNORE INTO stored (id_hash, provider_id, key, stored_at) VALUES (?, ?, ?, ?)"


def spool_dir(state_dir: Path, source: str) -> Path:
    """Where a webhook source's spool lives: state_dir/inbound/<source>."""
    return state_dir / "inbound" / source


def id_hash(provider_id: str) -> str:
    return hashlib.sha256(provider_id.encode("utf-8", "surrogateescape")).hexdigest()[:24]


def provider_id_hash(key: str) -> str | None:
    """The provider id's hash that a spool key carries (`.H<hash>.`), None for another key."""
    m = _ID_IN_NAME.search(key)
    return m.group(1) if m else None


class Spool:
    """One webhook source's spool. The app creates one per source and hands the same object to
    the HTTP endpoint (which stores) and to the WebhookSource (which fetches), so they share the
    dedupe locks and the `arrived` event; the app closes it after both are done."""

    def __init__(self, root: Path) -> None:
        self.root = root
        for sub in ("tmp", "new", "cur"):
            (root / sub).mkdir(parents=True, exist_ok=True, mode=0o700)
        self._db = sqlite3.connect(root / "spool.sqlite3", check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # the message file itself is fsynced; see recover()
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS stored (id_hash TEXT PRIMARY KEY, provider_id TEXT NOT NULL, "
            "key TEXT NOT NULL, stored_at REAL NOT NULL)"
        )
        self._db.execute("CREATE TABLE IF NOT EXISTS tokens (token TEXT PRIMARY KEY, seen_at REAL NOT NULL)")
        self._db_lock = threading.Lock()
        self._stripes = [threading.Lock() for _ in range(_STRIPES)]
        self._host = re.sub(r"[^A-Za-z0-9-]", "-", os.uname().nodename or "host")
        self.closed = False
        self.arrived = threading.Event()  # set on every new message; WebhookSource.wait_for_mail waits on it
        self.recover()

    # ------------------------------------------------------------------ store

    def recover(self) -> int:
        """Record the ids of spooled files whose row was lost (crash between rename and insert, or
        a power loss with synchronous=NORMAL); clear tmp/ of half-written files. Returns rows added."""
        for leftover in (self.root / "tmp").iterdir():
            leftover.unlink(missing_ok=True)
        with self._db_lock:  # providers give up retrying within days; the ids need not live forever
            self._db.execute("DELETE FROM stored WHERE stored_at < ?", (time.time() - DEDUPE_SECONDS,))
        added = 0
        for sub in ("new", "cur"):
            for entry in os.scandir(self.root / sub):
                m = _ID_IN_NAME.search(entry.name)
                if m:
                    with self._db_lock:
                        cur = self._db.execute(
                            _INSERT_STORED,
                            (m.group(1), "(recovered)", entry.name.split(":")[0], time.time()),
                        )
                    added += cur.rowcount
        if added:
            log.warning("event=spool_recovered spool=%s ids=%d", self.root, added)
        return added

    def store(self, raw: bytes, provider_id: str) -> tuple[str, bool]:
        """Write one message durably. Returns (key, True) when stored now, (key of the earlier
        copy, False) when this provider id was stored before."""
        h = id_hash(provider_id)
        with self._stripes[int(h[:4], 16) % _STRIPES]:  # the same id twice at once: one waits
            earlier = self._stored_key(h)
            if earlier is not None:
                return earlier, False
            now = time.time()
            usec = int(now * 1e6) % 1_000_000
            key = f"{int(now)}.M{usec:06d}P{os.getpid()}R{uuid.uuid4().hex[:8]}.H{h}.{self._host}"
            tmp = self.root / "tmp" / key
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(raw)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(tmp, self.root / "new" / key)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            fsync_dir(self.root / "new")
            with self._db_lock:
                self._db.execute(
                    _INSERT_STORED,
                    (h, provider_id[:500], key, now),
                )
            self.arrived.set()
            return key, True

    def _stored_key(self, h: str) -> str | None:
        with self._db_lock:
            row = self._db.execute("SELECT key FROM stored WHERE id_hash = ?", (h,)).fetchone()
        return row[0] if row else None

    def token_used(self, token: str) -> bool:
        with self._db_lock:
            return self._db.execute("SELECT 1 FROM tokens WHERE token = ?", (token,)).fetchone() is not None

    def use_tokens(self, tokens: list[str], keep_for: float) -> None:
        """Record one-time tokens after the request they came with was handled; forget tokens that
        are older than `keep_for` (their timestamps are outside the replay window anyway)."""
        if not tokens:
            return
        now = time.time()
        with self._db_lock:
            self._db.executemany(
                "INSERT OR IGNORE INTO tokens (token, seen_at) VALUES (?, ?)", [(t, now) for t in tokens]
            )
            self._db.execute("DELETE FROM tokens WHERE seen_at < ?", (now - keep_for,))

    # ------------------------------------------------------------------ read side

    def pending(self) -> Iterator[tuple[str, Path]]:
        """(key, path) of messages in new/, oldest first (keys start with the arrival time)."""
        names = sorted(e.name for e in os.scandir(self.root / "new") if not e.name.startswith("."))
        for name in names:
            yield name, self.root / "new" / name

    def locate(self, key: str) -> Path | None:
        path = self.root / "new" / key
        return path if path.exists() else None

    def count(self) -> int:
        return sum(1 for e in os.scandir(self.root / "new") if not e.name.startswith("."))

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            with self._db_lock:
                self._db.close()
