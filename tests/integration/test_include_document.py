"""Webhooks that carry the document: the receiver (real HTTP on loopback) gets the PDF itself,
base64 in the payload, byte for byte; a file over the webhook's limit is left out, saying why."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from connectors.memory import MemorySource
from inbox_ocr.app import samples
from inbox_ocr.app.config import parse_config
from inbox_ocr.app.wiring import build_outbox, build_processor, include_documents
from inbox_ocr.orchestration.ledger import Ledger
from inbox_ocr.orchestration.runner import Runner
from tests.http_receiver import Receiver


def test_the_erp_receives_the_pdf_and_a_small_limit_leaves_it_out(tmp_path: Path) -> None:
    receiver = Receiver().start()
    try:
        config = parse_config({
            "state_dir": str(tmp_path / "var"),
            "sources": [{"name": "memory", "type": "maildir", "path": "unused"}],
            "webhooks": {"erp": {"url": receiver.url, "include_document": True},
                         "tickets": {"url": receiver.url, "include_document": True,
                                     "include_document_max_bytes": "1KB"},
                         "chat": {"url": receiver.url}},
            "rules": [{"name": "invoices", "when": {"doc_type": "invoice"},
                       "then": [{"webhook": "erp"}, {"webhook": "tickets"}, {"webhook": "chat"}]}],
        })
        pdf = samples.render_pdf(samples.invoice_doc())
        source = MemorySource(name="memory")
        source.add("k1", samples.build_message(samples.SampleMessage(
            name="inv", subject="Invoice", sender="billing@acme.example", body="attached",
            attachments=(("INV-2026-0042.pdf", "application/pdf", pdf),))))
        ledger = Ledger(tmp_path / "ledger.sqlite3")
        Runner(build_processor(config), ledger, include_documents=include_documents(config)).run_source(source)
        report = build_outbox(config, ledger).deliver_due()
        assert report.delivered == 3
        by_hook = {}
        for request in receiver.requests:
            body = request.json()
            doc = body["documents"][0]
            hooks = [w for w, key in (("erp", "content_base64"), ("tickets", "content_omitted")) if key in doc]
            by_hook[hooks[0] if hooks else "chat"] = doc
        sent = base64.b64decode(by_hook["erp"]["content_base64"])
        assert sent == pdf and hashlib.sha256(sent).hexdigest() == by_hook["erp"]["sha256"]
        assert by_hook["erp"]["content_type"] == "application/pdf"
        assert by_hook["tickets"]["content_omitted"] == f"{len(pdf)} bytes, over include_document_max_bytes (1024)"
        assert "content_base64" not in by_hook["chat"] and "content_omitted" not in by_hook["chat"]
        ledger.close()
    finally:
        receiver.stop()
