"""Document types from the page, the e-invoice code and the message; validation lowers confidence."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from inbox_ocr.kernel.models import Document, InvoiceFields, ParsedMessage
from inbox_ocr.understand import analyze
from inbox_ocr.understand.validate import validate

from .conftest import make_pdf, read_pdf


def page(title: str, *lines: str) -> bytes:
    items = [(50, 60, "Beispiel Handel GmbH", 12), (350, 90, title, 18)]
    items += [(50, 200 + 16 * i, line) for i, line in enumerate(lines)]
    return make_pdf(items)


@pytest.mark.parametrize(
    ("title", "lines", "kind"),
    [
        ("Rechnung", ["Rechnungsnummer: R-1", "Gesamtbetrag: 119,00 EUR"], "invoice"),
        ("Invoice", ["Invoice number: 55", "Amount due: 10.00 USD"], "invoice"),
        ("Gutschrift", ["Gutschrift zur Rechnung R-1", "Betrag: 50,00 EUR"], "credit_note"),
        ("Credit Note", ["Credit note no: CN-4", "Total: -20.00 GBP"], "credit_note"),
        ("Avoir", ["Avoir N° AV-12", "Total TTC : 30,00 EUR"], "credit_note"),
        (
            "Zahlungserinnerung",
            ["Unsere Rechnung R-1 vom 01.02.2024 ist noch offen.", "Offener Betrag: 119,00 EUR"],
            "reminder",
        ),
        ("Payment reminder", ["Invoice 55 is overdue.", "Amount due: 10.00 USD"], "reminder"),
        ("Sollecito di pagamento", ["Fattura n. 9 scaduta"], "reminder"),
        ("Auftragsbestätigung", ["Vielen Dank für Ihre Bestellung 4711."], "order_confirmation"),
        ("Order confirmation", ["Thank you for your order 4711."], "order_confirmation"),
        ("Angebot", ["Angebotsnummer: A-3", "gültig bis 31.12.2024"], "quote"),
        ("Quotation", ["Quote valid for 30 days"], "quote"),
        ("Kontoauszug", ["Saldo: 1.000,00 EUR"], "statement"),
        ("Statement of account", ["Balance: 100.00 USD"], "statement"),
        ("Receipt", ["Cash 20.00", "Change 1.50", "Thank you"], "receipt"),
        ("Meeting notes", ["We agreed to meet on Friday."], "other"),
    ],
)
def test_document_type_from_the_page(title: str, lines: list[str], kind: str) -> None:
    result = analyze(read_pdf(page(title, *lines)))
    assert result.classification.doc_type == kind
    assert 0 < result.classification.confidence <= 1


def test_specific_type_beats_invoice_and_is_confident() -> None:
    reminder = analyze(read_pdf(page("Mahnung", "Rechnung R-1 vom 01.02.2024", "Rechnungsbetrag: 119,00 EUR")))
    assert reminder.classification.doc_type == "reminder"
    plain = analyze(read_pdf(page("Rechnung", "Rechnungsnummer: R-1", "Rechnungsbetrag: 119,00 EUR")))
    assert plain.classification.confidence > 0.6


def test_scan_without_text_uses_the_subject_with_low_confidence() -> None:
    scan = Document(filename="scan.jpg", content_type="image/jpeg", sha256="0", reading="needs_ocr")
    message = ParsedMessage(subject="Invoice 2024-17 from Example Ltd", sender="billing@example.com")
    result = analyze(scan, message)
    assert result.classification.doc_type == "invoice" and result.classification.confidence <= 0.5
    assert result.fields == InvoiceFields() and result.warnings
    assert analyze(scan).classification.doc_type == "other"


def test_an_unreadable_document_is_not_an_invoice_because_the_subject_says_so() -> None:
    """A corrupt file attached to 'Invoice 2024-17' is 'other' with confidence 0: a rule on
    doc_type invoice must not route a file nobody could read."""
    broken = read_pdf(b"%PDF-1.7\n this is no PDF at all", name="invoice.pdf")
    assert broken.reading == "unreadable" and broken.error
    message = ParsedMessage(subject="Invoice 2024-17 from Example Ltd", sender="billing@example.com")
    result = analyze(broken, message)
    assert (result.classification.doc_type, result.classification.confidence) == ("other", 0.0)
    assert "could not be read" in result.classification.reasons[0]


def test_subject_tips_an_unclear_page() -> None:
    doc = read_pdf(page("Dokument", "Betrag: 10,00 EUR"))
    assert analyze(doc, ParsedMessage(subject="Ihre Gutschrift")).classification.doc_type == "credit_note"


def test_validation_lowers_confidence_and_warns() -> None:
    fields = InvoiceFields(
        invoice_date=date(2024, 3, 5),
        due_date=date(2024, 3, 1),
        total=Decimal("120.00"),
        subtotal=Decimal("100.00"),
        tax=Decimal("19.00"),
        iban="DE89370400440532013001",
        vendor_vat_id="DE136695975",
    )
    conf = {name: 0.9 for name in ("due_date", "total", "subtotal", "tax", "iban", "vendor_vat_id", "invoice_date")}
    adjusted, warnings = validate(fields, conf)
    for name in ("due_date", "total", "subtotal", "tax", "iban", "vendor_vat_id"):
        assert adjusted[name] < 0.9, name
    assert adjusted["invoice_date"] == 0.9
    text = " ".join(warnings)
    assert "IBAN" in text and "VAT id" in text and "not the total" in text and "before the invoice date" in text


def test_valid_values_raise_confidence() -> None:
    fields = InvoiceFields(
        total=Decimal("119.00"),
        subtotal=Decimal("100.00"),
        tax=Decimal("19.00"),
        iban="DE89370400440532013000",
        vendor_vat_id="DE136695976",
    )
    adjusted, warnings = validate(
        fields, {"total": 0.5, "subtotal": 0.5, "tax": 0.5, "iban": 0.5, "vendor_vat_id": 0.5}
    )
    assert warnings == [] and min(adjusted.values()) >= 0.9


def test_printed_bad_iban_shows_in_the_output() -> None:
    result = analyze(
        read_pdf(page("Invoice", "Invoice No: 9", "Total: 10.00 EUR", "IBAN: DE89 3704 0044 0532 0130 01"))
    )
    summary = result.summary()
    assert summary["fields"]["iban"] == "DE89370400440532013001"
    assert summary["field_confidence"]["iban"] < 0.5
    assert any("IBAN" in w for w in summary["warnings"])


def test_analyze_never_raises_on_odd_documents() -> None:
    odd = [
        Document(filename="x.pdf", content_type="application/pdf", sha256="0", reading="unreadable", error="broken"),
        read_pdf(make_pdf([(50, 60, "%%%% 0000 ----- ,,,, .... 1.2.3.4.5 99/99/9999 -0,-")])),
        read_pdf(make_pdf([(50, 60 + 12 * i, "Total: 1,2,3,4 EUR  Nr. Nr. Nr. Datum: 31.02.2024") for i in range(40)])),
    ]
    for doc in odd:
        result = analyze(doc)
        assert result.classification.doc_type in ("other", "invoice")
        result.summary()  # serializable


def test_a_statement_that_lists_invoices_is_a_statement_and_an_invoice_stays_one() -> None:
    import dataclasses

    from inbox_ocr.app import samples
    from inbox_ocr.app.api import extract_bytes

    listing = (("Invoice INV-2026-0040 (02/10/2026)", "", "", "1,200.00"),
               ("Invoice INV-2026-0042 (02/11/2026)", "", "", "1,234.56"),
               ("Payment received, thank you", "", "", "-1,200.00"))
    statement = dataclasses.replace(samples.invoice_doc(), title="Customer Statement", lines=listing,
                                    header=(("Date:", "30/11/2026"), ("Account No.:", "C-20418")),
                                    totals=(("Balance due:", "€1,234.56"),))
    [doc] = extract_bytes(samples.render_pdf(statement), "statement.pdf")
    assert doc.classification.doc_type == "statement"
    assert "statement: lists 2 invoices" in doc.classification.reasons
    # an invoice that names one earlier invoice is still an invoice
    invoice = dataclasses.replace(samples.invoice_doc(),
                                  lines=(("Balance of invoice INV-2026-0040", "", "", "1,028.80"),))
    [doc] = extract_bytes(samples.render_pdf(invoice), "invoice.pdf")
    assert doc.classification.doc_type == "invoice"


def test_keyword_search_without_lookbehind_finds_what_the_lookbehind_pattern_finds() -> None:
    """The classifier searches its words without the leading (?<![^\\W\\d_]) (much faster) and skips
    matches right after a letter itself: the result must be findall's with the lookbehind."""
    import importlib
    import random
    import re

    C = importlib.import_module("inbox_ocr.understand.classify")  # the package exports the function by that name
    patterns = [*C._LATIN.values(), C._TILL_CUES, C._INVOICE_REFERENCE]
    pieces = ["invoice", "tax invoice", "factura", "factura rectificativa", "statement of account", "cash", "thank you",
              "bar", "inv", "no.", "#", "inv-2026-0040", "x", "²", "_", "é", "1", " ", "\n", ":", "-",
              "pro-forma", "发票"]
    rnd = random.Random(3)
    texts = ["xinvoice", "²invoice", "_invoice", "1invoice", "xtax invoice", "rechnungrechnung", "cash, change"]
    texts += ["".join(rnd.choice(pieces) for _ in range(rnd.randint(1, 10))) for _ in range(3000)]
    for rx in patterns:
        reference = re.compile(r"(?<![^\W\d_])" + rx.pattern)
        for text in texts:
            assert C._words(rx, text) == reference.findall(text), (rx.pattern[:40], text)


@pytest.mark.parametrize(("title", "body", "kind"), [
    ("发票", "", "invoice"), ("红字发票", "", "credit_note"), ("", "催款 催款 催款", "reminder"),
    ("收据", "", "receipt"), ("", "订单确认 订单确认", "order_confirmation"), ("报价单", "", "quote"),
    ("对账单", "对账单", "statement"),
])
def test_chinese_document_words_in_title_or_body_give_the_type(title: str, body: str, kind: str) -> None:
    """Chinese keywords have no word boundaries: found in the title (the top third of page one) and
    in the body, alone on the page (no amounts or numbers to tip the vote)."""
    from inbox_ocr.kernel.models import Page, TextLine
    from inbox_ocr.understand.classify import classify

    def line(text: str, top: float) -> TextLine:
        return TextLine(text=text, box=((50, top), (300, top), (300, top + 12), (50, top + 12)))

    lines = [line(title, 60)] if title else []
    lines += [line(body, 500)] if body else []
    doc = Document(filename="x.pdf", content_type="application/pdf", sha256="0", reading="text_layer",
                   pages=(Page(number=1, width=600, height=800, lines=tuple(lines)),))
    assert classify(doc).doc_type == kind
