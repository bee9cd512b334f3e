"""Geometry between detection and the Page model: line crops, reading order, word boxes."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from inbox_ocr.kernel.models import TextLine, Word
from inbox_ocr.read.ocr.detect import TextBox
from inbox_ocr.read.ocr.recognize import Recognition


def crop_line(image: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """The line under `quad` (tl, tr, br, bl), warped to an upright rectangle."""
    width = max(1, int(round(max(np.linalg.norm(quad[0] - quad[1]), np.linalg.norm(quad[3] - quad[2])))))
    height = max(1, int(round(max(np.linalg.norm(quad[0] - quad[3]), np.linalg.norm(quad[1] - quad[2])))))
    target = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(quad.astype(np.float32), target)
    crop = cv2.warpPerspective(
        image, matrix, (width, height), borderMode=cv2.BORDER_REPLICATE, flags=cv2.INTER_CUBIC
    )
    return crop


@dataclass(frozen=True)
class RecognizedBox:
    box: TextBox
    rec: Recognition


def reading_order(items: list[RecognizedBox]) -> list[list[RecognizedBox]]:
    """Rows top to bottom, each left to right. A box joins a row when their vertical extents
    overlap by at least half the smaller height (tolerates the skew of a hand-fed scan)."""
    rows: list[tuple[float, float, list[RecognizedBox]]] = []
    for item in sorted(items, key=lambda it: float(it.box.quad[:, 1].mean())):
        top, bottom = _vertical_extent(item.box.quad)
        for k, (r_top, r_bottom, members) in enumerate(rows):
            overlap = min(bottom, r_bottom) - max(top, r_top)
            if overlap >= 0.5 * min(bottom - top, r_bottom - r_top):
                members.append(item)
                # the row's extent follows its members loosely (mean), so one tall box does not
                # swallow the rows above and below it
                n = len(members)
                rows[k] = (r_top + (top - r_top) / n, r_bottom + (bottom - r_bottom) / n, members)
                break
        else:
            rows.append((top, bottom, [item]))
    rows.sort(key=lambda r: (r[0] + r[1]) / 2)
    return [sorted(members, key=lambda it: float(it.box.quad[:, 0].min())) for _, _, members in rows]


def _vertical_extent(quad: np.ndarray) -> tuple[float, float]:
    """Top and bottom of the line at its horizontal middle (not of its axis-aligned box, which a
    skewed line inflates)."""
    top = (quad[0, 1] + quad[1, 1]) / 2
    bottom = (quad[3, 1] + quad[2, 1]) / 2
    return float(top), float(bottom)


def words_of(item: RecognizedBox, scale: float) -> tuple[Word, ...]:
    """Word boxes of a recognized line: split at spaces, positions from the CTC timesteps of the
    characters, mapped along the line's top and bottom edges."""
    rec, quad = item.rec, item.box.quad
    words: list[Word] = []
    chars = list(rec.text)
    n = len(chars)
    if n == 0:
        return ()
    step = float(np.median([e - s for s, e in rec.char_spans])) if rec.char_spans else 0.0
    i = 0
    while i < n:
        if chars[i] == " ":
            i += 1
            continue
        j = i
        while j < n and chars[j] != " ":
            j += 1
        # the word runs from the gap before its first character to the gap after its last one
        left = (rec.char_spans[i - 1][1] + rec.char_spans[i][0]) / 2 if i > 0 else rec.char_spans[i][0] - step
        right = (
            (rec.char_spans[j - 1][1] + rec.char_spans[j][0]) / 2
            if j < n
            else rec.char_spans[j - 1][1] + step
        )
        left, right = max(0.0, left), min(1.0, right)
        pts = (
            np.array(
                [
                    _along(quad[0], quad[1], left),
                    _along(quad[0], quad[1], right),
                    _along(quad[3], quad[2], right),
                    _along(quad[3], quad[2], left),
                ]
            )
            * scale
        )
        conf = float(np.mean(rec.char_confidences[i:j]))
        words.append(
            Word(
                text="".join(chars[i:j]),
                box=(
                    float(pts[:, 0].min()),
                    float(pts[:, 1].min()),
                    float(pts[:, 0].max()),
                    float(pts[:, 1].max()),
                ),
                confidence=round(conf, 4),
            )
        )
        i = j
    return tuple(words)


def _along(a: np.ndarray, b: np.ndarray, f: float) -> np.ndarray:
    return a + (b - a) * f


def row_to_line(row: list[RecognizedBox], scale: float) -> TextLine | None:
    """One TextLine for a row of boxes: text joined with single spaces, the row's bounding quad,
    mean character confidence, and the word boxes of all its parts."""
    words: list[Word] = []
    confs: list[float] = []
    for item in row:
        words.extend(words_of(item, scale))
        confs.extend(item.rec.char_confidences[k] for k, ch in enumerate(item.rec.text) if ch != " ")
    if not words:
        return None
    pts = np.concatenate([it.box.quad for it in row]) * scale
    x0, y0 = float(pts[:, 0].min()), float(pts[:, 1].min())
    x1, y1 = float(pts[:, 0].max()), float(pts[:, 1].max())
    if len(row) == 1:
        q = row[0].box.quad * scale
        box = tuple((float(x), float(y)) for x, y in q)
    else:
        box = ((x0, y0), (x1, y0), (x1, y1), (x0, y1))
    return TextLine(
        text=" ".join(w.text for w in words),
        box=box,  # type: ignore[arg-type]
        confidence=round(float(np.mean(confs)), 4),
        words=tuple(words),
    )
