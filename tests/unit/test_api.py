"""The Python API (`from inbox_ocr import extract_file, extract_bytes, ocr_image`): the same models
and values as `inbox-ocr extract --json`, from another working directory, with clear results for
bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import numpy as np
from click.testing import CliRunner

import inbox_ocr
from inbox_ocr import extract_bytes, extract_file, ocr_image
from inbox_ocr.app.cli import main
from tests.integration.webhook_fixtures import make_pdf, raw_message


def test_a_pdf_gives_one_document_with_decimal_money_the_same_as_the_cli(tmp_path: Path) -> None:
    pdf = tmp_path / "invoice.pdf"
    pdf.write_bytes(make_pdf("INVOICE 4711  Total EUR 99.00"))
    [doc] = extract_file(pdf)
    assert doc.document.reading == "text_layer" and doc.classification.doc_type == "invoice"
    assert doc.fields.total == Decimal("99.00") and isinstance(doc.fields.total, Decimal)
    cli = CliRunner().invoke(main, ["extract", "--json", "--no-sandbox", str(pdf)])
    assert json.loads(cli.output) == {"file": str(pdf), **json.loads(json.dumps(doc.summary(), default=str))}


def test_an_email_gives_its_attachments_and_its_unreadable_parts() -> None:
    from email import message_from_bytes

    message = message_from_bytes(raw_message("<api-1@vendor.example>", make_pdf()))
    broken = message_from_bytes(raw_message("<x@y>", b"%PDF-1.7 not really"))
    for part in broken.walk():
        if part.get_filename():
            part.replace_header("Content-Disposition", 'attachment; filename="broken.pdf"')
            message.attach(part)
    docs = extract_bytes(message.as_bytes(), "mail.eml")
    assert [d.document.filename for d in docs] == ["invoice-4711.pdf", "broken.pdf"]
    assert docs[0].fields.invoice_number == "4711"
    assert docs[1].document.reading == "unreadable" and docs[1].document.error


def test_bad_bytes_are_an_unreadable_document_not_an_exception() -> None:
    [doc] = extract_bytes(b"%PDF-1.4 garbage", "x.pdf")
    assert doc.document.reading == "unreadable" and "PDF" in (doc.document.error or "")
    assert doc.classification.doc_type == "other"


def test_ocr_image_reads_the_lines_of_an_image() -> None:
    import cv2

    canvas = np.full((120, 700, 3), 255, np.uint8)
    cv2.putText(canvas, "TOTAL 42.50 EUR", (20, 75), cv2.FONT_HERSHEY_SIMPLEX, 1.6, (0, 0, 0), 3)
    ok, png = cv2.imencode(".png", canvas)
    assert ok
    [page] = ocr_image(png.tobytes())
    assert page.width == 700 and "42.50" in page.text and page.lines[0].confidence > 0.5


def test_the_api_is_typed_versioned_and_cheap_to_import(tmp_path: Path) -> None:
    assert inbox_ocr.__version__ != "" and (Path(inbox_ocr.__file__).parent / "py.typed").exists()
    code = "import sys, inbox_ocr; print(inbox_ocr.__version__, 'pymupdf' in sys.modules, 'cv2' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    version, pymupdf, cv2 = out.stdout.split()
    assert version == inbox_ocr.__version__ and (pymupdf, cv2) == ("False", "False")


def test_the_cli_help_imports_no_reader_ocr_or_mail_client(tmp_path: Path) -> None:
    """`inbox-ocr --help` stays fast because the heavy libraries load only in the commands that use
    them (the time itself is measured with `python -X importtime`, not asserted here)."""
    code = ("import sys; from click.testing import CliRunner; from inbox_ocr.app.cli import main; "
            "r = CliRunner().invoke(main, ['--help']); assert r.exit_code == 0, r.output; "
            "print(' '.join(m for m in ('pymupdf', 'cv2', 'onnxruntime', 'imapclient', 'numpy', 'starlette') "
            "if m in sys.modules) or 'none')")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "none"


def test_a_message_file_is_read_as_a_message_whatever_its_name(tmp_path: Path) -> None:
    from inbox_ocr.app.api import looks_like_message

    raw = raw_message("<api-2@vendor.example>", make_pdf("INVOICE 4712  Total EUR 12.00"))
    for name in ("mail.msg", "mail.txt", "mail"):
        path = tmp_path / name
        path.write_bytes(raw)
        [doc] = extract_file(path)
        assert doc.document.filename == "invoice-4711.pdf" and doc.fields.total == Decimal("12.00"), name
    assert not looks_like_message(b"%PDF-1.7\n") and not looks_like_message(b"Total: 12.00\nDate: today\n")
