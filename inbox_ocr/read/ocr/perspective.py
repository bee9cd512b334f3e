"""A phone photo of a page: find the page's four corners and look at it square on.

The page is the largest convex four-cornered outline in the photo's edges (Canny on a copy of at
most 800 px), covering at least a quarter of it. It is taken only when it is a page on something
darker (its inside brighter than what is around it) and every text line the first detection found
lies inside it: a frame printed around an invoice's totals, or a scan with no background, is never
mistaken for the page, so no text is ever cut away.
"""

from __future__ import annotations

import cv2
import numpy as np

from inbox_ocr.read.ocr.detect import TextBox, order_quad

_WORK_SIDE = 800
_MIN_AREA = 0.25  # of the photo
_BRIGHTER = 25  # grey levels the page must be above its surroundings (median)


def find_page(image: np.ndarray, boxes: list[TextBox]) -> np.ndarray | None:
    """The page's corners (tl, tr, br, bl, float32 pixels of `image`), or None when the image is
    no photo of a page on a background (or the page already fills it)."""
    h, w = image.shape[:2]
    scale = min(1.0, _WORK_SIDE / max(h, w))
    small = cv2.resize(image, (max(1, int(w * scale)), max(1, int(h * scale))), interpolation=cv2.INTER_AREA)
    gray = cv2.GaussianBlur(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), (5, 5), 0)
    edges = cv2.dilate(cv2.Canny(gray, 40, 120), np.ones((3, 3), np.uint8))
    contours, _ = cv2.findContours(edges, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    area = gray.shape[0] * gray.shape[1]
    for contour in sorted(contours, key=cv2.contourArea, reverse=True)[:5]:
        hull = cv2.convexHull(contour)
        approx = cv2.approxPolyDP(hull, 0.02 * cv2.arcLength(hull, True), True)
        if len(approx) != 4 or cv2.contourArea(approx) < _MIN_AREA * area:
            continue
        quad = order_quad(approx.reshape(4, 2).astype(np.float32) / scale)
        if _fills_image(quad, w, h) or not _page_on_background(gray, quad * scale):
            return None
        if not _holds_all_text(quad, boxes):
            return None
        return quad
    return None


def flatten(image: np.ndarray, quad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The page under `quad` seen square on (its longest sides kept), and the 3×3 matrix from the
    photo's pixels to the flat page's."""
    top, bottom = np.linalg.norm(quad[1] - quad[0]), np.linalg.norm(quad[2] - quad[3])
    left, right = np.linalg.norm(quad[3] - quad[0]), np.linalg.norm(quad[2] - quad[1])
    width, height = int(round(max(top, bottom))), int(round(max(left, right)))
    target = np.array([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(quad.astype(np.float32), target)
    flat = cv2.warpPerspective(image, matrix, (width, height), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
    return flat, matrix.astype(np.float64)


def _fills_image(quad: np.ndarray, w: int, h: int) -> bool:
    corners = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], dtype=np.float32)
    return bool((np.linalg.norm(quad - corners, axis=1) < 0.03 * max(w, h)).all())


def _page_on_background(gray: np.ndarray, quad: np.ndarray) -> bool:
    mask = np.zeros(gray.shape, np.uint8)
    cv2.fillConvexPoly(mask, quad.astype(np.int32), 1)
    inside, outside = gray[mask == 1], gray[mask == 0]
    if outside.size < 0.03 * gray.size:
        return False
    return float(np.median(inside)) - float(np.median(outside)) >= _BRIGHTER


def _holds_all_text(quad: np.ndarray, boxes: list[TextBox]) -> bool:
    outline = quad.reshape(-1, 1, 2).astype(np.float32)
    for box in boxes:
        cx, cy = box.quad.mean(axis=0)
        if cv2.pointPolygonTest(outline, (float(cx), float(cy)), True) < -0.5 * box.height:
            return False
    return True
