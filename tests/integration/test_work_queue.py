"""The work queue for real: a scheduler (`inbox-ocr run`) and two workers (`inbox-ocr worker`) over
a real Dovecot, a PostgreSQL ledger and a Redis broker, all started by the tests on loopback, and
a webhook receiver that records every request. Each message is routed, moved and delivered exactly
once; a worker killed (-9) in the middle leaves its task to the other."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from inbox_ocr.orchestration.ledger import Ledger
from tests.http_receiver import Receiver
from tests.integration.conftest import admin_client, append_many
from tests.integration.dovecot import Dovecot
from tests.integration.test_imap_daemon import count, invoice_mails, srv, write_config

pytestmark = pytest.mark.integration
MESSAGES = int(os.environ.get("INBOX_OCR_QUEUE_MESSAGES", "200"))


def queue_config(tmp_path: Path, dovecot: Dovecot, folder: str, receiver: Receiver, ledger: str,
                 broker: str, **queue: Any) -> Path:
    path = write_config(tmp_path, dovecot, folder, receiver, poll_every="1s", batch_size=50)
    data = yaml.safe_load(path.read_text())
    data["ledger"] = {"url": ledger}
    data["queue"] = {"broker_url": broker, "name": f"q-{tmp_path.name[-20:]}", **queue}
    data["limits"] = {"message_seconds": "20s", "document_seconds": "15s"}
    path.write_text(yaml.safe_dump(data))
    return path


class Processes:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.running: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = open(self.tmp_path / f"{name}.log", "wb")  # noqa: SIM115 (the process writes it)
        env = {**os.environ, "TEST_IMAP_PASSWORD": os.environ["TEST_IMAP_PASSWORD"]}
        self.running[name] = subprocess.Popen([sys.executable, "-m", "inbox_ocr", *args], stdout=log,
                                              stderr=subprocess.STDOUT, env=env, start_new_session=True)
        return self.running[name]

    def log(self, name: str) -> str:
        return (self.tmp_path / f"{name}.log").read_text(errors="replace")[-4000:]

    def stop_all(self) -> None:
        for proc in self.running.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.running.values():
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    procs = Processes(tmp_path)
    yield procs
    procs.stop_all()


@pytest.fixture(autouse=True)
def _password(monkeypatch: pytest.MonkeyPatch, dovecot: Dovecot) -> None:
    monkeypatch.setenv("TEST_IMAP_PASSWORD", dovecot.password)


def wait_for(check, procs: Processes, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        for name, proc in procs.running.items():
            assert proc.poll() is None or name.startswith("killed"), f"{name} exited:\n{procs.log(name)}"
        assert time.monotonic() < deadline, f"{what} not reached in {timeout:.0f} s:\n" + "\n".join(
            f"--- {n}\n{procs.log(n)}" for n in procs.running)
        time.sleep(0.5)


def test_a_scheduler_and_two_workers_route_every_message_exactly_once(
        tmp_path: Path, dovecot: Dovecot, imap_folder: str, receiver: Receiver, postgres_url: str,
        redis_server: Any, processes: Processes) -> None:
    admin = admin_client(dovecot)
    admin.create_folder(srv(imap_folder))
    append_many(admin, srv(imap_folder), invoice_mails(MESSAGES, "queue"))
    config = str(queue_config(tmp_path, dovecot, imap_folder, receiver, postgres_url, redis_server.url))
    processes.start("scheduler", "run", "-c", config)
    processes.start("worker-a", "worker", "-c", config, "--concurrency", "1")
    processes.start("worker-b", "worker", "-c", config, "--concurrency", "1")
    base = imap_folder.split("/")[0]
    started = time.monotonic()
    wait_for(lambda: count(admin, f"{base}/Invoices") == MESSAGES and len(receiver.requests) >= MESSAGES,
             processes, 900, f"{MESSAGES} messages routed and delivered")
    took = time.monotonic() - started
    time.sleep(3)  # a second move or a second delivery would show by now
    assert count(admin, f"{base}/Invoices") == MESSAGES and count(admin, imap_folder) == 0
    assert len(receiver.requests) == MESSAGES and len(receiver.accepted) == MESSAGES  # each delivered once
    ledger = Ledger(postgres_url)
    try:
        assert ledger.counts() == {"messages_done": MESSAGES, "outbox_delivered": MESSAGES}
        assert ledger.queue.depth()[0] == 0 and ledger.messages.pending()[0] == 0
        # both workers did work, and each message's audit trail names the one that processed it
        workers = {r[0].split(" pid ")[0] for r in ledger.db.query("SELECT detail FROM audit WHERE event = 'worker'")}
        assert len(workers) == 2, workers
        assert ledger.db.query("SELECT COUNT(*) FROM audit WHERE event = 'worker'")[0][0] == MESSAGES
    finally:
        ledger.close()
    shown = subprocess.run([sys.executable, "-m", "inbox_ocr", "status", "-c", config], capture_output=True,
                           text=True, timeout=60)
    assert "queue     0 waiting" in shown.stdout and "workers   2" in shown.stdout, shown.stdout + shown.stderr
    print(f"\n{MESSAGES} messages through a scheduler and two workers in {took:.1f} s")


def test_a_worker_killed_mid_task_leaves_it_to_the_other(
        tmp_path: Path, dovecot: Dovecot, imap_folder: str, receiver: Receiver, postgres_url: str,
        redis_server: Any, processes: Processes) -> None:
    total = 120
    admin = admin_client(dovecot)
    admin.create_folder(srv(imap_folder))
    append_many(admin, srv(imap_folder), invoice_mails(total, "kill"))
    # Redis hands a task over (BRPOP) before kombu records it as unacknowledged: a worker killed between
    # the two loses that task from the broker. The ledger keeps the message, and the scheduler sends
    # its key again after queue.resend_after (an hour by default; 10 s here, as in the kill -9 soak).
    config = str(queue_config(tmp_path, dovecot, imap_folder, receiver, postgres_url, redis_server.url,
                              visibility_timeout="30s", resend_after="10s"))
    victim = processes.start("killed-worker", "worker", "-c", config, "--concurrency", "1")
    ledger = Ledger(postgres_url)
    try:
        processes.start("scheduler", "run", "-c", config)
        wait_for(lambda: ledger.counts().get("messages_done", 0) >= 3, processes, 300, "three messages done")
        os.killpg(victim.pid, signal.SIGKILL)  # the worker and its processes, in the middle of a message
        victim.wait()
        assert ledger.counts().get("messages_done", 0) < total  # it was in the middle of the stream
        processes.start("worker-b", "worker", "-c", config, "--concurrency", "1")
        base = imap_folder.split("/")[0]
        wait_for(lambda: count(admin, f"{base}/Invoices") == total and len(receiver.requests) >= total,
                 processes, 600, "every message routed after the kill")
        time.sleep(3)
        assert count(admin, f"{base}/Invoices") == total and count(admin, imap_folder) == 0
        assert len(receiver.requests) == total and len(receiver.accepted) == total
        assert ledger.counts() == {"messages_done": total, "outbox_delivered": total}
    finally:
        ledger.close()


def test_redis_restarted_mid_run_loses_nothing(tmp_path: Path, dovecot: Dovecot, imap_folder: str,
                                               receiver: Receiver, postgres_url: str, processes: Processes) -> None:
    """A Redis of its own, restarted (without persistence: the queued tasks are gone) while the
    workers are busy: the workers reconnect, the scheduler sends the keys no worker claimed again,
    and every message is routed and delivered once."""
    from tests.redis_server import Redis

    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    total = 60
    broker = Redis.start()
    ledger = Ledger(postgres_url)
    try:
        admin = admin_client(dovecot)
        admin.create_folder(srv(imap_folder))
        append_many(admin, srv(imap_folder), invoice_mails(total, "redis"))
        config = str(queue_config(tmp_path, dovecot, imap_folder, receiver, postgres_url, broker.url,
                                  resend_after="5s"))
        processes.start("worker-a", "worker", "-c", config, "--concurrency", "1")
        processes.start("scheduler", "run", "-c", config)
        wait_for(lambda: ledger.counts().get("messages_done", 0) >= 5, processes, 300, "five messages done")
        broker.restart()
        assert ledger.counts().get("messages_done", 0) < total  # tasks were waiting in the broker
        base = imap_folder.split("/")[0]
        wait_for(lambda: count(admin, f"{base}/Invoices") == total and len(receiver.accepted) >= total,
                 processes, 600, "every message routed after the Redis restart")
        time.sleep(3)
        assert count(admin, f"{base}/Invoices") == total and count(admin, imap_folder) == 0
        assert len(receiver.accepted) == total
        assert ledger.counts() == {"messages_done": total, "outbox_delivered": total}
    finally:
        ledger.close()
        processes.stop_all()
        broker.close()
