"""Maildir++ folder names in IMAP's modified UTF-7 (RFC 3501 5.1.3), as Dovecot stores them."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from imapclient.imap_utf7 import encode

from connectors.maildir import folder_dir, utf7_imap


@given(st.text(max_size=30))
def test_names_are_encoded_as_imapclient_encodes_them(name: str) -> None:
    assert utf7_imap(name) == encode(name).decode()


def test_folder_paths_use_the_encoded_names_and_keep_an_older_utf8_folder(tmp_path: Path) -> None:
    assert folder_dir(tmp_path, "INBOX") == tmp_path
    assert folder_dir(tmp_path, "Rechnungen/Geprüft") == tmp_path / ".Rechnungen.Gepr&APw-ft"
    assert folder_dir(tmp_path, "A&B/v1.2") == tmp_path / ".A&-B.v1_2"
    (tmp_path / ".Alt.Geprüft").mkdir()  # made by an older version under its UTF-8 name
    assert folder_dir(tmp_path, "Alt/Geprüft") == tmp_path / ".Alt.Geprüft"
