"""Degraded copies of a page image (RGB uint8), for bench_ocr_degraded.py and the OCR tests.

Each condition imitates how a finance inbox receives a page: fed crooked through a scanner
(rotation), photographed on a desk with a phone (perspective, background, uneven light, a shadow
across it), sent as a small blurry JPEG, or printed on thermal paper that has faded.
"""

from __future__ import annotations

import cv2
import numpy as np

CONDITIONS = ("clean", "rotate 5", "rotate 20", "rotate 45", "photo", "blur+jpeg", "shadow", "faded")


def rotate(pixels: np.ndarray, degrees: float) -> np.ndarray:
    """The page turned counter-clockwise by `degrees` on a canvas that holds all of it, white around."""
    h, w = pixels.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    new_w, new_h = int(h * sin + w * cos) + 1, int(h * cos + w * sin) + 1
    matrix[0, 2] += new_w / 2 - w / 2
    matrix[1, 2] += new_h / 2 - h / 2
    return cv2.warpAffine(pixels, matrix, (new_w, new_h), borderValue=(255, 255, 255))


def photo(pixels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The page lying on a darker desk, seen from a corner (photo_and_matrix)."""
    return photo_and_matrix(pixels, rng)[0]


def photo_and_matrix(pixels: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The page lying on a darker desk, seen from a corner: each page corner moved inwards by up to
    12% of the side, a grey-brown background, light falling off from one side; and the 3×3 matrix
    from the page's pixels to the photo's."""
    h, w = pixels.shape[:2]
    margin = int(0.12 * max(h, w))
    out_w, out_h = w + 2 * margin, h + 2 * margin
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    jitter = rng.uniform(0, 0.12, (4, 2)) * [w, h]
    signs = np.float32([[1, 1], [-1, 1], [-1, -1], [1, -1]])
    target = corners + margin + signs * jitter
    matrix = cv2.getPerspectiveTransform(corners, target.astype(np.float32))
    desk = tuple(int(v) for v in rng.integers(70, 130, 3))
    image = cv2.warpPerspective(pixels, matrix, (out_w, out_h), flags=cv2.INTER_LINEAR, borderValue=desk)
    ramp = np.linspace(rng.uniform(0.65, 0.8), 1.0, out_w, dtype=np.float32)
    if rng.random() < 0.5:
        ramp = ramp[::-1]
    shaded = image.astype(np.float32) * ramp[None, :, None]
    return np.clip(shaded, 0, 255).astype(np.uint8), matrix


def blur_jpeg(pixels: np.ndarray) -> np.ndarray:
    """Gaussian blur (sigma 1.2) and JPEG quality 35."""
    blurred = cv2.GaussianBlur(pixels, (0, 0), 1.2)
    ok, data = cv2.imencode(".jpg", blurred[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 35])
    assert ok
    return cv2.imdecode(data, cv2.IMREAD_COLOR)[:, :, ::-1].copy()


def shadow(pixels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A hand's or a phone's shadow over part of the page: light down to 35-50% behind a soft edge
    running across the page at a random angle and place."""
    h, w = pixels.shape[:2]
    angle = rng.uniform(0, np.pi)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    along = (xs - w / 2) * np.cos(angle) + (ys - h / 2) * np.sin(angle)
    edge = rng.uniform(-0.25, 0.25) * min(h, w)
    softness = 0.04 * min(h, w)
    dark = rng.uniform(0.35, 0.5)
    light = dark + (1 - dark) / (1 + np.exp(-(along - edge) / softness))
    return np.clip(pixels.astype(np.float32) * light[:, :, None], 0, 255).astype(np.uint8)


def faded(pixels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Faded thermal paper: ink at 25-35% of its contrast on a slightly grey, slightly noisy paper."""
    keep = rng.uniform(0.25, 0.35)
    paper = rng.uniform(225, 240)
    image = paper - (255.0 - pixels.astype(np.float32)) * keep
    image += rng.normal(0, 3, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def degrade(pixels: np.ndarray, condition: str, rng: np.random.Generator) -> np.ndarray:
    """The page under one of CONDITIONS; rotations take a random sign."""
    if condition == "clean":
        return pixels
    if condition.startswith("rotate "):
        return rotate(pixels, float(condition.split()[1]) * rng.choice([-1, 1]))
    if condition == "photo":
        return photo(pixels, rng)
    if condition == "blur+jpeg":
        return blur_jpeg(pixels)
    if condition == "shadow":
        return shadow(pixels, rng)
    if condition == "faded":
        return faded(pixels, rng)
    raise ValueError(f"unknown condition {condition!r}; known: {', '.join(CONDITIONS)}")
