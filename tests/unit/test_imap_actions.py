"""IMAP behaviour that Dovecot cannot show: servers without custom keywords, without UIDPLUS, Gmail
labels, a personal namespace prefix, XOAUTH2 login. A scripted stand-in for imapclient records the
commands the source sends; the real-server tests are in tests/integration/test_imap_source.py."""

from __future__ import annotations

import logging
import sys
from typing import Any

import pytest
from imapclient.exceptions import LoginError

from connectors.imap import ImapSource, ImapSourceConfig
from connectors.memory import MemoryState
from inbox_ocr.kernel.models import MailboxChanges, RawMessage

UIDVALIDITY = 42


class Namespace:
    def __init__(self, personal: tuple[tuple[str, str], ...]) -> None:
        self.personal = personal


class ScriptedServer:
    """Just enough of imapclient.IMAPClient, recording every command."""

    def __init__(
        self,
        capabilities: tuple[bytes, ...],
        permanent_flags: tuple[bytes, ...] = (b"\\*",),
        delimiter: bytes = b".",
        prefix: str = "",
        reject_first_token: bool = False,
    ) -> None:
        self.caps = capabilities
        self.permanent_flags = permanent_flags
        self.delimiter = delimiter
        self.prefix = prefix
        self.folders = {"INBOX"}
        self.calls: list[tuple[Any, ...]] = []
        self.reject_first_token = reject_first_token

    def __call__(self, host: str, **kwargs: Any) -> ScriptedServer:  # the client factory
        self.calls.append(("connect", host, kwargs["port"], kwargs["ssl"]))
        return self

    def login(self, user: str, password: str) -> None:
        self.calls.append(("login", user))

    def oauth2_login(self, user: str, token: str) -> None:
        self.calls.append(("oauth2_login", user, token))
        if self.reject_first_token:
            self.reject_first_token = False
            raise LoginError("AUTHENTICATE failed")

    def capabilities(self) -> tuple[bytes, ...]:
        return self.caps

    def list_folders(self, directory: str = "", pattern: str = "*") -> list[Any]:
        return [((b"\\Noselect",), self.delimiter, "")]

    def namespace(self) -> Namespace:
        return Namespace(((self.prefix, self.delimiter.decode()),) if self.prefix else ())

    def select_folder(self, folder: str) -> dict[bytes, Any]:
        self.calls.append(("select", folder))
        return {b"UIDVALIDITY": UIDVALIDITY, b"UIDNEXT": 10, b"PERMANENTFLAGS": self.permanent_flags}

    def folder_exists(self, folder: str) -> bool:
        return folder in self.folders

    def create_folder(self, folder: str) -> None:
        self.calls.append(("create", folder))
        self.folders.add(folder)

    def add_flags(self, uids: list[int], flags: list[Any], silent: bool = False) -> None:
        self.calls.append(("store", tuple(uids), tuple(flags)))

    def add_gmail_labels(self, uids: list[int], labels: list[str], silent: bool = False) -> None:
        self.calls.append(("label", tuple(uids), tuple(labels)))

    def move(self, uids: list[int], folder: str) -> None:
        self.calls.append(("move", tuple(uids), folder))

    def copy(self, uids: list[int], folder: str) -> None:
        self.calls.append(("copy", tuple(uids), folder))

    def uid_expunge(self, uids: list[int]) -> None:
        self.calls.append(("uid_expunge", tuple(uids)))

    def expunge(self, messages: Any = None) -> None:
        self.calls.append(("expunge", messages))

    def shutdown(self) -> None:
        pass

    def logout(self) -> None:
        pass

    def commands(self, *names: str) -> list[tuple[Any, ...]]:
        return [c for c in self.calls if c[0] in names]


def source(server: ScriptedServer, **overrides: Any) -> ImapSource:
    config = ImapSourceConfig.model_validate(
        {
            "type": "imap",
            "name": "acct",
            "host": "imap.example",
            "username": "ap@example.com",
            "password": "hunter2-Secret",
            **overrides,
        }
    )
    return ImapSource(config, MemoryState(), client_factory=server)


def message(uid: int = 7, folder: str = "INBOX") -> RawMessage:
    return RawMessage(source="acct", key=f"{folder}/{UIDVALIDITY}/{uid}", folder=folder, raw=b"Subject: x\r\n\r\n")


