"""The IMAP source against a real Dovecot: fetching, actions, quarantine, TLS, reconnects, IDLE."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

import pytest
from imapclient import IMAPClient

from connectors.imap import ImapSource
from connectors.memory import MemoryState
from inbox_ocr.kernel.errors import SourceUnavailable
from inbox_ocr.kernel.models import MailboxChanges, RawMessage
from tests.integration.conftest import admin_client, append_many, bulk_emails, imap_source_config, make_email
from tests.integration.dovecot import Dovecot

pytestmark = pytest.mark.integration


def srv(folder: str) -> str:
    """Config spelling to this Dovecot's (Maildir++ uses '.' between levels)."""
    return folder.replace("/", ".")


def handled(state: MemoryState, message: RawMessage) -> None:
    """What the ledger does after commit + ack."""
    state.handled.setdefault(message.source, set()).add(message.key)


def uids_and_flags(client: IMAPClient, folder: str) -> dict[bytes, tuple[bytes, ...]]:
    """Subject -> flags of every message in a folder."""
    client.select_folder(srv(folder))
    data = client.fetch(client.search(), ["FLAGS", "BODY.PEEK[HEADER.FIELDS (SUBJECT)]"])
    return {v[b"BODY[HEADER.FIELDS (SUBJECT)]"].strip().removeprefix(b"Subject: "): v[b"FLAGS"] for v in data.values()}


def test_fetch_yields_unhandled_mail_oldest_first_and_never_marks_it_seen(dovecot, admin, imap_folder):
    mails = [make_email(f"invoice {i}") for i in range(3)]
    append_many(admin, srv(imap_folder), mails)
    state = MemoryState()
    source = ImapSource(imap_source_config(dovecot, [imap_folder]), state)
    try:
        got = list(source.fetch())
        assert [m.raw for m in got] == mails
        uidvalidity = admin.select_folder(srv(imap_folder))[b"UIDVALIDITY"]
        assert [m.key for m in got] == [f"{imap_folder}/{uidvalidity}/{uid}" for uid in (1, 2, 3)]
        assert all(m.folder == imap_folder and m.received_at is not None for m in got)
        assert all(b"\\Seen" not in flags for flags in uids_and_flags(admin, imap_folder).values())

        handled(state, got[0])
        assert [m.raw for m in source.fetch()] == mails[1:]
        assert [m.raw for m in source.fetch(limit=1)] == mails[1:2]
    finally:
        source.close()


def test_ack_moves_flags_and_tags_into_a_created_subfolder_once(dovecot, admin, imap_folder):
    append_many(admin, srv(imap_folder), [make_email("ACME invoice 4711"), make_email("other")])
    source = ImapSource(imap_source_config(dovecot, [imap_folder]), MemoryState())
    target = f"{imap_folder.split('/')[0]}/Rechnungen/2024"
    actions = MailboxChanges(keywords=("invoice_ok",), mark_seen=True, flag=True, move_to=target)
    try:
        first = next(iter(source.fetch()))
        source.ack(first, actions)
        source.ack(first, actions)  # a repeated ack after a crash: nothing happens twice

        moved = uids_and_flags(admin, target)
        assert list(moved) == [b"ACME invoice 4711"]
        assert {b"\\Seen", b"\\Flagged", b"invoice_ok"} <= set(moved[b"ACME invoice 4711"])
        assert list(uids_and_flags(admin, imap_folder)) == [b"other"]
        # the hierarchy uses the server's delimiter, not a folder literally named "a/b"
        assert admin.folder_exists(srv(target))
    finally:
        source.close()


def test_ack_without_actions_changes_nothing_on_the_server(dovecot, admin, imap_folder):
    append_many(admin, srv(imap_folder), [make_email("plain")])
    source = ImapSource(imap_source_config(dovecot, [imap_folder]), MemoryState())
    try:
        source.ack(next(iter(source.fetch())), MailboxChanges())
        assert uids_and_flags(admin, imap_folder) == {b"plain": ()}
    finally:
        source.close()


