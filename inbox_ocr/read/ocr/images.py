"""Pages as RGB pixel arrays: image files (EXIF orientation, multi-page TIFF, limits) and PDF pages
rendered with pymupdf. Corrupt input raises UnreadableDocument for that one file."""

from __future__ import annotations

import io
import math
import warnings as _warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from inbox_ocr.kernel.errors import UnreadableDocument

# Pillow refuses images above 2x this as "decompression bombs"; our own pixel limit downscales
# long before that, so the guard only needs to catch absurd headers.
Image.MAX_IMAGE_PIXELS = 400_000_000


@dataclass(frozen=True)
class PageImage:
    """A page ready for OCR: RGB uint8 pixels, and the factor from pixels to page units
    (1 for images, 72/dpi for PDFs, so boxes come out in PDF points)."""

    number: int
    pixels: np.ndarray
    scale: float
    size: tuple[float, float] | None = None  # (width, height) in page units when known exactly


def load_image_pages(data: bytes, max_pages: int, max_pixels: int, warnings: list[str]) -> list[PageImage]:
    """Every frame of an image file (TIFF may hold many), EXIF-rotated, downscaled to max_pixels."""
    if is_heif(data):
        _register_heif()
    try:
        with _warnings.catch_warnings():
            _warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            frames = getattr(image, "n_frames", 1)
            if frames > max_pages:
                warnings.append(f"the image has {frames} pages; only the first {max_pages} were read")
            pages: list[PageImage] = []
            for index, frame in enumerate(ImageSequence.Iterator(image)):
                if index >= max_pages:
                    break
                upright = ImageOps.exif_transpose(frame)
                pixels = _to_rgb(upright)
                pixels, factor = _bounded(pixels, max_pixels)
                if factor < 1:
                    warnings.append(f"page {index + 1} was downscaled to {max_pixels} pixels for OCR")
                pages.append(PageImage(index + 1, pixels, 1.0 / factor, (upright.width, upright.height)))
    except UnidentifiedImageError as exc:
        raise UnreadableDocument("not a readable image: unknown or corrupt image format") from exc
    except (OSError, ValueError, SyntaxError, EOFError) as exc:  # Pillow's errors for truncated data
        raise UnreadableDocument(f"not a readable image: {exc}") from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise UnreadableDocument(f"the image is too large to read: {exc}") from exc
    if not pages:
        raise UnreadableDocument("the image has no frames")
    return pages


_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif")


def is_heif(data: bytes) -> bool:
    """An HEIF container (an iPhone's HEIC photo): `ftyp` and an image brand at offset 4."""
    return data[4:8] == b"ftyp" and data[8:12] in _HEIF_BRANDS


def _register_heif() -> None:
    """Teach Pillow HEIC/HEIF (pillow-heif), once, when the first such photo comes."""
    import pillow_heif

    if not getattr(_register_heif, "done", False):
        pillow_heif.register_heif_opener()
        _register_heif.done = True  # type: ignore[attr-defined]


def _to_rgb(image: Image.Image) -> np.ndarray:
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        # transparent areas become white paper, not black
        rgba = image.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(canvas, rgba)
    elif image.mode in ("I;16", "I;16B", "I;16L", "I"):
        arr = np.asarray(image, dtype=np.float32)
        peak = float(arr.max()) or 1.0
        image = Image.fromarray((arr * (255.0 / peak)).astype(np.uint8))
    return np.ascontiguousarray(np.asarray(image.convert("RGB")))


def _bounded(pixels: np.ndarray, max_pixels: int) -> tuple[np.ndarray, float]:
    import cv2

    h, w = pixels.shape[:2]
    if h * w <= max_pixels:
        return pixels, 1.0
    factor = math.sqrt(max_pixels / (h * w))
    size = (max(1, int(w * factor)), max(1, int(h * factor)))
    # report the factor actually applied (sizes are rounded down to whole pixels)
    return cv2.resize(pixels, size, interpolation=cv2.INTER_AREA), size[0] / w


def render_pdf_pages(data: bytes, numbers: list[int], dpi: int, max_pixels: int) -> list[PageImage]:
    """Render the given 1-based pages at `dpi`, lowered per page to stay under max_pixels."""
    from inbox_ocr.read.mupdf import pymupdf  # here: OCR of an image does not load pymupdf (0.1 s)

    try:
        pdf = pymupdf.open(stream=data, filetype="pdf")
    except Exception as exc:  # pymupdf raises several unrelated types for broken files
        raise UnreadableDocument(f"not a readable PDF: {exc}") from exc
    try:
        pages = []
        for number in numbers:
            try:
                page = pdf.load_page(number - 1)
                w_pt, h_pt = page.rect.width, page.rect.height
                zoom = dpi / 72.0
                if w_pt * h_pt * zoom * zoom > max_pixels:
                    zoom = math.sqrt(max_pixels / (w_pt * h_pt))
                pix = page.get_pixmap(
                    matrix=pymupdf.Matrix(zoom, zoom), alpha=False, colorspace=pymupdf.csRGB
                )
            except Exception as exc:
                raise UnreadableDocument(f"page {number} cannot be rendered: {exc}") from exc
            pixels = (
                np.frombuffer(pix.samples, dtype=np.uint8)
                .reshape(pix.height, pix.width, pix.n)[:, :, :3]
                .copy()
            )
            pages.append(PageImage(number, pixels, 1.0 / zoom, (w_pt, h_pt)))
        return pages
    finally:
        pdf.close()
