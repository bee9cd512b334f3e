"""REST API benchmark.  Run:  python tests/benchmarks/bench_api.py [--limit N]

POST /ocr on the first N sroie-dev receipts (held-in: the OCR core was tuned on them) with 1 and
with 4 concurrent clients, against `inbox-ocr ocr --json` on the same files in the same run: median
seconds per page (the API's as the client sees it, over loopback; the CLI's as it reports per
file, its model loading left out) and pages/s. Targets (issue 12): API latency at 1 client within
10% of the CLI's time per page; pages/s at 4 clients at least the CLI's.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
SROIE = ROOT.parent / "shared" / "datasets" / "sroie-dev" / "img"
PROGRAM = Path(sys.executable).parent / "inbox-ocr"
TOKEN = "bench-token-0123456789"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _post(base: str, path: Path) -> float:
    start = time.perf_counter()
    with path.open("rb") as f:
        answer = requests.post(f"{base}/ocr", headers={"Authorization": f"Bearer {TOKEN}"},
                               files={"file": (path.name, f)}, timeout=600)
    answer.raise_for_status()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=20)
    args = parser.parse_args()
    files = sorted(SROIE.glob("*.jpg"))[: args.limit]
    if not files:
        sys.exit(f"no receipts in {SROIE}")

    cli = subprocess.run([str(PROGRAM), "ocr", "--json", *map(str, files)], capture_output=True, text=True,
                         check=True)
    cli_seconds = [json.loads(line)["seconds"] for line in cli.stdout.splitlines()]

    folder = Path(tempfile.mkdtemp())
    port = _free_port()
    (folder / "c.yaml").write_text(f"state_dir: {folder / 'var'}\n"
                                   f"http: {{host: 127.0.0.1, port: {port}, api_tokens: ['{TOKEN}']}}\n")
    proc = subprocess.Popen([str(PROGRAM), "serve", "-c", str(folder / "c.yaml")], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env={**os.environ})
    base = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                if requests.get(f"{base}/ocr/health", headers={"Authorization": f"Bearer {TOKEN}"},
                                timeout=5).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.2)
        _post(base, files[0])  # warm-up, untimed
        start = time.perf_counter()
        one = [_post(base, f) for f in files]
        one_wall = time.perf_counter() - start
        start = time.perf_counter()
        with ThreadPoolExecutor(4) as pool:
            four = list(pool.map(lambda f: _post(base, f), files))
        four_wall = time.perf_counter() - start
    finally:
        proc.terminate()
        proc.wait(timeout=60)

    n = len(files)
    cli_rate = n / sum(cli_seconds)
    print(f"POST /ocr on {n} sroie-dev receipts (one page each), load average {os.getloadavg()[0]:.1f}")
    print(f"  inbox-ocr ocr (reference): median {statistics.median(cli_seconds):.3f} s/page, {cli_rate:.2f} pages/s")
    print(f"  API, 1 client : median {statistics.median(one):.3f} s/page "
          f"({statistics.median(one) / statistics.median(cli_seconds):.2f}x the CLI; target <= 1.10), "
          f"{n / one_wall:.2f} pages/s")
    print(f"  API, 4 clients: median {statistics.median(four):.3f} s/request, {n / four_wall:.2f} pages/s "
          f"({n / four_wall / cli_rate:.2f}x the CLI; target >= 1.00)")


if __name__ == "__main__":
    main()
