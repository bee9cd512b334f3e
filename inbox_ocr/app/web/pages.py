"""Page images for people: each page of a PDF or image as a PNG, to draw boxes over.

The boxes of lines and fields are in the read page's units (PDF points for a text layer, pixels
of the OCRed image otherwise) and each image shows its whole page, so an SVG with the page's
width and height as its viewBox places them right whatever the image's own size.
"""

from __future__ import annotations

import functools

from inbox_ocr.kernel.errors import InboxOcrError

WIDTH = 1100  # pixels across a rendered page: sharp enough to read, small enough to send
MAX_PAGES = 20


def page_pngs(data: bytes) -> list[bytes]:
    """PNGs of the pages of a PDF or an image (the first MAX_PAGES). Raises InboxOcrError for
    data that is neither."""
    return list(_page_pngs(data))


@functools.lru_cache(maxsize=4)  # a reviewer's browser asks for one page after another (a few files held)
def _page_pngs(data: bytes) -> tuple[bytes, ...]:
    import cv2

    if data[:1024].lstrip().startswith(b"%PDF") or b"%PDF-" in data[:1024]:
        from inbox_ocr.read.mupdf import pymupdf
        from inbox_ocr.read.text_layer import open_pdf

        pdf = open_pdf(data)
        try:
            out = []
            for index in range(min(pdf.page_count, MAX_PAGES)):
                page = pdf[index]
                zoom = WIDTH / max(page.rect.width, 1.0)
                out.append(page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), alpha=False).tobytes("png"))
            return tuple(out)
        finally:
            pdf.close()
    from inbox_ocr.read.ocr.images import load_image_pages

    out = []
    for image in load_image_pages(data, MAX_PAGES, 40_000_000, []):
        pixels = image.pixels
        height, width = pixels.shape[:2]
        if width > WIDTH * 1.5:
            pixels = cv2.resize(pixels, (WIDTH, round(height * WIDTH / width)), interpolation=cv2.INTER_AREA)
        ok, png = cv2.imencode(".png", cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR))
        if not ok:
            raise InboxOcrError("the page could not be encoded as PNG")
        out.append(png.tobytes())
    return tuple(out)
