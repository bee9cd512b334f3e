"""invoice2data-format vendor templates, written here (no copies of invoice2data's own)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from inbox_ocr.understand import analyze, load_templates

from .conftest import make_pdf, read_pdf

NEW_STYLE = r"""
issuer: Stadtwerke Musterstadt
keywords:
  - Stadtwerke Musterstadt
  - 'Kundenkonto\s*\d+'
exclude_keywords:
  - Mahnung
priority: 7
fields:
  invoice_number:
    parser: regex
    regex: 'Abrechnung\s+Nr\.\s*(\w+)'
  date:
    parser: regex
    regex: 'erstellt\s+am\s+(\d{2}\.\d{2}\.\d{4})'
    type: date
  amount:
    parser: regex
    regex: 'Zu\s+zahlen\s+([\d.,]+)'
    type: float
  vat:
    parser: static
    value: DE136695976
options:
  currency: EUR
  date_formats: ['%d.%m.%Y']
  decimal_separator: ','
lines:
  start: 'Leistung\s+Betrag'
  end: 'Zu\s+zahlen'
  line: '(?P<description>[A-Za-zäöü ]+?)\s{2,}(?P<amount>[\d.,]+)'
"""

LEGACY = r"""
issuer: Quick Print Ltd
keywords: ['Quick Print']
fields:
  invoice_number: 'Ref\s+(QP-\d+)'
  amount: 'Pay\s+([\d,]+\.\d\d)'
  date: 'Issued\s+(\d{4}-\d{2}-\d{2})'
  static_currency: GBP
"""

GENERIC = r"""
issuer: Any Stadtwerke
required_fields: [invoice_number]
keywords: ['Stadtwerke']
priority: 1
fields:
  invoice_number: 'Nr\.\s*(\w+)'
"""


def bill(title: str = "Jahresabrechnung") -> bytes:
    return make_pdf(
        [
            (50, 60, "Stadtwerke Musterstadt", 14),
            (50, 90, f"{title}   Kundenkonto 55123"),
            (50, 120, "Abrechnung Nr. SW2024X erstellt am 03.04.2024"),
            (50, 160, "Leistung"),
            (300, 160, "Betrag"),
            (50, 176, "Strom Grundpreis"),
            (300, 176, "120,00"),
            (50, 192, "Strom Arbeitspreis"),
            (300, 192, "1.080,00"),
            (50, 220, "Zu zahlen"),
            (300, 220, "1.200,00"),
        ]
    )


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "stadtwerke.yml").write_text(NEW_STYLE, encoding="utf-8")
    (tmp_path / "quickprint.yaml").write_text(LEGACY, encoding="utf-8")
    (tmp_path / "generic.yml").write_text(GENERIC, encoding="utf-8")
    return tmp_path


def test_matching_template_overrides_generic_fields(folder: Path) -> None:
    templates = load_templates(folder)
    result = analyze(read_pdf(bill()), templates=templates)
    f = result.fields
    assert result.template == "stadtwerke"  # priority 7 beats the generic one's 1
    assert (f.invoice_number, f.invoice_date, f.total) == ("SW2024X", date(2024, 4, 3), Decimal("1200.00"))
    assert (f.vendor_name, f.vendor_vat_id, f.currency) == ("Stadtwerke Musterstadt", "DE136695976", "EUR")
    assert [(i.description, i.amount) for i in f.line_items] == [
        ("Strom Grundpreis", Decimal("120.00")),
        ("Strom Arbeitspreis", Decimal("1080.00")),
    ]
    assert result.summary()["template"] == "stadtwerke"


def test_exclude_keywords_fall_back_to_the_next_template(folder: Path) -> None:
    result = analyze(read_pdf(bill("Mahnung")), templates=load_templates(folder))
    assert result.template == "generic"
    assert result.fields.invoice_number == "SW2024X"


def test_legacy_string_fields_and_static_prefix(folder: Path) -> None:
    pdf = make_pdf(
        [
            (50, 60, "Quick Print Ltd"),
            (50, 80, "Ref QP-0042"),
            (50, 100, "Issued 2024-01-31"),
            (50, 120, "Pay 1,250.00"),
        ]
    )
    result = analyze(read_pdf(pdf), templates=load_templates(folder))
    f = result.fields
    assert result.template == "quickprint"
    assert (f.invoice_number, f.invoice_date, f.total, f.currency) == (
        "QP-0042",
        date(2024, 1, 31),
        Decimal("1250.00"),
        "GBP",
    )


def test_no_template_matches_means_generic_values(folder: Path) -> None:
    pdf = make_pdf(
        [(50, 60, "Other Vendor GmbH"), (50, 80, "Rechnungsnummer: 81"), (50, 100, "Gesamtbetrag: 5,00 EUR")]
    )
    result = analyze(read_pdf(pdf), templates=load_templates(folder))
    assert result.template is None and result.fields.invoice_number == "81"


@pytest.mark.parametrize(
    "text",
    [
        "issuer: X\nfields: {}\n",
        "issuer: X\nkeywords: ['(']\n",
        "- just\n- a list\n",
        "issuer: X\nkeywords: [a]\nfields:\n  amount: {parser: magic}\n",
    ],
    ids=["no-keywords", "bad-regex", "not-a-mapping", "unknown-parser"],
)
def test_a_broken_template_is_skipped_and_named_and_the_others_load(tmp_path: Path, text: str) -> None:
    (tmp_path / "broken.yml").write_text(text, encoding="utf-8")
    (tmp_path / "good.yml").write_text("issuer: Good Ltd\nkeywords: [Good]\nfields: {invoice_number: 'No (\\d+)'}\n")
    templates = load_templates(tmp_path)
    assert [t.name for t in templates.items] == ["good"]
    [problem] = templates.problems
    assert "broken.yml: not a valid invoice2data template" in problem


def test_upstream_features_json_no_issuer_and_lines_as_a_list(tmp_path: Path) -> None:
    """As invoice2data's own templates folder has them: JSON files, no issuer, `lines.line` a list."""
    import json

    (tmp_path / "plain.json").write_text(json.dumps({
        "keywords": ["Plain Supplies"], "fields": {"invoice_number": "Invoice (\\S+)", "amount": "Total (\\S+)"},
        "lines": {"start": "Items", "end": "Total", "line": ["(?P<description>\\w+) (?P<amount>\\d+\\.\\d\\d)$",
                                                          "(?P<description>\\w+) x (?P<amount>\\d+)$"]},
    }))
    templates = load_templates(tmp_path)
    assert templates.problems == () and templates.items[0].issuer == ""
    text = "Plain Supplies\nInvoice P-7\nItems\npaper 12.50\npens x 4\nTotal 16.50"
    from inbox_ocr.understand.templates import apply_template

    values = apply_template(templates.items[0], text).values
    assert values["invoice_number"] == "P-7" and "vendor_name" not in values
    assert [(i.description, str(i.amount)) for i in values["line_items"]] == [("paper", "12.50"), ("pens", "4")]