def test_keywords_are_skipped_with_a_warning_where_the_server_allows_none(caplog):
    server = ScriptedServer((b"IMAP4REV1", b"MOVE", b"UIDPLUS"), permanent_flags=(b"\\Seen", b"\\Flagged"))
    with caplog.at_level(logging.WARNING):
        source(server).ack(message(), MailboxChanges(keywords=("invoice",), flag=True))
    assert server.commands("store") == [("store", (7,), (b"\\Flagged",))]
    assert "no \\* in PERMANENTFLAGS" in caplog.text and "keyword=invoice" in caplog.text


def test_a_keyword_that_is_no_imap_atom_is_skipped(caplog):
    server = ScriptedServer((b"IMAP4REV1", b"MOVE"))
    with caplog.at_level(logging.WARNING):
        source(server).ack(message(), MailboxChanges(keywords=("needs review",)))
    assert server.commands("store") == []
    assert "not a valid IMAP keyword" in caplog.text


def test_gmail_gets_labels_instead_of_keywords():
    server = ScriptedServer((b"IMAP4REV1", b"MOVE", b"X-GM-EXT-1"))
    source(server).ack(message(), MailboxChanges(keywords=("Rechnungen/Geprüft",)))
    assert server.commands("label", "store") == [("label", (7,), ("Rechnungen/Geprüft",))]


def test_without_move_and_uidplus_the_original_is_only_flagged_never_expunged(caplog):
    server = ScriptedServer((b"IMAP4REV1",))
    with caplog.at_level(logging.WARNING):
        source(server).ack(message(), MailboxChanges(move_to="Done"))
    assert server.commands("copy", "store", "uid_expunge", "expunge", "move") == [
        ("copy", (7,), "Done"),
        ("store", (7,), (b"\\Deleted",)),
    ]
    assert "no UIDPLUS" in caplog.text


def test_with_uidplus_only_our_uid_is_expunged():
    server = ScriptedServer((b"IMAP4REV1", b"UIDPLUS"))
    source(server).fail(message(uid=9), "unreadable")
    assert server.commands("copy", "store", "uid_expunge", "expunge") == [
        ("copy", (9,), "Quarantine"),
        ("store", (9,), (b"\\Deleted",)),
        ("uid_expunge", (9,)),
    ]


def test_folders_follow_the_namespace_prefix_and_delimiter_and_parents_are_created():
    server = ScriptedServer((b"IMAP4REV1", b"MOVE", b"NAMESPACE"), prefix="INBOX.")
    src = source(server, folders=["Scans/Eingang"])
    src.ack(message(folder="Scans/Eingang"), MailboxChanges(move_to="Invoices/2024"))
    assert server.commands("select")[0] == ("select", "INBOX.Scans.Eingang")
    assert server.commands("create", "move") == [
        ("create", "INBOX.Invoices"),
        ("create", "INBOX.Invoices.2024"),
        ("move", (7,), "INBOX.Invoices.2024"),
    ]


def test_ack_under_another_uidvalidity_does_nothing():
    server = ScriptedServer((b"IMAP4REV1", b"MOVE"))
    stale = RawMessage(source="acct", key="INBOX/41/7", raw=b"x")
    source(server).ack(stale, MailboxChanges(move_to="Done", mark_seen=True))
    assert server.commands("move", "store", "copy") == []


def test_xoauth2_login_retries_once_with_a_fresh_token_and_logs_no_secret(caplog):
    server = ScriptedServer((b"IMAP4REV1", b"MOVE"), reject_first_token=True)
    command = f"{sys.executable} -c \"import time; print('tok-' + str(time.monotonic_ns()))\""
    src = source(server, auth="xoauth2", password=None, oauth={"token_command": command})
    with caplog.at_level(logging.DEBUG):
        src.ack(message(), MailboxChanges(flag=True))
    logins = server.commands("oauth2_login")
    assert len(logins) == 2 and logins[0][2] != logins[1][2]
    assert all(call[2] not in caplog.text for call in logins)


