"""`kill -9` of the daemon at random moments while mail arrives by webhook (raw MIME provider)
and is routed to a real webhook receiver. Every message the daemon answered 200 for must be routed
exactly once (one outbox row, its key accepted by the receiver), and none may stay in the spool.

CI runs 4 kills; the soak (`INBOX_OCR_SOAK=1`) 30; `INBOX_OCR_KILLS=N` overrides.
"""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

import pytest
import requests
import yaml

from tests.faults.harness import (
    SOAK,
    free_port,
    http_up,
    integrity,
    kill9,
    last_run,
    ledger_rows,
    outbox_drained,
    spawn_daemon,
    wait_until,
)
from tests.http_receiver import Receiver
from tests.integration.webhook_fixtures import make_pdf, mime_headers, raw_message

KILLS = int(os.environ.get("INBOX_OCR_KILLS", "30" if SOAK else "4"))
SECRET = "spool-fault-secret"


@pytest.mark.timeout(max(600, 60 * KILLS + 300))
def test_kill_9_while_mail_arrives_by_webhook_loses_nothing_it_answered(tmp_path: Path, receiver: Receiver) -> None:
    seed = int(os.environ.get("INBOX_OCR_SEED", str(random.SystemRandom().randrange(1 << 30))))
    rng = random.Random(seed)
    port, state = free_port(), tmp_path / "var"
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({
        "state_dir": str(state),
        "http": {"host": "127.0.0.1", "port": port},
        "sources": [{"name": "gw", "type": "webhook", "provider": "mime", "secret": SECRET}],
        "webhooks": {"erp": {"url": receiver.url, "secret": receiver.secret, "backoff": "200ms",
                             "max_backoff": "2s", "max_attempts": 1000, "timeout": "5s"}},
        "rules": [{"name": "all", "when": {"has_attachment": True}, "then": [{"webhook": "erp"}]}],
        "ocr": {"enabled": False},
    }))
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    log = tmp_path / "daemon.log"
    pdf = make_pdf()
    answered: list[str] = []  # Message-IDs the daemon said 200 for
    sent = 0
    for _cycle in range(KILLS):
        proc = spawn_daemon(config, env, log)
        wait_until(lambda: http_up(port), 60, "the daemon's HTTP server")
        deadline = time.monotonic() + rng.uniform(1.0, 4.0)  # post until the kill comes
        while time.monotonic() < deadline:
            mid = f"<spool-{seed}-{sent}@vendor.example>"
            sent += 1
            body = raw_message(mid, pdf)
            try:
                answer = requests.post(f"http://127.0.0.1:{port}/hooks/gw", data=body,
                                       headers=mime_headers(SECRET, body), timeout=10)
            except requests.RequestException:
                continue
            if answer.status_code == 200:
                answered.append(mid)
        kill9(proc)
    last_run(config, env, log, lambda: len(ledger_rows(state, "SELECT 1 FROM messages WHERE status = 'done'"))
             >= len(answered) and outbox_drained(state), "the last run routes everything answered")
    assert integrity(state) == "ok"
    routed = [r[0] for r in ledger_rows(state, "SELECT message_id FROM messages WHERE status = 'done'")]
    keys = {r[0] for r in ledger_rows(state, "SELECT idempotency_key FROM outbox")}
    spooled = list((state / "inbound" / "gw" / "new").iterdir())
    print(f"\nkill -9 webhook-spool test (seed {seed}): kills {KILLS}, posted {sent}, answered 200 {len(answered)}, "
          f"routed {len(routed)}, keys accepted {len(receiver.accepted)}")
    assert len(answered) >= KILLS, "too few requests were answered for the test to mean anything"
    assert set(answered) <= set(routed), ("answered but not routed", seed, set(answered) - set(routed))
    assert len(routed) == len(set(routed)), ("routed twice", seed)
    assert len(keys) == len(routed) and set(receiver.accepted) == keys, seed
    assert spooled == [], spooled
