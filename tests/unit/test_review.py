"""The review queue in the ledger and the runner: a `review` action holds a message (no webhook,
no acknowledgement, not fetched again); a decision applies the held actions with the corrected
fields (approve) or the configured reject actions, once, with the reviewer in the audit trail."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connectors.maildir import MaildirSource
from inbox_ocr.app.config import Config, parse_config
from inbox_ocr.app.samples import build_message, demo_messages
from inbox_ocr.app.wiring import build_processor
from inbox_ocr.kernel.models import MessageStatus
from inbox_ocr.orchestration.ledger import Ledger, ReviewConflict
from inbox_ocr.orchestration.review import CorrectionErrors, decide
from inbox_ocr.orchestration.runner import Runner
from routing.engine import decision_of

SAMPLES = {m.name: build_message(m) for m in demo_messages()}
KEY = "1700000000.M1.test"


def make_config(tmp_path: Path) -> Config:
    return parse_config({
        "state_dir": str(tmp_path / "var"),
        "sources": [{"name": "box", "type": "maildir", "path": str(tmp_path / "Maildir"), "create": True}],
        "webhooks": {"erp": {"url": "http://127.0.0.1:9/hook"}},
        "rules": [{"name": "invoices", "when": {"doc_type": "invoice"},
                   "then": [{"review": "every invoice is checked"}, {"move": "Invoices"}, {"webhook": "erp"}]}],
        "review": {"reject": [{"move": "Rejected"}, {"keyword": "rejected"}]},
    })


@pytest.fixture
def setup(tmp_path: Path):  # type: ignore[no-untyped-def]
    config = make_config(tmp_path)
    (tmp_path / "Maildir" / "new").mkdir(parents=True)
    (tmp_path / "Maildir" / "cur").mkdir(parents=True)
    (tmp_path / "Maildir" / "new" / KEY).write_bytes(SAMPLES["invoice"])
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    source = MaildirSource(config.sources[0], ledger)  # type: ignore[arg-type]
    run = Runner(build_processor(config), ledger)
    yield config, ledger, source, run
    ledger.close()


def _held(ledger: Ledger) -> int:
    [review] = ledger.reviews.pending()
    return review.message


def test_a_review_action_holds_the_message_without_webhook_or_acknowledgement(setup, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config, ledger, source, run = setup
    [report] = run.run_source(source)
    assert report.status == "held"
    record = ledger.messages.get("box", KEY)
    assert record is not None and record.status == MessageStatus.HELD and record.acked_at is None
    assert ledger.deliveries.recent() == []
    assert (tmp_path / "Maildir" / "new" / KEY).exists()  # left where it was
    review = ledger.reviews.get(record.id)
    assert review is not None and review.reason == "every invoice is checked"
    assert review.held.mailbox.move_to == "Invoices" and review.held.webhooks == ("erp",)
    assert run.run_source(source) == []  # not fetched again while it waits
    assert ledger.counts()["messages_held"] == 1


def test_approve_applies_the_held_actions_with_the_corrected_fields(setup, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config, ledger, source, run = setup
    run.run_source(source)
    row = _held(ledger)
    before = ledger.messages.by_id(row)
    assert before is not None and before.documents[0]["fields"]["total"] == "1234.56"
    decide(ledger, row, approve=True, reviewer="alice", corrections={0: {"total": "1,300.00", "po_number": ""}},
           reject=decision_of([], None), limits=config.limits)

    record = ledger.messages.by_id(row)
    assert record is not None and record.status == MessageStatus.DONE and record.acked_at is None
    assert record.actions == ["move: Invoices", "webhook: erp"]
    assert record.documents[0]["fields"]["total"] == "1300.00"
    assert "po_number" not in record.documents[0]["fields"]
    assert record.documents[0]["corrected"]["total"] == {"was": "1234.56", "by": "alice"}
    [delivery] = ledger.deliveries.recent()
    payload = json.loads(delivery.payload)
    assert payload["documents"][0]["fields"]["total"] == "1300.00"
    assert payload["review"] == {"decision": "approved", "by": "alice", "corrected": ["total", "po_number"]}
    assert payload["actions"] == ["move: Invoices", "webhook: erp"]
    trail = [(e.event, e.detail) for e in ledger.audit.of(row)]
    assert ("corrected", "by alice: INV-2026-0042.pdf total: 1234.56 -> 1300.00") in trail
    assert any(event == "approved" and detail.startswith("by alice") for event, detail in trail)

    [report] = run.run_source(source)  # the next pass acknowledges with the held changes
    assert report.status == "acked-again"
    assert [p.name for p in (tmp_path / "Maildir" / ".Invoices" / "cur").iterdir()] == [f"{KEY}:2,"]
    assert run.run_source(source) == []
    assert len(ledger.deliveries.recent()) == 1  # nothing twice
    with pytest.raises(ReviewConflict, match="approved by alice"):
        decide(ledger, row, approve=False, reviewer="bob", corrections={}, reject=decision_of([], None),
               limits=config.limits)


def test_reject_applies_the_reject_actions_and_no_held_webhook(setup, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config, ledger, source, run = setup
    run.run_source(source)
    row = _held(ledger)
    from routing.actions import Keyword, Move

    reject = decision_of([Move(folder="Rejected"), Keyword(name="rejected")], None)
    decide(ledger, row, approve=False, reviewer="bob", corrections={}, reject=reject, limits=config.limits)
    record = ledger.messages.by_id(row)
    assert record is not None and record.rule == "(rejected in review)"
    assert record.mailbox.move_to == "Rejected" and record.mailbox.keywords == ("rejected",)
    assert ledger.deliveries.recent() == []
    run.run_source(source)
    assert len(list((tmp_path / "Maildir" / ".Rejected" / "cur").iterdir())) == 1


def test_a_correction_that_is_not_a_value_of_its_field_writes_nothing(setup) -> None:  # type: ignore[no-untyped-def]
    config, ledger, source, run = setup
    run.run_source(source)
    row = _held(ledger)
    with pytest.raises(CorrectionErrors) as err:
        decide(ledger, row, approve=True, reviewer="alice",
               corrections={0: {"total": "twelve", "invoice_date": "2026-02-30", "line_items": "x"}},
               reject=decision_of([], None), limits=config.limits)
    assert set(err.value.problems) == {(0, "total"), (0, "invoice_date"), (0, "line_items")}
    assert ledger.reviews.get(row).status == "pending"  # type: ignore[union-attr]
    assert ledger.messages.by_id(row).status == MessageStatus.HELD  # type: ignore[union-attr]
    assert ledger.deliveries.recent() == []
