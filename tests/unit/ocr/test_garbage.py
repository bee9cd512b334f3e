"""PDFs whose text layer is garbage are OCRed like scans."""

from __future__ import annotations

import hashlib
import random

import pymupdf

from inbox_ocr.read import read_document
from inbox_ocr.read.garbage import looks_garbled
from tests.unit.ocr.conftest import INVOICE_LINES, RenderedPage, cer, image_bytes


def _consonant_soup(seed: int, words: int) -> str:
    rng = random.Random(seed)
    return " ".join(
        "".join(rng.choice("bcdfghjklmnpqrstvwxzBCDFGHJKLMNPQRSTVWXZ") for _ in range(5)) for _ in range(words)
    )


def test_real_text_is_not_garbage() -> None:
    assert not looks_garbled("\n".join(INVOICE_LINES))
    assert not looks_garbled("Inhaltsverzeichnis\n1 Einleitung . . . . . . . . . . . . . . . . . . 3\n" * 3)
    assert not looks_garbled("增值税专用发票 发票代码 开票日期 2024年03月14日 金额 税额 价税合计 " * 3)


def test_broken_encodings_are_garbage() -> None:
    assert looks_garbled("\ue000\ue011\ue02a\ue003 " * 20)
    assert looks_garbled("!\"#$%&'()+,/:;<>? " * 8)
    assert looks_garbled(_consonant_soup(1, 30))


def test_pdf_with_garbage_text_layer_is_ocred(invoice: RenderedPage) -> None:
    pdf = pymupdf.open()
    page = pdf.new_page(width=595, height=842)
    page.insert_image(page.rect, stream=image_bytes(invoice.pixels, "JPEG", quality=85))
    for k in range(12):  # an invisible "OCR layer" whose font encoding went wrong
        page.insert_text((60, 80 + 30 * k), _consonant_soup(k, 6), fontsize=11, render_mode=3)
    data = pdf.tobytes()
    doc = read_document(data, filename="g.pdf", content_type="application/pdf", sha256=hashlib.sha256(data).hexdigest())
    assert doc.reading == "ocr"
    assert any("garbled" in w for w in doc.warnings)
    assert cer("\n".join(invoice.lines), doc.text) <= 0.02
