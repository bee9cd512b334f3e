"""Scaling benchmark.  Run:  python tests/benchmarks/bench_scale.py [--scanned N] [--text N]

Servers are started here on loopback (tests/postgres_server.py, tests/redis_server.py), as in the
tests; messages arrive in a Maildir.

(1) OCR-bound: N messages with a scanned invoice (an image-only PDF, one page), through the work
    queue (a scheduler, PostgreSQL ledger, Redis) with 1 worker and then with 2 workers (one
    process each, ONNX Runtime on one thread: one worker per core), in the same run. Timed from
    the messages' arrival (scheduler and workers already running) until every one is committed:
    messages/s and the ratio 2 workers : 1 (target >= 1.7 on a 2-core machine).
(2) The ledger's cost: M text-PDF messages in one process (no queue), ledger on SQLite and on
    PostgreSQL (loopback), the same run: messages/s and the ratio, and the ledger's share
    measured as commits per second on each.
"""

from __future__ import annotations

import argparse
import io
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from inbox_ocr.app.samples import SampleMessage, invoice_doc, render_pdf, write_maildir  # noqa: E402
from inbox_ocr.orchestration.ledger import Ledger  # noqa: E402
from tests.postgres_server import Postgres  # noqa: E402
from tests.redis_server import Redis  # noqa: E402


def scanned_pdf(number: str) -> bytes:
    """The sample invoice printed and scanned: one page, an image at 150 dpi, no text layer."""
    import pymupdf

    with pymupdf.open(stream=render_pdf(invoice_doc(number=number)), filetype="pdf") as text:
        png = text[0].get_pixmap(dpi=150, colorspace=pymupdf.csGRAY).tobytes("png")
    out = pymupdf.open()
    page = out.new_page(width=595, height=842)
    page.insert_image(page.rect, stream=io.BytesIO(png).getvalue())
    return out.tobytes(deflate=True)


def messages(count: int, kind: str) -> list[SampleMessage]:
    out = []
    for i in range(count):
        pdf = scanned_pdf(f"SCAN-{i}") if kind == "scanned" else render_pdf(invoice_doc(number=f"TXT-{i}"))
        out.append(SampleMessage(f"{kind}-{i}", f"Invoice {kind} {i}", "billing@acme.example", "attached",
                                 ((f"{kind}-{i}.pdf", "application/pdf", pdf),)))
    return out


def config(folder: Path, maildir: Path, ledger: str | None, broker: str | None) -> Path:
    data: dict[str, object] = {
        "state_dir": str(folder / "var"),
        "sources": [{"name": "box", "type": "maildir", "path": str(maildir), "poll_every": "1s", "batch_size": 50}],
        "rules": [{"name": "invoices", "when": {"subject": "Invoice *"}, "then": [{"keyword": "invoice"}]}],
        "default": [{"keyword": "other"}],
        "ocr": {"threads": 1},
        "log": {"level": "WARNING"},
    }
    if ledger:
        data["ledger"] = {"url": ledger}
    if broker:
        data["queue"] = {"broker_url": broker, "name": f"bench-{folder.name}"}
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def spawn(*args: str, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "inbox_ocr", *args], stdout=log.open("wb"),
                            stderr=subprocess.STDOUT, start_new_session=True)


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)


def queue_run(pg: Postgres, redis: Redis, workers: int, batch: list[SampleMessage]) -> float:
    """Seconds from the messages' arrival until all are committed, with `workers` worker processes."""
    folder = Path(tempfile.mkdtemp(prefix=f"bench-scale-{workers}w-"))
    maildir = folder / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    url = pg.new_database()
    cfg = config(folder, maildir, url, redis.url)
    procs = [spawn("worker", "-c", str(cfg), "--concurrency", "1", log=folder / f"worker-{i}.log")
             for i in range(workers)]
    procs.append(spawn("run", "-c", str(cfg), log=folder / "scheduler.log"))
    ledger = Ledger(url)
    try:
        time.sleep(8)  # scheduler and workers up (Celery connects, the scorer loads)
        staged = write_maildir(folder / "staging", batch)
        started = time.perf_counter()
        for path in staged:
            path.rename(maildir / "new" / path.name)
        while ledger.counts().get("messages_done", 0) < len(batch):
            for p in procs:
                if p.poll() is not None:
                    raise RuntimeError(f"a process exited: see {folder}")
            time.sleep(0.2)
        return time.perf_counter() - started
    finally:
        ledger.close()
        stop(procs)


