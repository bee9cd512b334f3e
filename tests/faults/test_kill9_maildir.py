"""`kill -9` of the daemon at random moments while it routes a Maildir and calls a real webhook
receiver. Afterwards every message file sits in exactly one folder (the one its rule chose), none
is left in the inbox or duplicated, every webhook action was accepted exactly once by its
idempotency key, and no message shows unacknowledged in the ledger.

CI runs 6 kills; the soak (`INBOX_OCR_SOAK=1`) 40; `INBOX_OCR_KILLS=N` overrides.
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter
from email.parser import BytesHeaderParser
from pathlib import Path

import pytest
import yaml

from tests.faults.harness import (
    SOAK,
    integrity,
    kill9,
    last_run,
    ledger_rows,
    make_mailbox,
    outbox_drained,
    spawn_daemon,
)
from tests.http_receiver import Receiver

KILLS = int(os.environ.get("INBOX_OCR_KILLS", "40" if SOAK else "6"))


def _ids_in(folder: Path) -> list[str]:
    out = []
    for sub in ("new", "cur"):
        for path in sorted((folder / sub).glob("*")) if (folder / sub).is_dir() else []:
            out.append(str(BytesHeaderParser().parsebytes(path.read_bytes())["Message-ID"]).strip())
    return out


def _routed(state: Path) -> int:
    rows = ledger_rows(state, "SELECT COUNT(*) FROM messages WHERE status != 'failed'")
    return int(rows[0][0]) if rows else 0


@pytest.mark.timeout(max(600, 60 * KILLS + 300))
def test_kill_9_while_routing_a_maildir_loses_nothing_and_routes_nothing_twice(
    tmp_path: Path, receiver: Receiver, base: str
) -> None:
    seed = int(os.environ.get("INBOX_OCR_SEED", str(random.SystemRandom().randrange(1 << 30))))
    rng = random.Random(seed)
    box = make_mailbox(base, invoices=KILLS * 10, others=KILLS * 5)
    mails = list(box.invoices.values()) + list(box.others.values())
    rng.shuffle(mails)
    maildir, state = tmp_path / "Maildir", tmp_path / "var"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True)
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({
        "state_dir": str(state),
        "sources": [{"name": "box", "type": "maildir", "path": str(maildir), "poll_every": "1s", "batch_size": 5}],
        "webhooks": {"erp": {"url": receiver.url, "secret": receiver.secret, "backoff": "200ms",
                             "max_backoff": "2s", "max_attempts": 1000, "timeout": "5s"}},
        "rules": [{"name": "invoices", "when": {"subject": "Invoice *", "has_attachment": True},
                   "then": [{"move": "Invoices"}, {"keyword": "invoice"}, {"webhook": "erp"}], "stop": True}],
        "default": [{"move": "Processed"}],
        "ocr": {"enabled": False},
    }))
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    log = tmp_path / "daemon.log"
    chunk = -(-len(mails) // KILLS)
    kills_mid_pass = 0
    for cycle in range(KILLS):
        for i, raw in enumerate(mails[cycle * chunk:(cycle + 1) * chunk]):  # delivered as an MTA does
            name = f"{1_800_000_000 + cycle}.M{i}P{cycle}.fault"
            (maildir / "tmp" / name).write_bytes(raw)
            os.replace(maildir / "tmp" / name, maildir / "new" / name)
        before = _routed(state)
        proc = spawn_daemon(config, env, log)
        target = before + rng.randint(1, max(1, chunk // 2))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and _routed(state) < target:
            time.sleep(0.02)
        time.sleep(rng.uniform(0.0, 0.05))
        kill9(proc)
        kills_mid_pass += int(bool(list((maildir / "new").iterdir())))
    last_run(config, env, log, lambda: not list((maildir / "new").iterdir()) and not list((maildir / "cur").iterdir())
             and outbox_drained(state) and not ledger_rows(state, "SELECT 1 FROM messages WHERE acked_at IS NULL")
             and len(receiver.accepted) >= len(box.invoices), "the last run finishes the Maildir")
    assert integrity(state) == "ok"
    placed = Counter(_ids_in(maildir / ".Invoices") + _ids_in(maildir / ".Processed") + _ids_in(maildir))
    invoices, others = Counter(_ids_in(maildir / ".Invoices")), Counter(_ids_in(maildir / ".Processed"))
    print(f"\nkill -9 Maildir test (seed {seed}): kills {KILLS}, mid-pass {kills_mid_pass}; messages {len(mails)}; "
          f"webhook requests {len(receiver.requests)}, keys accepted {len(receiver.accepted)}")
    assert set(invoices) == set(box.invoices) and set(others) == set(box.others), seed
    assert max(placed.values()) == 1, (seed, [m for m, n in placed.items() if n > 1])
    keys = {r[0] for r in ledger_rows(state, "SELECT idempotency_key FROM outbox")}
    assert len(keys) == len(box.invoices) and set(receiver.accepted) == keys, seed
    assert kills_mid_pass >= KILLS // 2, kills_mid_pass
