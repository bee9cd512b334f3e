"""The Source contract of tests/contract, run over the IMAP source against the real Dovecot."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from connectors.imap import ImapSource
from connectors.memory import MemoryState
from inbox_ocr.app.samples import build_message
from tests.contract.test_source_contract import (  # noqa: F401  (collected here with the IMAP harness)
    Harness,
    _messages,
    test_acked_messages_are_not_fetched_again_and_ack_is_idempotent,
    test_failed_messages_are_put_aside,
    test_fetch_respects_limit,
    test_has_message_until_a_move_or_failure_takes_it_away,
)
from tests.integration.conftest import append_many, imap_source_config

pytestmark = pytest.mark.integration


@pytest.fixture
def harness(dovecot, admin, imap_folder) -> Iterator[Harness]:
    state = MemoryState()
    source = ImapSource(imap_source_config(dovecot, [imap_folder], name="box"), state)
    yield Harness(source, state, lambda raws: append_many(admin, imap_folder.replace("/", "."), raws))
    source.close()
    source.close()  # closing twice is safe


def test_fetch_yields_what_arrived_in_imap_line_endings(harness: Harness) -> None:
    """The contract's byte-for-byte check, except that IMAP carries messages with CRLF line ends
    (RFC 3501 section 2.3.1): a message delivered with bare LF comes back with CRLF."""
    raws = [build_message(m) for m in _messages(3)]
    harness.deliver(raws)
    got = list(harness.source.fetch())
    assert [m.raw for m in got] == [r.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n") for r in raws]
    assert len({m.key for m in got}) == 3
    assert all(m.source == harness.source.name for m in got)
