"""Page deskew from the detector's own line boxes.

A page fed or photographed at an angle gives line boxes at that angle; rows in reading order then
run into each other and the detector splits and merges lines. The skew is the width-weighted median
direction of the line-like boxes (at least three times as wide as tall); a page skewed by at least
`MIN_SKEW` degrees (up to ±45) is turned upright on a larger canvas and detected again. Boxes are
mapped back to the page as given, so positions stay those of the file a person looks at.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from inbox_ocr.read.ocr.detect import TextBox

MIN_SKEW = 1.5  # degrees; below this, reading order and crops cope (measured, bench_ocr_degraded.py)
_MIN_LINES = 3


def page_skew(boxes: list[TextBox]) -> float:
    """The page's text direction in degrees (positive: lines fall to the right, y grows down),
    0.0 when fewer than three line-like boxes say so."""
    angles, weights = [], []
    for box in boxes:
        q = box.quad
        if box.width < 3 * box.height:
            continue
        # the long sides of the quad; order_quad gives tl, tr, br, bl for boxes under 45 degrees
        dx, dy = (q[1] - q[0]) + (q[2] - q[3])
        if dx <= 0:
            continue
        angles.append(math.degrees(math.atan2(dy, dx)))
        weights.append(box.width)
    if len(angles) < _MIN_LINES:
        return 0.0
    order = np.argsort(angles)
    cumulative = np.cumsum(np.asarray(weights)[order])
    return float(np.asarray(angles)[order][np.searchsorted(cumulative, cumulative[-1] / 2)])


def rotate_page(image: np.ndarray, degrees: float) -> tuple[np.ndarray, np.ndarray]:
    """The image turned by `degrees` (counter-clockwise as shown) on a canvas large enough for all
    of it, the new corners filled with the page's border colour; and the 3×3 matrix from the
    original's pixels to the turned image's."""
    h, w = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    new_w, new_h = int(math.ceil(h * sin + w * cos)), int(math.ceil(h * cos + w * sin))
    matrix[0, 2] += new_w / 2 - w / 2
    matrix[1, 2] += new_h / 2 - h / 2
    border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
    fill = tuple(int(v) for v in np.median(border, axis=0))
    turned = cv2.warpAffine(image, matrix, (new_w, new_h), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=fill)  # fmt: skip
    return turned, np.vstack([matrix, [0.0, 0.0, 1.0]])


def crop_to_text(image: np.ndarray, matrix: np.ndarray, boxes: list[TextBox]) -> tuple[np.ndarray, np.ndarray]:
    """The straightened image cut to where the text of the first detection went (plus a margin), and
    the matrix to it: a page turned by 45 degrees grows by 40% each way, and the detector's input is
    bounded, so the empty corners would cost resolution."""
    if not boxes:
        return image, matrix
    points = apply(matrix, np.concatenate([b.quad for b in boxes]))
    h, w = image.shape[:2]
    margin = 0.03 * max(h, w)
    x0, y0 = (max(0, int(v - margin)) for v in points.min(axis=0))
    x1, y1 = int(min(w, points[:, 0].max() + margin)), int(min(h, points[:, 1].max() + margin))
    if x1 - x0 < 32 or y1 - y0 < 32:
        return image, matrix
    shift = np.array([[1.0, 0.0, -x0], [0.0, 1.0, -y0], [0.0, 0.0, 1.0]])
    return np.ascontiguousarray(image[y0:y1, x0:x1]), shift @ matrix


def apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """N×2 points through a 3×3 (affine or perspective) matrix."""
    moved = np.c_[points, np.ones(len(points))] @ matrix.T
    return moved[:, :2] / moved[:, 2:3]


def map_back(box: TextBox, matrix: np.ndarray, width: int, height: int) -> TextBox:
    """A box found on the straightened image, in the page's pixels (clipped to it); `matrix` (3×3)
    takes the page's pixels to the straightened image's."""
    quad = apply(np.linalg.inv(matrix), box.quad.astype(np.float64))
    quad[:, 0] = np.clip(quad[:, 0], 0, width - 1)
    quad[:, 1] = np.clip(quad[:, 1], 0, height - 1)
    return TextBox(quad=quad.astype(np.float32), score=box.score)
