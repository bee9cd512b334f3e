"""Instructions per text-layer document, counted by valgrind.  Run:  python tests/benchmarks/bench_instructions.py

The time of `bench_extract.py --only d` swings by 5-20 % between neighbouring runs on a shared VM,
which is as much as most single changes save. This counts the CPU instructions of read + analyze
instead (valgrind's callgrind; deterministic for the same code, inputs and PYTHONHASHSEED), over the
zugferd-dev PDFs with their embedded XML removed, as bench (d) reads them:

  first sight   what understanding keeps from text to text forgotten before each document
                (caches.forget()), as bench (d) times it
  repeat        the same documents again with everything kept (what bench (d) timed before
                2026-12-02; a lower bound)

Each figure is (instructions of 3 passes - instructions of 1 pass) / (2 x documents), so start-up,
imports and the warm-up pass cancel out. A worker runs under valgrind for each pass count; the two
of a mode run side by side. About 7 minutes on two cores. Needs `valgrind` (apt: valgrind); nothing
is downloaded. Datasets are read from ../shared/datasets relative to the repository root.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from inbox_ocr.kernel import heap  # noqa: E402  (imported after the path is set)
from inbox_ocr.read import read_document  # noqa: E402
from inbox_ocr.understand import analyze  # noqa: E402
from inbox_ocr.understand.caches import forget  # noqa: E402
from tests.benchmarks.bench_extract import ZUGFERD, _without_xml  # noqa: E402

MODES = ("first-sight", "repeat")


def worker(passes: int, mode: str) -> None:
    """Read + analyze every document once (warm-up: models loaded, tables built), settle the heap as
    the daemon does, then `passes` more passes."""
    plain = [(p.name, _without_xml(p.read_bytes())) for p in sorted(ZUGFERD.glob("*.pdf"))]

    def one(name: str, data: bytes) -> None:
        analyze(read_document(data, filename=name, content_type="application/pdf", sha256="-"))

    for name, data in plain:
        one(name, data)
    heap.settle()
    for _ in range(passes):
        for name, data in plain:
            if mode == "first-sight":
                forget()
            one(name, data)


def _instructions(out_file: Path) -> int:
    for line in out_file.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith(("summary:", "totals:")):
            return int(line.split()[1])
    raise RuntimeError(f"no instruction total in {out_file}")


def measure(mode: str, folder: Path) -> float:
    """Million instructions per document in `mode`."""
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    runs = {}
    for passes in (1, 3):
        out = folder / f"{mode}.{passes}.out"
        command = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, __file__,
                   "--worker", str(passes), "--mode", mode]
        runs[passes] = (out, subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
    counts = {}
    for passes, (out, process) in runs.items():
        _, err = process.communicate()
        if process.returncode != 0:
            tail = "\n".join(err.decode(errors="replace").splitlines()[-15:])
            raise RuntimeError(f"the {mode} worker ({passes} passes) failed:\n{tail}")
        counts[passes] = _instructions(out)
    documents = len(list(ZUGFERD.glob("*.pdf")))
    return (counts[3] - counts[1]) / (2 * documents) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mode", choices=MODES, action="append", help="default: both")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        worker(args.worker, (args.mode or ["first-sight"])[0])
        return
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (apt-get install valgrind)")
    if not ZUGFERD.is_dir():
        sys.exit(f"dataset folder missing: {ZUGFERD}")
    documents = len(list(ZUGFERD.glob("*.pdf")))
    print(f"read + analyze of {documents} zugferd-dev PDFs without their XML, instructions per document "
          "(valgrind callgrind, (3 passes - 1 pass) / 2, PYTHONHASHSEED=0)")
    with tempfile.TemporaryDirectory(prefix="inbox-ocr-instructions-") as tmp:
        for mode in args.mode or MODES:
            print(f"  {mode:<12} {measure(mode, Path(tmp)):7.2f} M instructions per document", flush=True)
    print(f"  Python {' '.join(sys.version.split())} (the counts depend on the interpreter's build)")


if __name__ == "__main__":
    main()