def test_the_password_never_reaches_the_log(caplog):
    server = ScriptedServer((b"IMAP4REV1", b"MOVE"))
    with caplog.at_level(logging.DEBUG):
        src = source(server)
        src.ack(message(), MailboxChanges(move_to="Done"))
        src.close()
    assert "hunter2-Secret" not in caplog.text
    assert server.calls[0] == ("connect", "imap.example", 993, True)


def test_missing_password_is_a_config_error():
    with pytest.raises(ValueError, match="needs a password"):
        ImapSourceConfig.model_validate({"type": "imap", "name": "a", "host": "h", "username": "u"})


class IdlingServer(ScriptedServer):
    """Answers IDLE with silence: each idle_check waits its full timeout."""

    def idle(self) -> None:
        self.calls.append(("idle",))

    def idle_check(self, timeout: float) -> list[Any]:
        import time

        time.sleep(timeout)
        return []

    def idle_done(self) -> None:
        self.calls.append(("done",))


def test_idle_is_renewed_every_idle_renew_seconds_and_ends_at_the_timeout():
    server = IdlingServer((b"IMAP4REV1", b"IDLE", b"MOVE"))
    src = source(server, idle_renew=0.25)
    assert src.wait_for_mail(timeout=0.8) is False
    assert len(server.commands("idle")) >= 3
    assert len(server.commands("idle")) == len(server.commands("done"))


def test_stop_ends_an_idle_wait_early():
    import threading
    import time

    server = IdlingServer((b"IMAP4REV1", b"IDLE", b"MOVE"))
    stop = threading.Event()
    threading.Timer(0.2, stop.set).start()
    started = time.monotonic()
    assert source(server).wait_for_mail(timeout=30, stop=stop) is False
    assert time.monotonic() - started < 15  # well before the 30 s timeout, with room for a busy machine


def test_idle_renew_may_not_exceed_29_minutes():
    with pytest.raises(ValueError, match="less than or equal to 1740"):
        ImapSourceConfig.model_validate(
            {"type": "imap", "name": "a", "host": "h", "username": "u", "password": "p", "idle_renew": "30m"}
        )


class DropsDuringMove(ScriptedServer):
    """MOVE copies the message, then the connection drops before the original is removed (what
    Dovecot leaves when it goes away mid-command)."""

    def __init__(self) -> None:
        super().__init__((b"IMAP4REV1", b"MOVE", b"UIDPLUS"))
        self.holding: set[str] = set()  # folders that hold a copy
        self.selected = "INBOX"
        self.dropped = False

    def select_folder(self, folder: str, readonly: bool = False) -> dict[bytes, Any]:
        self.selected = folder
        return super().select_folder(folder)

    def move(self, uids: list[int], folder: str) -> None:
        super().move(uids, folder)
        self.holding.add(folder)
        if not self.dropped:
            self.dropped = True
            raise ConnectionResetError("connection reset by peer")

    def search(self, criteria: list[Any]) -> list[int]:
        self.calls.append(("search", self.selected, tuple(criteria)))
        return [3] if self.selected in self.holding else []


def with_id(uid: int = 7) -> RawMessage:
    return RawMessage(source="acct", key=f"INBOX/{UIDVALIDITY}/{uid}", folder="INBOX",
                      raw=b"Message-ID: <inv-23@example.com>\r\nSubject: x\r\n\r\n")


@pytest.mark.parametrize("action", ["move", "delete", "quarantine"])
def test_a_move_retried_after_the_connection_dropped_mid_move_does_not_copy_twice(action: str) -> None:
    server = DropsDuringMove()
    if action == "quarantine":
        source(server, reconnect_backoff=0.01).fail(with_id(), "unreadable")
        target = "Quarantine"
    elif action == "delete":  # a delete is a move to the Trash
        source(server, reconnect_backoff=0.01, trash_folder="Trash").ack(with_id(), MailboxChanges(delete=True))
        target = "Trash"
    else:
        source(server, reconnect_backoff=0.01).ack(with_id(), MailboxChanges(move_to="Done"))
        target = "Done"
    assert server.commands("move") == [("move", (7,), target)]  # the retry found the copy
    assert ("search", target, ("HEADER", "Message-ID", "<inv-23@example.com>")) in server.calls
    assert server.commands("uid_expunge") == [("uid_expunge", (7,))]  # and removed only the original
