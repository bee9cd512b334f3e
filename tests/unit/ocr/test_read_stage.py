"""The OCR core as the read stage uses it: file formats, scanned PDFs, limits, bad input."""

from __future__ import annotations

import hashlib
import io

import cv2
import numpy as np
import pymupdf
from PIL import Image

from inbox_ocr.kernel.settings import OcrSettings
from inbox_ocr.read import read_document
from tests.unit.ocr.conftest import RenderedPage, cer, image_bytes


def _read(data: bytes, content_type: str, ocr: OcrSettings | None = None):  # type: ignore[no-untyped-def]
    return read_document(
        data, filename="scan", content_type=content_type, sha256=hashlib.sha256(data).hexdigest(), ocr=ocr
    )


def _small(invoice: RenderedPage) -> np.ndarray:
    """The top third of the invoice (faster to OCR, still 7 lines)."""
    return invoice.pixels[: invoice.pixels.shape[0] // 3]


def test_png_is_ocred_into_lines_with_words(invoice: RenderedPage) -> None:
    doc = _read(image_bytes(_small(invoice)), "image/png")
    assert doc.reading == "ocr" and doc.error is None
    assert "INVOICE 2024-0815" in doc.text.splitlines()
    assert all(line.words for line in doc.pages[0].lines)


def test_scanned_pdf_is_ocred_with_boxes_in_pdf_points(invoice: RenderedPage) -> None:
    pdf = pymupdf.open()
    page = pdf.new_page(width=595, height=842)
    page.insert_image(page.rect, stream=image_bytes(invoice.pixels, "JPEG", quality=85))
    data = pdf.tobytes()
    doc = _read(data, "application/pdf")
    assert doc.reading == "ocr"
    read = doc.pages[0]
    assert (round(read.width), round(read.height)) == (595, 842)
    assert cer("\n".join(invoice.lines), doc.text) <= 0.02
    total = next(line for line in read.lines if line.text.startswith("Total"))
    drawn = [v * 72 / invoice.dpi for v in invoice.word_boxes["Total"]]  # where pymupdf put it, in pt
    assert abs(total.bbox[0] - drawn[0]) < 6 and abs(total.bbox[1] - drawn[1]) < 6


def test_multi_page_tiff_gives_one_page_per_frame(invoice: RenderedPage) -> None:
    first = Image.fromarray(_small(invoice))
    second = Image.fromarray(cv2.rotate(_small(invoice), cv2.ROTATE_180))
    buf = io.BytesIO()
    first.save(buf, format="TIFF", save_all=True, append_images=[second], compression="tiff_lzw")
    doc = _read(buf.getvalue(), "image/tiff")
    assert [p.number for p in doc.pages] == [1, 2]
    assert doc.pages[0].text == doc.pages[1].text
    assert "Invoice date: 14.03.2024" in doc.pages[1].text


def test_exif_orientation_is_respected(invoice: RenderedPage) -> None:
    # a phone stores the pixels sideways and says so in the EXIF Orientation tag (6 = turn 90° CW)
    stored = cv2.rotate(_small(invoice), cv2.ROTATE_90_COUNTERCLOCKWISE)
    exif = Image.Exif()
    exif[0x0112] = 6
    data = image_bytes(stored, "JPEG", quality=90, exif=exif.tobytes())
    doc = _read(data, "image/jpeg", OcrSettings(detect_orientation=False))
    assert "Customer number: K-99812" in doc.text.splitlines()
    assert doc.pages[0].width > doc.pages[0].height


def test_webp_and_bmp_are_read(invoice: RenderedPage) -> None:
    strip = _small(invoice)[:400]
    for fmt, ctype in (("WEBP", "image/webp"), ("BMP", "image/bmp")):
        doc = _read(image_bytes(strip, fmt, **({"quality": 90} if fmt == "WEBP" else {})), ctype)
        assert "Nordlicht Bürobedarf GmbH" in doc.text.splitlines(), fmt


def test_huge_image_is_downscaled_with_a_warning(invoice: RenderedPage) -> None:
    doc = _read(image_bytes(invoice.pixels), "image/png", OcrSettings(max_pixels=1_000_000))
    assert any("downscaled" in w for w in doc.warnings)
    assert round(doc.pages[0].width) == invoice.pixels.shape[1]  # boxes stay in the file's pixels
    assert "INVOICE 2024-0815" in doc.text.splitlines()


def test_page_limit_cuts_with_a_warning() -> None:
    frames = [Image.new("RGB", (200, 100), "white") for _ in range(4)]
    buf = io.BytesIO()
    frames[0].save(buf, format="TIFF", save_all=True, append_images=frames[1:])
    doc = _read(buf.getvalue(), "image/tiff", OcrSettings(max_pages=2))
    assert len(doc.pages) == 2
    assert any("only the first 2" in w for w in doc.warnings)


def test_corrupt_image_is_an_error_for_that_document_only(invoice: RenderedPage) -> None:
    good = image_bytes(_small(invoice), "JPEG")
    for data in (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, good[: len(good) // 3], b"not an image"):
        doc = _read(data, "image/png")
        assert doc.reading == "unreadable"
        assert doc.error and "image" in doc.error


def test_corrupt_pdf_is_an_error_for_that_document_only() -> None:
    doc = _read(b"%PDF-1.7\n1 0 obj <<>> garbage", "application/pdf")
    assert doc.reading == "unreadable" and doc.error


def test_ocr_disabled_records_needs_ocr(invoice: RenderedPage) -> None:
    doc = _read(image_bytes(_small(invoice)), "image/png", OcrSettings(enabled=False))
    assert doc.reading == "needs_ocr" and doc.pages == ()
