"""`kill -9` of the daemon at random moments while Front pushes messages, each routed inside Front
(a tag and a private comment on its conversation, tests/helpdesk_server.py standing in for Front's
API): every message the daemon answered 200 for gets its tag and exactly one comment, whatever
moment the kills hit (between commit and delivery, in the middle of a call).

CI runs 3 kills; the soak (`INBOX_OCR_SOAK=1`) 20; `INBOX_OCR_KILLS=N` overrides.
"""

from __future__ import annotations

import json
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
from tests.helpdesk_server import TOKEN, FakeHelpdesk
from tests.integration.webhook_fixtures import front_headers

KILLS = int(os.environ.get("INBOX_OCR_KILLS", "20" if SOAK else "3"))
SECRET = "front-fault-secret"
PER_CYCLE = 40  # messages posted at most before each kill (the last run handles them all)


def _event(n: int) -> bytes:
    return json.dumps({"type": "inbound_received", "payload": {
        "id": f"evt_{n}", "type": "inbound", "conversation": {"id": f"cnv_{n}", "subject": f"Invoice {n}"},
        "target": {"_meta": {"type": "message"}, "data": {
            "id": f"msg_{n}", "is_inbound": True, "created_at": time.time(), "subject": f"Invoice {n}",
            "body": f"<p>Invoice {n}</p>", "text": f"Invoice {n}", "attachments": [],
            "recipients": [{"handle": "billing@vendor.example", "role": "from"}]}}}}).encode()


@pytest.mark.timeout(max(600, 60 * KILLS + 300))
def test_kill_9_while_front_pushes_makes_every_change_in_front_once(tmp_path: Path) -> None:
    seed = int(os.environ.get("INBOX_OCR_SEED", str(random.SystemRandom().randrange(1 << 30))))
    rng = random.Random(seed)
    front = FakeHelpdesk("front").start()
    port, state = free_port(), tmp_path / "var"
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({
        "state_dir": str(state),
        "http": {"host": "127.0.0.1", "port": port},
        "sources": [{"name": "front", "type": "webhook", "provider": "front", "secret": SECRET,
                     "api_token": TOKEN, "api_url": front.api_url}],
        "default": [{"keyword": "Invoices"}, {"comment": "Seen by inbox-ocr: {subject}"}],
        "ocr": {"enabled": False},
    }))
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    log = tmp_path / "daemon.log"
    answered: list[int] = []
    sent = 0
    try:
        for cycle in range(KILLS):
            proc = spawn_daemon(config, env, log)
            wait_until(lambda: http_up(port), 60, "the daemon's HTTP server")
            deadline = time.monotonic() + rng.uniform(1.0, 4.0)
            while time.monotonic() < deadline and sent < PER_CYCLE * (cycle + 1):
                n, sent = sent, sent + 1
                body = _event(n)
                try:
                    answer = requests.post(f"http://127.0.0.1:{port}/hooks/front", data=body,
                                           headers=front_headers(SECRET, body), timeout=10)
                except requests.RequestException:
                    continue
                if answer.status_code == 200:
                    answered.append(n)
                time.sleep(rng.uniform(0.0, 0.05))
            kill9(proc)
        last_run(config, env, log, lambda: len(ledger_rows(state, "SELECT 1 FROM messages WHERE status = 'done'"))
                 >= len(answered) and outbox_drained(state), "the last run makes every change")
    finally:
        front.stop()
    assert integrity(state) == "ok"
    print(f"\nkill -9 helpdesk test (seed {seed}): kills {KILLS}, posted {sent}, answered 200 {len(answered)}, "
          f"Front calls {len(front.calls)}")
    assert len(answered) >= KILLS, "too few requests were answered for the test to mean anything"
    for n in answered:
        conversation = front.conversations.get(f"cnv_{n}")
        assert conversation is not None, (seed, n, "no change made in Front")
        assert conversation.tags == ["Invoices"], (seed, n, conversation)
        assert len(conversation.comments) == 1, (seed, n, conversation.comments)
        assert conversation.comments[0].startswith(f"Seen by inbox-ocr: Invoice {n}\n\n[inbox-ocr:")
    assert all(len(c.comments) <= 1 for c in front.conversations.values()), seed