@pytest.mark.parametrize("server_name", ["dovecot", "dovecot_without_move"])
def test_moves_leave_mail_that_others_flagged_deleted(server_name, request, imap_folder):
    server: Dovecot = request.getfixturevalue(server_name)
    admin = admin_client(server)
    append_many(admin, srv(imap_folder), [make_email("ours"), make_email("someone else's")])
    admin.select_folder(srv(imap_folder))
    admin.add_flags([2], [b"\\Deleted"])  # a colleague deleted it; their client has not expunged yet
    source = ImapSource(imap_source_config(server, [imap_folder]), MemoryState())
    try:
        assert source.has(b"MOVE") is False or server_name == "dovecot"
        fetched = list(source.fetch())
        assert [m.raw.split(b"Subject: ")[1][:4] for m in fetched] == [b"ours"]  # \Deleted mail is not ours to read
        source.ack(fetched[0], MailboxChanges(move_to="Done"))
        source.ack(fetched[0], MailboxChanges(move_to="Done"))

        assert list(uids_and_flags(admin, "Done")).count(b"ours") == 1
        left = uids_and_flags(admin, imap_folder)
        assert list(left) == [b"someone else's"] and b"\\Deleted" in left[b"someone else's"]
    finally:
        source.close()
        admin.logout()


def test_non_ascii_folder_names_use_modified_utf7(dovecot, admin):
    inbox = "Eingänge/Rechnungsprüfung"
    append_many(admin, srv(inbox), [make_email("Größe")])
    source = ImapSource(imap_source_config(dovecot, [inbox]), MemoryState())
    try:
        message = next(iter(source.fetch()))
        assert message.key.startswith(f"{inbox}/")
        source.ack(message, MailboxChanges(move_to="Buchhaltung/Geprüft €"))
        raw = IMAPClient("127.0.0.1", port=dovecot.port, ssl=False)
        raw.folder_encode = False  # what goes over the wire
        raw.login(dovecot.user, dovecot.password)
        names = {n if isinstance(n, str) else n.decode() for _, _, n in raw.list_folders()}
        raw.logout()
        assert "Buchhaltung.Gepr&APw-ft &IKw-" in names
        assert "Eing&AOQ-nge.Rechnungspr&APw-fung" in names
        assert len(uids_and_flags(admin, "Buchhaltung/Geprüft €")) == 1
    finally:
        source.close()


def test_fail_puts_the_message_in_quarantine_once(dovecot, admin, imap_folder):
    append_many(admin, srv(imap_folder), [make_email("broken")])
    quarantine = f"{imap_folder.split('/')[0]}/Quarantäne"
    source = ImapSource(imap_source_config(dovecot, [imap_folder], quarantine_folder=quarantine), MemoryState())
    try:
        message = next(iter(source.fetch()))
        source.fail(message, "cannot parse MIME")
        source.fail(message, "cannot parse MIME")
        assert list(uids_and_flags(admin, quarantine)) == [b"broken"]
        assert list(source.fetch()) == []
    finally:
        source.close()


def test_max_age_leaves_old_mail_alone(dovecot, admin, imap_folder):
    admin.create_folder(srv(imap_folder))
    admin.append(srv(imap_folder), make_email("from last year"), msg_time=datetime.now() - timedelta(days=400))
    admin.append(srv(imap_folder), make_email("from today"))
    source = ImapSource(imap_source_config(dovecot, [imap_folder], max_age="30d"), MemoryState())
    try:
        assert [b"from today" in m.raw for m in source.fetch()] == [True]
    finally:
        source.close()


