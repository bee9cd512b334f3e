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


def _looks_garbled_as_first_written(text: str) -> bool:
    """looks_garbled as first written, counting characters one call at a time (the reference for
    the test below; the module counts ASCII characters in bulk)."""
    import re
    import unicodedata

    leaders = frozenset("._-–—·…=*")
    vowels = frozenset("aeiouyäöüàáâãåæèéêëìíîïòóôõøùúûýÿœAEIOUYÄÖÜÀÁÂÃÅÆÈÉÊËÌÍÎÏÒÓÔÕØÙÚÛÝŸŒ")
    words = text.split()
    chars = "".join(words)
    if len(chars) < 40:
        return False
    if not chars.isprintable() or "\ufffd" in chars:
        bad = sum(1 for c in chars if unicodedata.category(c) in ("Co", "Cc", "Cn", "Cs") or c == "\ufffd")
        if bad / len(chars) > 0.1:
            return True
    inked = re.sub("[" + re.escape("".join(sorted(leaders))) + "]+", "", chars)
    if inked and sum(map(str.isalnum, inked)) / len(inked) < 0.5:
        return True
    if sum(map(str.isalpha, re.sub(r"[^\x00-\u024f]", "", chars))) / len(chars) <= 0.5:
        return False
    tokens = [t for t in words if not leaders.issuperset(t)]
    wordlike = 0
    for t in tokens:
        if t.isalpha():
            if vowels.isdisjoint(t):
                continue
        elif not (any(map(str.isdigit, t)) or (not vowels.isdisjoint(t) and sum(map(str.isalpha, t)) >= 0.6 * len(t))):
            continue
        wordlike += 1
        if wordlike >= 0.5 * max(1, len(tokens)):
            return False
    return True


def test_the_verdict_is_the_one_of_counting_character_by_character() -> None:
    """On texts mixing ASCII letters, digits and punctuation, accented and CJK letters, dot leaders
    (ASCII and not), superscript digits (digits, not letters), private-use and control characters,
    near each threshold, the verdict is the reference's."""
    rng = random.Random(11)
    pools = ["abcdefghijklmnopqrstuvwxyzAEIOU", "bcdfghjklmnpqrstvwxz", "0123456789", "!\"#$%&'()+,/:;<>?@[]",
             "._-=*", "–—·…", "äöüßéèàçñøÅÉ", "²³¹½¼", "ȀȁɏɐʃΩж", "增值税发票金额", "\ue000\ue011\x07\ufffd"]
    verdicts = set()
    for _ in range(3000):
        weights = [rng.random() ** 3 for _ in pools]
        words = ["".join(rng.choice(rng.choices(pools, weights)[0]) for _ in range(rng.randint(1, 9)))
                 for _ in range(rng.randint(3, 40))]
        text = rng.choice([" ", "\n", "  "]).join(words)
        verdict = looks_garbled(text)
        assert verdict == _looks_garbled_as_first_written(text), text
        verdicts.add(verdict)
    assert verdicts == {True, False}
