"""`kill -9` with the work queue: a scheduler and two workers over a real Dovecot, a PostgreSQL
ledger and a Redis broker (all started by the tests), and a real webhook receiver. At random
moments a worker's pool process (the one on a message), a whole worker, or the scheduler is killed
and started again. Afterwards every message sits in exactly one folder, the one its rule chose,
and every webhook key was accepted once (a scheduler killed after a POST and before noting it sends
it again: the receiver recognises the key).

CI runs 20 kills; the soak runs 100:  INBOX_OCR_SOAK=1 pytest tests/faults/test_kill9_queue.py -s
(`INBOX_OCR_KILLS=N`, `INBOX_OCR_SEED=S` to vary).
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from inbox_ocr.orchestration.ledger import Ledger
from tests.faults.harness import SOAK, audit, daemon_env, fill, make_mailbox, write_config
from tests.http_receiver import Receiver
from tests.integration.conftest import admin_client
from tests.integration.dovecot import Dovecot

KILLS = int(os.environ.get("INBOX_OCR_KILLS", "100" if SOAK else "20"))
TIMEOUT = max(600, 20 * KILLS + 600)


def children(pid: int) -> list[int]:
    """The child processes of `pid` (a Celery worker's pool processes)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):  # the process ended meanwhile
            found += [int(p) for p in (task / "children").read_text().split()]
    return found


class Cluster:
    def __init__(self, tmp_path: Path, config: Path, env: dict[str, str]) -> None:
        self.tmp_path, self.config, self.env = tmp_path, config, env
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.starts = 0

    def start(self, name: str) -> None:
        args = ["run"] if name == "scheduler" else ["worker", "--concurrency", "1"]
        self.starts += 1
        log = open(self.tmp_path / f"{name}-{self.starts}.log", "wb")  # noqa: SIM115 (the process writes it)
        self.procs[name] = subprocess.Popen([sys.executable, "-m", "inbox_ocr", *args, "-c", str(self.config)],
                                            stdout=log, stderr=subprocess.STDOUT, env=self.env,
                                            start_new_session=True)

    def kill(self, name: str) -> None:
        proc = self.procs[name]
        os.killpg(proc.pid, signal.SIGKILL)  # the process and its children (pool, document readers)
        proc.wait()

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@pytest.mark.timeout(TIMEOUT)
def test_kill_9_of_workers_and_the_scheduler_loses_nothing_and_does_nothing_twice(
        tmp_path: Path, dovecot: Dovecot, receiver: Receiver, postgres_url: str, redis_server: Any) -> None:
    seed = int(os.environ.get("INBOX_OCR_SEED", str(int(time.time()))))
    rng = random.Random(seed)
    print(f"\nseed {seed}, {KILLS} kills")
    base = f"Q{seed % 100000}"
    box = make_mailbox(base, invoices=160 if SOAK else 40, others=40 if SOAK else 10)
    admin = admin_client(dovecot)
    fill(admin, box)
    config = write_config(
        tmp_path / "config.yaml", state_dir=tmp_path / "var", imap_port=dovecot.ssl_port, ca_file=dovecot.ca_file,
        box=box, webhook_url=receiver.url, secret=str(receiver.secret),
        extra={"ledger": {"url": postgres_url},
               "queue": {"broker_url": redis_server.url, "name": f"kill-{seed}", "visibility_timeout": "20s",
                         "resend_after": "10s"},
               "limits": {"message_seconds": "10s", "document_seconds": "8s"}})
    cluster = Cluster(tmp_path, config, daemon_env(dovecot.password))
    ledger = Ledger(postgres_url)
    kinds: dict[str, int] = {"pool process": 0, "worker": 0, "scheduler": 0}
    try:
        for name in ("scheduler", "worker-a", "worker-b"):
            cluster.start(name)
        for _ in range(KILLS):
            time.sleep(rng.uniform(0.3, 2.0))
            roll = rng.random()
            if roll < 0.7:
                worker = rng.choice(["worker-a", "worker-b"])
                pool = children(cluster.procs[worker].pid)
                if pool:  # the pool process dies mid-message: its task goes back at once
                    os.kill(rng.choice(pool), signal.SIGKILL)
                    kinds["pool process"] += 1
                    continue
                roll = 0.8  # no pool yet (starting): kill the worker instead
            name = "scheduler" if roll >= 0.85 else rng.choice(["worker-a", "worker-b"])
            cluster.kill(name)
            kinds["scheduler" if name == "scheduler" else "worker"] += 1
            time.sleep(rng.uniform(0.0, 1.0))
            cluster.start(name)
        deadline = time.monotonic() + 420
        while True:
            result = audit(admin, box, tmp_path / "var", receiver.accepted, rows=ledger.db.query)
            if result.ok() and not ledger.db.query("SELECT 1 FROM outbox WHERE status != 'delivered'"):
                break
            assert time.monotonic() < deadline, f"not settled after the kills: {result}"
            time.sleep(1)
    finally:
        cluster.stop()
        ledger.close()
    print(f"kills: {kinds}; {result.routed} messages routed, {result.accepted} webhook keys accepted, "
          f"{len(receiver.requests)} requests")
    assert result.ok(), result
    assert result.routed == len(box.invoices) + len(box.others) and result.accepted == len(box.invoices)
