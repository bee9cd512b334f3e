"""OCR benchmark on ../shared/datasets/sroie-dev: our OCR core vs Tesseract 5 vs RapidOCR's own
pipeline on the same PP-OCRv6 weights, all in one run on the same machine.

    python tests/benchmarks/bench_ocr.py [--limit N] [--skip 16] [--float32-too] [--psm 4]
                                         [--cer-tesseract-pages 15] [--skip-rss]

The first 16 receipts (by name) calibrated the shipped int8 text detector
(inbox_ocr/training/quantize.py): they are left out unless --skip says otherwise.

Figures (printed as a markdown table, with ratios against the references of this run):
  page word F1   mean over pages of the F1 of whitespace-token multisets (order-free), output lines
                 against the box/*.csv transcripts; also case-folded (the transcripts are often upper
                 case where receipts print mixed case)
  line CER       the recognizer alone on ground-truth crops: edit distance / truth length
  s/page         wall seconds per page, one process, models loaded once, pages interleaved across
                 systems so that machine noise hits all of them alike
  peak RSS       of `inbox-ocr ocr --json` on a 10-page image-only PDF built from sroie images
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if __package__ in (None, ""):
    sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from inbox_ocr.kernel.settings import OcrSettings  # noqa: E402
from inbox_ocr.read.mupdf import pymupdf  # noqa: E402
from inbox_ocr.read.ocr import OcrEngine, load_image_pages  # noqa: E402
from inbox_ocr.read.ocr.detect import order_quad  # noqa: E402
from inbox_ocr.read.ocr.layout import crop_line  # noqa: E402
from inbox_ocr.read.ocr.session import BUNDLED_CLS, BUNDLED_DET, BUNDLED_REC, bundled_model  # noqa: E402
from tests.benchmarks.ocr_metrics import corpus_cer, load_truth, word_f1  # noqa: E402

DATASET = ROOT / ".." / "shared" / "datasets" / "sroie-dev"


class Ours:
    def __init__(self, settings: OcrSettings, name: str = "inbox-ocr") -> None:
        self.name = name
        self.engine = OcrEngine(settings)

    def page_lines(self, path: Path) -> list[str]:
        pages = self.engine.read_pages(load_image_pages(path.read_bytes(), 5, 40_000_000, []))
        return [line.text for page in pages for line in page.lines]

    def recognize(self, crops_bgr: list[np.ndarray]) -> list[str]:
        # the engine feeds BGR to the models; crops here are BGR already
        return [r.text for r in self.engine.recognizer(crops_bgr)]


class Rapid:
    name = "RapidOCR"

    def __init__(self) -> None:
        from rapidocr import RapidOCR

        # Explicit paths to the wheel's bundled files: RapidOCR must not download anything.
        self.ocr = RapidOCR(
            params={
                "Det.model_path": str(bundled_model(BUNDLED_DET)),
                "Rec.model_path": str(bundled_model(BUNDLED_REC)),
                "Cls.model_path": str(bundled_model(BUNDLED_CLS)),
                "Global.log_level": "warning",
            }
        )

    def page_lines(self, path: Path) -> list[str]:
        result = self.ocr(str(path))
        return list(result.txts or ())

    def recognize(self, crops_bgr: list[np.ndarray]) -> list[str]:
        from rapidocr.ch_ppocr_rec.typings import TextRecInput

        return list(self.ocr.text_rec(TextRecInput(img=crops_bgr)).txts)


class Tesseract:
    name = "Tesseract"

    def __init__(self, psm: int) -> None:
        self.psm = psm
        out = subprocess.run(["tesseract", "--version"], capture_output=True, text=True, check=True)
        self.version = out.stdout.splitlines()[0]

    def page_lines(self, path: Path) -> list[str]:
        out = subprocess.run(
            ["tesseract", str(path), "stdout", "--psm", str(self.psm), "-l", "eng"],
            capture_output=True,
            text=True,
            check=True,
        )
        return [line for line in out.stdout.splitlines() if line.strip()]

    def recognize(self, crops_bgr: list[np.ndarray]) -> list[str]:
        texts = []
        with tempfile.TemporaryDirectory() as tmp:
            for k, crop in enumerate(crops_bgr):
                file = Path(tmp) / f"{k}.png"
                cv2.imwrite(str(file), crop)
                out = subprocess.run(
                    ["tesseract", str(file), "stdout", "--psm", "7", "-l", "eng"],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                texts.append(" ".join(out.stdout.split()))
        return texts


def truth_crops(image_path: Path, csv_path: Path) -> tuple[list[np.ndarray], list[str]]:
    image = cv2.imread(str(image_path))
    crops, texts = [], []
    for line in load_truth(csv_path):
        quad = order_quad(line.quad)
        crop = crop_line(image, quad)
        if crop.shape[0] < 4 or crop.shape[1] < 4:
            continue
        crops.append(crop)
        texts.append(line.text)
    return crops, texts


def build_scanned_pdf(images: list[Path], target: Path, dpi: int = 200) -> None:
    """An image-only PDF: each receipt placed on a page sized so that `dpi` gives its pixels back."""
    pdf = pymupdf.open()
    for path in images:
        h, w = cv2.imread(str(path)).shape[:2]
        page = pdf.new_page(width=w * 72 / dpi, height=h * 72 / dpi)
        page.insert_image(page.rect, filename=str(path))
    pdf.save(target)
    pdf.close()


def cli_peak_rss(pdf: Path) -> tuple[float, float]:
    """(peak RSS in MB, wall seconds) of `inbox-ocr ocr --json` on the file, in a fresh process."""
    exe = shutil.which("inbox-ocr")
    cmd = (
        [exe, "ocr", "--json", str(pdf)]
        if exe
        else [sys.executable, "-m", "inbox_ocr.app.cli", "ocr", "--json", str(pdf)]
    )
    probe = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        f"subprocess.run({cmd!r}, check=True, stdout=subprocess.DEVNULL)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, time.perf_counter() - t)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    rss, seconds = out.stdout.split()
    return float(rss), float(seconds)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, default=0, help="only the first N receipts (0 = all)")
    ap.add_argument("--skip", type=int, default=16, help="leave out the first N receipts (the int8 detector's "
                    "calibration pages)")
    ap.add_argument("--float32-too", action="store_true", help="also our OCR with the float32 detector")
    ap.add_argument("--psm", type=int, default=4, help="Tesseract page segmentation mode")
    ap.add_argument(
        "--cer-tesseract-pages",
        type=int,
        default=15,
        help="receipts whose ground-truth lines Tesseract recognizes one by one (slow)",
    )
    ap.add_argument("--skip-rss", action="store_true")
    ap.add_argument("--det-max-side", type=int, default=None)
    args = ap.parse_args(argv)

    if not DATASET.is_dir():
        print(f"dataset not found: {DATASET}")
        return 2
    images = sorted((DATASET / "img").glob("*.jpg"))[args.skip :]
    if args.limit:
        images = images[: args.limit]
    settings = OcrSettings() if args.det_max_side is None else OcrSettings(det_max_side=args.det_max_side)
    systems: list = [Ours(settings), Rapid()]
    if args.float32_too:
        systems.insert(1, Ours(settings.model_copy(update={"det_precision": "float32"}), "inbox-ocr float32 det"))
    if shutil.which("tesseract"):
        systems.append(Tesseract(args.psm))
        print(f"Tesseract: {systems[-1].version}, --psm {args.psm}, -l eng")
    else:
        print("Tesseract is MISSING (apt-get install tesseract-ocr): its columns are left out")
    print(f"{len(images)} receipts from {DATASET.resolve()} (the first {args.skip} left out); "
          f"{os.cpu_count()} cores")

    f1: dict[str, list[float]] = {s.name: [] for s in systems}
    f1_folded: dict[str, list[float]] = {s.name: [] for s in systems}
    seconds: dict[str, list[float]] = {s.name: [] for s in systems}
    for s in systems:  # warm-up: first-run allocations are not per-page cost
        s.page_lines(images[0])
    for k, path in enumerate(images):
        truth = [t.text for t in load_truth(DATASET / "box" / f"{path.stem}.csv")]
        for s in systems:
            start = time.perf_counter()
            lines = s.page_lines(path)
            seconds[s.name].append(time.perf_counter() - start)
            f1[s.name].append(word_f1(truth, lines))
            f1_folded[s.name].append(word_f1(truth, lines, fold_case=True))
        if (k + 1) % 5 == 0:
            print(f"  {k + 1}/{len(images)} pages", flush=True)

    cer: dict[str, tuple[float, float, int]] = {}
    for s in systems:
        pages = images if not isinstance(s, Tesseract) else images[: args.cer_tesseract_pages]
        pairs: list[tuple[str, str]] = []
        for path in pages:
            crops, texts = truth_crops(path, DATASET / "box" / f"{path.stem}.csv")
            pairs.extend(zip(texts, s.recognize(crops), strict=True))
        cer[s.name] = (corpus_cer(pairs), corpus_cer(pairs, fold_case=True), len(pages))

    ours = systems[0]
    stage = ours.engine.times
    print(
        f"\nour stage seconds/page (incl. warm-up page): detect {stage.detect / stage.pages:.3f}, "
        f"orientation {stage.classify / stage.pages:.3f}, recognize {stage.recognize / stage.pages:.3f}"
    )

    print(
        "\n| system | page word F1 | F1 case-folded | line CER (pages) | CER case-folded "
        "| s/page (median) | s/page (mean) |"
    )
    print("|---|---|---|---|---|---|---|")
    for s in systems:
        c = cer[s.name]
        print(
            f"| {s.name} | {statistics.mean(f1[s.name]):.4f} | {statistics.mean(f1_folded[s.name]):.4f} | "
            f"{c[0]:.3f} ({c[2]}) | {c[1]:.3f} | {statistics.median(seconds[s.name]):.3f} | "
            f"{statistics.mean(seconds[s.name]):.3f} |"
        )
    mine_f1, mine_s = statistics.mean(f1[ours.name]), statistics.mean(seconds[ours.name])
    mine_folded = statistics.mean(f1_folded[ours.name])
    print("\nratios (ours / reference, same run):")
    for s in systems[1:]:
        print(
            f"  vs {s.name}: word F1 x{mine_f1 / max(1e-9, statistics.mean(f1[s.name])):.3f}, "
            f"case-folded F1 x{mine_folded / statistics.mean(f1_folded[s.name]):.3f}, "
            f"s/page x{mine_s / statistics.mean(seconds[s.name]):.2f}"
        )

    if not args.skip_rss:
        with tempfile.TemporaryDirectory() as tmp:
            pdf = Path(tmp) / "scan10.pdf"
            build_scanned_pdf(sorted((DATASET / "img").glob("*.jpg"))[:10], pdf)
            rss, wall = cli_peak_rss(pdf)
        print(
            f"\n`inbox-ocr ocr --json` on a 10-page scanned PDF: peak RSS {rss:.0f} MB "
            f"(target < 600 MB), {wall:.1f} s wall incl. start-up and model loading"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
