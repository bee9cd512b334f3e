"""`kill -9` of the daemon at random moments while it routes a real Dovecot mailbox and calls a real
webhook receiver; Dovecot restarted under it now and then. Afterwards every message sits in exactly
one folder (the one its rule chose), none is left and none duplicated, and every webhook action was
accepted exactly once by its idempotency key.

CI runs 12 kills; the soak runs 100:

    INBOX_OCR_SOAK=1 pytest tests/faults/test_kill9.py -s

`INBOX_OCR_KILLS=N` overrides the number of kills, `INBOX_OCR_SEED` the random seed (printed).
"""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

import pytest

from tests.faults.harness import (
    SOAK,
    Mailbox,
    audit,
    daemon_env,
    integrity,
    kill9,
    last_run,
    ledger_rows,
    make_mailbox,
    message_ids,
    outbox_drained,
    spawn_daemon,
    srv,
    write_config,
)
from tests.http_receiver import Receiver
from tests.integration.conftest import admin_client
from tests.integration.dovecot import Dovecot

KILLS = int(os.environ.get("INBOX_OCR_KILLS", "100" if SOAK else "12"))
# A cycle takes 5-30 s; the soak gets a timeout of its own instead of pytest's 600 s.
TIMEOUT = max(600, 60 * KILLS + 600)


def _append(dovecot: Dovecot, box: Mailbox, mails: list[bytes]) -> None:
    client = admin_client(dovecot)
    try:
        if not client.folder_exists(srv(box.inbox)):
            client.create_folder(srv(box.inbox))
        if mails:
            client.multiappend(srv(box.inbox), mails)
    finally:
        client.logout()


@pytest.mark.timeout(TIMEOUT)
def test_kill_9_at_random_moments_loses_nothing_and_routes_nothing_twice(
    tmp_path: Path, dovecot: Dovecot, receiver: Receiver, base: str
) -> None:
    seed = int(os.environ.get("INBOX_OCR_SEED", str(random.SystemRandom().randrange(1 << 30))))
    rng = random.Random(seed)
    per_kill = 20
    box = make_mailbox(base, invoices=KILLS * per_kill * 2 // 3, others=KILLS * per_kill // 3)
    mails = list(box.invoices.values()) + list(box.others.values())
    rng.shuffle(mails)
    chunk = -(-len(mails) // KILLS)
    state = tmp_path / "var"
    config = write_config(tmp_path / "config.yaml", state_dir=state, imap_port=dovecot.ssl_port,
                          ca_file=dovecot.ca_file, box=box, webhook_url=receiver.url, secret=receiver.secret or "")
    env = daemon_env(dovecot.password)
    log = tmp_path / "daemon.log"

    stats = {"kills": 0, "kills_mid_pass": 0, "kills_between_commit_and_ack": 0, "dovecot_restarts": 0,
             "deliveries_in_flight_at_kill": 0}
    for cycle in range(KILLS):
        batch = mails[cycle * chunk:(cycle + 1) * chunk]
        _append(dovecot, box, batch)
        before = _routed(state)
        proc = spawn_daemon(config, env, log)
        if cycle % 4 == 3:
            # a kill anywhere from start-up on (start-up takes ~1.5-2 s here)
            time.sleep(rng.uniform(0.5, 3.5))
        else:
            # a kill in the middle of the pass: after a random number of messages of this batch are
            # routed, whatever the machine's speed (a fixed delay lands after the pass on a quiet one)
            target = before + rng.randint(1, max(1, len(batch) // 2))
            _wait_for_routed(state, target, timeout=60)
            time.sleep(rng.uniform(0.0, 0.05))
        if cycle % 5 == 4:  # now and then Dovecot goes away under the running daemon
            dovecot.restart(down_for=rng.uniform(0.0, 1.0))
            stats["dovecot_restarts"] += 1
            time.sleep(rng.uniform(0.0, 0.5))
        unacked = ledger_rows(state, "SELECT COUNT(*) FROM messages WHERE acked_at IS NULL AND status != 'failed'")
        pending = ledger_rows(state, "SELECT COUNT(*) FROM outbox WHERE status = 'pending'")
        kill9(proc)
        stats["kills"] += 1
        left = len(message_ids_fresh(dovecot, box.inbox))
        stats["kills_mid_pass"] += int(left > 0)
        stats["kills_between_commit_and_ack"] += int(bool(unacked and unacked[0][0]))
        stats["deliveries_in_flight_at_kill"] += int(bool(pending and pending[0][0]))

    # a last run without faults finishes the work; then the books must balance
    last_run(config, env, log, lambda: not message_ids_fresh(dovecot, box.inbox) and outbox_drained(state)
             and len(receiver.accepted) >= len(box.invoices), "the last run finishes the mailbox")
    assert integrity(state) == "ok"
    admin = admin_client(dovecot)
    try:
        result = audit(admin, box, state, receiver.accepted)
    finally:
        admin.logout()
    print(f"\nkill -9 fault test (seed {seed}): {stats}; messages {len(mails)} "
          f"({len(box.invoices)} with a webhook); routed {result.routed}; webhook requests "
          f"{len(receiver.requests)}, keys accepted {result.accepted}; lost {len(result.lost)}, "
          f"duplicated {len(result.duplicated)}, misrouted {len(result.misrouted)}")
    assert stats["kills"] == KILLS
    assert result.ok(), (seed, result)
    assert result.routed == len(mails)
    assert result.accepted == len(box.invoices)
    # the kills must have hit the daemon while it worked, or this test proves little
    assert stats["kills_mid_pass"] >= KILLS // 2, stats


def _routed(state: Path) -> int:
    rows = ledger_rows(state, "SELECT COUNT(*) FROM messages WHERE status != 'failed'")
    return int(rows[0][0]) if rows else 0


def _wait_for_routed(state: Path, target: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _routed(state) < target:
        time.sleep(0.02)


def message_ids_fresh(dovecot: Dovecot, folder: str) -> list[str]:
    """Message-IDs in a folder, read over a new connection (Dovecot may have been restarted)."""
    client = admin_client(dovecot)
    try:
        return message_ids(client, folder)
    finally:
        client.logout()
