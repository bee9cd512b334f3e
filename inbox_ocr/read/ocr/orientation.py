"""Page orientation (0/90/180/270) from cheap evidence.

90/270: on a sideways page the detector's line boxes are tall and thin. 0/180: a small direction
classifier (PP-OCR's 0/180 line classifier) votes on the widest lines of the page; one vote per
page, because a line upside down inside an upright invoice is rarer than a misread vote.
"""

from __future__ import annotations

import cv2
import numpy as np
import onnxruntime as ort

from inbox_ocr.kernel.errors import UnreadableDocument
from inbox_ocr.read.ocr.detect import TextBox

_CLS_H, _CLS_W = 48, 192


def is_sideways(boxes: list[TextBox]) -> bool:
    """Most of the text area sits in boxes at least 1.5x taller than wide."""
    tall = sum(b.width * b.height for b in boxes if b.height > 1.5 * b.width)
    wide = sum(b.width * b.height for b in boxes if b.width > 1.5 * b.height)
    return len(boxes) >= 3 and tall > wide


class DirectionClassifier:
    """PP-OCR's line direction classifier: input N×3×48×192, output N×2 probabilities (0°, 180°)."""

    def __init__(self, session: ort.InferenceSession, votes: int = 12) -> None:
        self.session = session
        self.votes = votes
        self._input = session.get_inputs()[0].name

    def upside_down_probability(self, crops: list[np.ndarray]) -> list[float]:
        batch = np.zeros((len(crops), 3, _CLS_H, _CLS_W), dtype=np.float32)
        for k, crop in enumerate(crops):
            w = min(_CLS_W, max(1, int(np.ceil(_CLS_H * crop.shape[1] / max(1, crop.shape[0])))))
            resized = cv2.resize(crop, (w, _CLS_H))
            batch[k, :, :, :w] = resized.transpose(2, 0, 1).astype(np.float32) / 127.5 - 1.0
        try:
            probs = self.session.run(None, {self._input: batch})[0]
        except Exception as exc:
            raise UnreadableDocument(f"orientation check failed: {exc}") from exc
        return [float(p[1]) for p in probs]

    def page_upside_down(self, crops: list[np.ndarray]) -> bool:
        """Majority vote over the widest crops, counting only confident votes."""
        if not crops:
            return False
        widest = sorted(crops, key=lambda c: c.shape[1], reverse=True)[: self.votes]
        # The classifier sees 48x192: a long line squeezed into that is unreadable (measured: whole
        # pages of 6-10 pt text voted "upside down"), so it gets a window at natural scale.
        windows = [c[:, : max(1, 4 * c.shape[0])] for c in widest]
        probs = self.upside_down_probability(windows)
        flipped = sum(p > 0.8 for p in probs)
        upright = sum(p < 0.2 for p in probs)
        return flipped > 2 * upright


def rotate_quads_180(boxes: list[TextBox], width: int, height: int) -> list[TextBox]:
    """Boxes of an image after turning it by 180°, corners kept in tl, tr, br, bl order."""
    out = []
    for b in boxes:
        q = np.empty_like(b.quad)
        q[:, 0] = width - 1 - b.quad[:, 0]
        q[:, 1] = height - 1 - b.quad[:, 1]
        out.append(TextBox(quad=q[[2, 3, 0, 1]], score=b.score))
    return out
