"""Ledger and runner: two runs route once, a crash between commit and ack is repaired without a
second delivery, bad messages are quarantined, transient failures retried then quarantined."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connectors.maildir import MaildirSource, MaildirSourceConfig
from connectors.memory import MemorySource
from inbox_ocr.app.config import Config, parse_config
from inbox_ocr.app.samples import build_message, demo_messages
from inbox_ocr.app.wiring import build_outbox, build_processor
from inbox_ocr.kernel.errors import TransientError
from inbox_ocr.kernel.models import Document, MailboxChanges, RawMessage
from inbox_ocr.orchestration import pipeline as pipeline_module
from inbox_ocr.orchestration.ledger import Ledger
from inbox_ocr.orchestration.runner import Runner
from tests.http_receiver import Receiver

SAMPLES = {m.name: build_message(m) for m in demo_messages()}


def make_config(tmp_path: Path, url: str = "http://127.0.0.1:9/hook", **extra: object):  # type: ignore[no-untyped-def]
    return parse_config({
        "state_dir": str(tmp_path / "var"),
        "sources": [{"name": "memory", "type": "maildir", "path": str(tmp_path / "unused")}],
        "webhooks": {"erp": {"url": url, "secret": "test-secret-123", "backoff": "1s"}},
        "rules": [{"name": "invoices", "when": {"doc_type": ["invoice", "credit_note"], "min_confidence": 0.7},
                   "then": [{"move": "Invoices"}, {"webhook": "erp"}], "stop": True}],
        "default": [{"keyword": "not-invoice"}],
        **extra,
    })


def runner(config: Config, ledger: Ledger) -> Runner:
    return Runner(build_processor(config), ledger, config.limits.max_attempts)


class CrashingSource(MemorySource):
    """Dies (like a killed process) in the middle of acknowledging."""

    def ack(self, message: RawMessage, changes: MailboxChanges) -> None:
        raise SystemExit("killed between ledger commit and acknowledgement")


def test_second_run_routes_nothing_twice(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    source = MemorySource()
    source.add("k1", SAMPLES["invoice"])
    source.add("k2", SAMPLES["agenda"])
    pipe = runner(config, ledger)
    first = pipe.run_source(source)
    assert [(r.key, r.status, r.rule) for r in first] == [("k1", "done", "invoices"), ("k2", "done", None)]
    # a source that hands the same messages over again (as a keyword-only action leaves them in place)
    again = MemorySource(messages=source.messages)
    second = pipe.run_source(again)
    assert [r.status for r in second] == ["acked-again", "acked-again"]
    assert len(ledger.deliveries.recent()) == 1  # one webhook delivery queued in all
    assert ledger.counts()["messages_done"] == 2


def test_crash_between_commit_and_ack_redoes_ack_without_second_delivery(tmp_path: Path,
                                                                         receiver: Receiver) -> None:
    config = make_config(tmp_path, receiver.url)
    db = tmp_path / "ledger.sqlite3"
    crashing = CrashingSource()
    crashing.add("k1", SAMPLES["invoice"])
    with pytest.raises(SystemExit):
        runner(config, Ledger(db)).run_source(crashing)
    # "restart": new objects over the same database; the message is still in the mailbox
    ledger = Ledger(db)
    record = ledger.messages.get("memory", "k1")
    assert record is not None and record.status == "done" and record.acked_at is None
    assert ledger.handled_keys("memory") == set()
    source = MemorySource(messages=list(crashing.messages))
    reports = runner(config, ledger).run_source(source)
    assert [r.status for r in reports] == ["acked-again"]
    # done again, saying so: a move then checks whether its target holds the message already
    assert source.acked == [("k1", MailboxChanges(move_to="Invoices", redo=True))]
    assert ledger.handled_keys("memory") == {"k1"}
    build_outbox(config, ledger).deliver_due()
    assert len(receiver.accepted) == 1 and len(receiver.requests) == 1


class KilledAfterMove(MaildirSource):
    """Moves the message, then dies before the runner can note the acknowledgement."""

    def ack(self, message: RawMessage, changes: MailboxChanges) -> None:
        super().ack(message, changes)
        raise SystemExit("killed between the move and the ack note")


def test_kill_between_move_and_ack_note_is_settled_on_the_next_pass(tmp_path: Path) -> None:
    """The message left the inbox (moved), so no pass fetches it again: the next pass sees it is
    gone from the source and notes the acknowledgement instead of showing 'NOT ACKED' forever."""
    config = make_config(tmp_path)
    db = tmp_path / "ledger.sqlite3"
    box = MaildirSourceConfig(type="maildir", name="memory", path=tmp_path / "Maildir", create=True)
    (tmp_path / "Maildir" / "new").mkdir(parents=True)
    (tmp_path / "Maildir" / "new" / "1700000000.M1.test").write_bytes(SAMPLES["invoice"])
    with pytest.raises(SystemExit):
        runner(config, Ledger(db)).run_source(KilledAfterMove(box, Ledger(db)))
    assert [p.name for p in (tmp_path / "Maildir" / ".Invoices" / "cur").iterdir()] == ["1700000000.M1.test:2,"]
    ledger = Ledger(db)
    assert ledger.messages.get("memory", "1700000000.M1.test").acked_at is None  # type: ignore[union-attr]
    reports = runner(config, ledger).run_source(MaildirSource(box, ledger))
    assert reports == []  # nothing to fetch: it was moved
    record = ledger.messages.get("memory", "1700000000.M1.test")
    assert record is not None and record.acked_at is not None
    assert ledger.messages.unacked("memory") == []
    assert len(ledger.deliveries.recent()) == 1  # and nothing was routed twice


def test_a_message_whose_ack_failed_is_not_settled_while_it_is_still_there(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    source = MemorySource(fail_ack_for={"k1"})
    source.add("k1", SAMPLES["invoice"])
    [report] = runner(config, ledger).run_source(source)
    assert not report.acked and "acknowledgement pending" in (report.error or "")
    assert runner(config, ledger).settle_acknowledgements(source) == 0  # still in the inbox: redo the ack
    assert ledger.messages.unacked("memory") == [(1, "k1")]


def test_malformed_message_is_quarantined_and_others_go_on(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    source = MemorySource()
    source.add("empty", b"")
    source.add("k1", SAMPLES["invoice"])
    reports = runner(config, ledger).run_source(source)
    assert [r.status for r in reports] == ["quarantined", "done"]
    assert source.failed and source.failed[0][0] == "empty"
    record = ledger.messages.get("memory", "empty")
    assert record is not None and record.status == "quarantined" and record.error
    assert ledger.handled_keys("memory") == {"empty", "k1"}


def test_broken_attachment_is_an_error_on_its_document_only(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    source = MemorySource()
    source.add("bad", SAMPLES["malformed"])
    (report,) = runner(config, ledger).run_source(source)
    assert report.status == "done"
    record = ledger.messages.get("memory", "bad")
    assert record is not None
    (doc,) = record.documents
    assert doc["source"] == "unreadable" and doc["error"]
    assert record.actions == ["keyword: not-invoice"]
    assert record.mailbox == MailboxChanges(keywords=("not-invoice",))


def test_transient_failures_are_retried_then_quarantined(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = make_config(tmp_path, limits={"max_attempts": 3})
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    calls = []

    def flaky(raw: bytes, limits: object) -> None:
        calls.append(1)
        raise TransientError("storage briefly unavailable")

    monkeypatch.setattr(pipeline_module, "parse_message", flaky)
    source = MemorySource()
    source.add("k1", SAMPLES["invoice"])
    pipe = runner(config, ledger)
    assert [r.status for r in pipe.run_source(source)] == ["failed"]
    assert [r.status for r in pipe.run_source(source)] == ["failed"]
    assert [r.status for r in pipe.run_source(source)] == ["quarantined"]
    assert len(calls) == 3
    record = ledger.messages.get("memory", "k1")
    assert record is not None and record.status == "quarantined" and "after 3 attempts" in (record.error or "")
    assert pipe.run_source(source) == []


def test_same_message_under_a_new_key_is_not_routed_twice(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    source = MemorySource()
    source.add("uidvalidity1/7", SAMPLES["invoice"])
    source.add("uidvalidity2/7", SAMPLES["invoice"])
    reports = runner(config, ledger).run_source(source)
    assert [r.status for r in reports] == ["done", "duplicate"]
    assert len(ledger.deliveries.recent()) == 1
    assert source.acked[1] == ("uidvalidity2/7", MailboxChanges())


def test_a_ledger_of_the_first_schema_is_upgraded_in_place(tmp_path: Path) -> None:
    """Version 1 kept actions as [{"kind", "arg"}] and no mailbox changes: a message committed
    but not acknowledged before the upgrade is acknowledged with the same changes after it."""
    import json
    import sqlite3

    from inbox_ocr.orchestration.ledger.db import VERSION

    db = tmp_path / "ledger.sqlite3"
    old = sqlite3.connect(db)
    old.executescript("""
        CREATE TABLE messages (id INTEGER PRIMARY KEY, source TEXT NOT NULL, key TEXT NOT NULL, message_id TEXT,
            content_hash TEXT NOT NULL, subject TEXT, sender TEXT,
            status TEXT NOT NULL CHECK (status IN ('done', 'failed', 'quarantined')),
            attempts INTEGER NOT NULL DEFAULT 0, error TEXT, rule TEXT, actions TEXT, documents TEXT,
            created_at TEXT NOT NULL, updated_at TEXT NOT NULL, acked_at TEXT, UNIQUE (source, key));
        CREATE TABLE outbox (id INTEGER PRIMARY KEY, message INTEGER NOT NULL REFERENCES messages (id),
            webhook TEXT NOT NULL, idempotency_key TEXT NOT NULL UNIQUE, payload BLOB NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
            attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at REAL NOT NULL, last_error TEXT, receipt TEXT,
            created_at TEXT NOT NULL, delivered_at TEXT);
        CREATE TABLE audit (id INTEGER PRIMARY KEY, message INTEGER REFERENCES messages (id), at TEXT NOT NULL,
            event TEXT NOT NULL, detail TEXT);
        CREATE TABLE cursors (source TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL,
            PRIMARY KEY (source, name));
    """)
    old_actions = [{"kind": "move", "arg": "Invoices"}, {"kind": "keyword", "arg": "erp"},
                   {"kind": "flag", "arg": None}, {"kind": "webhook", "arg": "erp"}]
    old.execute("INSERT INTO messages (source, key, content_hash, status, actions, documents, created_at, "
                "updated_at) VALUES ('memory', 'k1', ?, 'done', ?, '[]', 'x', 'x')",
                (RawMessage(source="memory", key="k1", raw=SAMPLES["invoice"]).content_hash, json.dumps(old_actions)))
    old.execute("INSERT INTO audit (message, at, event, detail) VALUES (1, 'x', 'routed', 'rule=invoices')")
    old.execute("INSERT INTO outbox (message, webhook, idempotency_key, payload, status, next_attempt_at, created_at) "
                "VALUES (1, 'erp', 'k', x'7b7d', 'delivered', 0, 'x')")
    old.commit()
    old.close()

    ledger = Ledger(db)
    record = ledger.messages.get("memory", "k1")
    assert record is not None
    assert record.actions == ["move: Invoices", "keyword: erp", "flag", "webhook: erp"]
    assert record.mailbox == MailboxChanges(move_to="Invoices", keywords=("erp",), flag=True)
    assert ledger.db.query("PRAGMA user_version")[0][0] == VERSION
    # the messages table was rebuilt (version 4: the `held` status): what refers to it still does
    assert [e.event for e in ledger.audit.of(record.id)] == ["routed"]
    assert [d.message for d in ledger.deliveries.recent()] == [record.id]
    assert ledger.db.query("PRAGMA foreign_key_check") == []
    source = MemorySource()
    source.add("k1", SAMPLES["invoice"])
    reports = runner(make_config(tmp_path), ledger).run_source(source)
    assert [r.status for r in reports] == ["acked-again"]
    assert source.acked == [("k1", MailboxChanges(move_to="Invoices", keywords=("erp",), flag=True, redo=True))]
    ledger.close()
    Ledger(db).close()  # opening the upgraded ledger again changes nothing


def test_a_ledger_of_a_newer_schema_is_refused(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "ledger.sqlite3"
    Ledger(db).close()
    newer = sqlite3.connect(db)
    newer.execute("PRAGMA user_version = 99")
    newer.close()
    with pytest.raises(TransientError, match="newer than this program"):
        Ledger(db)


class CountingReader:
    """The real in-process reader, counting its calls; each read advances `clock` by `seconds`
    (a fake clock: the budget test must not depend on how busy the machine is)."""

    def __init__(self, config: Config, seconds: float = 0.0) -> None:
        from inbox_ocr.app.wiring import build_reader

        self.inner = build_reader(config, isolated=False)
        self.seconds = seconds
        self.now = 0.0
        self.calls: list[str] = []

    def clock(self) -> float:
        return self.now

    def read(self, data: bytes, **kwargs: Any) -> Document:
        self.calls.append(kwargs["filename"])
        self.now += self.seconds
        return self.inner.read(data, **kwargs)

    def close(self) -> None:
        self.inner.close()


def _message_with(*attachments: tuple[str, bytes]) -> bytes:
    from inbox_ocr.app.samples import SampleMessage

    return build_message(SampleMessage("many", "Scans", "scanner@company.example", "scans",
                                       tuple((name, "application/pdf", data) for name, data in attachments)))


def test_identical_attachments_are_read_once(tmp_path: Path) -> None:
    from inbox_ocr.app.samples import invoice_doc, render_pdf
    from inbox_ocr.mime import parse_message

    config = make_config(tmp_path)
    pdf = render_pdf(invoice_doc(number="DUP-1"))
    reader = CountingReader(config)
    processor = build_processor(config, reader)
    parsed = parse_message(_message_with(("a.pdf", pdf), ("copy.pdf", pdf), ("other.pdf", render_pdf(invoice_doc()))),
                           config.limits)
    docs = pipeline_module.analyze_attachments(parsed, processor)
    assert reader.calls == ["a.pdf", "other.pdf"]
    assert [d.document.filename for d in docs] == ["a.pdf", "copy.pdf", "other.pdf"]
    assert docs[0].fields.invoice_number == docs[1].fields.invoice_number == "DUP-1"


def test_reading_stops_when_the_message_budget_is_used_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from inbox_ocr.app.samples import invoice_doc, render_pdf
    from inbox_ocr.mime import parse_message

    config = make_config(tmp_path, limits={"message_seconds": "1s"})
    reader = CountingReader(config, seconds=0.6)
    monkeypatch.setattr(pipeline_module.time, "monotonic", reader.clock)
    processor = build_processor(config, reader)
    pdfs = [(f"scan{i}.pdf", render_pdf(invoice_doc(number=f"S-{i}"))) for i in range(4)]
    parsed = parse_message(_message_with(*pdfs), config.limits)
    docs = pipeline_module.analyze_attachments(parsed, processor)
    assert reader.calls == ["scan0.pdf", "scan1.pdf"]  # the third starts after 1.2 s > 1 s
    assert [d.document.error is None for d in docs] == [True, True, False, False]
    assert "time budget (1 s) was used up" in (docs[2].document.error or "")
    assert docs[3].classification.doc_type == "other"  # not read, so not an invoice
