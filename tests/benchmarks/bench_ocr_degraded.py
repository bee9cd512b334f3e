"""Scan and photo cleanup, measured: our OCR on clean pages and on the same pages degraded, with
each cleanup step (ocr.deskew, ocr.perspective) on and off, one run.

    python tests/benchmarks/bench_ocr_degraded.py [--invoices 8] [--receipts 8] [--seed 3]

Pages: synthetic invoices of several layout families and languages (training/synth, rendered at
150 dpi, truth from their text layer) and sroie-dev receipts (truth from box/*.csv).
Degradations (tests/benchmarks/degrade.py): rotation by ±5, ±20 and ±45 degrees; a phone photo of
the page (perspective, darker background, uneven light); blur + JPEG 35.
  page CER   edit distance between the page's text and the truth, both in reading order with
             whitespace runs as one space, over the truth length
  word F1    order-free F1 of whitespace tokens (as bench_ocr)
  lines      output lines / truth lines
  s/page     wall seconds per page (median)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import pymupdf  # noqa: E402

from inbox_ocr.kernel.settings import OcrSettings  # noqa: E402
from inbox_ocr.read.ocr import OcrEngine, PageImage  # noqa: E402
from inbox_ocr.training.synth import generate  # noqa: E402
from tests.benchmarks.degrade import CONDITIONS, degrade  # noqa: E402
from tests.benchmarks.ocr_metrics import edit_distance, load_truth, pdf_lines, word_f1  # noqa: E402

SROIE = ROOT / ".." / "shared" / "datasets" / "sroie-dev"
FAMILIES = ("din5008", "header_right", "kv_box", "receipt", "sidebar", "long_table", "two_parties", "hero")
LANGUAGES = ("en", "de", "fr", "it", "es", "nl")


def invoice_page(seed: int) -> tuple[np.ndarray, list[str]]:
    doc = generate(seed, FAMILIES[seed % len(FAMILIES)], LANGUAGES[seed % len(LANGUAGES)])
    with pymupdf.open(stream=doc.pdf, filetype="pdf") as pdf:
        page = pdf[0]
        pix = page.get_pixmap(dpi=150, alpha=False)
        pixels = np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.height, pix.width, 3).copy()
        rows = [(y0, y1, x0, text) for text, (x0, y0, _, y1) in pdf_lines(page)]
    return pixels, _reading_order(rows)


def receipt_page(path: Path) -> tuple[np.ndarray, list[str]]:
    pixels = cv2.imread(str(path))[:, :, ::-1].copy()
    rows = []
    for line in load_truth(SROIE / "box" / f"{path.stem}.csv"):
        ys, xs = line.quad[:, 1], line.quad[:, 0]
        rows.append((float(ys.min()), float(ys.max()), float(xs.min()), line.text))
    return pixels, _reading_order(rows)


def _reading_order(rows: list[tuple[float, float, float, str]]) -> list[str]:
    """Truth lines grouped into rows (vertical overlap of half the smaller height), left to right."""
    grouped: list[tuple[float, float, list[tuple[float, str]]]] = []
    for top, bottom, left, text in sorted(rows):
        for k, (r_top, r_bottom, members) in enumerate(grouped):
            if min(bottom, r_bottom) - max(top, r_top) >= 0.5 * min(bottom - top, r_bottom - r_top):
                members.append((left, text))
                grouped[k] = (min(top, r_top), max(bottom, r_bottom), members)
                break
        else:
            grouped.append((top, bottom, [(left, text)]))
    return [" ".join(t for _, t in sorted(members)) for _, _, members in sorted(grouped)]


def page_cer(truth: list[str], lines: list[str]) -> float:
    t, g = " ".join(" ".join(truth).split()), " ".join(" ".join(lines).split())
    return edit_distance(t, g) / max(1, len(t))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--invoices", type=int, default=8)
    ap.add_argument("--receipts", type=int, default=8)
    ap.add_argument("--seed", type=int, default=3)
    args = ap.parse_args(argv)

    pages = [invoice_page(1000 + k) for k in range(args.invoices)]
    if SROIE.is_dir() and args.receipts:
        pages += [receipt_page(p) for p in sorted((SROIE / "img").glob("*.jpg"))[-args.receipts:]]
    engines = {"default (both on)": OcrEngine(OcrSettings()), "deskew off": OcrEngine(OcrSettings(deskew=False)),
               "perspective off": OcrEngine(OcrSettings(perspective=False))}
    rng = np.random.default_rng(args.seed)
    print(f"{len(pages)} pages ({args.invoices} invoices, {len(pages) - args.invoices} receipts); "
          f"conditions: {', '.join(CONDITIONS)}")  # fmt: skip
    results: dict[tuple[str, str], list[tuple[float, float, float, float]]] = {}
    for pixels, truth in pages:
        for condition in CONDITIONS:
            image = degrade(pixels, condition, rng)
            for name, engine in engines.items():
                start = time.perf_counter()
                lines = [line.text for line in engine.read_page(PageImage(1, image, 1.0)).lines]
                seconds = time.perf_counter() - start
                results.setdefault((condition, name), []).append(
                    (page_cer(truth, lines), word_f1(truth, lines), len(lines) / max(1, len(truth)), seconds))
    print("\n| condition | cleanup | page CER | word F1 | lines found / truth | s/page (median) |")
    print("|---|---|---|---|---|---|")
    means: dict[tuple[str, str], float] = {}
    for (condition, name), rows in results.items():
        cer = statistics.mean(r[0] for r in rows)
        means[(condition, name)] = cer
        print(f"| {condition} | {name} | {cer:.4f} | {statistics.mean(r[1] for r in rows):.4f} | "
              f"{statistics.mean(r[2] for r in rows):.3f} | {statistics.median(r[3] for r in rows):.3f} |")  # fmt: skip
    default = next(iter(engines))
    clean = means[("clean", default)]
    print("\npage CER relative to the clean pages (default settings; target at 20 degrees: <= 1.5x):")
    for condition in CONDITIONS[1:]:
        print(f"  {condition}: x{means[(condition, default)] / max(1e-9, clean):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
