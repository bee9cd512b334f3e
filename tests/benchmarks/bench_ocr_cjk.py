"""Chinese and mixed Chinese/English OCR: our engine with each `ocr.alphabet` against RapidOCR's own
pipeline on the same PP-OCRv6 weights, one run, same machine; and what the default costs on Latin
receipts (sroie-dev), where it should change nothing.

    python tests/benchmarks/bench_ocr_cjk.py [--pages 12] [--receipts 10] [--conditions "rotate 5,photo,..."]

Pages: tests/benchmarks/cjk_set.py (synthetic VAT invoices, and their lines with mixed phrases
typeset again in Noto CJK fonts). Both sides are compared in Unicode NFKC with hyphens as '-' (the
text layer gives compatibility ideographs such as U+F98E for 年, full-width brackets and U+2011
where the page shows 年, ( and -), and without whitespace (Chinese text has no word spaces, and a
text layer's spacing inside "名  称" is not something a reader can see).
  page char F1   F1 of the multisets of non-space characters of the page, order-free
  line accuracy  the recognizer alone on the truth line crops: 1 - edit distance / truth length
  s/page         wall seconds per page, pages interleaved across systems
With --conditions, the same pages again under each scan condition of degrade.py (as scans and phone
photos of such invoices arrive): page char F1 of the default against RapidOCR's.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import unicodedata
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from inbox_ocr.kernel.settings import OcrSettings  # noqa: E402
from inbox_ocr.read.ocr import OcrEngine, PageImage, load_image_pages  # noqa: E402
from tests.benchmarks import bench_ocr  # noqa: E402
from tests.benchmarks.cjk_set import CjkPage, build  # noqa: E402
from tests.benchmarks.degrade import CONDITIONS, degrade  # noqa: E402
from tests.benchmarks.ocr_metrics import corpus_cer  # noqa: E402

SROIE = ROOT / ".." / "shared" / "datasets" / "sroie-dev" / "img"


def _norm(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).replace("\u2010", "-").split())


def _chars(texts: list[str]) -> Counter[str]:
    return Counter(ch for text in texts for ch in _norm(text))


def char_f1(truth: list[str], guess: list[str]) -> float:
    t, g = _chars(truth), _chars(guess)
    hit = sum((t & g).values())
    if not hit:
        return 0.0
    precision, recall = hit / sum(g.values()), hit / sum(t.values())
    return 2 * precision * recall / (precision + recall)


def crops_of(page: CjkPage) -> tuple[list[np.ndarray], list[str]]:
    """Truth line crops (BGR, as the models take them) with a margin of a quarter line height above
    and below and a tenth at the sides (a label's value often follows it closely)."""
    bgr = page.pixels[:, :, ::-1]
    crops, texts = [], []
    for text, (x0, y0, x1, y1) in page.lines:
        pad = 0.25 * (y1 - y0)
        side = 0.1 * (y1 - y0)
        crop = bgr[max(0, int(y0 - pad)):int(y1 + pad) + 1, max(0, int(x0 - side)):int(x1 + side) + 1]
        if crop.shape[0] >= 4 and crop.shape[1] >= 4:
            crops.append(np.ascontiguousarray(crop))
            texts.append(text)
    return crops, texts


class Ours:
    def __init__(self, alphabet: str) -> None:
        self.name = f"inbox-ocr {alphabet}" + (" (default)" if alphabet == OcrSettings().alphabet else "")
        self.engine = OcrEngine(OcrSettings(alphabet=alphabet))  # type: ignore[arg-type]

    def page_lines(self, pixels: np.ndarray) -> list[str]:
        return [line.text for line in self.engine.read_page(PageImage(1, pixels, 1.0)).lines]

    def recognize(self, crops_bgr: list[np.ndarray]) -> list[str]:
        return [r.text for r in self.engine.recognizer(crops_bgr)]


class Rapid(bench_ocr.Rapid):
    """RapidOCR as bench_ocr runs it, given pixels instead of a file."""

    def page_lines(self, pixels: np.ndarray) -> list[str]:  # type: ignore[override]
        return list(self.ocr(np.ascontiguousarray(pixels[:, :, ::-1])).txts or ())


def latin_cost(receipts: list[Path]) -> None:
    """The default (auto) against latin on Latin receipts: same text? how much slower?"""
    auto, latin = OcrEngine(OcrSettings(alphabet="auto")), OcrEngine(OcrSettings(alphabet="latin"))
    pages = [load_image_pages(p.read_bytes(), 5, 40_000_000, [])[0] for p in receipts]
    auto.read_page(pages[0])
    latin.read_page(pages[0])
    seconds: dict[str, list[float]] = {"auto": [], "latin": []}
    lines = changed = 0
    auto.recognizer.lines_read_again = 0
    for page in pages:
        texts = {}
        for name, engine in (("auto", auto), ("latin", latin)):
            start = time.process_time()
            texts[name] = [line.text for line in engine.read_page(page).lines]
            seconds[name].append(time.process_time() - start)
        lines += len(texts["latin"])
        changed += sum(a != b for a, b in zip(texts["auto"], texts["latin"], strict=False))
        changed += abs(len(texts["auto"]) - len(texts["latin"]))
    a, b = statistics.median(seconds["auto"]), statistics.median(seconds["latin"])
    print(f"\nLatin receipts ({len(pages)} sroie-dev pages, CPU s/page median): auto {a:.3f}, latin {b:.3f} "
          f"(x{a / b:.3f}); lines read again by auto {auto.recognizer.lines_read_again}; "
          f"output lines that differ {changed} of {lines}")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=12, help="invoices (and as many Noto sheets)")
    ap.add_argument("--receipts", type=int, default=10, help="sroie-dev receipts for the Latin cost (0 = skip)")
    ap.add_argument("--conditions", default="", help=f"comma-separated, of: {', '.join(CONDITIONS[1:])}")
    ap.add_argument("--seed", type=int, default=5, help="of the conditions' random draws")
    args = ap.parse_args(argv)

    pages = build(args.pages)
    kinds = Counter(p.kind for p in pages)
    print(f"{len(pages)} pages ({dict(kinds)}), {sum(len(p.lines) for p in pages)} lines")
    systems: list = [Ours("auto"), Ours("latin"), Ours("all"), Rapid()]
    for s in systems:
        s.page_lines(pages[0].pixels)  # warm-up
    f1: dict[str, dict[str, list[float]]] = {s.name: {k: [] for k in kinds} for s in systems}
    seconds: dict[str, list[float]] = {s.name: [] for s in systems}
    for page in pages:
        truth = [t for t, _ in page.lines]
        for s in systems:
            start = time.perf_counter()
            lines = s.page_lines(page.pixels)
            seconds[s.name].append(time.perf_counter() - start)
            f1[s.name][page.kind].append(char_f1(truth, lines))
    accuracy = {}
    for s in systems:
        pairs = []
        for page in pages:
            crops, texts = crops_of(page)
            pairs += [(_norm(t), _norm(g)) for t, g in zip(texts, s.recognize(crops), strict=True)]
        accuracy[s.name] = 1 - corpus_cer(pairs)

    print("\n| system | page char F1 (all) | invoices | Noto sheets | line accuracy | s/page (median) |")
    print("|---|---|---|---|---|---|")
    for s in systems:
        every = [v for values in f1[s.name].values() for v in values]
        by_kind = [f"{statistics.mean(f1[s.name][k]):.4f}" if f1[s.name].get(k) else "-" for k in ("vat", "sheet")]
        print(f"| {s.name} | {statistics.mean(every):.4f} | {by_kind[0]} | {by_kind[1]} | "
              f"{accuracy[s.name]:.4f} | {statistics.median(seconds[s.name]):.3f} |")  # fmt: skip
    default, rapid = systems[0], systems[-1]
    mean = {s.name: statistics.mean(v for values in f1[s.name].values() for v in values) for s in systems}
    gain = 100 * (mean[default.name] - mean[rapid.name])
    print(f"\ndefault vs RapidOCR (points): page char F1 {gain:+.2f}, "
          f"line accuracy {100 * (accuracy[default.name] - accuracy[rapid.name]):+.2f} (target >= +1); "
          f"s/page x{statistics.median(seconds[default.name]) / statistics.median(seconds[rapid.name]):.2f}")
    conditions = [c.strip() for c in args.conditions.split(",") if c.strip()]
    if conditions:
        under_conditions(pages, conditions, default, rapid, args.seed)
    if args.receipts and SROIE.is_dir():
        latin_cost(sorted(SROIE.glob("*.jpg"))[: args.receipts])
    return 0


