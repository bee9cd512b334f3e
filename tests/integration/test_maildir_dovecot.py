"""Maildir folders made by the Maildir source are the folders an IMAP client sees through Dovecot:
names in modified UTF-7, so `Rechnungen/Geprüft` shows as itself, not as mojibake."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from imapclient import IMAPClient

from connectors.maildir import MaildirSource, MaildirSourceConfig
from connectors.memory import MemoryState
from inbox_ocr.kernel.models import MailboxChanges, RawMessage
from tests.integration.conftest import admin_client
from tests.integration.dovecot import Dovecot

pytestmark = pytest.mark.integration


def test_a_folder_with_non_ascii_names_shows_right_over_imap(dovecot: Dovecot, admin: IMAPClient) -> None:
    root = Path(dovecot.mail_dir)
    admin.select_folder("INBOX")  # Dovecot makes the INBOX Maildir on first use
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    tag = uuid.uuid4().hex[:8]
    key = f"1796000000.M{tag}P1.inbox-ocr"
    raw = f"From: a@vendor.example\r\nSubject: Rechnung {tag}\r\nMessage-ID: <{tag}@x>\r\n\r\nhallo\r\n".encode()
    (root / "new" / key).write_bytes(raw)
    source = MaildirSource(MaildirSourceConfig(name="box", type="maildir", path=root), MemoryState())
    folder = f"Rechnungen-{tag}/Geprüft & bezahlt"
    source.ack(RawMessage(source="box", key=key, raw=raw), MailboxChanges(move_to=folder, keywords=("geprüft",)))
    made = root / f".Rechnungen-{tag}.Gepr&APw-ft &- bezahlt"
    assert made.is_dir()
    # in real use the daemon runs as the mailbox's user; here the test runs as whoever it is: hand
    # the new folder to the user Dovecot reads the Maildir as
    owner = root.stat()
    for path in [made, *made.rglob("*")]:
        os.chown(path, owner.st_uid, owner.st_gid)
    client = admin_client(dovecot)  # a new session: Dovecot refreshes its folder list per session
    try:
        delimiter = client.list_folders()[0][1].decode()
        shown = folder.replace("/", delimiter)
        assert shown in [name for _, _, name in client.list_folders()]
        client.select_folder(shown, readonly=True)
        [uid] = client.search(["SUBJECT", f"Rechnung {tag}"])
        assert client.fetch([uid], ["ENVELOPE"])[uid][b"ENVELOPE"].subject.decode() == f"Rechnung {tag}"
    finally:
        client.logout()