def test_uidvalidity_change_gives_new_keys_and_remembers_the_new_value(dovecot, admin, imap_folder):
    mails = [make_email("a"), make_email("b")]
    append_many(admin, srv(imap_folder), mails)
    state = MemoryState()
    source = ImapSource(imap_source_config(dovecot, [imap_folder]), state)
    try:
        before = list(source.fetch())
        for m in before:
            handled(state, m)
        old = state.get_cursor("finance", f"uidvalidity:{imap_folder}")
        # The folder is recreated (a server migration, a restore): same mail, new UIDVALIDITY.
        admin.delete_folder(srv(imap_folder))
        append_many(admin, srv(imap_folder), mails)
        after = list(source.fetch())
        assert [m.raw for m in after] == mails
        assert {m.key for m in after}.isdisjoint(m.key for m in before)
        assert state.get_cursor("finance", f"uidvalidity:{imap_folder}") not in (None, old)
        assert [m.content_hash for m in after] == [m.content_hash for m in before]  # what dedupe keys on
    finally:
        source.close()


def test_large_mailbox_is_fetched_in_batches_without_duplicates(dovecot, admin, imap_folder):
    mails = bulk_emails(2000)
    append_many(admin, srv(imap_folder), mails)
    state = MemoryState()
    source = ImapSource(imap_source_config(dovecot, [imap_folder], fetch_batch=100), state)
    try:
        first = list(source.fetch(limit=700))
        for m in first[::3]:  # a scattered set of handled UIDs: the pending set is no single range
            handled(state, m)
        rest = list(source.fetch())
        assert len(rest) == 2000 - len(first[::3])
        assert len({m.key for m in rest}) == len(rest)
        assert {m.raw for m in rest} | {m.raw for m in first[::3]} == set(mails)
    finally:
        source.close()


def test_a_message_over_the_size_limit_is_never_downloaded(dovecot, admin, imap_folder, monkeypatch):
    """RFC822.SIZE comes first: the big message arrives as its header only, with its declared
    size, and the pipeline quarantines it by that size; bodies are fetched in groups bounded by
    their declared sizes (here one per group), in order."""
    from inbox_ocr.kernel.errors import PermanentError
    from inbox_ocr.kernel.settings import Limits
    from inbox_ocr.orchestration.pipeline import process_message

    big = make_email("big scan", attachment=b"%PDF-1.4 " + b"x" * 3_000_000)
    mails = [make_email("small 1"), big, make_email("small 2")]
    append_many(admin, srv(imap_folder), mails)
    monkeypatch.setattr("connectors.imap.source.FETCH_BYTES", 1)  # every body in a FETCH of its own
    source = ImapSource(imap_source_config(dovecot, [imap_folder]), MemoryState(), max_message_bytes=1_000_000)
    try:
        got = list(source.fetch())
    finally:
        source.close()
    assert [m.raw for m in (got[0], got[2])] == [mails[0], mails[2]] and got[0].size is None
    header = got[1]
    assert header.size == len(big) and len(header.raw) < 2000 and b"Subject: big scan" in header.raw
    processor = type("P", (), {"limits": Limits(max_message_bytes=1_000_000)})()
    with pytest.raises(PermanentError, match=f"message is {len(big)} bytes, over the limit of 1000000"):
        process_message(header, processor)  # type: ignore[arg-type]


def test_tls_verification_is_on_by_default_and_ca_file_and_starttls_work(dovecot, imap_folder):
    no_ca = ImapSource(imap_source_config(dovecot, ["INBOX"], ca_file=None), MemoryState())
    with pytest.raises(SourceUnavailable, match="certificate verify failed"):
        list(no_ca.fetch())
    for overrides in ({"security": "starttls", "port": dovecot.port}, {"ca_file": None, "verify_tls": False}):
        source = ImapSource(imap_source_config(dovecot, ["INBOX"], **overrides), MemoryState())
        try:
            assert isinstance(list(source.fetch()), list)
        finally:
            source.close()


def test_wrong_password_is_a_clear_error_without_the_password(dovecot_without_move):
    # the other server: Dovecot slows down logins from an address after a failed one
    source = ImapSource(imap_source_config(dovecot_without_move, ["INBOX"], password="not-the-Pa55word"), MemoryState())
    with pytest.raises(SourceUnavailable, match="login refused for finance") as info:
        list(source.fetch())
    assert "not-the-Pa55word" not in str(info.value)


