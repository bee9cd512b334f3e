"""Duplicate invoices across messages: the same vendor, number and total arriving again, by
another route and days later, is marked, routable (`duplicate_invoice: true`) and named in the
webhook payload with the first message; a different total or vendor is not a duplicate."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from pathlib import Path

from connectors.memory import MemorySource
from inbox_ocr.app import samples
from inbox_ocr.app.config import parse_config
from inbox_ocr.app.wiring import build_processor
from inbox_ocr.orchestration.ledger import Ledger
from inbox_ocr.orchestration.ledger.invoices import invoice_key
from inbox_ocr.orchestration.runner import Runner


def message(name: str, subject: str, pdf: bytes, sender: str = "Acme Billing <billing@acme-supplies.example>") -> bytes:
    return samples.build_message(samples.SampleMessage(
        name=name, subject=subject, sender=sender, body="Invoice attached.",
        attachments=(("invoice.pdf", "application/pdf", pdf),)))


def setup(tmp_path: Path) -> tuple[Ledger, Runner]:
    config = parse_config({
        "state_dir": str(tmp_path / "var"),
        "sources": [{"name": "memory", "type": "maildir", "path": "unused"}],
        "webhooks": {"erp": {"url": "http://127.0.0.1:9/hook"}},
        "rules": [
            {"name": "paid already?", "when": {"duplicate_invoice": True}, "then": [{"move": "Duplicates"},
                                                                                   {"webhook": "erp"}], "stop": True},
            {"name": "invoices", "when": {"doc_type": "invoice"}, "then": [{"move": "Invoices"}]},
        ],
    })
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    return ledger, Runner(build_processor(config, history=ledger.invoices), ledger)


def test_the_same_invoice_by_another_route_is_marked_with_the_first_message(tmp_path: Path) -> None:
    ledger, runner = setup(tmp_path)
    pdf = samples.render_pdf(samples.invoice_doc())
    first, second = MemorySource(name="memory"), MemorySource(name="memory")
    first.add("k1", message("original", "Invoice INV-2026-0042", pdf))
    [report] = runner.run_source(first)
    assert report.rule == "invoices"
    # days later, forwarded by a colleague: another Message-ID, subject and sender, the same PDF
    second.add("k2", message("forwarded", "Fwd: please pay", pdf, sender="Colleague <me@example.com>"))
    [report] = runner.run_source(second)
    assert report.rule == "paid already?"
    record = ledger.messages.get("memory", "k2")
    assert record is not None
    earlier = record.documents[0]["duplicate_of"]
    assert (earlier["source"], earlier["key"], earlier["message"]) == ("memory", "k1", 1)
    assert any(w.startswith("duplicate invoice: Acme Office Supplies Ltd INV-2026-0042 over 1234.56 arrived "
                            "before in message #1") for w in record.documents[0]["warnings"])
    [delivery] = ledger.deliveries.recent()
    assert json.loads(delivery.payload)["documents"][0]["duplicate_of"]["key"] == "k1"


def test_another_total_another_vendor_or_the_same_message_again_is_no_duplicate(tmp_path: Path) -> None:
    ledger, runner = setup(tmp_path)
    source = MemorySource(name="memory")
    source.add("k1", message("a", "Invoice", samples.render_pdf(samples.invoice_doc())))
    source.add("k2", message("b", "Invoice", samples.render_pdf(samples.invoice_doc(total="1,234.57"))))
    other = dataclasses.replace(samples.invoice_doc(), vendor=("Other Supplies Ltd", "1 Road", "Leeds", "UK"),
                                footer=("Other Supplies Ltd · VAT GB 999 9999 73",))
    source.add("k3", message("c", "Invoice", samples.render_pdf(other)))
    reports = runner.run_source(source)
    assert [r.rule for r in reports] == ["invoices", "invoices", "invoices"]
    assert ledger.invoices.first_seen(ledger.messages.get("memory", "k1").documents[0]["fields"],  # type: ignore[union-attr]
                                      "memory", "k1") is None  # a message is no duplicate of itself


def test_vendors_match_by_vat_id_or_by_name_without_legal_form() -> None:
    fields = {"invoice_number": "INV 2026/42", "total": "100.0"}
    assert invoice_key({**fields, "vendor_vat_id": "DE 123 456 789"}) == ("vat:DE123456789", "INV202642", "100.00")
    assert invoice_key({**fields, "vendor_name": "ACME GmbH"}) == invoice_key({**fields, "vendor_name": "Acme"})
    assert invoice_key({**fields, "vendor_name": "Acme Ltd."}) == ("name:acme", "INV202642", "100.00")
    assert invoice_key({"invoice_number": "1", "vendor_name": "Acme"}) is None  # no total: nothing to compare


def test_a_ledger_from_before_learns_the_invoices_it_holds(tmp_path: Path) -> None:
    ledger, runner = setup(tmp_path)
    source = MemorySource(name="memory")
    source.add("k1", message("a", "Invoice", samples.render_pdf(samples.invoice_doc())))
    runner.run_source(source)
    ledger.close()
    old = sqlite3.connect(tmp_path / "ledger.sqlite3")  # as schema 4 left it: no invoices table
    old.executescript("DROP TABLE invoices; PRAGMA user_version = 4;")
    old.close()
    upgraded = Ledger(tmp_path / "ledger.sqlite3")
    fields = upgraded.messages.get("memory", "k1").documents[0]["fields"]  # type: ignore[union-attr]
    earlier = upgraded.invoices.first_seen(fields, "memory", "k9")
    assert earlier is not None and earlier.key == "k1"
    upgraded.close()
