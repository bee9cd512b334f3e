"""The CRNN OCR core: DB text detection + CTC line recognition on ONNX Runtime, our own pipeline.

Public entry points: `ocr_image_bytes` and `ocr_pdf_pages` (used by the read stage), and
`OcrEngine`/`get_engine` for callers that manage pages themselves (CLI, benchmarks).
"""

from __future__ import annotations

from inbox_ocr.kernel.models import Page
from inbox_ocr.kernel.settings import OcrSettings
from inbox_ocr.read.ocr.engine import OcrEngine, get_engine
from inbox_ocr.read.ocr.images import PageImage, load_image_pages, render_pdf_pages


def ocr_image_bytes(data: bytes, settings: OcrSettings, warnings: list[str]) -> list[Page]:
    """OCR every page of an image file (PNG, JPEG, TIFF incl. multi-page, BMP, WebP, GIF)."""
    pages = load_image_pages(data, settings.max_pages, settings.max_pixels, warnings)
    return _noted(get_engine(settings).read_pages(pages), warnings)


def ocr_pdf_pages(data: bytes, numbers: list[int], settings: OcrSettings, warnings: list[str]) -> list[Page]:
    """OCR the given 1-based pages of a PDF, rendered at settings.dpi; boxes in PDF points."""
    if len(numbers) > settings.max_pages:
        warnings.append(
            f"{len(numbers)} pages need OCR; only the first {settings.max_pages} were OCRed (ocr.max_pages)"
        )
        numbers = numbers[: settings.max_pages]
    pages = render_pdf_pages(data, numbers, settings.dpi, settings.max_pixels)
    return _noted(get_engine(settings).read_pages(pages), warnings)


def _noted(pages: list[Page], warnings: list[str]) -> list[Page]:
    """The pages, their warnings added to the document's."""
    warnings.extend(w for page in pages for w in page.warnings)
    return pages


__all__ = [
    "OcrEngine",
    "PageImage",
    "get_engine",
    "load_image_pages",
    "ocr_image_bytes",
    "ocr_pdf_pages",
    "render_pdf_pages",
]