def test_a_template_that_fails_on_a_document_costs_only_its_own_fields(tmp_path: Path) -> None:
    """An e-invoice keeps its XML values, and a plain document its generic ones, when the vendor
    template that matched it raises."""
    from unittest import mock

    from inbox_ocr.kernel.models import Document, InvoiceFields, Page, TextLine, Word
    from inbox_ocr.understand import analyze

    (tmp_path / "acme.yml").write_text("issuer: Acme\nkeywords: [Acme]\nfields: {invoice_number: 'No (\\d+)'}\n")
    templates = load_templates(tmp_path)
    words = (Word(text="Acme", box=(10, 10, 40, 20)), Word(text="invoice", box=(50, 10, 90, 20)))
    page = Page(number=1, width=600, height=800,
                lines=(TextLine(text="Acme invoice", box=((10, 10), (90, 10), (90, 20), (10, 20)), words=words),))
    doc = Document(filename="x.pdf", content_type="application/pdf", sha256="0", reading="einvoice_xml",
                   pages=(page,), einvoice=InvoiceFields(invoice_number="XML-1", total="10.00"))
    with mock.patch("inbox_ocr.understand.apply_template", side_effect=TypeError("unhashable type: 'list'")):
        result = analyze(doc, None, templates)
    assert result.fields.invoice_number == "XML-1" and str(result.fields.total) == "10.00"
    assert any("template acme failed and was not used" in w for w in result.warnings)


def test_no_folder_means_no_templates() -> None:
    assert load_templates(None).items == ()


def test_check_config_names_a_broken_template_that_the_daemon_would_skip(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from inbox_ocr.app.cli import main

    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "broken.yml").write_text("issuer: X\nkeywords: ['(']\n")
    config = tmp_path / "c.yaml"
    config.write_text("sources: [{name: box, type: maildir, path: ./m}]\n"
                      "understanding: {templates_dir: ./templates}\n")
    result = CliRunner().invoke(main, ["check-config", str(config)])
    assert result.exit_code == 2 and "broken.yml: not a valid invoice2data template" in result.output