def local_run(ledger: str | None, batch: list[SampleMessage]) -> tuple[float, int]:
    """Seconds of one pass over the messages in one process (no queue), and how many were routed."""
    from inbox_ocr.app.config import load_config
    from inbox_ocr.app.daemon import Daemon

    folder = Path(tempfile.mkdtemp(prefix="bench-scale-local-"))
    maildir = folder / "Maildir"
    write_maildir(maildir, batch)
    daemon = Daemon(load_config(config(folder, maildir, ledger, None)))
    try:
        started = time.perf_counter()
        reports, _ = daemon.run_once()
        return time.perf_counter() - started, len(reports)
    finally:
        daemon.close()


def commits_per_second(where: str, count: int = 300) -> float:
    """Outcomes (a message row, an audit row) committed one by one: the ledger's write rate."""
    from inbox_ocr.kernel.models import MessageStatus
    from inbox_ocr.orchestration.ledger import MessageIdentity, Outcome

    ledger = Ledger(where)
    try:
        started = time.perf_counter()
        for i in range(count):
            ledger.messages.record_outcome(Outcome(
                identity=MessageIdentity("bench", f"k{i}", f"<{i}@b>", f"h{i}"), status=MessageStatus.DONE,
                audit=(("routed", "bench"),)))
        return count / (time.perf_counter() - started)
    finally:
        ledger.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scanned", type=int, default=32, help="scanned-PDF messages per queue run")
    parser.add_argument("--text", type=int, default=100, help="text-PDF messages per ledger run")
    parser.add_argument("--rounds", type=int, default=1, help="queue runs per worker count (medians)")
    args = parser.parse_args()
    pg, redis = Postgres.start(), Redis.start()
    try:
        scanned = messages(args.scanned, "scanned")
        one = [queue_run(pg, redis, 1, scanned) for _ in range(args.rounds)]
        two = [queue_run(pg, redis, 2, scanned) for _ in range(args.rounds)]
        m1, m2 = statistics.median(one), statistics.median(two)
        print(f"\n(1) {args.scanned} scanned-PDF messages through the work queue (median of {args.rounds}; "
              f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f})")
        print(f"  1 worker : {m1:6.1f} s = {args.scanned / m1:5.2f} messages/s ({m1 / args.scanned:.2f} s/message)")
        print(f"  2 workers: {m2:6.1f} s = {args.scanned / m2:5.2f} messages/s   ratio {m1 / m2:.2f}x "
              "(target >= 1.7)")

        text = messages(args.text, "text")
        lite_s, lite_n = local_run(None, text)
        pg_s, pg_n = local_run(pg.new_database(), text)
        assert lite_n == pg_n == args.text, (lite_n, pg_n)
        print(f"\n(2) {args.text} text-PDF messages in one process (no queue)")
        print(f"  SQLite ledger    : {args.text / lite_s:6.1f} messages/s")
        print(f"  PostgreSQL ledger: {args.text / pg_s:6.1f} messages/s   ratio {lite_s / pg_s:.2f}x SQLite's")
        with tempfile.TemporaryDirectory() as tmp:
            lite_rate = commits_per_second(str(Path(tmp) / "ledger.sqlite3"))
        pg_rate = commits_per_second(pg.new_database())
        print(f"  outcome commits  : SQLite {lite_rate:.0f}/s (fsync on each), PostgreSQL {pg_rate:.0f}/s "
              "(loopback; the test server runs with fsync off)")
    finally:
        redis.close()
        pg.close()


if __name__ == "__main__":
    main()
