"""`inbox-ocr extract --json` on files a user has: a generated invoice PDF, a Factur-X PDF with and
without its XML, a corrupt file."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from inbox_ocr.app.cli import main
from inbox_ocr.app.samples import invoice_doc, render_pdf
from tests.conftest import dataset


def run(*args: str) -> list[dict]:
    """The JSON lines; the exit status is 1 exactly when a document could not be read (app/exits.py)."""
    result = CliRunner().invoke(main, ["extract", "--json", *args])
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert result.exit_code == (1 if any(line.get("error") for line in lines) else 0), result.output
    return lines


def test_generated_invoice_pdf(tmp_path: Path) -> None:
    pdf = tmp_path / "inv.pdf"
    pdf.write_bytes(render_pdf(invoice_doc(number="A-77", total="2,500.00", net="2,083.33", tax="416.67")))
    (line,) = run(str(pdf))
    assert line["file"] == str(pdf) and line["attachment"] is None
    assert line["source"] == "text_layer" and line["doc_type"] == "invoice"
    assert line["fields"]["invoice_number"] == "A-77"
    assert line["fields"]["total"] == "2500.00"
    assert line["fields"]["invoice_date"] == "2026-11-02"


def test_einvoice_xml_wins_unless_text_only() -> None:
    pdf = dataset("zugferd-dev") / "XML-Rechnung__FX__EN16931_1_Teilrechnung.pdf"
    (with_xml,) = run(str(pdf))
    (text_only,) = run("--text-only", str(pdf))
    assert with_xml["source"] == "einvoice_xml" and text_only["source"] == "text_layer"
    assert with_xml["fields"]["invoice_number"] == "471102"
    assert text_only["fields"]["invoice_number"] == "471102"


def test_corrupt_file_is_an_error_line_not_a_crash(tmp_path: Path) -> None:
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"%PDF-1.4\n1 0 obj <<\n")
    good = tmp_path / "inv.pdf"
    good.write_bytes(render_pdf(invoice_doc()))
    first, second = run(str(bad), str(good))
    assert first["source"] == "unreadable" and first["error"]
    assert second["doc_type"] == "invoice"


def test_extract_and_process_read_under_the_daemons_limits_unless_told_otherwise(tmp_path: Path) -> None:
    """A reader worker with limits.document_memory of 60 MB cannot even load its libraries: the
    document is an error, so the CLI really applied the limit; --no-sandbox reads in-process."""
    from inbox_ocr.app.samples import SampleMessage, build_message

    pdf = tmp_path / "inv.pdf"
    pdf.write_bytes(render_pdf(invoice_doc(number="A-78")))
    config = tmp_path / "tight.yaml"
    config.write_text(f"sources: [{{name: f, type: maildir, path: {tmp_path}}}]\nlimits: {{document_memory: 60MB}}\n")
    (limited,) = run("-c", str(config), str(pdf))
    assert limited["source"] == "unreadable" and limited["error"]
    (free,) = run("-c", str(config), "--no-sandbox", str(pdf))
    assert free["error"] is None and free["fields"]["invoice_number"] == "A-78"
    eml = tmp_path / "m.eml"
    eml.write_bytes(build_message(SampleMessage("m", "Invoice A-78", "a@vendor.example", "see attached",
                                                (("inv.pdf", "application/pdf", pdf.read_bytes()),))))
    dry = CliRunner().invoke(main, ["process", "-c", str(config), "--dry-run", str(eml)])
    assert dry.exit_code == 0 and "source unreadable" in dry.output, dry.output
    dry = CliRunner().invoke(main, ["process", "-c", str(config), "--dry-run", "--no-sandbox", str(eml)])
    assert dry.exit_code == 0 and "source text_layer" in dry.output, dry.output
