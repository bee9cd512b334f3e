"""Per-document limits: the daemon reads each document in a worker process it can kill.

A hostile or merely absurd attachment (a PDF whose pages take minutes to render, an image that
inflates to gigabytes, a parser bug that loops) must cost one document, not the daemon. So the
daemon hands every document to one long-lived worker process (a fresh interpreter,
`python -m inbox_ocr.read.sandbox`, so it shares no threads or locks with the daemon and needs no
`__main__` guard in whatever program embeds the pipeline) and waits at most `limits.document_seconds`:

* past the time limit the worker is killed (SIGKILL) and the document becomes
  `reading="unreadable"` with the error "reading stopped after N s (limits.document_seconds)";
  the next document gets a fresh worker;
* the worker runs under an address-space limit (`limits.document_memory`, RLIMIT_AS), so an
  allocation past it fails inside the worker (MemoryError: a per-document error) instead of
  swapping the machine; a worker that dies anyway (segfault in a native library, the kernel's
  OOM killer) gives "the reader process died" for that one document;
* a worker whose resident memory grew past `RECYCLE_RSS` after a document is replaced, so one
  huge document does not pin that memory for the life of the daemon.

Byte, page and pixel limits are checked where the data is read (mime/parse.py: attachment bytes;
read stage: `limits.max_pdf_pages`; OCR: `ocr.max_pixels`, `ocr.max_pages`).

A worker says when it has imported its libraries; a document's clock starts only then, so a busy
machine's slow interpreter start-up is not charged to the document. The OCR models are loaded once
per worker, on first use, so a worker restart after a kill costs a model load (about a second).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from multiprocessing.connection import Connection
from typing import Any

from inbox_ocr.kernel import heap
from inbox_ocr.kernel.models import Document
from inbox_ocr.kernel.settings import Limits, OcrSettings

log = logging.getLogger(__name__)

RECYCLE_RSS = 1536 * 1024**2  # replace a worker that holds more than this after a document
STARTUP_SECONDS = 120  # a worker that has not imported its libraries by then is broken


class WorkerStartFailed(RuntimeError):
    pass
DEFAULT_TARGET = "inbox_ocr.read:read_document"


def _resolve(target: str) -> Any:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def _worker(conn: Connection, target: str, memory: int | None, log_setup: tuple[str, str, list[str]]) -> None:
    """The worker's loop: read (kwargs, message context) requests, answer ('ok', Document) or ('error', text)."""
    import signal

    # Ctrl-C and a service manager's SIGTERM reach the whole process group: the daemon finishes the
    # message in hand (this document included) and then stops us itself; a daemon that is gone
    # closes our socket, which ends the loop below.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if memory is not None:
        import resource

        with contextlib.suppress(ValueError, OSError):  # a hard limit below ours: keep the hard one
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    from inbox_ocr.kernel import logs

    logs.setup(*log_setup)
    read = _resolve(target)
    heap.settle()
    conn.send(("ready", None))  # imports done: the daemon starts a document's clock only now
    while True:
        try:
            kwargs, context = conn.recv()
        except (EOFError, OSError):  # the daemon is gone (or closed us): so are we
            return
        try:
            with logs.message_context(*context) if context else contextlib.nullcontext():
                document = read(**kwargs)
            conn.send(("ok", document))
        except MemoryError:
            conn.send(("error", "over the memory limit while reading (limits.document_memory)"))
        except BaseException as exc:  # the reader never raises for bad input; this is a bug
            conn.send(("error", f"internal error while reading: {exc!r}"))