def test_source_reconnects_after_a_server_restart(dovecot, admin, imap_folder):
    append_many(admin, srv(imap_folder), [make_email("before restart")])
    source = ImapSource(imap_source_config(dovecot, [imap_folder], reconnect_attempts=2), MemoryState())
    try:
        message = next(iter(source.fetch()))
        dovecot.restart()
        source.ack(message, MailboxChanges(move_to="Done"))  # first command on a dead connection
        assert list(source.fetch()) == []

        dovecot.stop()
        with pytest.raises(SourceUnavailable, match="cannot reach"):
            list(source.fetch())
        # back up while the source waits between attempts
        threading.Timer(0.3, dovecot.restart).start()
        slow = ImapSource(imap_source_config(dovecot, [imap_folder], reconnect_attempts=40), MemoryState())
        assert list(slow.fetch()) == []
        slow.close()
    finally:
        source.close()
        if dovecot.process is None:
            dovecot.restart()


def test_wait_for_mail_wakes_up_when_mail_arrives(dovecot, admin, imap_folder):
    admin.create_folder(srv(imap_folder))
    source = ImapSource(imap_source_config(dovecot, [imap_folder], mode="idle"), MemoryState())
    try:
        list(source.fetch())
        started = time.monotonic()
        assert source.wait_for_mail(timeout=1.0) is False
        assert time.monotonic() - started >= 0.9

        threading.Timer(0.5, lambda: admin_client(dovecot).append(srv(imap_folder), make_email("new"))).start()
        # True (not the timeout's False) is the push; no bound on how long it took: CI is busy
        assert source.wait_for_mail(timeout=20) is True
        assert len(list(source.fetch())) == 1
    finally:
        source.close()


def test_wait_for_mail_reconnects_when_the_server_restarts(dovecot, imap_folder, admin):
    admin.create_folder(srv(imap_folder))
    source = ImapSource(imap_source_config(dovecot, [imap_folder], mode="idle"), MemoryState())
    try:
        list(source.fetch())
        threading.Timer(0.5, dovecot.restart).start()
        assert source.wait_for_mail(timeout=20) is True  # woken by the drop, reconnected
        admin_client(dovecot).append(srv(imap_folder), make_email("after restart"))
        assert len(list(source.fetch())) == 1
    finally:
        source.close()


def test_several_folders_of_one_account_are_fetched_with_their_own_keys(dovecot, admin, imap_folder):
    other = imap_folder.replace("/Eingang", "/Scans")
    append_many(admin, srv(imap_folder), [make_email("from the inbox")])
    append_many(admin, srv(other), [make_email("from the scanner")])
    source = ImapSource(imap_source_config(dovecot, [imap_folder, other]), MemoryState())
    try:
        got = list(source.fetch())
        assert [(m.folder, b"from the scanner" in m.raw) for m in got] == [(imap_folder, False), (other, True)]
        assert got[1].key.startswith(f"{other}/")
        source.ack(got[1], MailboxChanges(flag=True))
        assert b"\\Flagged" in uids_and_flags(admin, other)[b"from the scanner"]
    finally:
        source.close()


@pytest.mark.parametrize("server_name", ["dovecot", "dovecot_without_move"])
def test_delete_moves_to_the_trash_or_only_flags_and_never_expunges_others_mail(server_name, request, imap_folder):
    server: Dovecot = request.getfixturevalue(server_name)
    admin = admin_client(server)
    append_many(admin, srv(imap_folder), [make_email("spam 1"), make_email("someone else's"), make_email("spam 2")])
    admin.select_folder(srv(imap_folder))
    admin.add_flags([2], [b"\\Deleted"])  # a colleague's deletion, not expunged yet
    source = ImapSource(imap_source_config(server, [imap_folder]), MemoryState())
    try:
        first, second = list(source.fetch())
        # no Trash folder yet: the message is only flagged \Deleted, nothing is expunged
        if admin.folder_exists("Trash"):
            admin.delete_folder("Trash")
        source.ack(first, MailboxChanges(delete=True, move_to="Elsewhere"))
        left = uids_and_flags(admin, imap_folder)
        assert set(left) == {b"spam 1", b"someone else's", b"spam 2"}
        assert b"\\Deleted" in left[b"spam 1"] and b"\\Deleted" in left[b"someone else's"]
        # with a Trash folder, the message moves there (a delete wins over a move); the colleague's stays
        admin.create_folder("Trash")
        source.ack(second, MailboxChanges(delete=True, move_to="Elsewhere"))
        source.ack(second, MailboxChanges(delete=True))  # again after a crash: nothing twice
        assert list(uids_and_flags(admin, "Trash")) == [b"spam 2"]
        assert not admin.folder_exists("Elsewhere")
        left = uids_and_flags(admin, imap_folder)
        assert set(left) == {b"spam 1", b"someone else's"}
    finally:
        source.close()
        admin.logout()


