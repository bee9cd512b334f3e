"""Generic extraction over real PDFs drawn in seven languages, with labels beside or above values."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from inbox_ocr.understand import analyze

from .conftest import make_pdf, read_pdf

NET = Decimal("1234.50")
NUMBER = "2024-0815"
ISSUED = date(2024, 3, 5)  # day and month both <= 12: the document must decide the order
DUE = date(2024, 4, 4)


def money(value: Decimal, decimal: str, thousands: str) -> str:
    whole, frac = f"{value:.2f}".split(".")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return thousands.join(groups) + decimal + frac


@dataclass
class Lang:
    code: str
    title: str
    labels: tuple[str, str, str, str, str, str, str, str]  # number, date, due, net, tax, total, vat, iban
    date_fmt: str
    decimal: str
    thousands: str
    currency_text: str
    currency: str
    rate: Decimal
    vendor: str
    vat_id: str
    iban: str
    stacked: bool  # header labels above their values instead of beside them


LANGS = [
    Lang(
        "en",
        "INVOICE",
        ("Invoice No.", "Invoice Date", "Due Date", "Subtotal", "VAT 20%", "Total Due", "VAT Reg. No.", "IBAN"),
        "%m/%d/%Y",
        ".",
        ",",
        "USD",
        "USD",
        Decimal(20),
        "Acme Widgets Ltd",
        "GB980780684",
        "GB29NWBK60161331926819",
        False,
    ),
    Lang(
        "de",
        "RECHNUNG",
        (
            "Rechnungsnummer",
            "Rechnungsdatum",
            "Fällig am",
            "Nettobetrag",
            "MwSt. 19 %",
            "Gesamtbetrag",
            "USt-IdNr.",
            "IBAN",
        ),
        "%d.%m.%Y",
        ",",
        ".",
        "EUR",
        "EUR",
        Decimal(19),
        "Muster Technik GmbH",
        "DE136695976",
        "DE89370400440532013000",
        True,
    ),
    Lang(
        "fr",
        "FACTURE",
        (
            "Facture N°",
            "Date de facture",
            "Date d'échéance",
            "Total HT",
            "TVA 20 %",
            "Total TTC",
            "N° TVA intracommunautaire",
            "IBAN",
        ),
        "%d/%m/%Y",
        ",",
        " ",
        "EUR",
        "EUR",
        Decimal(20),
        "Atelier Lumière SARL",
        "FR11999999998",
        "FR1420041010050500013M02606",
        False,
    ),
    Lang(
        "es",
        "FACTURA",
        ("Factura nº", "Fecha de factura", "Vencimiento", "Base imponible", "IVA 21%", "Total factura", "NIF", "IBAN"),
        "%d/%m/%Y",
        ",",
        ".",
        "EUR",
        "EUR",
        Decimal(21),
        "Suministros Iberia S.L.",
        "ESA12345674",
        "ES9121000418450200051332",
        True,
    ),
    Lang(
        "it",
        "FATTURA",
        ("Fattura n.", "Data fattura", "Scadenza", "Imponibile", "IVA 22%", "Totale documento", "Partita IVA", "IBAN"),
        "%d/%m/%Y",
        ",",
        ".",
        "EUR",
        "EUR",
        Decimal(22),
        "Ferramenta Rossi S.r.l.",
        "IT00743110157",
        "IT60X0542811101000000123456",
        False,
    ),
    Lang(
        "nl",
        "FACTUUR",
        ("Factuurnummer", "Factuurdatum", "Vervaldatum", "Subtotaal", "BTW 21%", "Totaal", "BTW-nummer", "IBAN"),
        "%d-%m-%Y",
        ",",
        ".",
        "EUR",
        "EUR",
        Decimal(21),
        "Bakkerij de Vries B.V.",
        "NL004495445B01",
        "NL91ABNA0417164300",
        True,
    ),
]


def draw(lang: Lang) -> bytes:
    tax = (NET * lang.rate / 100).quantize(Decimal("0.01"))
    total = NET + tax
    number_l, date_l, due_l, net_l, tax_l, total_l, vat_l, iban_l = lang.labels
    items: list[tuple] = [
        (50, 60, lang.vendor, 14),
        (50, 78, "12 Example Street, 10115 City"),
        (50, 92, f"{vat_l}: {lang.vat_id}"),
        (400, 60, lang.title, 18),
        (50, 150, "Customer Corp."),
        (50, 164, "1 Client Road"),
    ]
    header = [(number_l, NUMBER), (date_l, ISSUED.strftime(lang.date_fmt)), (due_l, DUE.strftime(lang.date_fmt))]
    if lang.stacked:  # labels in one row, values in the row below
        for i, (label, value) in enumerate(header):
            items += [(300 + i * 95, 210, label, 8), (300 + i * 95, 224, value)]
    else:
        for i, (label, value) in enumerate(header):
            items += [(300, 150 + i * 16, label), (430, 150 + i * 16, value)]
    items += [
        (50, 280, "Description"),
        (420, 280, "Amount"),
        (50, 300, "Consulting services"),
        (420, 300, money(NET, lang.decimal, lang.thousands)),
    ]
    for i, (label, value) in enumerate([(net_l, NET), (tax_l, tax), (total_l, total)]):
        items += [
            (300, 360 + i * 18, label),
            (450, 360 + i * 18, f"{money(value, lang.decimal, lang.thousands)} {lang.currency_text}"),
        ]
    items += [(50, 760, f"{iban_l}: {lang.iban}"), (50, 774, f"{lang.vendor} - {lang.vat_id}", 7)]
    return make_pdf(items)


@pytest.mark.parametrize("lang", LANGS, ids=[lang.code for lang in LANGS])
def test_invoice_fields_in_each_language(lang: Lang) -> None:
    tax = (NET * lang.rate / 100).quantize(Decimal("0.01"))
    result = analyze(read_pdf(draw(lang)))
    f = result.fields
    assert result.classification.doc_type == "invoice"
    assert f.invoice_number == NUMBER
    assert f.invoice_date == ISSUED
    assert f.due_date == DUE
    assert (f.subtotal, f.tax, f.total) == (NET, tax, NET + tax)
    assert f.currency == lang.currency
    assert f.vendor_vat_id == lang.vat_id
    assert f.iban == lang.iban
    assert f.vendor_name == lang.vendor
    assert f.vendor_address == "12 Example Street, 10115 City"
    assert lang.rate in f.tax_rates
    assert result.field_confidence["total"] >= 0.9  # net + tax = gross was checked
    assert not result.warnings


def test_chinese_vat_invoice() -> None:
    items = [
        (200, 50, "增值税专用发票", 16),
        (380, 80, "发票号码：04512876"),
        (380, 96, "开票日期：2024年03月05日"),
        (40, 130, "购买方"),
        (40, 146, "名称：上海客户贸易有限公司"),
        (40, 162, "纳税人识别号：91310000MA1FL0000N"),
        (40, 260, "合计"),
        (300, 260, "金额 ¥1,000.00"),
        (420, 260, "税额 ¥130.00"),
        (40, 280, "价税合计（小写）"),
        (300, 280, "¥1,130.00"),
        (40, 320, "销售方"),
        (40, 336, "名称：北京示例科技有限公司"),
        (40, 352, "纳税人识别号：91110108MA01G0FB09"),
    ]
    result = analyze(read_pdf(make_pdf(items, cjk=True)))
    f = result.fields
    assert result.classification.doc_type == "invoice"
    assert f.invoice_number == "04512876"
    assert f.invoice_date == date(2024, 3, 5)
    assert f.total == Decimal("1130.00")
    assert f.currency == "CNY"
    assert f.vendor_name == "北京示例科技有限公司"
    assert f.customer_name == "上海客户贸易有限公司"
    assert f.vendor_vat_id == "91110108MA01G0FB09"


def test_month_first_decided_by_the_document() -> None:
    """04/03 is 3 April on a document that elsewhere prints 03/25 (month first)."""
    items = [
        (50, 60, "Invoice", 16),
        (50, 100, "Invoice Date: 04/03/2024"),
        (50, 116, "Delivery: 03/25/2024"),
        (50, 160, "Total: 10.00"),
    ]
    assert analyze(read_pdf(make_pdf(items))).fields.invoice_date == date(2024, 4, 3)
    items[2] = (50, 116, "Delivery: 25/03/2024")
    assert analyze(read_pdf(make_pdf(items))).fields.invoice_date == date(2024, 3, 4)


def test_table_totals_pick_the_sum_row() -> None:
    """A tax breakdown with one row per rate and a sum row: the sum row is the invoice total."""
    items = [(50, 60, "Rechnung Nr. 77-12 vom 02.02.2024", 12)]
    heads = ["Nettobetrag", "MwSt-Betrag", "Endbetrag"]
    for i, h in enumerate(heads):
        items.append((250 + i * 100, 600, h, 8))
    rows = [("100,00", "19,00", "119,00"), ("50,00", "3,50", "53,50"), ("150,00", "22,50", "172,50")]
    for r, row in enumerate(rows):
        for i, v in enumerate(row):
            items.append((250 + i * 100, 614 + r * 12, v, 8))
    f = analyze(read_pdf(make_pdf(items))).fields
    assert (f.subtotal, f.tax, f.total) == (Decimal("150.00"), Decimal("22.50"), Decimal("172.50"))
    assert f.invoice_number == "77-12"
    assert f.invoice_date == date(2024, 2, 2)


def test_amount_due_after_a_prepayment() -> None:
    items = [(50, 60, "Rechnung", 16), (50, 90, "Rechnungsnummer: 2024-77")]
    for i, (label, value) in enumerate(
        [
            ("Nettobetrag", "100,00 EUR"),
            ("USt. 19 %", "19,00 EUR"),
            ("Gesamtbetrag", "119,00 EUR"),
            ("Anzahlung", "-50,00 EUR"),
            ("Zahlbetrag", "69,00 EUR"),
        ]
    ):
        items += [(300, 400 + 18 * i, label), (450, 400 + 18 * i, value)]
    f = analyze(read_pdf(make_pdf(items))).fields
    assert (f.subtotal, f.tax, f.total, f.amount_due) == (
        Decimal("100.00"),
        Decimal("19.00"),
        Decimal("119.00"),
        Decimal("69.00"),
    )


@pytest.mark.parametrize(("printed", "iban"), [
    ("IBAN ES91 2100 0418 4502 0005 1332BIC CAIXESBBXXX", "ES9121000418450200051332"),
    ("IBAN: BE68539007547034BIC: GEBABEBB", "BE68539007547034"),
    ("Konto AT61 1904 3002 3457 3201BANKAUSTRIA", "AT611904300234573201"),
])
def test_an_iban_with_a_word_glued_to_it_is_still_read(printed: str, iban: str) -> None:
    """Text layers glue the next word on when the print has no space ("...1332BIC")."""
    pdf = make_pdf([(50, 60, "INVOICE", 16), (50, 100, "Invoice No.: 2024-0815"), (50, 700, printed)])
    assert analyze(read_pdf(pdf)).fields.iban == iban


def test_labels_found_through_the_ascii_index_are_those_every_label_pattern_finds() -> None:
    """In ASCII text only the labels that can begin with a start's first characters are tried
    (LabelSet.ascii_labels); the hits must be those of trying every label at every start."""
    import random

    from inbox_ocr.kernel.models import Word
    from inbox_ocr.understand import label_match, layout
    from inbox_ocr.understand.scoring import LABELS

    words = ["Rechnungs-Nr.:", "Rechnung", "nr", "No.", "N°", "Invoice", "INVOICE", "Date:", "Datum", "Total", "total:",
             "Sub-Total", "TVA", "MwSt.", "Kunden-Nr", "Bestell-Datum", "due", "Fällig", "4711", "Betrag", "#", "Ref",
             "IBAN", "BIC", "USt-IdNr.", "Tax", "ID", "Page", "1/2", "client", "order", "Lieferschein", "Nummer",
             "(EUR)", "à", "payer", "net", "gross", "amount", "Summe", "x", "-", "Customer"]
    rnd = random.Random(5)
    cells = []
    for _ in range(1500):
        texts = [rnd.choice(words) for _ in range(rnd.randint(1, 6))]
        boxes = [(10.0 * i, 0.0, 10.0 * i + 8, 10.0) for i in range(len(texts))]
        cell = layout.Cell(1, 0, [Word(text=t, box=b) for t, b in zip(texts, boxes, strict=True)])
        if cell.text.isascii():
            cells.append(cell)
    hits = 0
    for cell in cells:
        text, low = cell.text, cell.text.lower()
        every = [(s, name) for s in cell.starts[0] for name, rx, *_ in LABELS._starting.get(text[s], (None, ()))[1]
                 if (m := rx.match(text, s)) and m.end() > s]
        lead = label_match._LEAD
        tried = [(s, name) for s in cell.starts[0] for name, rx, *_ in LABELS.ascii_labels(low[s : s + lead])
                 if (m := rx.match(text, s)) and m.end() > s]
        assert tried == every, text
        hits += len(every)
    assert hits > 100  # the generated cells do hold labels


def test_both_label_tables_searched_together_find_what_each_table_finds_alone() -> None:
    """The field and the context labels are compiled into one LabelSet and found in one pass; each
    table's hits (order, weights, overlaps resolved within the table) are those of the table
    compiled and searched alone, in Latin, Chinese and mixed cells."""
    import random

    from inbox_ocr.kernel.models import Word
    from inbox_ocr.understand import labels as L
    from inbox_ocr.understand.context_labels import CONTEXT_LABELS
    from inbox_ocr.understand.label_match import compile_labels, find_labels
    from inbox_ocr.understand.layout import Cell
    from inbox_ocr.understand.scoring import CONTEXT_TABLE, FIELD_TABLE, LABELS

    words = ["Rechnungs-Nr.:", "Invoice", "No.", "Date:", "Datum", "Total", "HT", "Sub-Total", "TVA", "MwSt.",
             "Kunden-Nr", "Bestell-Nr.", "Lieferschein", "Auftrag", "Order", "Customer", "Page", "Seite", "1/2",
             "Tel.", "Phone", "HRB", "4711", "12,50", "Due", "Fällig", "N°", "commande", "发票号码", "开票日期",
             "订单号", "电话", "价税合计", "合计", "客户", "x", "-", "Fax:", "IBAN", "payer", "à"]
    rnd = random.Random(3)
    cells = []
    for _ in range(2000):
        texts = [rnd.choice(words) for _ in range(rnd.randint(1, 7))]
        boxes = [(10.0 * i, 0.0, 10.0 * i + 8, 10.0) for i in range(len(texts))]
        cells.append(Cell(1, 0, [Word(text=t, box=b) for t, b in zip(texts, boxes, strict=True)]))
    together = find_labels(cells, LABELS)
    assert len(together) == 2
    for table, alone in ((FIELD_TABLE, L.FIELD_LABELS), (CONTEXT_TABLE, CONTEXT_LABELS)):
        (expected,) = find_labels(cells, compile_labels(alone))
        assert together[table] == expected
        assert len(expected) > 500
        assert any(not hit.cell.text.isascii() for hit in expected)


def test_a_text_that_is_only_a_label_is_found_through_the_index_as_by_every_label_of_its_first_character() -> None:
    """parties.hit_text_is_label tries LabelSet.starting(text) (the ASCII index of beginnings);
    the labels found must be those of every label of the text's first character."""
    import random

    from inbox_ocr.understand.parties import hit_text_is_label
    from inbox_ocr.understand.scoring import FIELD_TABLE, LABELS

    def every_label(text: str) -> list[str]:
        text = text.strip()
        full = len(text.rstrip(" :")) - 1
        matches = (LABELS.each[i][1].match(text) for i in LABELS.at(text[0]) if LABELS.each[i][3] == FIELD_TABLE)
        return sorted(m.group(0) for m in matches if m and m.end() >= full)

    words = ["Rechnungs-Nr.:", "Rechnung", "Invoice No.", "Date:", "Datum", "Total", "Sub-Total", "TVA", "MwSt.",
             "Kunden-Nr", "Fällig", "4711", "IBAN", "USt-IdNr.", "Tax ID", "(EUR)", "Bill to:", "Verkäufer",
             "Lieferant GmbH", "N° de facture", "发票号码", ":", "Customer", "Ship to", "Total TTC", "nº"]
    rnd = random.Random(7)
    texts = [" ".join(rnd.choice(words) for _ in range(rnd.randint(1, 3))) for _ in range(2000)] + words
    found = 0
    for text in texts:
        assert sorted(hit_text_is_label(text)) == every_label(text), text
        found += bool(every_label(text))
    assert found > 200  # many of them are labels


