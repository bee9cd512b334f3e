"""Field positions: every located field's box covers words that print its value."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from inbox_ocr.app import samples
from inbox_ocr.app.api import extract_bytes
from inbox_ocr.kernel.models import Document, InvoiceFields, Page, TextLine, Word
from inbox_ocr.understand.layout import page_cells
from inbox_ocr.understand.normalize import Conventions, compact
from inbox_ocr.understand.positions import locate_fields


def _words_in(page: Page, box: tuple[float, float, float, float]) -> str:
    """The words whose centres lie inside `box`, in reading order."""
    out = []
    for line in page.lines:
        for w in line.words:
            cx, cy = (w.box[0] + w.box[2]) / 2, (w.box[1] + w.box[3]) / 2
            if box[0] <= cx <= box[2] and box[1] <= cy <= box[3]:
                out.append(w.text)
    return " ".join(out)


def test_each_field_of_a_generated_invoice_is_located_on_the_words_that_print_it() -> None:
    pdf = samples.render_pdf(samples.invoice_doc(number="INV-77/3", total="2,400.00", net="2,000.00", tax="400.00"))
    [doc] = extract_bytes(pdf, "invoice.pdf")
    summary = doc.summary()
    positions = summary["field_positions"]
    page = doc.document.pages[0]
    assert {"invoice_number", "invoice_date", "due_date", "total", "subtotal", "tax", "vendor_vat_id", "iban",
            "vendor_name"} <= set(positions)
    printed = {name: _words_in(page, tuple(p["box"])) for name, p in positions.items()}
    assert "INV-77/3" in printed["invoice_number"]
    assert printed["invoice_date"].endswith("02/11/2026")
    assert printed["total"].endswith("2,400.00")  # the "Total due" line, not the net or a line amount
    assert printed["subtotal"].endswith("2,000.00")
    assert compact(printed["iban"]).startswith("DE89370400440532013000")
    assert "Acme Office Supplies Ltd" in printed["vendor_name"]
    assert all(p["page"] == 1 for p in positions.values())
    assert summary["pages"] == [{"number": 1, "width": page.width, "height": page.height}]


def _line(text: str, x: float, y: float) -> TextLine:
    words, pos = [], x
    for token in text.split():
        words.append(Word(text=token, box=(pos, y, pos + 6 * len(token), y + 10)))
        pos += 6 * len(token) + 4
    return TextLine(text=text, box=((x, y), (pos, y), (pos, y + 10), (x, y + 10)), words=tuple(words))


def test_identifiers_match_across_spaces_and_money_takes_the_last_print() -> None:
    page = Page(number=1, width=600, height=800, lines=(
        _line("VAT no FR 11 123 456 782", 20, 20),
        _line("Line 1 100.00", 20, 100),
        _line("Total 100.00", 20, 300),
        _line("Straße 5 Invoice ÄSS-1", 20, 400),
    ))
    cells = page_cells(page)
    fields = InvoiceFields(vendor_vat_id="FR11123456782", total=Decimal("100.00"), invoice_number="äss-1",
                           invoice_date=date(2026, 1, 1))
    found = locate_fields(cells, fields, Conventions())
    assert found["vendor_vat_id"].box[0] == 20 + 6 * 3 + 4 + 6 * 2 + 4  # from "FR" on, not "VAT no"
    assert found["total"].box[1] == 300
    assert found["invoice_number"].box[1] == 400
    assert "invoice_date" not in found  # printed nowhere: no position rather than a wrong one


def test_a_document_without_text_has_no_positions() -> None:
    doc = Document(filename="x.png", content_type="image/png", sha256="0", reading="needs_ocr")
    from inbox_ocr.understand import analyze

    assert analyze(doc).positions == {}


def test_identifiers_are_found_where_the_case_insensitive_pattern_finds_them() -> None:
    """An identifier is looked up in the cells' compacted lower-case text instead of a pattern
    compiled per value; the cell and span are those of the pattern (`_identifier`), including the
    four non-ASCII letters that case-insensitive matching takes for ASCII ones (İ ı ſ K)."""
    import random

    from inbox_ocr.understand.layout import Cell
    from inbox_ocr.understand.positions import _Compact, _identifier

    rnd = random.Random(3)
    alphabet = "abcKkSsIi019-./\tXyZ€üİıſK\u00a0_:#\uffff"  # U+FFFF: the mark _Compact joins cells with
    hits = 0
    for _ in range(3000):
        value = "".join(rnd.choice("abcKkSsIi019-./ XZü") for _ in range(rnd.randint(0, 6)))
        cells = []
        for index in range(rnd.randint(1, 4)):
            words = ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 8))) for _ in range(rnd.randint(1, 3))]
            if rnd.random() < 0.4:  # the value printed with other case and separators
                words.append("".join((c.upper() if rnd.random() < 0.5 else c) + rnd.choice(["", "-", ".", "/"])
                                     for c in value.replace(" ", "")) or "q")
            cells.append(Cell(1, index, [Word(text=w.strip() or "q", box=(0, 0, 1, 1)) for w in words]))
        pattern = _identifier(value)
        expected = next(((c, m.span()) for c in cells if pattern is not None and (m := pattern.search(c.text))), None)
        assert _Compact(cells).find(value) == expected, (value, [c.text for c in cells])
        hits += expected is not None
    assert hits > 500
