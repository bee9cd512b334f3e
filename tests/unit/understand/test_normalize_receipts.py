"""Printed amounts, dates and currencies; receipts as the OCR hands them over; line items."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from inbox_ocr.kernel.models import Document, Page, TextLine
from inbox_ocr.understand import analyze
from inbox_ocr.understand.currency import currencies_in
from inbox_ocr.understand.normalize import Conventions, parse_amount, parse_date

from .conftest import make_pdf, read_pdf


@pytest.mark.parametrize(
    ("text", "decimal", "value"),
    [
        ("1.234,56 €", None, "1234.56"),
        ("1,234.56", None, "1234.56"),
        ("1 234,56", None, "1234.56"),
        ("1'234.50 CHF", None, "1234.50"),
        ("-8,79", None, "-8.79"),
        ("12,50-", None, "-12.50"),
        ("RM 9.00", None, "9.00"),
        ("-RM 0.01", None, "-0.01"),  # the minus before the currency mark (a cash rounding)
        ("- € 5,00", None, "-5.00"),
        ("-EUR 3.20", None, "-3.20"),
        ("Item-12 RM 5.00", None, "12"),  # a hyphen inside a word is no minus sign
        ("1.500", ",", "1500"),  # a German document: the dot groups thousands
        ("1,500", ".", "1500"),
        ("1,500", ",", "1.500"),  # ... unless the document writes decimals with it
        ("9,9000", None, "9.9000"),
    ],
)
def test_amounts_with_either_separator(text: str, decimal: str | None, value: str) -> None:
    assert parse_amount(text, Conventions(decimal_separator=decimal)) == Decimal(value)


@pytest.mark.parametrize(
    ("text", "day_first", "value"),
    [
        ("05.03.2024", True, date(2024, 3, 5)),
        ("03/05/2024", False, date(2024, 3, 5)),
        ("13/05/2024", False, date(2024, 5, 13)),  # only one reading is a real date
        ("2024-03-05", False, date(2024, 3, 5)),
        ("5. März 2024", True, date(2024, 3, 5)),
        ("5 mars 2024", True, date(2024, 3, 5)),
        ("5 de marzo de 2024", True, date(2024, 3, 5)),
        ("March 5, 2024", True, date(2024, 3, 5)),
        ("05-Mar-24", True, date(2024, 3, 5)),
        ("2024年3月5日", True, date(2024, 3, 5)),
        ("25/01/20181:22:56PM", True, date(2018, 1, 25)),  # OCR glued the time to the year
    ],
)
def test_dates_in_many_forms(text: str, day_first: bool, value: date) -> None:
    assert parse_date(text, Conventions(day_first=day_first)) == value


def test_document_decides_day_or_month_first() -> None:
    assert Conventions.detect("Date 03/04/2024 ... due 28/04/2024").day_first is True
    assert Conventions.detect("Date 03/04/2024 ... due 04/28/2024").day_first is False
    assert Conventions.detect("Date 03/04/2024", currency_hint="USD").day_first is False
    assert Conventions.detect("Summe 1.234,56 und 9,90").decimal_separator == ","


def test_currency_symbols_and_codes() -> None:
    assert currencies_in("Total € 12,00") == ["EUR"]
    assert currencies_in("US$ 5 and £3 and CHF 7") == ["USD", "GBP", "CHF"]
    assert currencies_in("RM 9.00") == ["MYR"]
    assert currencies_in("价税合计 ¥1,130.00") == ["CNY"]


def ocr_receipt(rows: list[str]) -> Document:
    """What the OCR core returns: lines in pixels, no word boxes."""
    lines = []
    for i, text in enumerate(rows):
        y = 40 + 30 * i
        x1 = 40 + 11 * len(text)
        lines.append(TextLine(text=text, box=((40, y), (x1, y), (x1, y + 22), (40, y + 22)), confidence=0.95))
    page = Page(number=1, width=600, height=40 + 30 * len(rows) + 40, lines=tuple(lines))
    return Document(filename="r.jpg", content_type="image/jpeg", sha256="0", reading="ocr", pages=(page,))


def test_receipt_from_ocr_lines() -> None:
    doc = ocr_receipt(
        [
            "KEDAI RUNCIT MAJU SDN BHD",
            "(123456-X)",
            "NO 12, JALAN MERANTI, 81100 JOHOR BAHRU",
            "Date: 25/12/2018 8:13:39 PM",
            "Teh Tarik 2 3.00 6.00",
            "Roti Canai 3 1.50 4.50",
            "Total : 10.50",
            "Rounding Adj : -0.01",
            "Cash 20.00",
            "Change 9.51",
            "THANK YOU",
        ]
    )
    result = analyze(doc)
    f = result.fields
    assert result.classification.doc_type == "receipt"
    assert f.vendor_name == "KEDAI RUNCIT MAJU SDN BHD"
    assert f.invoice_date == date(2018, 12, 25)
    assert f.total == Decimal("10.49")  # the rounding printed after the total is what was paid
    assert f.currency is None or f.currency == "MYR"


def test_cash_handed_over_is_not_the_total() -> None:
    doc = ocr_receipt(["CORNER SHOP", "Total", "Cash 50.00", "Total Incl. GST 37.10", "Change 12.90"])
    assert analyze(doc).fields.total == Decimal("37.10")


def test_line_items_from_a_table() -> None:
    items = [(50, 60, "Invoice", 16), (50, 90, "Invoice No: 5"), (50, 200, "Description"), (300, 200, "Qty"),
             (370, 200, "Unit price"), (470, 200, "Amount")]
    rows = [("Blue widget", "2", "10.00", "20.00"), ("Red widget, large", "1", "7.50", "7.50")]
    for i, (desc, qty, price, amount) in enumerate(rows):
        y = 220 + 16 * i
        items += [(50, y, desc), (300, y, qty), (370, y, price), (470, y, amount)]
    items += [(370, 280, "Total"), (470, 280, "27.50")]
    f = analyze(read_pdf(make_pdf(items))).fields
    assert [(i.description, i.quantity, i.unit_price, i.amount) for i in f.line_items] == [
        ("Blue widget", Decimal(2), Decimal("10.00"), Decimal("20.00")),
        ("Red widget, large", Decimal(1), Decimal("7.50"), Decimal("7.50")),
    ]
    assert f.total == Decimal("27.50")


def test_a_date_range_with_the_year_at_its_end_and_a_spaced_comma() -> None:
    from datetime import date

    from inbox_ocr.understand.normalize import find_dates

    def dates(text: str) -> list[date]:
        return [d for d, _, _ in find_dates(text)]

    assert dates("Service period: July 1 - July 31, 2014") == [date(2014, 7, 1), date(2014, 7, 31)]
    assert dates("Aug 3 – 9, 2014") == [date(2014, 8, 3), date(2014, 8, 9)]
    assert dates("August 3 , 2014") == [date(2014, 8, 3)]
    assert dates("1 July 14") == [date(2014, 7, 1)]  # a two-digit year still reads when nothing follows
    assert date(2031, 7, 1) not in dates("July 1 - July 31, 2014")  # "1 - July 31" is no date of 2031


def test_indian_digit_grouping_is_read() -> None:
    from decimal import Decimal

    from inbox_ocr.understand.normalize import all_amounts

    assert [v for v, _, _ in all_amounts("Total ₹1,23,456.00")] == [Decimal("123456.00")]
    assert [v for v, _, _ in all_amounts("Rs. 12,34,567.50")] == [Decimal("1234567.50")]
    assert [v for v, _, _ in all_amounts("INR 1,00,000")] == [Decimal("100000")]
    assert [v for v, _, _ in all_amounts("1,234,567.00 and 1.234,56")] == [Decimal("1234567.00"), Decimal("1234.56")]


def test_patterns_with_the_look_behind_after_the_first_digit_find_what_the_original_ones_find() -> None:
    """Conventions' patterns begin with a digit (searched by skipping to digits) instead of a look
    behind (tried at every character): the same matches, groups and spans as the patterns written
    the plain way."""
    import random
    import re

    from inbox_ocr.understand import normalize as N

    originals = {
        N._COMMA_DECIMAL: r"(?<![\d.,])\d{1,3}(?:\.\d{3})*,\d{2}(?![\d,.])",
        N._POINT_DECIMAL: r"(?<![\d.,])\d{1,3}(?:,\d{3})*\.\d{2}(?![\d,.])",
        N._NUMERIC_DATE: r"(?<![\d.])(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})(?![\d])",
    }
    pieces = ["1", "12", "123", "2024", ".", ",", "/", "-", " ", "a", "€", "٣", "1.234,56", "1,234.56", "03/04/2024",
              "31.12.24", "\n"]
    rnd = random.Random(7)
    texts = ["", "1", "12,34", ".12,34", "012,34", "1.234,56", "1,234.56", "01.02.2024", "x1.2.24"]
    texts += ["".join(rnd.choice(pieces) for _ in range(rnd.randint(1, 12))) for _ in range(4000)]
    for rx, source in originals.items():
        reference = re.compile(source)
        for text in texts:
            ours = [(m.span(), m.groups()) for m in rx.finditer(text)]
            assert ours == [(m.span(), m.groups()) for m in reference.finditer(text)], (source, text)

