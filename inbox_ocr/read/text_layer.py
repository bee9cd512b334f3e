"""The PDF text layer, with word positions, via pymupdf."""

from __future__ import annotations

import re
import unicodedata
from itertools import islice
from operator import itemgetter

from inbox_ocr.kernel.errors import UnreadableDocument
from inbox_ocr.kernel.models import Page
from inbox_ocr.read.mupdf import pymupdf

# A page with fewer letters and digits than this in its text layer is treated as a scan.
MIN_TEXT_CHARS = 20
# pymupdf's flags for words without TEXT_MEDIABOX_CLIP: that flag drops text outside the page by
# bounding every glyph's outline (loaded from the font), an eighth of pymupdf's word extraction, while
# pymupdf's word extraction drops characters whose box does not overlap the page anyway
WORD_FLAGS = pymupdf.TEXTFLAGS_WORDS & ~pymupdf.TEXT_MEDIABOX_CLIP


def open_pdf(data: bytes) -> pymupdf.Document:
    """Open a PDF from bytes; corrupt or password-protected files raise UnreadableDocument."""
    try:
        pdf = pymupdf.open(stream=data, filetype="pdf")
    except Exception as exc:  # pymupdf raises several unrelated types for broken files
        raise UnreadableDocument(f"not a readable PDF: {exc}") from exc
    if pdf.needs_pass:
        pdf.close()
        raise UnreadableDocument("the PDF is encrypted with a password")
    if pdf.page_count == 0:
        pdf.close()
        raise UnreadableDocument("the PDF has no pages")
    return pdf


def _nfkc(text: str) -> str:
    """A text-layer word in Unicode NFKC: CJK compatibility ideographs (U+F98E for 年), full-width
    digits and letters, ligatures (ﬁ) become the characters labels and values are written with.
    Whitespace it produces (a no-break space) is dropped: a word stays one word."""
    return "".join(unicodedata.normalize("NFKC", text).split()) or text


# The page validated at once from plain data: one call into pydantic's validator per page, not
# a model's __init__ per line and word (a page has hundreds of words)
_page = Page.__pydantic_validator__.validate_python
_WORD_NO = itemgetter(7)  # a pymupdf word's number in its line
_BAND_THEN_LEFT = itemgetter(0, 1)


def page_from_words(number: int, width: float, height: float, words: list[tuple]) -> Page:
    """Group pymupdf words (x0, y0, x1, y1, text, block, line, word_no) into lines, keeping order.
    (Written for speed: a page has a hundred lines, half of them of one word.)"""
    grouped: dict[tuple[int, int], list[tuple]] = {}
    for w in words:
        key = (w[5], w[6])
        same_line = grouped.get(key)
        if same_line is None:
            grouped[key] = [w]
        else:
            same_line.append(w)
    lines: list[tuple[float, float, dict]] = []
    for ws in grouped.values():
        if len(ws) == 1:
            w = ws[0]
            x0, y0, x1, y1, text = w[:5]
            if not text.isascii():
                text = _nfkc(text)
            line_words = [{"text": text, "box": w[:4]}]
        else:
            ws.sort(key=_WORD_NO)
            x0s, y0s, x1s, y1s, texts = list(zip(*ws, strict=True))[:5]
            x0, y0, x1, y1 = min(x0s), min(y0s), max(x1s), max(y1s)
            if not "".join(texts).isascii():
                texts = tuple(t if t.isascii() else _nfkc(t) for t in texts)
            line_words = [{"text": t, "box": w[:4]} for t, w in zip(texts, ws, strict=True)]
            text = " ".join(texts)
        line = {"text": text, "box": ((x0, y0), (x1, y0), (x1, y1), (x0, y1)), "words": line_words}
        lines.append((round(y0 / 3), x0, line))
    # reading order: top to bottom, then left to right, for lines on the same baseline band
    lines.sort(key=_BAND_THEN_LEFT)
    return _page({"number": number, "width": width, "height": height, "lines": [t[2] for t in lines]})


_LETTER_OR_DIGIT = re.compile(r"[^\W_]")  # str.isalnum(), as the regex engine defines \w


def _fewer_letters_and_digits(text: str, count: int) -> bool:
    """Whether `text` has fewer than `count` letters and digits (stops counting at `count`)."""
    return sum(1 for _ in islice(_LETTER_OR_DIGIT.finditer(text), count)) < count


def read_pages(
    pdf: pymupdf.Document, max_pages: int, max_words: int | None = None, warnings: list[str] | None = None
) -> tuple[list[Page], list[int]]:
    """Text-layer pages, and the numbers of pages that have no usable text layer (scans). Pages
    stop once `max_words` words are kept (a note goes to `warnings`): what a document carries
    back to the daemon stays bounded however dense a long PDF is."""
    pages: list[Page] = []
    scanned: list[int] = []
    kept = 0
    for index in range(min(pdf.page_count, max_pages)):
        try:
            page = pdf.load_page(index)
            words = page.get_text("words", sort=False, flags=WORD_FLAGS)
        except Exception as exc:
            raise UnreadableDocument(f"page {index + 1} cannot be read: {exc}") from exc
        if max_words is not None and pages and kept + len(words) > max_words:
            if warnings is not None:
                warnings.append(f"only pages 1-{index} were kept: the document has more than {max_words} "
                                "words (limits.max_document_words)")
            break
        kept += len(words)
        parsed = page_from_words(index + 1, page.rect.width, page.rect.height, words)
        if _fewer_letters_and_digits(parsed.text, MIN_TEXT_CHARS):
            scanned.append(index + 1)
        pages.append(parsed)
    return pages, scanned
