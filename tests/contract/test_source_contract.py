"""The Source contract of inbox_ocr/kernel/ports.py, run over every implementation that needs no
server. (The IMAP source runs the same checks against a real Dovecot in
tests/integration/test_imap_contract.py.)"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from connectors.maildir import MaildirSource, MaildirSourceConfig
from connectors.memory import MemorySource, MemoryState
from inbox_ocr.app.samples import SampleMessage, build_message, write_maildir
from inbox_ocr.kernel.models import MailboxChanges
from inbox_ocr.kernel.ports import ChecksPresence, Source


@dataclass
class Harness:
    source: Source
    state: MemoryState
    deliver: Callable[[list[bytes]], None]

    def handled(self, key: str) -> None:
        """What the pipeline does after a committed outcome and a successful ack."""
        self.state.handled.setdefault(self.source.name, set()).add(key)


def _messages(n: int) -> list[SampleMessage]:
    return [SampleMessage(f"m{i}", f"Message {i}", "a@example.com", f"body {i}") for i in range(n)]


def maildir_harness(tmp_path: Path) -> Harness:
    state = MemoryState()
    cfg = MaildirSourceConfig(type="maildir", name="box", path=tmp_path / "Maildir", create=True)
    source = MaildirSource(cfg, state)
    counter = iter(range(10_000))

    def deliver(raws: list[bytes]) -> None:
        for raw in raws:
            i = next(counter)
            (tmp_path / "Maildir" / "new" / f"17000000{i:02d}.M{i}.test").write_bytes(raw)

    return Harness(source, state, deliver)


def memory_harness(tmp_path: Path) -> Harness:
    source = MemorySource(name="box")
    counter = iter(range(10_000))
    return Harness(source, MemoryState(), lambda raws: [source.add(f"k{next(counter)}", r) for r in raws])


def webhook_harness(tmp_path: Path) -> Harness:
    """The webhook source reads the spool its HTTP server writes; deliver = what the server stores."""
    from connectors.webhook_in import Spool, WebhookSource, WebhookSourceConfig, spool_dir

    state = MemoryState()
    cfg = WebhookSourceConfig(type="webhook", name="box", provider="mime", allow_unsigned=True)
    spool = Spool(spool_dir(tmp_path / "var", "box"))
    source = WebhookSource(cfg, state, spool)
    counter = iter(range(10_000))
    return Harness(source, state, lambda raws: [spool.store(r, f"id-{next(counter)}") for r in raws])


@pytest.fixture(params=[maildir_harness, memory_harness, webhook_harness], ids=["maildir", "memory", "webhook"])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    h = request.param(tmp_path)
    yield h
    h.source.close()
    h.source.close()  # closing twice is safe


def test_implements_the_source_port(harness: Harness) -> None:
    assert isinstance(harness.source, Source)


def test_fetch_yields_what_arrived(harness: Harness) -> None:
    raws = [build_message(m) for m in _messages(3)]
    harness.deliver(raws)
    got = list(harness.source.fetch())
    assert sorted(m.raw for m in got) == sorted(raws)
    assert len({m.key for m in got}) == 3
    assert all(m.source == harness.source.name for m in got)


def test_fetch_respects_limit(harness: Harness) -> None:
    harness.deliver([build_message(m) for m in _messages(5)])
    assert len(list(harness.source.fetch(limit=2))) == 2


def test_acked_messages_are_not_fetched_again_and_ack_is_idempotent(harness: Harness) -> None:
    harness.deliver([build_message(m) for m in _messages(2)])
    first, second = list(harness.source.fetch())
    changes = MailboxChanges(move_to="Invoices", keywords=("checked",))
    harness.source.ack(first, changes)
    harness.source.ack(first, changes)  # redone after a crash: no error, no second copy
    harness.handled(first.key)
    harness.source.ack(second, MailboxChanges())
    harness.handled(second.key)
    assert list(harness.source.fetch()) == []


def test_failed_messages_are_put_aside(harness: Harness) -> None:
    harness.deliver([build_message(m) for m in _messages(2)])
    bad, good = list(harness.source.fetch())
    harness.source.fail(bad, "cannot parse")
    harness.source.fail(bad, "cannot parse")
    harness.handled(bad.key)
    assert [m.key for m in harness.source.fetch()] == [good.key]


def test_has_message_until_a_move_or_failure_takes_it_away(harness: Harness) -> None:
    """ChecksPresence: a fetched message is there until its ack moves it (or the source deletes
    it); the runner relies on this to note acknowledgements a crash kept it from noting."""
    assert isinstance(harness.source, ChecksPresence)
    harness.deliver([build_message(m) for m in _messages(2)])
    moved, failed = list(harness.source.fetch())
    assert harness.source.has_message(moved.key) and harness.source.has_message(failed.key)
    harness.source.ack(moved, MailboxChanges(move_to="Invoices"))
    harness.source.fail(failed, "broken")
    assert not harness.source.has_message(moved.key)
    assert not harness.source.has_message(failed.key)


def test_maildir_move_keeps_one_copy_with_keywords(tmp_path: Path) -> None:
    h = maildir_harness(tmp_path)
    h.deliver([build_message(m) for m in _messages(1)])
    (msg,) = list(h.source.fetch())
    changes = MailboxChanges(move_to="Invoices/2026", keywords=("needs-approval", "erp"), mark_seen=True, flag=True)
    h.source.ack(msg, changes)
    h.source.ack(msg, changes)
    target = tmp_path / "Maildir" / ".Invoices.2026"
    (moved,) = list((target / "cur").iterdir())
    assert moved.read_bytes() == msg.raw
    assert moved.name.endswith(":2,FSab")
    assert (target / "dovecot-keywords").read_text() == "0 needs-approval\n1 erp\n"
    assert (target / "maildirfolder").exists()
    assert list((tmp_path / "Maildir" / "new").iterdir()) == []
    assert list((tmp_path / "Maildir" / "cur").iterdir()) == []


def test_maildir_crash_between_link_and_unlink_is_repaired(tmp_path: Path) -> None:
    h = maildir_harness(tmp_path)
    h.deliver([build_message(m) for m in _messages(1)])
    (msg,) = list(h.source.fetch())
    original = next((tmp_path / "Maildir" / "new").iterdir())
    # simulate a crash after the copy into the target but before the unlink
    target = tmp_path / "Maildir" / ".Invoices"
    for sub in ("cur", "new", "tmp"):
        (target / sub).mkdir(parents=True)
    (target / "cur" / f"{msg.key}:2,").write_bytes(original.read_bytes())
    h.source.ack(msg, MailboxChanges(move_to="Invoices"))
    assert len(list((target / "cur").iterdir())) == 1
    assert not original.exists()


@pytest.mark.parametrize("name", ["1700000000.M1.host[1]:2,S", "1700000000.M2.h*st?:2,", "1700000000.M3.[!a]"])
def test_maildir_names_with_glob_characters_are_moved(tmp_path: Path, name: str) -> None:
    """File names are compared exactly: '[1]', '*' or '?' in a delivered name is no pattern."""
    h = maildir_harness(tmp_path)
    folder = "cur" if ":2," in name else "new"
    (tmp_path / "Maildir" / folder / name).write_bytes(build_message(_messages(1)[0]))
    (msg,) = list(h.source.fetch())
    h.source.ack(msg, MailboxChanges(move_to="Invoices", mark_seen=True))
    h.source.ack(msg, MailboxChanges(move_to="Invoices", mark_seen=True))  # the redo finds it moved
    (moved,) = list((tmp_path / "Maildir" / ".Invoices" / "cur").iterdir())
    assert moved.name.startswith(msg.key + ":2,") and "S" in moved.name.split(":2,")[1]
    assert list((tmp_path / "Maildir" / "new").iterdir()) == list((tmp_path / "Maildir" / "cur").iterdir()) == []


def test_missing_maildir_is_a_clear_source_error(tmp_path: Path) -> None:
    from inbox_ocr.kernel.errors import SourceUnavailable

    cfg = MaildirSourceConfig(type="maildir", name="box", path=tmp_path / "nope")
    with pytest.raises(SourceUnavailable, match="not a Maildir"):
        list(MaildirSource(cfg, MemoryState()).fetch())


def test_write_maildir_and_fetch_order(tmp_path: Path) -> None:
    write_maildir(tmp_path / "M", _messages(3))
    cfg = MaildirSourceConfig(type="maildir", name="box", path=tmp_path / "M")
    subjects = [m.raw.split(b"Subject: ")[1].split(b"\n")[0].strip() for m in MaildirSource(cfg, MemoryState()).fetch()]
    assert subjects == [b"Message 0", b"Message 1", b"Message 2"]