def test_word_starts_of_ascii_cells_are_the_look_behind_pattern_s_matches() -> None:
    """ASCII cells find where labels may start word by word (a word of letters and digits starts
    only at its first character): the same offsets as the pattern over the whole text."""
    import random

    from inbox_ocr.kernel.models import Word
    from inbox_ocr.understand.layout import _ASCII_START, Cell

    pieces = ["Nr.", "4711", "Rechnungs-Nr.:", "a", "_x", "(EUR)", "-", "1,5", "#12", "Total:", "\t", "x_y", "é"]
    rnd = random.Random(11)
    for _ in range(3000):
        texts = [rnd.choice(pieces) + rnd.choice(pieces) for _ in range(rnd.randint(1, 5))]
        words = [Word(text=t, box=(10.0 * i, 0.0, 10.0 * i + 8, 10.0)) for i, t in enumerate(texts)]
        cell = Cell(1, 0, words)
        if cell.text.isascii():
            assert cell.starts == ([m.start() for m in _ASCII_START.finditer(cell.text)], []), cell.text


def test_currency_mark_pattern_finds_what_the_word_boundary_pattern_finds() -> None:
    """view._CURRENCY_MARK begins every alternative with a literal character (fast to search);
    it must find a mark exactly where the plain pattern with word boundaries does."""
    import random
    import re

    from inbox_ocr.understand.view import _CURRENCY_MARK

    plain = re.compile(r"[€$£¥]|\b(?:EUR|USD|GBP|CHF|CNY|RMB|JPY|CZK|PLN|SEK|DKK|NOK|MYR|RM)\b")
    pieces = ["EUR", "RM", "RMB", "USD", "x", "1", "_", "\n", " ", "€", "$", "é", "MYR", "SEKX", "aEUR", "€5", "NOK.",
              "RM5", "中", "CHF-"]
    rnd = random.Random(2)
    for _ in range(20000):
        text = "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 6)))
        assert bool(_CURRENCY_MARK.search(text)) == bool(plain.search(text)), text


