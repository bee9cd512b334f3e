"""Fixtures for the OCR core: one engine per session, invoice pages rendered with pymupdf."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pymupdf
import pytest
from PIL import Image

from inbox_ocr.kernel.settings import OcrSettings
from inbox_ocr.read.ocr import OcrEngine, PageImage, get_engine

SROIE = Path(__file__).resolve().parents[3] / ".." / "shared" / "datasets" / "sroie-dev"

# Lines of a made-up invoice, each drawn at its own height so that each is one line of the page.
INVOICE_LINES = (
    "Nordlicht Bürobedarf GmbH",
    "Hafenstrasse 12, 20457 Hamburg",
    "INVOICE 2024-0815",
    "Invoice date: 14.03.2024",
    "Customer number: K-99812",
    "Office chairs, model Aria 4 x 189.00",
    "Printer paper A4, 20 boxes 143.80",
    "Subtotal EUR 899.80",
    "VAT 19% EUR 170.96",
    "Total EUR 1070.76",
    "IBAN DE89 3704 0044 0532 0130 00",
    "Payment due within 30 days.",
)


@dataclass(frozen=True)
class RenderedPage:
    pixels: np.ndarray  # RGB
    lines: tuple[str, ...]
    word_boxes: dict[str, tuple[float, float, float, float]]  # word -> pixel box, for unique words
    dpi: int


def render_invoice(dpi: int = 150) -> RenderedPage:
    """An A4 page with INVOICE_LINES in Helvetica, rendered to pixels; also where each word is."""
    doc = pymupdf.open()
    page = doc.new_page(width=595, height=842)
    y = 80.0
    for k, text in enumerate(INVOICE_LINES):
        size = 18 if k in (0, 2) else 12
        page.insert_text((60, y), text, fontsize=size, fontname="helv")
        y += size * 2.4
    zoom = dpi / 72
    pix = page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), alpha=False)
    pixels = np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.height, pix.width, 3).copy()
    words: dict[str, list[tuple[float, float, float, float]]] = {}
    for x0, y0, x1, y1, text, *_ in page.get_text("words"):
        words.setdefault(text, []).append((x0 * zoom, y0 * zoom, x1 * zoom, y1 * zoom))
    doc.close()
    unique = {w: boxes[0] for w, boxes in words.items() if len(boxes) == 1}
    return RenderedPage(pixels, INVOICE_LINES, unique, dpi)


def image_bytes(pixels: np.ndarray, fmt: str = "PNG", **save_args: object) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format=fmt, **save_args)
    return buf.getvalue()


def cer(truth: str, guess: str) -> float:
    """Character error rate: Levenshtein distance over the length of the truth."""
    prev = list(range(len(guess) + 1))
    for i, a in enumerate(truth, 1):
        cur = [i]
        for j, b in enumerate(guess, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a != b)))
        prev = cur
    return prev[-1] / max(1, len(truth))


@pytest.fixture(scope="session")
def engine() -> OcrEngine:
    return get_engine(OcrSettings())


@pytest.fixture(scope="session")
def invoice() -> RenderedPage:
    return render_invoice()


@pytest.fixture(scope="session")
def clean_page(engine: OcrEngine, invoice: RenderedPage):  # type: ignore[no-untyped-def]
    return engine.read_page(PageImage(1, invoice.pixels, 1.0))