def test_an_ack_redone_after_a_half_done_move_leaves_one_copy(dovecot, admin, imap_folder):
    """A client killed mid-MOVE can leave the copy in the target and the original in place; the
    redone ack (after the restart) finds the copy by Message-ID and only removes the original."""
    append_many(admin, srv(imap_folder), [make_email("half moved")])
    target = f"{imap_folder}-done"
    admin.create_folder(srv(target))
    admin.select_folder(srv(imap_folder))
    admin.copy([1], srv(target))  # what the server had done when the client died
    source = ImapSource(imap_source_config(dovecot, [imap_folder]), MemoryState())
    try:
        [message] = list(source.fetch())
        source.ack(message, MailboxChanges(move_to=target, redo=True))
        assert list(uids_and_flags(admin, target)) == [b"half moved"]
        assert uids_and_flags(admin, imap_folder) == {}
    finally:
        source.close()


def test_an_ack_redone_after_a_crash_with_no_copy_in_the_target_still_moves(dovecot, admin, imap_folder):
    append_many(admin, srv(imap_folder), [make_email("not moved yet"), make_email("other")])
    target = f"{imap_folder}-redo"
    admin.create_folder(srv(target))
    source = ImapSource(imap_source_config(dovecot, [imap_folder]), MemoryState())
    try:
        first = next(iter(source.fetch()))
        source.ack(first, MailboxChanges(move_to=target, keywords=("seen_by_us",), redo=True))
        assert list(uids_and_flags(admin, target)) == [b"not moved yet"]
        assert list(uids_and_flags(admin, imap_folder)) == [b"other"]
    finally:
        source.close()


def test_idle_watches_every_folder_within_the_connection_budget(dovecot, admin, imap_folder, caplog):
    """Mail into the second folder wakes the wait at once (its own IDLE connection), not after a
    poll; with a budget of one connection the second folder is polled, and the log says which."""
    second = f"{imap_folder}-scans"
    for folder in (imap_folder, second):
        admin.create_folder(srv(folder))
    source = ImapSource(imap_source_config(dovecot, [imap_folder, second], mode="idle", poll_every=3600),
                        MemoryState())
    try:
        list(source.fetch())
        with caplog.at_level("INFO", logger="connectors.imap"):
            threading.Timer(1.0, lambda: admin_client(dovecot).append(srv(second), make_email("scan"))).start()
            assert source.wait_for_mail(timeout=600) is True
        assert any(f"pushed={imap_folder},{second} polled=-" in r.getMessage() for r in caplog.records)
        assert [m.folder for m in source.fetch()] == [second]
        # every folder is pushed, none polled: a quiet wait now ends with False (nothing to poll),
        # where watching the first folder alone would end it with True to poll the second
        assert source.wait_for_mail(timeout=2) is False
    finally:
        source.close()
    budget = ImapSource(imap_source_config(dovecot, [imap_folder, second], mode="idle", poll_every=1,
                                           idle_connections=1), MemoryState())
    try:
        with caplog.at_level("INFO", logger="connectors.imap"):
            list(budget.fetch())
            assert budget.wait_for_mail(timeout=120) is True  # ends after poll_every to poll the second
        assert any(f"pushed={imap_folder} polled={second}" in r.getMessage() for r in caplog.records)
    finally:
        budget.close()
