"""Golden tests on rendered invoice pages: exact text when clean, bounded CER when degraded."""

from __future__ import annotations

import cv2
import numpy as np
import pymupdf
import pytest

from inbox_ocr.read.ocr import OcrEngine, PageImage
from tests.benchmarks.degrade import rotate
from tests.unit.ocr.conftest import RenderedPage, cer, render_invoice


def test_clean_page_reads_every_line_exactly_in_order(clean_page, invoice: RenderedPage) -> None:
    assert [line.text for line in clean_page.lines] == list(invoice.lines)


def test_confidences_are_high_on_a_clean_page(clean_page) -> None:
    assert all(0.8 < line.confidence <= 1.0 for line in clean_page.lines)


def test_word_boxes_sit_on_the_printed_words(clean_page, invoice: RenderedPage) -> None:
    checked = 0
    for line in clean_page.lines:
        for word in line.words:
            truth = invoice.word_boxes.get(word.text)
            if truth is None:
                continue
            cx, cy = (word.box[0] + word.box[2]) / 2, (word.box[1] + word.box[3]) / 2
            # the centre of our box lies inside the word as pymupdf drew it (a few px slack)
            assert truth[0] - 3 <= cx <= truth[2] + 3, (word.text, word.box, truth)
            assert truth[1] - 3 <= cy <= truth[3] + 3, (word.text, word.box, truth)
            checked += 1
    assert checked >= 30


def _page_text(engine: OcrEngine, pixels: np.ndarray) -> str:
    return engine.read_page(PageImage(1, pixels, 1.0)).text


def _jpeg(pixels: np.ndarray, quality: int) -> np.ndarray:
    ok, enc = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return cv2.imdecode(enc, cv2.IMREAD_UNCHANGED)


def _noise(pixels: np.ndarray, sigma: float) -> np.ndarray:
    rng = np.random.default_rng(7)
    return np.clip(pixels + rng.normal(0, sigma, pixels.shape), 0, 255).astype(np.uint8)


DEGRADATIONS = {
    "blur": (lambda p: cv2.GaussianBlur(p, (5, 5), 1.2), 0.03),
    "noise": (lambda p: _noise(p, 25), 0.03),
    "skew_2deg": (lambda p: rotate(p, 2.0), 0.03),
    "jpeg_q20": (lambda p: _jpeg(p, 20), 0.03),
    "all_together": (lambda p: _jpeg(_noise(rotate(cv2.GaussianBlur(p, (3, 3), 0.8), -1.5), 15), 35), 0.06),
    "rotated_90": (lambda p: cv2.rotate(p, cv2.ROTATE_90_CLOCKWISE), 0.03),
    "rotated_270": (lambda p: cv2.rotate(p, cv2.ROTATE_90_COUNTERCLOCKWISE), 0.03),
    "upside_down": (lambda p: cv2.rotate(p, cv2.ROTATE_180), 0.03),
    # crooked scans and photos: the page is straightened (deskew) before its lines are read
    "skew_20deg": (lambda p: rotate(p, 20.0), 0.03),
    "skew_minus_35deg": (lambda p: rotate(p, -35.0), 0.03),
    "upside_down_skew_12deg": (lambda p: rotate(p, 192.0), 0.03),
}


@pytest.mark.parametrize("name", list(DEGRADATIONS))
def test_degraded_page_stays_within_cer_bound(engine: OcrEngine, invoice: RenderedPage, name: str) -> None:
    degrade, bound = DEGRADATIONS[name]
    text = _page_text(engine, degrade(invoice.pixels))
    assert cer("\n".join(invoice.lines), text) <= bound, text


def test_low_resolution_fax_like_page_is_still_read(engine: OcrEngine) -> None:
    fax = render_invoice(dpi=100)
    binary = np.where(cv2.cvtColor(fax.pixels, cv2.COLOR_RGB2GRAY) > 160, 255, 0).astype(np.uint8)
    text = _page_text(engine, cv2.cvtColor(binary, cv2.COLOR_GRAY2RGB))
    assert cer("\n".join(fax.lines), text) <= 0.08, text


def test_blank_page_gives_no_lines(engine: OcrEngine) -> None:
    page = engine.read_page(PageImage(1, np.full((800, 600, 3), 255, np.uint8), 1.0))
    assert page.lines == ()
    assert (page.width, page.height) == (600, 800)


SMALL_PRINT = (
    "Amtsgericht Hamburg HRB 123456, USt-IdNr. DE123456789, Geschaeftsfuehrer: Max Mustermann",
    "Bankverbindung: Hamburger Sparkasse, IBAN DE89 3704 0044 0532 0130 00, BIC HASPDEHHXXX",
    "Es gelten unsere Allgemeinen Geschaeftsbedingungen in der Fassung vom 01.01.2024.",
)


def test_long_lines_of_small_print_are_not_taken_for_upside_down(engine: OcrEngine) -> None:
    # a footer of long 7-10 pt lines: squeezed into the direction classifier's 48x192 input they
    # once voted the whole page upside down
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=380)
    y = 40.0
    for size in (7, 8, 9, 10):
        for text in SMALL_PRINT:
            page.insert_text((40, y), text, fontsize=size)
            y += size * 2
        y += 20
    pix = page.get_pixmap(dpi=200, alpha=False)
    pixels = np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.height, pix.width, 3).copy()
    truth = "\n".join(list(SMALL_PRINT) * 4)
    for image in (pixels, cv2.rotate(pixels, cv2.ROTATE_180)):
        text = engine.read_page(PageImage(1, image, 1.0)).text
        assert cer(truth, text) <= 0.03, text  # read upside down it would be near 1