def _can_begin(leads: Any, text: str) -> bool:
    """The definition the label index implements: some way to begin allows every character of
    `text` (lower-case ASCII) at its position."""
    return any(all(chars is None or i >= len(text) or text[i] in chars for i, chars in enumerate(lead))
               for lead in leads)


@pytest.mark.parametrize(("pattern", "text", "may_begin"), [
    (r"rechnungs?\s*nr", "rech", True), (r"rechnungs?\s*nr", "recx", False), (r"n[oº°r]?\.?", "no.x", True),
    (r"n[oº°r]?\.?", "nx", True), (r"(?:solde|reste)\s*à", "rest", True), (r"(?:solde|reste)\s*à", "rext", False),
    (r"total", "TOTA".lower(), True), (r"total", "toxa", False), (r"#", "#", True),
    (r"(?-i:ab)c", "abc", True), (r"(a)\1b", "aab", True),  # parts of unknown length say nothing after them
    (r"发票", "fapi", False),
])
def test_the_beginnings_a_label_pattern_may_have_in_ascii_text(pattern: str, text: str, may_begin: bool) -> None:
    from re import _parser  # type: ignore[attr-defined]

    from inbox_ocr.understand.label_match import _leads, _LeadTable

    leads = _leads(_parser.parse(pattern), frozenset({()}))
    assert _can_begin(leads, text) is may_begin
    assert _LeadTable((0,), [leads]).labels(text) == ([0] if may_begin else [])


def test_the_bit_mask_table_of_beginnings_says_what_can_begin_says_label_by_label() -> None:
    """LabelSet.ascii_labels decides with bit masks per (position, character); on every first
    character of both label tables and 3,000 generated beginnings it keeps exactly the labels that
    the definition (`_can_begin`) keeps, in order."""
    import random
    import string

    from inbox_ocr.understand.label_match import _LeadTable
    from inbox_ocr.understand.scoring import LABELS

    rnd = random.Random(11)
    alphabet = string.ascii_lowercase + string.digits + " .:#-/º°()"
    kept = 0
    labels = LABELS
    firsts = sorted(labels._indices)
    for _ in range(3000):
        first = rnd.choice(firsts)
        lead = first + "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 3)))
        indices = labels._indices[first]
        table = _LeadTable(indices, [labels.leads[i] for i in indices])
        expected = [i for i in indices if _can_begin(labels.leads[i], lead)]
        assert table.labels(lead) == expected, lead
        kept += len(expected)
    assert kept > 3000
