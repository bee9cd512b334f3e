"""Soak only (`INBOX_OCR_SOAK=1`): the webhook receiver is down for 10 minutes while the daemon
routes mail, with the default retry settings (backoff 30 s doubling, 8 attempts, circuit breaker
after 5 failures). Every delivery must arrive once the receiver is back, none dead-lettered, none
twice. `INBOX_OCR_OUTAGE=SECONDS` shortens the outage (to try the test itself)."""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path

import pytest
import yaml

from inbox_ocr.app.samples import write_maildir
from tests.faults.harness import SOAK, ledger_rows, make_mailbox, spawn_daemon, wait_until
from tests.http_receiver import Receiver

OUTAGE = float(os.environ.get("INBOX_OCR_OUTAGE", "600"))


@pytest.mark.skipif(not SOAK and "INBOX_OCR_OUTAGE" not in os.environ, reason="soak only (INBOX_OCR_SOAK=1)")
@pytest.mark.timeout(int(OUTAGE) + 3600)
def test_a_receiver_down_for_ten_minutes_gets_everything_once_with_default_retries(tmp_path: Path, base: str) -> None:
    with socket.socket() as probe:  # a port nobody listens on until the receiver comes back
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    box = make_mailbox(base, invoices=20, others=0)
    maildir, state = tmp_path / "Maildir", tmp_path / "var"
    write_maildir(maildir, [])
    for i, raw in enumerate(box.invoices.values()):
        (maildir / "new" / f"{1_800_000_000 + i}.M{i}.outage").write_bytes(raw)
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({
        "state_dir": str(state),
        "sources": [{"name": "box", "type": "maildir", "path": str(maildir), "poll_every": "5s"}],
        "webhooks": {"erp": {"url": f"http://127.0.0.1:{port}/hook", "secret": "outage-secret"}},  # default retries
        "rules": [{"name": "invoices", "when": {"has_attachment": True}, "then": [{"webhook": "erp"}]}],
        "ocr": {"enabled": False},
    }))
    proc = spawn_daemon(config, {**os.environ, "PYTHONUNBUFFERED": "1"}, tmp_path / "daemon.log")
    receiver = Receiver(secret="outage-secret", port=port)
    try:
        wait_until(lambda: len(ledger_rows(state, "SELECT 1 FROM messages")) == 20, 120, "the mail is routed")
        time.sleep(OUTAGE)  # the daemon retries meanwhile and its circuit breaker opens
        assert not ledger_rows(state, "SELECT 1 FROM outbox WHERE status = 'delivered'")
        receiver.start()
        wait_until(lambda: not ledger_rows(state, "SELECT 1 FROM outbox WHERE status != 'delivered'"),
                   3000, "every delivery arrives after the outage")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        if getattr(receiver, "server", None) is not None:
            receiver.stop()
    assert len(receiver.accepted) == 20 and receiver.bad_signatures == 0
    assert not ledger_rows(state, "SELECT 1 FROM outbox WHERE status = 'dead'")
