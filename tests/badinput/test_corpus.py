"""The whole hostile corpus through the running daemon (a real process, a Maildir source): each
message is quarantined with a reason or routed with a clear per-part/per-document error, the daemon
keeps running, and its memory stays bounded. Prints the peak resident memory of the daemon and of
its reader worker (VmHWM from /proc, sampled while the corpus runs).
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.badinput.corpus import build_corpus

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT_SECONDS = 4
DAEMON_RSS_LIMIT = 1024 * 1024**2  # what a 2-core box with a few GB can afford for the daemon itself


def _kib(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _children(pid: int) -> list[int]:
    """Processes whose parent is `pid` (the reader workers), from /proc/*/stat."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


class PeakMemory(threading.Thread):
    """Samples the peak RSS (VmHWM) of a process and of every child it starts (the reader workers)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.daemon_kib = 0
        self.worker_kib = 0
        self.workers: set[int] = set()
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.1):
            self.daemon_kib = max(self.daemon_kib, _kib(self.pid, "VmHWM"))
            for child in _children(self.pid):
                self.workers.add(child)
                self.worker_kib = max(self.worker_kib, _kib(child, "VmHWM"))


def test_hostile_corpus_is_quarantined_or_errored_per_document_and_the_daemon_survives(tmp_path: Path) -> None:
    cases = build_corpus()
    maildir = tmp_path / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True)
    for i, case in enumerate(cases):
        (maildir / "new" / f"{1790000000 + i}.M{i}P1.badinput").write_bytes(case.raw)
    config = tmp_path / "config.yaml"
    config.write_text(
        f"state_dir: {tmp_path / 'var'}\n"
        f"sources:\n  - {{name: box, type: maildir, path: {maildir}, poll_every: 1s, batch_size: 5}}\n"
        "rules:\n  - {name: invoices, when: {doc_type: invoice}, then: [{move: Invoices}]}\n"
        "default: [{move: Other}]\n"
        f"limits: {{document_seconds: {DOCUMENT_SECONDS}, max_attachment_bytes: 5MB, document_memory: 2GB}}\n"
        "ocr: {max_pages: 40}\n"
        "log: {level: INFO}\n")
    log = tmp_path / "daemon.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, str(ROOT / "run_daemon.py"), "--config", str(config)],
                                cwd=tmp_path, stdout=out, stderr=out)
    sampler = PeakMemory(proc.pid)
    sampler.start()
    started = time.monotonic()
    try:
        rows = _wait_for_rows(tmp_path / "var" / "ledger.sqlite3", len(cases), proc, timeout=400)
        elapsed = time.monotonic() - started
        assert proc.poll() is None, "the daemon died on the corpus:\n" + log.read_text()[-3000:]
    finally:
        sampler.done.set()
        sampler.join()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
    assert code == 0, log.read_text()[-3000:]

    by_subject = {r["subject"]: r for r in rows}
    problems = {}
    for case in cases:
        row = next((r for s, r in by_subject.items() if case.name in s), None)
        if row is None:  # headerless input has no subject: find it by status
            row = {"status": "missing", "error": None, "documents": []}
            if case.name in ("not a message", "empty message"):
                quarantined = [r for r in rows if not r["subject"] and r["status"] == "quarantined"]
                row = quarantined.pop(0) if quarantined else row
        problem = case.check(row)
        errors = [d.get("error") or "; ".join(d.get("warnings") or []) for d in row["documents"]]
        what = " | ".join([row["error"] or "", *[e for e in errors if e]])
        print(f"  {case.name:<28} {row['status']:<11} {what[:150]}")
        if problem:
            problems[case.name] = problem
    quarantine = list((maildir / ".Quarantine" / "cur").iterdir())
    print(f"\nbad-input corpus: {len(cases)} messages in {elapsed:.0f} s; "
          f"{sum(r['status'] == 'quarantined' for r in rows)} quarantined, "
          f"{sum(r['status'] == 'done' for r in rows)} routed with per-part/document errors; "
          f"peak RSS daemon {sampler.daemon_kib // 1024} MiB, reader worker {sampler.worker_kib // 1024} MiB "
          f"({len(sampler.workers)} worker process(es))")
    assert not problems, json.dumps(problems, indent=1)[:4000]
    assert len(quarantine) == sum(r["status"] == "quarantined" for r in rows) >= 2
    assert list((maildir / "new").iterdir()) == [] and list((maildir / "cur").iterdir()) == []
    assert "event=document_time_limit" in log.read_text(), "the slow scan should have cost a worker its life"
    assert 0 < sampler.daemon_kib * 1024 < DAEMON_RSS_LIMIT
    assert sampler.worker_kib * 1024 < 2 * 1024**3  # document_memory


def _wait_for_rows(db_path: Path, count: int, proc: subprocess.Popen[bytes], timeout: float) -> list[dict]:
    deadline = time.monotonic() + timeout
    rows: list[dict] = []
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the daemon exited with {proc.returncode}")
        if db_path.exists():
            db = sqlite3.connect(db_path, timeout=30)
            db.row_factory = sqlite3.Row
            try:
                rows = [dict(r) for r in db.execute(
                    "SELECT subject, status, error, documents FROM messages WHERE acked_at IS NOT NULL")]
            except sqlite3.OperationalError:
                rows = []
            finally:
                db.close()
            for r in rows:
                r["documents"] = json.loads(r["documents"] or "[]")
            if len(rows) >= count:
                return rows
        time.sleep(0.5)
    pytest.fail(f"only {len(rows)} of {count} messages handled in {timeout:.0f} s")
