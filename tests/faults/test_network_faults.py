"""Network faults between the daemon and its servers, through a loopback TCP proxy that cuts
connections at chosen IMAP commands: mid-FETCH (before Dovecot sees the command), mid-MOVE (after
Dovecot moved the message, before the daemon hears so), Dovecot restarted between passes, and the
webhook receiver down for a while (minutes in the soak) and then back. Afterwards: every message
routed exactly once, every webhook action accepted exactly once.
"""

from __future__ import annotations

import time
from pathlib import Path

from imapclient import IMAPClient

from inbox_ocr.app.config import load_config
from inbox_ocr.app.daemon import Daemon
from inbox_ocr.kernel import metrics
from tests.faults.harness import SOAK, TcpProxy, audit, fill, ledger_rows, make_mailbox, message_ids, write_config
from tests.http_receiver import Receiver
from tests.integration.conftest import admin_client
from tests.integration.dovecot import Dovecot

RECEIVER_DOWN_SECONDS = 180.0 if SOAK else 8.0


def _reconnects() -> float:
    return metrics.REGISTRY.get_sample_value("inbox_ocr_imap_reconnects_total", {"source": "finance"}) or 0.0


def test_connections_cut_mid_fetch_and_mid_move_and_dovecot_restarted(
    tmp_path: Path, dovecot: Dovecot, admin: IMAPClient, receiver: Receiver, base: str,
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setenv("FAULT_IMAP_PASSWORD", dovecot.password)
    box = make_mailbox(base, invoices=20, others=10)
    fill(admin, box)
    proxy = TcpProxy(dovecot.port).start()  # plain IMAP, so the proxy can see the commands
    state = tmp_path / "var"
    config = load_config(write_config(tmp_path / "config.yaml", state_dir=state, imap_port=proxy.port, ca_file=None,
                                      box=box, webhook_url=receiver.url, secret=receiver.secret or "",
                                      security="none", reconnect_attempts=30))
    proxy.cut_on(b"UID FETCH", times=3)  # the server never sees the FETCH
    proxy.cut_on(b"UID MOVE", times=3, after_server=True)  # moved on the server; the answer is lost
    proxy.cut_on(b"UID MOVE", times=2)  # the MOVE never arrives
    reconnects_before = _reconnects()
    daemon = Daemon(config)
    restarted = False
    try:
        for passes in range(1, 16):  # noqa: B007 (printed below)
            daemon.run_once()
            if not restarted and ledger_rows(state, "SELECT COUNT(*) FROM messages")[0][0] >= 10:
                dovecot.restart(down_for=0.5)  # between passes: the daemon's connection is dead
                restarted = True
            left = message_ids(admin_client(dovecot), box.inbox)
            pending = ledger_rows(state, "SELECT 1 FROM outbox WHERE status != 'delivered'")
            if not left and not pending:
                break
            time.sleep(0.5)
    finally:
        daemon.close()
    client = admin_client(dovecot)
    result = audit(client, box, state, receiver.accepted)
    client.logout()
    print(f"\nnetwork faults: {proxy.cuts} connections cut (3 mid-FETCH, 3 after the server's MOVE, 2 before it), "
          f"Dovecot restarted once, {_reconnects() - reconnects_before:.0f} IMAP reconnects; passes {passes}; "
          f"lost {len(result.lost)}, duplicated {len(result.duplicated)}")
    assert proxy.cuts == 8
    assert restarted
    assert result.ok(), result
    assert result.routed == 30 and result.accepted == 20
    assert _reconnects() - reconnects_before >= 8


def test_webhook_receiver_down_for_a_while_then_back(
    tmp_path: Path, dovecot: Dovecot, admin: IMAPClient, receiver: Receiver, base: str,
    monkeypatch,  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.setenv("FAULT_IMAP_PASSWORD", dovecot.password)
    box = make_mailbox(base, invoices=12, others=3)
    fill(admin, box)
    front = TcpProxy(receiver.server.server_address[1]).start()
    front.down()  # the receiver is unreachable: connection refused
    state = tmp_path / "var"
    url = f"http://127.0.0.1:{front.port}/hook"
    config = load_config(write_config(tmp_path / "config.yaml", state_dir=state, imap_port=dovecot.ssl_port,
                                      ca_file=dovecot.ca_file, box=box, webhook_url=url,
                                      secret=receiver.secret or ""))
    daemon = Daemon(config)
    try:
        daemon.run_once()  # routes everything; the deliveries fail and wait in the outbox
        down_until = time.monotonic() + RECEIVER_DOWN_SECONDS
        while time.monotonic() < down_until:
            daemon.outbox.deliver_due()
            time.sleep(0.2)
        failed_attempts = ledger_rows(state, "SELECT SUM(attempts) FROM outbox")[0][0]
        assert receiver.requests == []
        front.up()
        deadline = time.monotonic() + 60
        while ledger_rows(state, "SELECT 1 FROM outbox WHERE status != 'delivered'") and time.monotonic() < deadline:
            daemon.outbox.deliver_due()
            time.sleep(0.2)
    finally:
        daemon.close()
        front.down()
    client = admin_client(dovecot)
    result = audit(client, box, state, receiver.accepted)
    client.logout()
    print(f"\nreceiver down {RECEIVER_DOWN_SECONDS:.0f} s: {failed_attempts} failed delivery attempts meanwhile; "
          f"then {len(receiver.requests)} requests, {len(receiver.accepted)} keys accepted")
    assert failed_attempts >= 12  # every delivery was tried while the receiver was down
    assert result.ok(), result
    assert len(receiver.accepted) == 12
