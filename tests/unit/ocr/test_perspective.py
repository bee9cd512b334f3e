"""A phone photo of a page is looked at square on; nothing else is ever cut."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from inbox_ocr.kernel.settings import OcrSettings
from inbox_ocr.read.ocr import OcrEngine, PageImage
from inbox_ocr.read.ocr.perspective import find_page
from tests.benchmarks.degrade import photo_and_matrix
from tests.unit.ocr.conftest import RenderedPage


def _bgr(pixels: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(pixels[:, :, ::-1])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_page_of_a_photo_is_found_and_read_line_by_line(
    engine: OcrEngine, invoice: RenderedPage, seed: int
) -> None:
    image, matrix = photo_and_matrix(invoice.pixels, np.random.default_rng(seed))
    corners = find_page(_bgr(image), engine.detector(_bgr(image)))
    assert corners is not None
    h, w = invoice.pixels.shape[:2]
    truth = cv2.perspectiveTransform(np.array([[[0, 0], [w, 0], [w, h], [0, h]]], np.float32), matrix)[0]
    assert np.abs(corners - truth).max() < 0.02 * max(w, h)

    page = engine.read_page(PageImage(1, image, 1.0))
    assert [line.text for line in page.lines] == list(invoice.lines)
    words = {word.text: word for line in page.lines for word in line.words}
    checked = 0
    for text, (x0, y0, x1, y1) in invoice.word_boxes.items():
        if text in words:  # the word's centre on the photo lies in the box given for it
            (cx, cy), = cv2.perspectiveTransform(np.array([[[(x0 + x1) / 2, (y0 + y1) / 2]]], np.float32), matrix)[0]
            bx0, by0, bx1, by1 = words[text].box
            assert bx0 - 4 <= cx <= bx1 + 4 and by0 - 4 <= cy <= by1 + 4, text
            checked += 1
    assert checked >= 20


def test_a_scan_without_background_is_left_as_it_is(engine: OcrEngine, invoice: RenderedPage) -> None:
    assert find_page(_bgr(invoice.pixels), engine.detector(_bgr(invoice.pixels))) is None


def test_a_frame_printed_on_the_page_is_not_taken_for_the_page(engine: OcrEngine, invoice: RenderedPage) -> None:
    framed = invoice.pixels.copy()
    h, w = framed.shape[:2]
    # a dark box around the middle of the page, most lines inside it, some above and below
    cv2.rectangle(framed, (40, int(0.2 * h)), (w - 40, int(0.6 * h)), (20, 20, 20), 6)
    assert find_page(_bgr(framed), engine.detector(_bgr(framed))) is None
    page = engine.read_page(PageImage(1, framed, 1.0))
    assert [line.text for line in page.lines] == list(invoice.lines)


def test_perspective_can_be_turned_off(invoice: RenderedPage, caplog: pytest.LogCaptureFixture) -> None:
    image, _ = photo_and_matrix(invoice.pixels, np.random.default_rng(1))
    with caplog.at_level("DEBUG", logger="inbox_ocr.read.ocr.engine"):
        OcrEngine(OcrSettings(perspective=False)).read_page(PageImage(1, image, 1.0))
        assert "event=ocr_perspective" not in caplog.text
        OcrEngine(OcrSettings(perspective=True)).read_page(PageImage(1, image, 1.0))
        assert "event=ocr_perspective page=1" in caplog.text
