"""Deskew: a crooked page is straightened before its lines are read, and its boxes stay where the
words are printed on the page as given."""

from __future__ import annotations

import numpy as np
import pytest

from inbox_ocr.kernel.settings import OcrSettings
from inbox_ocr.read.ocr import OcrEngine, PageImage
from inbox_ocr.read.ocr.deskew import page_skew, rotate_page
from tests.unit.ocr.conftest import RenderedPage


@pytest.mark.parametrize("degrees", [-40.0, -20.0, -5.0, 3.0, 12.0, 30.0])
def test_the_skew_is_read_from_the_detected_lines(engine: OcrEngine, invoice: RenderedPage, degrees: float) -> None:
    turned, _ = rotate_page(invoice.pixels[:, :, ::-1], degrees)
    # rotate_page turns counter-clockwise: the lines then rise to the right, which page_skew gives
    # as a negative angle (image y grows downwards)
    assert page_skew(engine.detector(turned)) == pytest.approx(-degrees, abs=1.0)


def test_a_straight_page_is_not_turned(engine: OcrEngine, invoice: RenderedPage) -> None:
    assert abs(page_skew(engine.detector(invoice.pixels[:, :, ::-1]))) < 0.5


def test_boxes_of_a_crooked_page_sit_on_its_printed_words(engine: OcrEngine, invoice: RenderedPage) -> None:
    degrees = 18.0
    turned, matrix = rotate_page(invoice.pixels, degrees)
    page = engine.read_page(PageImage(1, turned, 1.0))
    assert [line.text for line in page.lines] == list(invoice.lines)
    assert (page.width, page.height) == (turned.shape[1], turned.shape[0])
    words = {w.text: w for line in page.lines for w in line.words}
    checked = 0
    for text, (x0, y0, x1, y1) in invoice.word_boxes.items():
        if text not in words:
            continue
        # where the word's centre went on the turned page
        cx, cy, _ = matrix @ np.array([(x0 + x1) / 2, (y0 + y1) / 2, 1.0])
        bx0, by0, bx1, by1 = words[text].box
        assert bx0 - 4 <= cx <= bx1 + 4 and by0 - 4 <= cy <= by1 + 4, (text, (cx, cy), words[text].box)
        checked += 1
    assert checked >= 20


def test_deskew_off_leaves_a_crooked_page_crooked(invoice: RenderedPage) -> None:
    straight = OcrEngine(OcrSettings(deskew=True))
    as_given = OcrEngine(OcrSettings(deskew=False))
    turned, _ = rotate_page(invoice.pixels, 25.0)
    assert [line.text for line in straight.read_page(PageImage(1, turned, 1.0)).lines] == list(invoice.lines)
    assert [line.text for line in as_given.read_page(PageImage(1, turned, 1.0)).lines] != list(invoice.lines)


def test_rotate_page_keeps_the_whole_page_and_fills_with_its_border_colour() -> None:
    page = np.full((100, 200, 3), 230, np.uint8)
    page[40:60, 20:180] = 0
    turned, matrix = rotate_page(page, 30.0)
    assert turned.shape[0] > 100 and turned.shape[1] > 200
    assert tuple(turned[0, 0]) == (230, 230, 230)
    corners = (np.array([[0, 0, 1], [199, 0, 1], [199, 99, 1], [0, 99, 1]], dtype=float) @ matrix.T)[:, :2]
    assert corners.min() >= -1 and (corners[:, 0] <= turned.shape[1]).all() and (corners[:, 1] <= turned.shape[0]).all()
    dark = int(np.count_nonzero(turned[:, :, 0] < 100))
    assert dark == pytest.approx(20 * 160, rel=0.1)  # the printed bar is all there
