"""What `inbox-ocr ocr` and POST /ocr share: the page images of a file, and an OCRed page as JSON."""

from __future__ import annotations

from inbox_ocr.kernel.models import Page
from inbox_ocr.kernel.settings import OcrSettings
from inbox_ocr.read.ocr.images import PageImage, load_image_pages, render_pdf_pages


def page_images(data: bytes, settings: OcrSettings, warnings: list[str]) -> list[PageImage]:
    """The images to OCR: each page of a PDF rendered at `settings.dpi`, or the image's pages."""
    if data[:1024].lstrip().startswith(b"%PDF") or b"%PDF-" in data[:1024]:
        from inbox_ocr.read.text_layer import open_pdf

        pdf = open_pdf(data)  # raises UnreadableDocument for broken or encrypted files
        count = pdf.page_count
        pdf.close()
        if count > settings.max_pages:
            warnings.append(f"the PDF has {count} pages; only the first {settings.max_pages} were OCRed")
        return render_pdf_pages(data, list(range(1, min(count, settings.max_pages) + 1)), settings.dpi,
                                settings.max_pixels)
    return load_image_pages(data, settings.max_pages, settings.max_pixels, warnings)


def page_json(page: Page) -> dict[str, object]:
    """One OCRed page as `inbox-ocr ocr --json` and POST /ocr give it."""
    return {
        "width": round(page.width, 2),
        "height": round(page.height, 2),
        "lines": [{"text": line.text, "confidence": round(line.confidence, 4),
                   "box": [[round(x, 1), round(y, 1)] for x, y in line.box]} for line in page.lines],
    }


__all__ = ["page_images", "page_json"]