def under_conditions(pages: list[CjkPage], conditions: list[str], ours: Ours, rapid: Rapid, seed: int) -> None:
    """Page char F1 of the default and of RapidOCR on the pages under each scan condition."""
    print("\n| condition | inbox-ocr auto (default) | RapidOCR | points |")
    print("|---|---|---|---|")
    every: dict[str, list[float]] = {ours.name: [], rapid.name: []}
    for condition in conditions:
        rng = np.random.default_rng(seed)
        scores: dict[str, list[float]] = {ours.name: [], rapid.name: []}
        for page in pages:
            pixels = np.ascontiguousarray(degrade(page.pixels, condition, rng))
            truth = [t for t, _ in page.lines]
            for s in (ours, rapid):
                scores[s.name].append(char_f1(truth, s.page_lines(pixels)))
        a, b = statistics.mean(scores[ours.name]), statistics.mean(scores[rapid.name])
        print(f"| {condition} | {a:.4f} | {b:.4f} | {100 * (a - b):+.2f} |")
        for name, values in scores.items():
            every[name] += values
    a, b = statistics.mean(every[ours.name]), statistics.mean(every[rapid.name])
    print(f"| all of them | {a:.4f} | {b:.4f} | {100 * (a - b):+.2f} |")


if __name__ == "__main__":
    sys.exit(main())
