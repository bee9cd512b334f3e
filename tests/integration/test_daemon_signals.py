"""The daemon as a process: SIGTERM lets the message in hand finish, then it exits cleanly; a restart
continues where it stopped and routes nothing twice."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from inbox_ocr.app.samples import SampleMessage, invoice_doc, render_pdf, write_maildir

ROOT = Path(__file__).resolve().parents[2]


def _config(tmp_path: Path) -> Path:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        f"state_dir: {tmp_path / 'var'}\n"
        f"sources:\n  - {{name: box, type: maildir, path: {tmp_path / 'Maildir'}, poll_every: 1s, batch_size: 5}}\n"
        "rules:\n  - {name: invoices, when: {doc_type: invoice}, then: [{move: Invoices}]}\n"
        "default: [{keyword: other}]\nlog: {level: INFO}\n"
    )
    return cfg


def _ledger_rows(tmp_path: Path) -> list[tuple[str, str, str | None]]:
    db = sqlite3.connect(tmp_path / "var" / "ledger.sqlite3")
    try:
        return db.execute("SELECT key, status, acked_at FROM messages").fetchall()
    finally:
        db.close()


def _invoices(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "Maildir" / ".Invoices" / "cur"
    return list(folder.iterdir()) if folder.exists() else []


def test_sigterm_finishes_message_in_hand_and_restart_continues(tmp_path: Path) -> None:
    pdf = render_pdf(invoice_doc())
    n = 30
    write_maildir(tmp_path / "Maildir", [
        SampleMessage(f"m{i}", f"Invoice {i}", "billing@acme.example", "see attached",
                      ((f"inv{i}.pdf", "application/pdf", pdf),)) for i in range(n)])
    cfg = _config(tmp_path)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, str(ROOT / "run_daemon.py"), "--config", str(cfg)],
                            cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    deadline = time.monotonic() + 120
    for line in proc.stderr:
        if "event=routed" in line or time.monotonic() > deadline:
            break
    proc.send_signal(signal.SIGTERM)
    try:
        rest = proc.stderr.read()
        assert proc.wait(timeout=60) == 0, rest
    finally:
        proc.kill()
    assert "event=stopped" in rest
    rows = _ledger_rows(tmp_path)
    # every message the daemon touched is committed and acknowledged: no half-handled message
    assert rows and all(status == "done" and acked for _, status, acked in rows)
    assert len(_invoices(tmp_path)) == len(rows)
    assert len(rows) < n, "SIGTERM should stop the daemon before the whole mailbox is done"

    # restart with --once: the rest is routed, nothing twice
    done = subprocess.run([sys.executable, str(ROOT / "run_daemon.py"), "--config", str(cfg), "--once"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    rows = _ledger_rows(tmp_path)
    assert len(rows) == n and len({k for k, _, _ in rows}) == n
    assert len(_invoices(tmp_path)) == n
    assert list((tmp_path / "Maildir" / "new").iterdir()) == []