class SandboxedReader:
    """The Reader port (kernel/ports.py): `read_document` with a time and memory limit, in a worker
    process. Thread-safe (one document at a time; the daemon handles one message at a time per
    source)."""

    def __init__(self, limits: Limits, ocr: OcrSettings | None = None,
                 log_setup: tuple[str, str, Iterable[str]] = ("INFO", "text", ()),
                 target: str = DEFAULT_TARGET) -> None:
        self.ocr = ocr or OcrSettings()
        self.max_pages = limits.max_pdf_pages
        self.max_words = limits.max_document_words
        self.seconds = limits.document_seconds
        self.memory = limits.document_memory
        self.target = target
        self.log_setup = (log_setup[0], log_setup[1], list(log_setup[2]))
        self._process: subprocess.Popen[bytes] | None = None
        self._conn: Connection | None = None
        self._lock = threading.Lock()
        self.kills = 0  # workers killed at the time limit (tests and metrics read it)
        self.deaths = 0  # workers that died on their own

    def _start(self) -> Connection:
        if self._process is not None and self._process.poll() is None and self._conn is not None:
            return self._conn
        self._stop_worker()
        ours, theirs = socket.socketpair()
        spec = json.dumps({"fd": theirs.fileno(), "target": self.target, "memory": self.memory,
                           "log": self.log_setup})
        # the spec goes by stdin: secrets (for log masking) never show in the process list
        self._process = subprocess.Popen([sys.executable, "-m", "inbox_ocr.read.sandbox"], stdin=subprocess.PIPE,
                                         pass_fds=[theirs.fileno()], close_fds=True)
        assert self._process.stdin is not None
        self._process.stdin.write(spec.encode())
        self._process.stdin.close()
        theirs.close()
        conn = Connection(ours.detach())
        # Start-up (a fresh interpreter importing pymupdf, OpenCV, ONNX Runtime) is not the
        # document's time: on a busy machine it can take longer than a short document_seconds.
        why = f"did not start within {STARTUP_SECONDS} s"
        try:
            ready = conn.poll(STARTUP_SECONDS) and conn.recv() == ("ready", None)
        except (EOFError, OSError):
            ready = False
            with contextlib.suppress(subprocess.TimeoutExpired):
                why = f"exited while starting (exit code {self._process.wait(timeout=10)}; too little " \
                      "limits.document_memory to load its libraries?)"
        if not ready:
            conn.close()
            self._stop_worker()
            raise WorkerStartFailed(f"the reader process {why}")
        self._conn = conn
        return self._conn

    def _stop_worker(self) -> None:
        proc, conn = self._process, self._conn
        self._process = self._conn = None
        if conn is not None:
            conn.close()
        if proc is not None:
            if proc.poll() is None:
                proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)

    @property
    def worker_pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def read(self, data: bytes, *, filename: str, content_type: str, sha256: str, part: str | None = None) -> Document:
        """Read one file in the worker; never raises for bad input."""
        from inbox_ocr.kernel.logs import current_message

        base: dict[str, Any] = {"filename": filename, "part": part, "content_type": content_type, "sha256": sha256}
        request = ({"data": data, **base, "ocr": self.ocr, "max_pages": self.max_pages,
                    "max_words": self.max_words}, current_message())
        with self._lock:
            try:
                conn = self._start()
            except WorkerStartFailed as exc:
                self.deaths += 1
                return Document(**base, reading="unreadable", error=str(exc))
            started = time.monotonic()
            try:
                conn.send(request)
                if not conn.poll(self.seconds):
                    self.kills += 1
                    self._stop_worker()
                    log.warning("event=document_time_limit file=%s seconds=%.0f action=reader process killed",
                                filename, self.seconds)
                    return Document(**base, reading="unreadable",
                                    error=f"reading stopped after {self.seconds:g} s (limits.document_seconds)")
                status, value = conn.recv()
            except (EOFError, OSError):
                code = None
                with contextlib.suppress(Exception):
                    code = self._process.wait(timeout=5) if self._process is not None else None
                self.deaths += 1
                self._stop_worker()
                log.warning("event=reader_died file=%s exit_code=%s after=%.1fs", filename, code,
                            time.monotonic() - started)
                return Document(**base, reading="unreadable",
                                error=f"the reader process died while reading this document (exit code {code}; "
                                      "out of memory or a crash in a native library)")
            self._recycle_if_big()
        if status == "ok":
            return value  # type: ignore[no-any-return]
        return Document(**base, reading="unreadable", error=str(value))

    def _recycle_if_big(self) -> None:
        pid = self.worker_pid
        if pid is None:
            return
        try:
            with open(f"/proc/{pid}/statm") as f:
                rss = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            return
        if rss > RECYCLE_RSS:
            log.info("event=reader_recycled rss_mb=%d", rss // 1024**2)
            self._stop_worker()

    def close(self) -> None:
        with self._lock:
            self._stop_worker()


def main() -> None:
    """Worker entry point: `python -m inbox_ocr.read.sandbox` with its spec as JSON on stdin."""
    spec = json.loads(sys.stdin.read())
    log_setup = spec["log"]
    _worker(Connection(spec["fd"]), spec["target"], spec["memory"], (log_setup[0], log_setup[1], log_setup[2]))


if __name__ == "__main__":
    main()
