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


def _routed_to(tmp_path: Path, folder: str) -> int:
    path = tmp_path / "Maildir" / f".{folder}" / "cur"
    return len(list(path.iterdir())) if path.exists() else 0


def _drop(tmp_path: Path, name: str) -> None:
    raw = f"From: someone@example.com\r\nTo: ap@example.com\r\nSubject: Question {name}\r\n" \
          f"Message-ID: <{name}@example.com>\r\n\r\nno attachment\r\n"
    new = tmp_path / "Maildir" / "new"
    for sub in ("new", "cur", "tmp"):
        (tmp_path / "Maildir" / sub).mkdir(parents=True, exist_ok=True)
    (tmp_path / "Maildir" / "tmp" / name).write_text(raw)
    (tmp_path / "Maildir" / "tmp" / name).rename(new / f"{time.time():.6f}.{name}.test")


class _Notifications:
    """A stand-in for systemd's notify socket: the datagrams the daemon sends to $NOTIFY_SOCKET."""

    def __init__(self, path: Path) -> None:
        import socket
        import threading

        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.seen: list[str] = []
        self.read = 0  # notifications wait_for has looked at
        threading.Thread(target=self._receive, daemon=True).start()

    def _receive(self) -> None:
        while True:
            try:
                self.seen.append(self.sock.recv(4096).decode())
            except OSError:  # closed
                return

    def wait_for(self, state: str, timeout: float = 120.0) -> None:
        """The next notification (after those already waited for) that carries `state`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            while self.read < len(self.seen):
                self.read += 1
                if state in self.seen[self.read - 1].splitlines():
                    return
            time.sleep(0.1)
        raise AssertionError(f"no {state} from the daemon in {timeout:.0f} s; got {self.seen[-20:]}")


def _wait(check, what: str, timeout: float = 120.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def test_sighup_reloads_a_good_config_refuses_a_bad_one_and_systemd_hears_of_it(tmp_path: Path) -> None:
    def config(folder: str, extra: str = "") -> None:
        # the webhook source waits for mail in a thread of its own (IDLE): a reload must end it too
        cfg.write_text(f"state_dir: {tmp_path / 'var'}\n"
                       f"sources:\n  - {{name: box, type: maildir, path: {tmp_path / 'Maildir'}, poll_every: 1s}}\n"
                       "  - {name: hook, type: webhook, provider: mime, secret: hook-secret-1}\n"
                       "http: {host: 127.0.0.1, port: 0}\n"
                       f"default: [{{move: {folder}}}]\nocr: {{enabled: false}}\n"
                       f"limits: {{isolate_documents: false}}\nlog: {{level: INFO}}\n{extra}")

    cfg = tmp_path / "config.yaml"
    config("First")
    _drop(tmp_path, "m1")
    notes = _Notifications(tmp_path / "notify.sock")
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "NOTIFY_SOCKET": str(tmp_path / "notify.sock"),
           "WATCHDOG_USEC": "1000000"}
    log = tmp_path / "daemon.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "inbox_ocr", "run", "-c", str(cfg)], cwd=tmp_path, env=env,
                                stdout=out, stderr=out)
    try:
        notes.wait_for("READY=1")
        _wait(lambda: _routed_to(tmp_path, "First") == 1, "m1 routed by the first config")
        notes.wait_for("WATCHDOG=1", timeout=30)

        config("Second", "rules: [{name: r, then: [{moov: X}]}]\n")  # a mistake: refused, the old config stays
        proc.send_signal(signal.SIGHUP)
        _wait(lambda: "event=reload_refused" in log.read_text(), "the bad config refused in the log")
        assert "unknown action 'moov'" in log.read_text()
        _drop(tmp_path, "m2")
        _wait(lambda: _routed_to(tmp_path, "First") == 2, "m2 routed by the running (first) config")
        assert proc.poll() is None

        config("Second")
        proc.send_signal(signal.SIGHUP)
        notes.wait_for("RELOADING=1")
        notes.wait_for("READY=1")
        _drop(tmp_path, "m3")
        _wait(lambda: _routed_to(tmp_path, "Second") == 1, "m3 routed by the reloaded config")
        assert _routed_to(tmp_path, "First") == 2

        proc.send_signal(signal.SIGTERM)
        notes.wait_for("STOPPING=1")
        assert proc.wait(timeout=60) == 0, log.read_text()[-2000:]
    finally:
        proc.kill()
        notes.sock.close()
    text = log.read_text()
    assert "event=reloaded" in text and text.count("event=started") == 2
    assert any(line.startswith("STATUS=watching 2 source(s)") for note in notes.seen for line in note.splitlines())
