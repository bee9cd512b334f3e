"""Accuracy measures and ground truth for the OCR benchmark (sroie-dev box/*.csv)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class TruthLine:
    quad: np.ndarray  # (4, 2) float32, as given in the csv
    text: str


def load_truth(csv_path: Path) -> list[TruthLine]:
    """`x1,y1,...,x4,y4,TRANSCRIPT` rows; the transcript may itself contain commas."""
    lines = []
    for row in csv_path.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = row.split(",", 8)
        if len(parts) != 9 or not parts[8].strip():
            continue
        try:
            coords = np.array([float(v) for v in parts[:8]], dtype=np.float32).reshape(4, 2)
        except ValueError:
            continue
        lines.append(TruthLine(coords, parts[8].strip()))
    return lines


def pdf_lines(page, scale: float = 1.0) -> list[tuple[str, tuple[float, float, float, float]]]:  # type: ignore[no-untyped-def]
    """A pymupdf page's text-layer lines: text (whitespace runs as one space) and box (x0, y0, x1,
    y1) times `scale` (DPI / 72 gives the pixels of a page rendered at DPI)."""
    out = []
    for block in page.get_text("dict")["blocks"]:
        for line in block.get("lines", []):
            text = " ".join("".join(span["text"] for span in line["spans"]).split())
            if text:
                x0, y0, x1, y1 = line["bbox"]
                out.append((text, (x0 * scale, y0 * scale, x1 * scale, y1 * scale)))
    return out


def word_f1(truth: list[str], guess: list[str], fold_case: bool = False) -> float:
    """F1 of the multisets of whitespace-separated tokens, order-free."""
    norm = str.casefold if fold_case else str
    t = Counter(norm(tok) for line in truth for tok in line.split())
    g = Counter(norm(tok) for line in guess for tok in line.split())
    hit = sum((t & g).values())
    if not hit:
        return 0.0
    precision, recall = hit / sum(g.values()), hit / sum(t.values())
    return 2 * precision * recall / (precision + recall)


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insert, delete, substitute all cost 1), one row of the table at a time
    in NumPy: a row's insertions are a running minimum, so page-long texts take milliseconds."""
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return len(a)
    target = np.array([ord(c) for c in b])
    steps = np.arange(len(b) + 1)
    prev = steps.copy()
    for i, ca in enumerate(a, 1):
        cand = np.empty_like(prev)
        cand[0] = i
        cand[1:] = np.minimum(prev[1:] + 1, prev[:-1] + (target != ord(ca)))
        prev = np.minimum.accumulate(cand - steps) + steps
    return int(prev[-1])


def corpus_cer(pairs: list[tuple[str, str]], fold_case: bool = False) -> float:
    """Sum of edit distances over the sum of truth lengths, over (truth, guess) pairs."""
    norm = str.casefold if fold_case else str
    errors = sum(edit_distance(norm(t), norm(g)) for t, g in pairs)
    return errors / max(1, sum(len(t) for t, _ in pairs))
