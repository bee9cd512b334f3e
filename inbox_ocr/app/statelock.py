"""One daemon per state directory: an exclusive lock (flock) on state_dir/daemon.lock; and, with
the ledger on PostgreSQL, one daemon per ledger (an advisory lock, LedgerLock).

`inbox-ocr run` and `inbox-ocr backfill` take it before they touch a source; a second one on the
same state directory stops at once with the holder's PID, instead of handling the same messages
twice and delivering every webhook twice. The kernel releases the lock when its holder exits,
however it exits (kill -9 included), so a stale lock file is never a problem. `serve` and the
read-only commands (`ledger`, `outbox list`) do not take it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from inbox_ocr.kernel.errors import InboxOcrError, TransientError

FILE_NAME = "daemon.lock"


class StateLocked(InboxOcrError):
    """Another process holds the state directory."""


class StateLock:
    def __init__(self, state_dir: Path) -> None:
        self.path = Path(state_dir) / FILE_NAME
        self._fd: int | None = None

    def acquire(self, what: str) -> StateLock:
        """Take the lock for `what` (`run`, `backfill`); raises StateLocked naming the holder."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
            os.close(fd)
            raise StateLocked(f"the state directory {self.path.parent} is in use by {holder}: one daemon (or "
                              f"backfill) per state directory; stop it first, or give this one a state_dir of "
                              f"its own") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} ({what}, since {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC)\n".encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None


LEDGER_LOCK = 0x1B0C_0C11  # the advisory lock key of "the daemon of this ledger"


class LedgerLock:
    """One daemon per shared ledger: on PostgreSQL, two daemons with different state directories
    (on two machines) would otherwise handle the same mailbox twice. A session-level advisory lock,
    held by a connection of its own whose application_name names the holder, so that a second
    daemon's error says who it is. A server restart ends the session and with it the lock: `check`
    (every pass) takes it again, or stops this daemon if another one got it meanwhile."""

    def __init__(self, url: str, where: str) -> None:
        self.url, self.where = url, where
        self._conn: Any = None
        self._what = ""

    def acquire(self, what: str) -> LedgerLock:
        import psycopg

        self._what = what
        name = f"inbox-ocr {what} pid {os.getpid()} on {socket.gethostname()}"[:63]
        try:
            conn = psycopg.connect(self.url, autocommit=True, connect_timeout=10, application_name=name)
            got = (conn.execute("SELECT pg_try_advisory_lock(%s)", (LEDGER_LOCK,)).fetchone() or (False,))[0]
        except psycopg.Error as exc:
            raise TransientError(f"cannot lock the ledger {self.where}: {exc}") from exc
        if not got:
            row = conn.execute(
                "SELECT a.application_name, a.client_addr, a.backend_start FROM pg_locks l "
                "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.granted "
                "AND l.classid = 0 AND l.objid = %s", (LEDGER_LOCK,)).fetchone()
            conn.close()
            holder = (f"{row[0] or 'another program'} (from {row[1] or 'this host'}, since "
                      f"{row[2]:%Y-%m-%d %H:%M:%S %Z})") if row else "another inbox-ocr"
            raise StateLocked(f"the ledger {self.where} is in use by {holder}: one daemon (or backfill) per "
                              "ledger; stop it first, or give this one a ledger of its own")
        self._conn = conn
        return self

    def check(self) -> None:
        """Still ours? After a lost connection take the lock again; StateLocked if another daemon has it."""
        import psycopg

        if self._conn is not None and not self._conn.closed and not self._conn.broken:
            try:
                self._conn.execute("SELECT 1")
                return
            except psycopg.Error:
                pass
        self.release()
        self.acquire(self._what)

    def release(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()  # the session ends: PostgreSQL drops its advisory locks
            self._conn = None


def state_holder(state_dir: Path) -> str | None:
    """Who holds the state directory's lock now (the lock file's line), or None."""
    path = Path(state_dir) / FILE_NAME
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
    finally:
        os.close(fd)  # also drops the shared lock when it was taken
    return None


def ledger_holder(url: str) -> str | None:
    """Who holds a shared ledger's daemon lock now (its application_name), or None."""
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=10, application_name="inbox-ocr status") as conn:
        row = conn.execute(
            "SELECT a.application_name, a.backend_start FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid = %s", (LEDGER_LOCK,)).fetchone()
    return f"{row[0]} (since {row[1]:%Y-%m-%d %H:%M:%S %Z})" if row else None
