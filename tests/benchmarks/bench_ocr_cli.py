"""OCR speed as a user measures it: whole commands on the same receipts, one after the other, wall
clock, start-up included.

    python tests/benchmarks/bench_ocr_cli.py [--files 10] [--rounds 3]

  inbox-ocr ocr --json F1 ... F10        one process for all files (models loaded once)
  for f: inbox-ocr ocr --json f          one process per file (start-up paid each time)
  for f: tesseract f - --psm 4           a plain loop, as a user would write it
  for f: OMP_THREAD_LIMIT=1 tesseract    the same with Tesseract's OpenMP threads off
  inbox-ocr --help                       start-up alone (import time)
Median over rounds; the ratios are ours / the plain Tesseract loop.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SROIE = ROOT.parent / "shared" / "datasets" / "sroie-dev" / "img"


def _timed(commands: list[list[str]], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    for command in commands:
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    program = shutil.which("inbox-ocr") or str(Path(sys.executable).parent / "inbox-ocr")
    if not SROIE.is_dir() or not shutil.which("tesseract"):
        print("needs ../shared/datasets/sroie-dev and tesseract")
        return 2
    files = [str(p) for p in sorted(SROIE.glob("*.jpg"))[-args.files:]]  # the last ones: not the tuning slice
    single = dict(os.environ, OMP_THREAD_LIMIT="1")
    runs = {
        "inbox-ocr ocr, one process": lambda: _timed([[program, "ocr", "--json", *files]]),
        "inbox-ocr ocr, a process per file": lambda: _timed([[program, "ocr", "--json", f] for f in files]),
        "tesseract loop": lambda: _timed([["tesseract", f, "-", "--psm", "4"] for f in files]),
        "tesseract loop, OMP_THREAD_LIMIT=1": lambda: _timed([["tesseract", f, "-", "--psm", "4"] for f in files],
                                                              single),
        "inbox-ocr --help (start-up)": lambda: _timed([[program, "--help"]]),
    }  # fmt: skip
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.rounds):
        for name, run in runs.items():  # interleaved, so machine noise hits all alike
            seconds[name].append(run())
    print(f"{len(files)} sroie-dev receipts, {os.cpu_count()} cores, median of {args.rounds} rounds, wall s\n")
    print("| command | total s | s/file |")
    print("|---|---|---|")
    for name, values in seconds.items():
        total = statistics.median(values)
        per = "" if "start-up" in name else f"{total / len(files):.2f}"
        print(f"| {name} | {total:.2f} | {per} |")
    reference = statistics.median(seconds["tesseract loop"])
    print("\nratios to the plain tesseract loop:")
    for name in list(runs)[:2] + [list(runs)[3]]:
        print(f"  {name}: x{statistics.median(seconds[name]) / reference:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
