"""Ledger and pipeline: two runs route once, a crash between commit and ack is repaired without a
second delivery, bad messages are quarantined, transient failures retried then quarantined."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from connectors.memory import MemorySource
from inbox_ocr import pipeline as pipeline_module
from inbox_ocr.errors import TransientError
from inbox_ocr.ledger import Ledger
from inbox_ocr.models import Action, RawMessage
from inbox_ocr.outbox import Outbox
from inbox_ocr.pipeline import Context, Pipeline
from inbox_ocr.samples import build_message, demo_messages
from inbox_ocr.settings import parse_config
from run_daemon import build_sinks
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


class CrashingSource(MemorySource):
    """Dies (like a killed process) in the middle of acknowledging."""

    def ack(self, message: RawMessage, actions: Sequence[Action]) -> None:
        raise SystemExit("killed between ledger commit and acknowledgement")


def test_second_run_routes_nothing_twice(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    source = MemorySource()
    source.add("k1", SAMPLES["invoice"])
    source.add("k2", SAMPLES["agenda"])
    pipe = Pipeline(Context.load(config), ledger)
    first = pipe.run_source(source)
    assert [(r.key, r.status, r.rule) for r in first] == [("k1", "done", "invoices"), ("k2", "done", None)]
    # a source that hands the same messages over again (as a keyword-only action leaves them in place)
    again = MemorySource(messages=source.messages)
    second = pipe.run_source(again)
    assert [r.status for r in second] == ["acked-again", "acked-again"]
    assert len(ledger.outbox()) == 1  # one webhook delivery queued in all
    assert ledger.counts()["messages_done"] == 2


def test_crash_between_commit_and_ack_redoes_ack_without_second_delivery(tmp_path: Path,
                                                                         receiver: Receiver) -> None:
    config = make_config(tmp_path, receiver.url)
    db = tmp_path / "ledger.sqlite3"
    crashing = CrashingSource()
    crashing.add("k1", SAMPLES["invoice"])
    with pytest.raises(SystemExit):
        Pipeline(Context.load(config), Ledger(db)).run_source(crashing)
    # "restart": new objects over the same database; the message is still in the mailbox
    ledger = Ledger(db)
    record = ledger.get("memory", "k1")
    assert record is not None and record.status == "done" and record.acked_at is None
    assert ledger.handled_keys("memory") == set()
    source = MemorySource(messages=list(crashing.messages))
    reports = Pipeline(Context.load(config), ledger).run_source(source)
    assert [r.status for r in reports] == ["acked-again"]
    assert source.acked == [("k1", (Action(kind="move", arg="Invoices"),))]
    assert ledger.handled_keys("memory") == {"k1"}
    Outbox(ledger, build_sinks(config), config.webhooks).deliver_due()
    assert len(receiver.accepted) == 1 and len(receiver.requests) == 1


def test_malformed_message_is_quarantined_and_others_go_on(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    source = MemorySource()
    source.add("empty", b"")
    source.add("k1", SAMPLES["invoice"])
    reports = Pipeline(Context.load(config), ledger).run_source(source)
    assert [r.status for r in reports] == ["quarantined", "done"]
    assert source.failed and source.failed[0][0] == "empty"
    record = ledger.get("memory", "empty")
    assert record is not None and record.status == "quarantined" and record.error
    assert ledger.handled_keys("memory") == {"empty", "k1"}


def test_broken_attachment_is_an_error_on_its_document_only(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    source = MemorySource()
    source.add("bad", SAMPLES["malformed"])
    (report,) = Pipeline(Context.load(config), ledger).run_source(source)
    assert report.status == "done"
    record = ledger.get("memory", "bad")
    assert record is not None
    (doc,) = record.documents
    assert doc["source"] == "unreadable" and doc["error"]
    assert [a["arg"] for a in record.actions] == ["not-invoice"]


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
    pipe = Pipeline(Context.load(config), ledger)
    assert [r.status for r in pipe.run_source(source)] == ["failed"]
    assert [r.status for r in pipe.run_source(source)] == ["failed"]
    assert [r.status for r in pipe.run_source(source)] == ["quarantined"]
    assert len(calls) == 3
    record = ledger.get("memory", "k1")
    assert record is not None and record.status == "quarantined" and "after 3 attempts" in (record.error or "")
    assert pipe.run_source(source) == []


def test_same_message_under_a_new_key_is_not_routed_twice(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    source = MemorySource()
    source.add("uidvalidity1/7", SAMPLES["invoice"])
    source.add("uidvalidity2/7", SAMPLES["invoice"])
    reports = Pipeline(Context.load(config), ledger).run_source(source)
    assert [r.status for r in reports] == ["done", "duplicate"]
    assert len(ledger.outbox()) == 1
    assert source.acked[1] == ("uidvalidity2/7", ())
