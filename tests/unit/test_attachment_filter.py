"""Source-level attachment filters: a signature logo and excluded files are not read (not OCRed),
and the message says which parts were skipped and why."""

from __future__ import annotations

import io
from email.message import EmailMessage
from pathlib import Path

from PIL import Image

from connectors.memory import MemorySource
from inbox_ocr.app import samples
from inbox_ocr.app.config import parse_config
from inbox_ocr.app.wiring import build_processor
from inbox_ocr.orchestration.ledger import Ledger
from inbox_ocr.orchestration.runner import Runner


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(out, "PNG")
    return out.getvalue()


def message() -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "billing@acme.example", "ap@example.com", "Invoice"
    msg["Message-ID"] = "<filters@test>"
    msg.set_content("Invoice attached.")
    msg.add_alternative("<p>Invoice attached.<img src='cid:logo'></p>", subtype="html")
    html = msg.get_payload()[1]
    html.add_related(png(180, 60), maintype="image", subtype="png", cid="<logo>", filename="logo.png")
    msg.add_attachment(samples.render_pdf(samples.invoice_doc()), maintype="application", subtype="pdf",
                       filename="INV-2026-0042.pdf")
    msg.add_attachment(png(1200, 1600), maintype="image", subtype="png", filename="terms-and-conditions.png")
    return msg.as_bytes()


def test_a_logo_and_an_excluded_file_are_skipped_and_named(tmp_path: Path) -> None:
    config = parse_config({
        "state_dir": str(tmp_path / "var"),
        "sources": [{"name": "memory", "type": "maildir", "path": "unused",
                     "attachments": {"exclude": ["terms*"], "min_inline_image_pixels": 300}}],
        "ocr": {"enabled": False},
    })
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    source = MemorySource(name="memory")
    source.add("k1", message())
    [report] = Runner(build_processor(config), ledger).run_source(source)
    record = ledger.messages.get("memory", "k1")
    assert record is not None
    assert [d["attachment"] for d in record.documents] == ["INV-2026-0042.pdf"]  # only the invoice was read
    skipped = [e.detail for e in ledger.audit.of(record.id) if e.event == "skipped"]
    assert len(skipped) == 2
    assert any("logo.png: not read: inline image of 180 px, under attachments.min_inline_image_pixels (300)" in s
               for s in skipped)
    assert any("terms-and-conditions.png: not read: attachments.exclude 'terms*'" in s for s in skipped)


def test_include_globs_and_a_minimum_size(tmp_path: Path) -> None:
    from inbox_ocr.kernel.settings import AttachmentFilter

    rules = AttachmentFilter(include=["*.pdf"], min_bytes="1KB")
    assert rules.skip_reason("Invoice.PDF", 5000, None) is None
    assert rules.skip_reason("scan.jpg", 5000, None) == "not in attachments.include (*.pdf)"
    assert rules.skip_reason("tiny.pdf", 100, None) == "100 bytes, under attachments.min_bytes (1024)"
