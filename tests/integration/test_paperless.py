"""The paperless-ngx sink over real HTTP on loopback, through the real outbox: the invoice PDF
arrives byte for byte with its title, created date, correspondent (created), tags and typed
custom fields; a 503 is retried; a wrong token or a missing custom field is a dead letter saying why."""

from __future__ import annotations

import time
from pathlib import Path

from connectors.memory import MemorySource
from inbox_ocr.app import samples
from inbox_ocr.app.config import parse_config
from inbox_ocr.app.wiring import build_outbox, build_processor, include_documents
from inbox_ocr.orchestration.ledger import DeliveryStatus, Ledger
from inbox_ocr.orchestration.runner import Runner
from tests.paperless_server import Paperless


def run(tmp_path: Path, paperless: Paperless, token: str | None = None, **settings: object
        ) -> tuple[Ledger, object, bytes]:
    config = parse_config({
        "state_dir": str(tmp_path / "var"),
        "sources": [{"name": "memory", "type": "maildir", "path": "unused"}],
        "webhooks": {"paperless": {"url": paperless.url, "backoff": "10ms", "max_backoff": "10ms", "max_attempts": 3,
                                   "paperless": {"token": token or paperless.token, "tags": ["inbox-ocr", "invoice"],
                                                 "document_type": "Invoice", **settings}}},
        "rules": [{"name": "invoices", "when": {"doc_type": "invoice"}, "then": [{"webhook": "paperless"}]}],
    })
    pdf = samples.render_pdf(samples.invoice_doc())
    source = MemorySource(name="memory")
    source.add("k1", samples.build_message(samples.SampleMessage(
        name="inv", subject="Invoice", sender="billing@acme.example", body="attached",
        attachments=(("INV-2026-0042.pdf", "application/pdf", pdf),))))
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    Runner(build_processor(config), ledger, include_documents=include_documents(config)).run_source(source)
    outbox = build_outbox(config, ledger)
    for _ in range(20):  # retries are due 10 ms later
        report = outbox.deliver_due()
        if not report.retrying:
            break
        time.sleep(0.02)
    return ledger, outbox, pdf


def test_the_invoice_lands_in_paperless_with_its_metadata_after_a_503(tmp_path: Path) -> None:
    paperless = Paperless(fail_first=1).start()
    try:
        paperless.add("custom_fields", "Invoice number", data_type="string")
        paperless.add("custom_fields", "Amount", data_type="monetary")
        ledger, _, pdf = run(tmp_path, paperless, custom_fields={"invoice_number": "Invoice number", "total": "Amount"})
        [upload] = paperless.uploads
        assert upload.content == pdf and upload.filename == "INV-2026-0042.pdf"
        assert upload.form["title"] == ["Acme Office Supplies Ltd INV-2026-0042"]
        assert upload.form["created"] == ["2026-11-02"]
        correspondent = next(c for c in paperless.objects["correspondents"] if c["name"] == "Acme Office Supplies Ltd")
        assert upload.form["correspondent"] == [str(correspondent["id"])]
        assert sorted(upload.form["tags"]) == ["1", "2"] and len(paperless.objects["tags"]) == 2
        assert upload.form["document_type"] == ["1"]
        import json

        # a monetary custom field takes its currency in front, as paperless wants it
        assert json.loads(upload.form["custom_fields"][0]) == {"1": "INV-2026-0042", "2": "EUR1234.56"}
        [delivery] = ledger.deliveries.recent()
        assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 2
        assert delivery.receipt is not None and delivery.receipt.startswith("paperless task ")
    finally:
        paperless.stop()


def test_a_wrong_token_or_a_missing_custom_field_is_a_dead_letter_saying_why(tmp_path: Path) -> None:
    paperless = Paperless().start()
    try:
        ledger, _, _ = run(tmp_path / "a", paperless, custom_fields={"total": "Amount"})
        [delivery] = ledger.deliveries.recent()
        assert delivery.status == DeliveryStatus.DEAD
        assert "paperless has no custom field named 'Amount'" in (delivery.last_error or "")
        ledger, _, _ = run(tmp_path / "b", paperless, token="not-the-token")
        [delivery] = ledger.deliveries.recent()
        assert delivery.status == DeliveryStatus.DEAD and "the token is refused" in (delivery.last_error or "")
        assert paperless.uploads == []
    finally:
        paperless.stop()
