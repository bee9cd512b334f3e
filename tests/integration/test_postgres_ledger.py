"""The daemon with its ledger on PostgreSQL (a server the tests start on loopback): it routes a
Maildir, a second daemon on the same ledger (another state directory, as on another machine) is
refused naming the first, `inbox-ocr status` shows both states, and a database restart costs a
pass, not the lock or a message."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from inbox_ocr.app.samples import SampleMessage, invoice_doc, render_pdf, write_maildir
from inbox_ocr.orchestration.ledger import Ledger

pytestmark = pytest.mark.integration


def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "inbox_ocr", *args], capture_output=True, text=True, timeout=timeout)


def write_config(folder: Path, url: str, maildir: Path, state: str) -> Path:
    path = folder / f"{state}.yaml"
    path.write_text(yaml.safe_dump({
        "state_dir": str(folder / state),
        "ledger": {"url": url},
        "sources": [{"name": "shared-box", "type": "maildir", "path": str(maildir), "poll_every": "1s"}],
        "webhooks": {"erp": {"url": f"file://{folder / 'erp'}", "secret": "s3cret-for-the-test"}},
        "rules": [{"name": "invoices", "when": {"subject": "Invoice *"}, "then": [{"move": "Invoices"},
                                                                                 {"webhook": "erp"}]}],
        "default": [{"keyword": "other"}],
        "log": {"level": "WARNING"},
    }))
    return path


def deliver(maildir: Path, first: int, count: int) -> None:
    """Messages `first` .. `first + count - 1` into the Maildir, each file named as an MTA would (uniquely)."""
    pdf = render_pdf(invoice_doc())
    batch = [SampleMessage(f"m{i}", f"Invoice {i}", "billing@acme.example", "attached",
                           ((f"inv{i}.pdf", "application/pdf", pdf),)) for i in range(first, first + count)]
    for i, path in enumerate(write_maildir(maildir.parent / f"incoming-{first}", batch), first):
        for sub in ("cur", "new", "tmp"):
            (maildir / sub).mkdir(parents=True, exist_ok=True)
        path.rename(maildir / "new" / f"{1794000000 + i}.M{i}P2.mta")


def wait_for(check, timeout: float = 120.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "not reached in time"
        time.sleep(0.2)


def test_one_daemon_per_shared_ledger_and_status_says_who(tmp_path: Path, postgres_url: str) -> None:
    maildir = tmp_path / "Maildir"
    deliver(maildir, 0, 4)
    first = write_config(tmp_path, postgres_url, maildir, "machine-a")
    second = write_config(tmp_path, postgres_url, maildir, "machine-b")
    daemon = subprocess.Popen([sys.executable, "-m", "inbox_ocr", "run", "-c", str(first)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ledger = Ledger(postgres_url)
        wait_for(lambda: ledger.counts().get("outbox_delivered", 0) == 4 or daemon.poll() is not None)
        assert daemon.poll() is None, daemon.communicate()
        ledger.close()

        refused = cli("run", "--once", "-c", str(second))
        assert refused.returncode == 3, refused.stderr
        assert f"is in use by inbox-ocr run pid {daemon.pid} on" in refused.stderr
        assert "one daemon (or backfill) per ledger" in refused.stderr

        shown = cli("status", "-c", str(second))
        assert shown.returncode == 0, shown.stderr
        assert f"daemon    running: inbox-ocr run pid {daemon.pid}" in shown.stdout
        assert "messages  done=4" in shown.stdout and "outbox    delivered=4" in shown.stdout
        assert "postgresql://inbox@127.0.0.1" in shown.stdout
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.communicate(timeout=60)
    assert daemon.returncode == 0

    # the first machine is gone: the second takes over; nothing is routed or delivered twice
    deliver(maildir, 4, 2)
    took_over = cli("run", "--once", "--json", "-c", str(second))
    assert took_over.returncode == 0, took_over.stderr
    assert sorted(m["subject"] for m in json.loads(took_over.stdout)["messages"]) == ["Invoice 4", "Invoice 5"]
    report = json.loads(cli("status", "--json", "-c", str(second)).stdout)
    assert report["daemon"] is None
    assert report["messages"] == {"done": 6} and report["outbox"] == {"delivered": 6}
    assert report["not_settled"] == 0 and report["oldest_not_settled"] is None
    assert len(list((tmp_path / "erp").iterdir())) == 6  # six webhook files, one per message


def test_a_database_restart_costs_a_pass_and_the_lock_is_taken_again(tmp_path: Path) -> None:
    """A server of its own (restarted here): the daemon's passes during the outage fail without
    acknowledging anything; afterwards it takes its lock again and goes on."""
    from inbox_ocr.app.config import load_config
    from inbox_ocr.app.daemon import Daemon
    from tests.postgres_server import Postgres, binaries

    if binaries() is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    server = Postgres.start()
    try:
        url = server.new_database()
        maildir = tmp_path / "Maildir"
        deliver(maildir, 0, 2)
        daemon = Daemon(load_config(write_config(tmp_path, url, maildir, "a")))
        try:
            reports, _ = daemon.run_once()
            assert len(reports) == 2
            server.stop()
            deliver(maildir, 2, 1)
            reports, _ = daemon.run_once()
            assert reports == [] and daemon.ledger_error is not None  # nothing handled without the ledger
            assert len(list((maildir / "new").iterdir())) == 1  # the new message waits where it is
            server.restart()
            reports, delivered = daemon.run_once()
            assert [(r.subject, r.acked) for r in reports] == [("Invoice 2", True)] and daemon.ledger_error is None
            assert daemon.wiring.ledger_lock is not None and not daemon.stop.is_set()
            again = cli("run", "--once", "-c", str(write_config(tmp_path, url, maildir, "b")))
            assert again.returncode == 3 and f"pid {os.getpid()}" in again.stderr
        finally:
            daemon.close()
    finally:
        server.close()


def test_a_standby_daemon_takes_over_when_the_first_stops(tmp_path: Path, postgres_url: str) -> None:
    maildir = tmp_path / "Maildir"
    deliver(maildir, 0, 2)
    first = subprocess.Popen([sys.executable, "-m", "inbox_ocr", "run", "-c",
                              str(write_config(tmp_path, postgres_url, maildir, "a"))],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    second_config = write_config(tmp_path, postgres_url, maildir, "b")
    ledger = Ledger(postgres_url)
    standby = None
    try:
        wait_for(lambda: ledger.counts().get("outbox_delivered", 0) == 2 or first.poll() is not None)
        standby = subprocess.Popen([sys.executable, "-m", "inbox_ocr", "run", "--standby", "-c", str(second_config)],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(3)
        assert standby.poll() is None  # waiting, not exited
        assert f"running: inbox-ocr run pid {first.pid}" in cli("status", "-c", str(second_config)).stdout
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=60)
        wait_for(lambda: f"running: inbox-ocr run pid {standby.pid}" in cli("status", "-c", str(second_config)).stdout,
                 timeout=60)
        deliver(maildir, 2, 1)  # new mail: the one that took over routes it
        wait_for(lambda: ledger.counts().get("outbox_delivered", 0) == 3)
    finally:
        ledger.close()
        for proc in (first, standby):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.communicate(timeout=60)
    assert standby is not None and standby.returncode == 0
