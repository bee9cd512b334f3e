"""One daemon per state directory: an exclusive lock (flock) on state_dir/daemon.lock.

`inbox-ocr run` and `inbox-ocr backfill` take it before they touch a source; a second one on the
same state directory stops at once with the holder's PID, instead of handling the same messages
twice and delivering every webhook twice. The kernel releases the lock when its holder exits,
however it exits (kill -9 included), so a stale lock file is never a problem. `serve` and the
read-only commands (`ledger`, `outbox list`) do not take it.
"""

from __future__ import annotations

import fcntl
import os
from datetime import UTC, datetime
from pathlib import Path

from inbox_ocr.kernel.errors import InboxOcrError

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
