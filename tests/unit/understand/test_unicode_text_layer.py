"""Text layers are read in Unicode NFKC: compatibility ideographs, full-width forms and ligatures
no longer hide labels, dates and amounts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from inbox_ocr.kernel.models import Document
from inbox_ocr.read.text_layer import page_from_words
from inbox_ocr.understand import analyze


def words(*lines: str) -> list[tuple]:
    out = []
    for row, line in enumerate(lines):
        x = 20.0
        for number, token in enumerate(line.split(" ")):
            out.append((x, 20.0 + 20 * row, x + 8 * len(token), 30.0 + 20 * row, token, 0, row, number))
            x += 8 * len(token) + 6
    return out


def test_compatibility_ideographs_fullwidth_digits_and_ligatures_are_read_as_plain_characters() -> None:
    page = page_from_words(1, 600, 800, words(
        "增值税电子普通发票",
        "开票日期: 2024\uf98e05月01日",             # U+F98E: the compatibility form of 年
        "价税合计（小写） ￥１，１３０．００",        # full-width digits and punctuation
        "Identi\ufb01cation No. ＩＮＶ－７７",       # the fi ligature, full-width letters
    ))
    assert page.lines[1].text == "开票日期: 2024年05月01日"
    assert page.lines[3].text == "Identification No. INV-77"
    doc = Document(filename="x.pdf", content_type="application/pdf", sha256="0", reading="text_layer", pages=(page,))
    fields = analyze(doc).fields
    assert fields.invoice_date == date(2024, 5, 1)
    assert fields.total == Decimal("1130.00")


def test_a_word_nfkc_would_turn_into_a_space_stays_a_word() -> None:
    page = page_from_words(1, 100, 100, words("Total \u00a0 12.00"))
    assert all(w.text for w in page.lines[0].words)


def test_text_placed_outside_the_page_is_not_read() -> None:
    import pymupdf

    from inbox_ocr.read import read_document

    pdf = pymupdf.open()
    page = pdf.new_page(width=300, height=200)
    page.insert_text((20, 40), "Invoice 4711")
    page.insert_text((20, 260), "Below the page")  # the baseline is under the page's bottom edge
    page.insert_text((-200, 80), "Left of it")
    page.insert_text((280, 120), "Edgeword")  # starts on the page and runs off its right edge
    doc = read_document(pdf.tobytes(), filename="x.pdf", content_type="application/pdf", sha256="-")
    read = [w.text for line in doc.pages[0].lines for w in line.words]
    assert read[:2] == ["Invoice", "4711"] and len(read) == 3
    assert read[2].startswith("Edg") and read[2] != "Edgeword"  # the letters on the page


def test_a_page_with_too_few_letters_and_digits_is_told_as_str_isalnum_counts() -> None:
    """Scans are told by counting letters and digits up to MIN_TEXT_CHARS with the regex engine's
    \\w (str.isalnum and "_"): the verdict must be that of counting with str.isalnum."""
    import random

    from inbox_ocr.read.text_layer import _fewer_letters_and_digits

    pieces = ["a", "1", "_", " ", "é", "²", "٣", "-", "中", "\n", "Ⅻ", "ǅ", "\u00a0"]
    rnd = random.Random(1)
    for _ in range(5000):
        text = "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 40)))
        for count in (1, 5, 20):
            assert _fewer_letters_and_digits(text, count) == (sum(map(str.isalnum, text)) < count), (text, count)
