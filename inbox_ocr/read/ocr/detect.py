"""Text detection: a DB (differentiable binarization) ONNX model and its post-processing into
rotated line boxes.

The DB post-processing follows the PaddleOCR paper/reference (threshold the probability map,
contours, min-area rectangles, box score, "unclip" expansion). The unclip of a rectangle by
`area * ratio / perimeter` is done in closed form on the rectangle's sides: the reference's polygon
offset (pyclipper) followed by a min-area rectangle gives the same rectangle, so we need no
polygon library.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import onnxruntime as ort

from inbox_ocr.kernel.errors import UnreadableDocument

# ImageNet-style normalisation PP-OCR detectors were trained with (v5/v6 small use 0.5/0.5).
_MEAN = np.array([0.5, 0.5, 0.5], dtype=np.float32)
_STD = np.array([0.5, 0.5, 0.5], dtype=np.float32)


@dataclass(frozen=True)
class DetectorOptions:
    max_side: int = 960  # long side of the detector input; bounds time on big pages
    min_side: int = 0  # upscale pages whose short side is below this (tiny images); 0 = never
    thresh: float = 0.3  # pixel probability that counts as text
    # mean probability inside a box to keep it; PaddleOCR's 0.5 drops isolated small marks (a
    # quantity "1", a faint colon). sroie-dev page word F1, 60 receipts: 0.5 -> 0.6255, 0.3 -> 0.6280
    box_thresh: float = 0.3
    # Not done: CLAHE on the page before detection gave +0.001-0.004 word F1 on sroie-dev slices but
    # cost the receipt field extraction 3 totals of 149 (boxes split differently); on the
    # recognizer's crops it made the CER worse.
    unclip_ratio: float = 1.6
    max_candidates: int = 1000
    min_box_side: float = 3.0


@dataclass(frozen=True)
class TextBox:
    """A detected line: four corners (tl, tr, br, bl) in image pixels, and the detector's score."""

    quad: np.ndarray  # float32 (4, 2)
    score: float

    @property
    def width(self) -> float:
        return float(
            max(np.linalg.norm(self.quad[0] - self.quad[1]), np.linalg.norm(self.quad[3] - self.quad[2]))
        )

    @property
    def height(self) -> float:
        return float(
            max(np.linalg.norm(self.quad[0] - self.quad[3]), np.linalg.norm(self.quad[1] - self.quad[2]))
        )


class TextDetector:
    """Runs a DB detector ONNX model (input N×3×H×W, H and W multiples of 32; output N×1×H×W)."""

    def __init__(self, session: ort.InferenceSession, options: DetectorOptions | None = None) -> None:
        self.session = session
        self.options = options or DetectorOptions()
        self._input = session.get_inputs()[0].name

    def input_size(self, height: int, width: int) -> tuple[int, int]:
        """Detector input (h, w): long side bounded, multiples of 32."""
        o = self.options
        ratio = 1.0
        if max(height, width) > o.max_side:
            ratio = o.max_side / max(height, width)
        elif o.min_side and min(height, width) < o.min_side:
            ratio = min(o.min_side / min(height, width), o.max_side / max(height, width))
        h = max(32, int(round(height * ratio / 32)) * 32)
        w = max(32, int(round(width * ratio / 32)) * 32)
        return h, w

    def probability_map(self, image: np.ndarray) -> np.ndarray:
        """The text probability map at detector resolution for a BGR uint8 image (the channel
        order PP-OCR models were trained on)."""
        h, w = self.input_size(*image.shape[:2])
        resized = cv2.resize(
            image, (w, h), interpolation=cv2.INTER_AREA if w < image.shape[1] else cv2.INTER_LINEAR
        )
        blob = ((resized.astype(np.float32) / 255.0 - _MEAN) / _STD).transpose(2, 0, 1)[None]
        try:
            out = self.session.run(None, {self._input: blob})[0]
        except Exception as exc:  # onnxruntime's own error types
            raise UnreadableDocument(f"text detection failed: {exc}") from exc
        return out[0, 0]

    def __call__(self, image: np.ndarray) -> list[TextBox]:
        """Detected text lines of a BGR uint8 image, in image pixel coordinates."""
        prob = self.probability_map(image)
        return boxes_from_map(prob, image.shape[1], image.shape[0], self.options)


def boxes_from_map(prob: np.ndarray, dest_w: int, dest_h: int, o: DetectorOptions) -> list[TextBox]:
    """DB post-processing of a probability map into line boxes scaled to dest_w × dest_h."""
    map_h, map_w = prob.shape
    # A 2x2 dilation joins characters the threshold split apart (PaddleOCR's use_dilation).
    mask = cv2.dilate((prob > o.thresh).astype(np.uint8), np.ones((2, 2), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    sx, sy = dest_w / map_w, dest_h / map_h
    boxes: list[TextBox] = []
    for contour in contours[: o.max_candidates]:
        (cx, cy), (rw, rh), angle = cv2.minAreaRect(contour)
        if min(rw, rh) < o.min_box_side:
            continue
        score = _box_score(prob, cv2.boxPoints(((cx, cy), (rw, rh), angle)))
        if score < o.box_thresh:
            continue
        distance = rw * rh * o.unclip_ratio / (2.0 * (rw + rh))
        rw, rh = rw + 2 * distance, rh + 2 * distance
        if min(rw, rh) < o.min_box_side + 2:
            continue
        quad = order_quad(cv2.boxPoints(((cx, cy), (rw, rh), angle)))
        quad[:, 0] = np.clip(np.round(quad[:, 0] * sx), 0, dest_w - 1)
        quad[:, 1] = np.clip(np.round(quad[:, 1] * sy), 0, dest_h - 1)
        box = TextBox(quad=quad.astype(np.float32), score=float(score))
        if box.width > 3 and box.height > 3:
            boxes.append(box)
    return boxes


def _box_score(prob: np.ndarray, points: np.ndarray) -> float:
    """Mean probability inside the polygon (PaddleOCR's 'fast' score)."""
    h, w = prob.shape
    x0 = int(np.clip(np.floor(points[:, 0].min()), 0, w - 1))
    x1 = int(np.clip(np.ceil(points[:, 0].max()), 0, w - 1))
    y0 = int(np.clip(np.floor(points[:, 1].min()), 0, h - 1))
    y1 = int(np.clip(np.ceil(points[:, 1].max()), 0, h - 1))
    mask = np.zeros((y1 - y0 + 1, x1 - x0 + 1), dtype=np.uint8)
    cv2.fillPoly(mask, [(points - [x0, y0]).astype(np.int32)], 1)
    return float(cv2.mean(prob[y0 : y1 + 1, x0 : x1 + 1], mask)[0])


def order_quad(points: np.ndarray) -> np.ndarray:
    """Corners ordered top-left, top-right, bottom-right, bottom-left (image y grows downwards)."""
    pts = np.asarray(points, dtype=np.float32)
    by_x = pts[np.argsort(pts[:, 0], kind="stable")]
    left = by_x[:2][np.argsort(by_x[:2, 1], kind="stable")]
    right = by_x[2:][np.argsort(by_x[2:, 1], kind="stable")]
    return np.array([left[0], right[0], right[1], left[1]], dtype=np.float32)
