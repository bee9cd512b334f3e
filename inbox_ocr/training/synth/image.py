"""Page images of synthetic invoices for the OCR path, optionally with mild, seeded scan damage."""

from __future__ import annotations

import cv2
import numpy as np

from inbox_ocr.read.mupdf import pymupdf


def render_image(pdf: bytes, page: int = 0, dpi: int = 150, degrade: int | None = None) -> bytes:
    """PNG bytes of one page; `degrade` seeds scan noise (rotation up to 2 degrees, blur, grain,
    JPEG artifacts, faded contrast), None gives the clean rendering."""
    with pymupdf.open(stream=pdf, filetype="pdf") as doc:
        pix = doc[page].get_pixmap(dpi=dpi, colorspace=pymupdf.csRGB, alpha=False)
        image = np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.height, pix.width, 3).copy()
    if degrade is not None:
        image = _degrade(image, np.random.default_rng(degrade))
    ok, encoded = cv2.imencode(".png", image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    if not ok:  # pragma: no cover - OpenCV always encodes a valid array
        raise RuntimeError("PNG encoding failed")
    return bytes(encoded.tobytes())


def _degrade(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if rng.random() < 0.6:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    out: np.ndarray = image.astype(np.float32)
    if rng.random() < 0.8:
        alpha, beta = rng.uniform(0.7, 0.95), rng.uniform(8, 40)
        out = (out * alpha + beta).astype(np.float32)
    height, width = out.shape[:2]
    angle = float(rng.uniform(-2.0, 2.0))
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
    border = (245.0, 245.0, 245.0) if out.ndim == 3 else 245.0
    out = cv2.warpAffine(out, matrix, (width, height), flags=cv2.INTER_LINEAR, borderValue=border)
    if rng.random() < 0.7:
        out = cv2.GaussianBlur(out, (0, 0), sigmaX=float(rng.uniform(0.3, 1.0)))
    out = (out + rng.normal(0.0, rng.uniform(2.0, 8.0), size=out.shape)).astype(np.float32)
    result: np.ndarray = np.clip(out, 0, 255).astype(np.uint8)
    if rng.random() < 0.7:
        quality = int(rng.integers(35, 80))
        ok, jpeg = cv2.imencode(".jpg", result, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if ok:
            flag = cv2.IMREAD_GRAYSCALE if result.ndim == 2 else cv2.IMREAD_COLOR
            decoded = cv2.imdecode(jpeg, flag)  # channel order survives the round trip unchanged
            result = decoded if decoded is not None else result
    return result
