"""IMAP benchmark against a real Dovecot started for the run.

    python tests/benchmarks/bench_imap.py [--messages 300] [--arrivals 20]

1. Throughput: N text-PDF invoices (generated, distinct numbers) in a folder; one daemon pass
   (`Daemon.run_once`: fetch, read, classify, route, ledger commit, MOVE + keyword, webhook to a
   drop folder) is timed. Reference measured in the same run: `process_message` alone over the same
   messages (no IMAP, no ledger), so the ratio shows what the source and the ledger cost.
2. Latency in IDLE mode: the daemon runs; one invoice is appended at a time and the time from the
   end of the APPEND to the moment the message is in the target folder (a second client asks STATUS
   every 10 ms) is taken.

Targets (issue 5): >= 20 messages/s on 2 cores; median arrival-to-moved < 2 s.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from inbox_ocr.app.config import load_config  # noqa: E402
from inbox_ocr.app.daemon import Daemon  # noqa: E402
from inbox_ocr.app.samples import SampleMessage, build_message, invoice_doc, render_pdf  # noqa: E402
from inbox_ocr.app.wiring import build_processor  # noqa: E402
from inbox_ocr.kernel.models import RawMessage  # noqa: E402
from inbox_ocr.orchestration.pipeline import process_message  # noqa: E402
from tests.integration.conftest import admin_client, append_many  # noqa: E402
from tests.integration.dovecot import Dovecot  # noqa: E402


def invoices(count: int, distinct_pdfs: int = 12) -> list[bytes]:
    pdfs = [
        render_pdf(
            invoice_doc(
                number=f"INV-2026-{i:04d}",
                total=f"{100 + i * 7},50",
                net=f"{84 + i * 6},45",
                tax=f"{16 + i},05",
            )
        )
        for i in range(distinct_pdfs)
    ]
    return [
        build_message(
            SampleMessage(
                f"bench-{i}",
                f"Invoice INV-2026-{i % distinct_pdfs:04d}",
                "Acme Billing <billing@acme-supplies.example>",
                "Dear customer,\n\nplease find our invoice attached.",
                ((f"INV-{i}.pdf", "application/pdf", pdfs[i % distinct_pdfs]),),
            )
        )
        for i in range(count)
    ]


def config_file(work: Path, server: Dovecot, folder: str, mode: str) -> Path:
    data = {
        "state_dir": str(work / f"var-{mode}"),
        "sources": [
            {
                "name": "finance",
                "type": "imap",
                "host": "127.0.0.1",
                "port": server.ssl_port,
                "security": "ssl",
                "username": server.user,
                "password": server.password,
                "ca_file": str(server.ca_file),
                "folders": [folder],
                "mode": mode,
                "poll_every": "5m",
                "batch_size": 100,
            }
        ],
        "webhooks": {"erp": {"url": f"file://{work}/drop-{mode}"}},
        "rules": [
            {
                "name": "invoices",
                "when": {"doc_type": "invoice"},
                "then": [{"move": f"Invoices-{mode}"}, {"keyword": "invoice"}, {"webhook": "erp"}],
                "stop": True,
            }
        ],
        "default": [{"move": f"Other-{mode}"}],
        "log": {"level": "WARNING"},
    }
    path = work / f"config-{mode}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def throughput(server: Dovecot, work: Path, count: int) -> None:
    mails = invoices(count)
    admin = admin_client(server)
    append_many(admin, "Bulk", mails)
    config = load_config(config_file(work, server, "Bulk", "poll"))

    ctx = build_processor(config)
    process_message(RawMessage(source="finance", key="warm", raw=mails[0]), ctx)  # load once, untimed
    started = time.perf_counter()
    for i, raw in enumerate(mails):
        process_message(RawMessage(source="finance", key=str(i), raw=raw), ctx)
    reference = count / (time.perf_counter() - started)

    daemon = Daemon(config)
    started = time.perf_counter()
    reports = [r for source in daemon.sources for r in daemon.drain(source)]  # fetch .. ack
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    delivery = daemon.outbox.deliver_due(limit=10_000)
    outbox_seconds = time.perf_counter() - started
    daemon.close()
    admin.select_folder("Invoices-poll", readonly=True)
    routed = len(admin.search())
    admin.logout()
    rate = routed / seconds
    print(
        f"throughput: {len(reports)} messages handled, {routed} moved to Invoices in {seconds:.2f} s; "
        f"then {delivery.delivered} webhooks written in {outbox_seconds:.2f} s"
    )
    print(f"  routed from Dovecot:          {rate:6.1f} messages/s   (target >= 20)")
    print(f"  process_message alone (ref):  {reference:6.1f} messages/s   (same messages, same run)")
    print(f"  ratio routed / reference:     {rate / reference:6.2f}")
    print(
        f"  per message: {1000 / rate:.1f} ms end to end, {1000 / reference:.1f} ms of it reading + routing"
    )


def latency(server: Dovecot, work: Path, arrivals: int) -> None:
    mails = invoices(arrivals)
    admin = admin_client(server)
    admin.create_folder("Idle")
    admin.create_folder("Invoices-idle")
    watcher = admin_client(server)  # asks STATUS every 10 ms: sees the move as soon as it is done
    daemon = Daemon(load_config(config_file(work, server, "Idle", "idle")))
    thread = threading.Thread(target=daemon.run_forever, name="daemon")
    thread.start()
    time.sleep(1.5)  # first pass, then IDLE
    samples: list[float] = []
    try:
        for i, raw in enumerate(mails, start=1):
            admin.append("Idle", raw)
            arrived = time.perf_counter()
            while time.perf_counter() - arrived < 30:
                if watcher.folder_status("Invoices-idle", [b"MESSAGES"])[b"MESSAGES"] >= i:
                    samples.append(time.perf_counter() - arrived)
                    break
                time.sleep(0.01)
            else:
                print("  ! a message was not moved within 30 s")
            time.sleep(0.5)  # let the daemon go back to IDLE
    finally:
        daemon.request_stop()
        thread.join(timeout=30)
        watcher.logout()
        admin.logout()
    samples.sort()
    print(f"IDLE latency, arrival -> moved, {len(samples)} of {arrivals} messages:")
    print(
        f"  median {statistics.median(samples):.3f} s   p90 {samples[int(0.9 * (len(samples) - 1))]:.3f} s   "
        f"min {samples[0]:.3f} s   max {samples[-1]:.3f} s   (target median < 2 s)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--arrivals", type=int, default=20)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print(f"machine: {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}")
    server = Dovecot.start()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-imap-") as tmp:
            throughput(server, Path(tmp), args.messages)
            latency(server, Path(tmp), args.arrivals)
    finally:
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
