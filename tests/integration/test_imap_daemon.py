"""The whole daemon against a real Dovecot: IDLE routing, restarts, exactly-once acks, backfill."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from imapclient import IMAPClient

from connectors.imap import ImapSource
from inbox_ocr.app.cli import main as cli
from inbox_ocr.app.config import Config, load_config
from inbox_ocr.app.daemon import Daemon
from inbox_ocr.app.samples import SampleMessage, build_message, invoice_doc, render_pdf
from inbox_ocr.orchestration.ledger import Ledger
from tests.http_receiver import Receiver
from tests.integration.conftest import admin_client, append_many, bulk_emails, make_email
from tests.integration.dovecot import Dovecot

pytestmark = pytest.mark.integration


def srv(folder: str) -> str:
    return folder.replace("/", ".")


def invoice_mails(count: int, tag: str) -> list[bytes]:
    """Text-PDF invoices with distinct numbers and Message-IDs."""
    pdf = render_pdf(invoice_doc(number=f"INV-{tag}"))
    return [
        build_message(
            SampleMessage(
                f"{tag}-{i}",
                f"Invoice INV-{tag}-{i}",
                "Acme Billing <billing@acme.example>",
                "Please find our invoice attached.",
                ((f"INV-{tag}-{i}.pdf", "application/pdf", pdf),),
            )
        )
        for i in range(count)
    ]


def write_config(
    tmp_path: Path,
    server: Dovecot,
    folder: str,
    receiver: Receiver | None = None,
    state_dir: Path | None = None,
    **source: Any,
) -> Path:
    base = folder.split("/")[0]
    rules: list[dict[str, Any]] = [
        {
            # by subject, so that these tests do not depend on the classifier
            "name": "invoices",
            "when": {"subject": "Invoice *", "has_attachment": True},
            "then": [{"move": f"{base}/Invoices"}, {"keyword": "invoice"}] + ([{"webhook": "erp"}] if receiver else []),
            "stop": True,
        }
    ]
    data: dict[str, Any] = {
        "state_dir": str(state_dir or tmp_path / "var"),
        "sources": [
            {
                "name": "finance",
                "type": "imap",
                "host": "127.0.0.1",
                "port": server.ssl_port,
                "security": "ssl",
                "username": server.user,
                "password": "${TEST_IMAP_PASSWORD}",
                "ca_file": str(server.ca_file),
                "folders": [folder],
                "reconnect_backoff": "100ms",
                "reconnect_attempts": 15,
                "reconnect_max_backoff": "1s",
                "quarantine_folder": f"{base}/Quarantine",
                **source,
            }
        ],
        "rules": rules,
        "default": [{"move": f"{base}/Processed"}],
        "log": {"level": "WARNING"},
    }
    if receiver:
        data["webhooks"] = {"erp": {"url": receiver.url, "secret": receiver.secret, "backoff": "1s"}}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture(autouse=True)
def _password(monkeypatch: pytest.MonkeyPatch, dovecot: Dovecot) -> None:
    monkeypatch.setenv("TEST_IMAP_PASSWORD", dovecot.password)


def count(client: IMAPClient, folder: str) -> int:
    if not client.folder_exists(srv(folder)):
        return 0
    client.select_folder(srv(folder), readonly=True)
    return len(client.search(["UNDELETED"]))


def wait_until(check: Callable[[], bool], timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if check():
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"condition not met within {timeout} s")


@pytest.fixture
def running_daemon() -> Iterator[Callable[[Config], Daemon]]:
    started: list[tuple[Daemon, threading.Thread]] = []

    def start(config: Config) -> Daemon:
        daemon = Daemon(config)
        thread = threading.Thread(target=daemon.run_forever, name="daemon-under-test")
        thread.start()
        started.append((daemon, thread))
        return daemon

    yield start
    for daemon, thread in started:
        daemon.request_stop()
        thread.join(timeout=30)


def test_idle_daemon_routes_new_mail_in_seconds_and_reconnects_after_dovecot_restarts(
    tmp_path, dovecot, admin, imap_folder, running_daemon, receiver
):
    admin.create_folder(srv(imap_folder))
    base = imap_folder.split("/")[0]
    config = load_config(write_config(tmp_path, dovecot, imap_folder, receiver, mode="idle", poll_every="5m"))
    running_daemon(config)
    time.sleep(1.0)  # the first (empty) pass, then IDLE

    first, second = invoice_mails(2, "idle")
    admin.append(srv(imap_folder), first)
    # the poll is 5 minutes away: routed within a minute is IDLE's push (no tighter bound: CI is busy)
    wait_until(lambda: count(admin, f"{base}/Invoices") == 1, timeout=60)

    dovecot.restart()  # the daemon is in IDLE: its connection drops
    late = admin_client(dovecot)
    late.append(srv(imap_folder), second)
    wait_until(lambda: count(late, f"{base}/Invoices") == 2, timeout=30)
    assert count(late, imap_folder) == 0
    wait_until(lambda: len(receiver.accepted) == 2, timeout=15)
    late.logout()


class Crash(BaseException):
    """Not an Exception: nothing in the daemon catches it, as nothing survives a killed process."""


class CrashingAck(ImapSource):
    """The process dies between the ledger commit and the mailbox action of the second message."""

    acks = 0

    def ack(self, message, changes):  # type: ignore[no-untyped-def]
        CrashingAck.acks += 1
        if CrashingAck.acks == 2:
            raise Crash("killed after the ledger commit")
        super().ack(message, changes)


def test_restart_reprocesses_nothing_and_redoes_only_the_missing_action(
    tmp_path, dovecot, admin, imap_folder, receiver
):
    base = imap_folder.split("/")[0]
    append_many(admin, srv(imap_folder), invoice_mails(3, "crash"))
    config = load_config(write_config(tmp_path, dovecot, imap_folder, receiver))

    first = Daemon(config, factories={"imap": lambda cfg, ledger, wiring: CrashingAck(cfg, ledger)})
    with pytest.raises(Crash):
        first.run_once()
    first.close()
    assert count(admin, f"{base}/Invoices") == 1 and count(admin, imap_folder) == 2
    ledger = Ledger(config.state_dir / "ledger.sqlite3")
    assert ledger.counts()["messages_done"] == 2  # the second one is committed, not yet moved
    ledger.close()

    second = Daemon(config)
    reports, _ = second.run_once()
    second.close()
    assert [r.status for r in reports] == ["acked-again", "done"]
    assert count(admin, f"{base}/Invoices") == 3 and count(admin, imap_folder) == 0
    assert len(receiver.requests) == 3  # one delivery per message, none twice

    third = Daemon(config)
    assert third.run_once()[0] == []
    third.close()
    ledger = Ledger(config.state_dir / "ledger.sqlite3")
    assert ledger.counts()["messages_done"] == 3
    ledger.close()


def test_uidvalidity_change_reprocesses_nothing(tmp_path, dovecot, admin, imap_folder, receiver):
    base = imap_folder.split("/")[0]
    mails = [make_email("no attachment 1"), make_email("no attachment 2")]
    append_many(admin, srv(imap_folder), mails)
    config = load_config(write_config(tmp_path, dovecot, imap_folder, receiver))
    daemon = Daemon(config)
    assert [r.status for r in daemon.run_once()[0]] == ["done", "done"]
    # Someone restores the folder from a backup: same mail, new UIDVALIDITY, new UIDs.
    admin.delete_folder(srv(imap_folder))
    append_many(admin, srv(imap_folder), mails)
    assert [r.status for r in daemon.run_once()[0]] == ["duplicate", "duplicate"]
    assert daemon.run_once()[0] == []
    daemon.close()
    assert count(admin, f"{base}/Processed") == 2 and count(admin, imap_folder) == 2


@pytest.fixture
def fast_state_dir(tmp_path: Path) -> Iterator[Path]:
    """The ledger on tmpfs when there is one: this test is about counting, not about fsync speed
    (the ledger syncs every commit, ~10 ms each on this CI disk; 4,000 of them)."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path / "var"
        return
    path = Path(tempfile.mkdtemp(prefix="inbox-ocr-ledger-", dir=shm))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_backfill_of_2000_messages_misses_none_and_duplicates_none(
    tmp_path, dovecot, admin, imap_folder, fast_state_dir
):
    base = imap_folder.split("/")[0]
    mails = bulk_emails(2000, subject=f"backfill {base}")
    append_many(admin, srv(imap_folder), mails)
    config_path = write_config(tmp_path, dovecot, imap_folder, state_dir=fast_state_dir)

    result = CliRunner().invoke(cli, ["backfill", "-c", str(config_path), "--source", "finance"])
    assert result.exit_code == 0, result.output
    assert "2000 messages in" in result.output

    assert count(admin, imap_folder) == 0
    admin.select_folder(srv(f"{base}/Processed"), readonly=True)
    uids = admin.search()
    ids = [
        v[b"BODY[HEADER.FIELDS (MESSAGE-ID)]"]
        for v in admin.fetch(uids, ["BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"]).values()
    ]
    assert len(ids) == 2000 and len(set(ids)) == 2000
    ledger = Ledger(fast_state_dir / "ledger.sqlite3")
    assert ledger.counts()["messages_done"] == 2000
    ledger.close()

    again = CliRunner().invoke(cli, ["backfill", "-c", str(config_path), "--source", "finance"])
    assert again.exit_code == 0 and "0 messages in" in again.output


def test_backfill_since_leaves_older_mail(tmp_path, dovecot, admin, imap_folder):
    admin.create_folder(srv(imap_folder))
    admin.append(srv(imap_folder), make_email("old"), msg_time=datetime.now() - timedelta(days=90))
    admin.append(srv(imap_folder), make_email("recent"))
    config_path = write_config(tmp_path, dovecot, imap_folder)
    since = (date.today() - timedelta(days=30)).isoformat()
    result = CliRunner().invoke(cli, ["backfill", "-c", str(config_path), "--source", "finance", "--since", since])
    assert result.exit_code == 0, result.output
    assert "1 messages in" in result.output
    assert count(admin, imap_folder) == 1

    unknown = CliRunner().invoke(cli, ["backfill", "-c", str(config_path), "--source", "nope"])
    assert unknown.exit_code != 0 and "no source named 'nope'" in unknown.output
