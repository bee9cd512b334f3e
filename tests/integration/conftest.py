"""Fixtures for tests against real servers: a Dovecot started once per session.

Tests isolate themselves by working in a folder of their own (`imap_folder`), not by starting
their own server: one Dovecot start is ~0.1 s, but a session-wide one keeps the suite simple.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import ssl
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import pytest
from imapclient import IMAPClient

from tests.integration.dovecot import DOVECOT, Dovecot

_counter = itertools.count(1)


def _need_dovecot() -> None:
    if not Path(DOVECOT).exists() and not shutil.which("dovecot"):
        pytest.skip("Dovecot is not installed (apt-get install dovecot-imapd)")


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    """A Dovecot with the usual capabilities (MOVE, UIDPLUS, IDLE, keywords)."""
    _need_dovecot()
    server = Dovecot.start()
    yield server
    server.close()


@pytest.fixture(scope="session")
def dovecot_without_move() -> Iterator[Dovecot]:
    """A Dovecot that does not announce MOVE (as older Exchange and Courier servers), with UIDPLUS."""
    _need_dovecot()
    server = Dovecot.start(
        capabilities="IMAP4rev1 LITERAL+ SASL-IR LOGIN-REFERRALS ID ENABLE IDLE UIDPLUS NAMESPACE MULTIAPPEND"
    )
    yield server
    server.close()


def admin_client(server: Dovecot) -> IMAPClient:
    """A second client, as another person or a mail delivery would use the mailbox."""
    client = IMAPClient(
        "127.0.0.1",
        port=server.ssl_port,
        ssl=True,
        ssl_context=ssl.create_default_context(cafile=str(server.ca_file)),
        timeout=30,
    )
    client.login(server.user, server.password)
    return client


@pytest.fixture
def admin(dovecot: Dovecot) -> Iterator[IMAPClient]:
    client = admin_client(dovecot)
    yield client
    with contextlib.suppress(Exception):  # the test may have restarted the server under it
        client.shutdown()


@pytest.fixture
def imap_folder(request: pytest.FixtureRequest) -> str:
    """A folder name of this test's own (config spelling, '/' between levels)."""
    return f"T{next(_counter)}-{request.node.name[:40].replace('[', '-').replace(']', '')}/Eingang"


def imap_source_config(server: Dovecot, folders: list[str], **overrides: Any) -> Any:
    from connectors.imap import ImapSourceConfig

    values: dict[str, Any] = {
        "type": "imap",
        "name": "finance",
        "host": "127.0.0.1",
        "port": server.ssl_port,
        "security": "ssl",
        "username": server.user,
        "password": server.password,
        "ca_file": server.ca_file,
        "folders": folders,
        "reconnect_backoff": 0.1,
        "reconnect_max_backoff": 0.5,
        "reconnect_attempts": 15,  # a restarted Dovecot may take seconds on a loaded CI machine
        "timeout": 20,
    }
    values.update(overrides)
    return ImapSourceConfig.model_validate(values)


def make_email(
    subject: str,
    body: str = "Hello",
    attachment: bytes | None = None,
    filename: str = "invoice.pdf",
    message_id: str | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Vendor GmbH <billing@vendor.example>"
    msg["To"] = "ap@company.example"
    msg["Subject"] = subject
    msg["Message-ID"] = message_id or make_msgid(domain="vendor.example")
    msg.set_content(body)
    if attachment is not None:
        msg.add_attachment(attachment, maintype="application", subtype="pdf", filename=filename)
    return msg.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def bulk_emails(count: int, subject: str = "bulk") -> list[bytes]:
    """Many distinct small messages quickly (EmailMessage takes ~1 ms each)."""
    template = make_email(
        f"{subject} @@N@@",
        body="Message @@N@@",
        message_id=make_msgid(idstring="@@N@@", domain="vendor.example"),
    )
    return [template.replace(b"@@N@@", str(i).encode()) for i in range(count)]


def append_many(client: IMAPClient, server_folder: str, messages: list[bytes], chunk: int = 200) -> None:
    """MULTIAPPEND in chunks: fast even for thousands of messages."""
    if not client.folder_exists(server_folder):
        client.create_folder(server_folder)
    for i in range(0, len(messages), chunk):
        client.multiappend(server_folder, messages[i : i + chunk])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Every test in this folder talks to a real server.
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.integration)
