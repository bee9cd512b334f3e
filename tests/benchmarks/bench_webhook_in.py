"""Inbound webhook throughput: signed requests each carrying a 200 KB PDF, from 50 concurrent
clients on loopback, accepted only once fsynced into the spool.

    python tests/benchmarks/bench_webhook_in.py [--requests 1200] [--clients 50] [--pdf-kb 200] [--rounds 3]

The server runs in a process of its own (uvicorn, as in the daemon) so that the clients do not
share its interpreter. Printed: requests/s accepted and persisted, p50/p99 latency, and requests
lost = answered 2xx but not in the spool (counted on disk after the run; must be 0). Reference
in the same run: the same server and clients against a path that reads the body and answers
without verifying or storing (the HTTP stack's ceiling), and the Postmark JSON path (base64
attachment rebuilt into MIME).
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

SECRET = "bench-secret-0123456789"


def serve(config_file: str, port_file: str) -> None:
    """Child process: the daemon's webhook app plus a /null reference route, on a free port."""
    import uvicorn
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from connectors.webhook_in import Endpoint, Spool, WebhookSourceConfig, spool_dir
    from inbox_ocr.app.config import load_config
    from inbox_ocr.app.http import build_app

    config = load_config(config_file)
    hooks = [s for s in config.sources if isinstance(s, WebhookSourceConfig)]
    app = build_app([Endpoint.for_source(h, Spool(spool_dir(config.state_dir, h.name))) for h in hooks])

    async def null(request: Request) -> JSONResponse:
        await request.body()
        return JSONResponse({"stored": None})

    app.router.routes.append(Route("/null", null, methods=["POST"]))
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=0, log_level="warning", access_log=False, lifespan="off", backlog=1024
        )
    )

    def announce() -> None:
        while not server.started:
            time.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        Path(port_file).write_text(str(port))

    threading.Thread(target=announce, daemon=True).start()
    server.run()


def run_load(
    port: int, make: Callable[[int], tuple[str, bytes, dict[str, str]]], total: int, clients: int, start: int = 0
) -> tuple[float, list[float], int]:
    """`total` requests from `clients` threads with keep-alive connections; returns wall seconds,
    latencies of the 2xx answers and the number of non-2xx answers."""
    latencies: list[float] = []
    failures = 0
    lock = threading.Lock()
    counter = iter(range(start, start + total))

    def client(_: int) -> None:
        nonlocal failures
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            path, body, headers = make(i)
            started = time.perf_counter()
            try:
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                ok = 200 <= response.status < 300
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                ok = False
            elapsed = time.perf_counter() - started
            with lock:
                if ok:
                    latencies.append(elapsed)
                else:
                    failures += 1
        conn.close()

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    return time.perf_counter() - started, latencies, failures


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1200, help="per path, split over the rounds")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--pdf-kb", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per path")
    parser.add_argument("--serve", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(*args.serve)
        return 0

    from connectors.webhook_in.providers.mime import sign
    from tests.integration.webhook_fixtures import make_pdf, raw_message

    pdf = make_pdf(pad_to=args.pdf_kb * 1000)
    work = Path(tempfile.mkdtemp(prefix="bench-webhook-"))
    config_file = work / "config.yaml"
    config_file.write_text(
        f"state_dir: {work / 'var'}\nsources:\n"
        f"  - {{name: raw, type: webhook, provider: mime, secret: {SECRET}}}\n"
        f"  - {{name: pm, type: webhook, provider: postmark, username: pm, secret: {SECRET}}}\n"
    )
    port_file = work / "port"
    child = subprocess.Popen([sys.executable, __file__, "--serve", str(config_file), str(port_file)], cwd=ROOT)
    try:
        deadline = time.time() + 30
        while not port_file.exists() or not port_file.read_text():
            if child.poll() is not None or time.time() > deadline:
                raise SystemExit("benchmark server did not start")
            time.sleep(0.05)
        port = int(port_file.read_text())
        bodies = [raw_message(f"<bench-{i}@vendor.example>", pdf, subject=f"Invoice {i}") for i in range(args.requests)]
        print(
            f"{args.requests} requests, {args.clients} concurrent clients, PDF {len(pdf) / 1000:.0f} KB, "
            f"message {len(bodies[0]) / 1000:.0f} KB (base64 in MIME), cores={os.cpu_count()}"
        )

        def raw_request(i: int) -> tuple[str, bytes, dict[str, str]]:
            ts = str(int(time.time()))
            return (
                "/hooks/raw",
                bodies[i],
                {
                    "Content-Type": "message/rfc822",
                    "X-Webhook-Timestamp": ts,
                    "X-Webhook-Signature": sign(SECRET, ts, bodies[i]),
                },
            )

        def null_request(i: int) -> tuple[str, bytes, dict[str, str]]:
            return "/null", bodies[i], {"Content-Type": "message/rfc822"}

        auth = "Basic " + base64.b64encode(f"pm:{SECRET}".encode()).decode()
        pdf_b64 = base64.b64encode(pdf).decode()

        def postmark_request(i: int) -> tuple[str, bytes, dict[str, str]]:
            body = json.dumps(
                {
                    "MessageID": f"pm-{i}",
                    "From": "billing@vendor.example",
                    "To": "ap@example.com",
                    "Subject": f"Invoice {i}",
                    "TextBody": "attached",
                    "Attachments": [{"Name": "invoice.pdf", "ContentType": "application/pdf", "Content": pdf_b64}],
                }
            ).encode()
            return "/hooks/pm", body, {"Content-Type": "application/json", "Authorization": auth}

        run_load(port, null_request, min(100, args.requests), args.clients)  # warm up connections and imports
        paths = (
            ("reference: read body, no verify/store", null_request, None),
            ("raw MIME, signed, fsynced spool", raw_request, "raw"),
            ("Postmark JSON, base64 PDF -> MIME, fsynced", postmark_request, "pm"),
        )
        # rounds alternate the paths, so that load from other processes on a shared machine hits all
        # of them alike; req/s is the median over rounds, latencies are pooled
        per_round = args.requests // args.rounds
        rates: dict[str, list[float]] = {name: [] for name, _, _ in paths}
        latencies: dict[str, list[float]] = {name: [] for name, _, _ in paths}
        failures: dict[str, int] = {name: 0 for name, _, _ in paths}
        for r in range(args.rounds):
            for name, make, _ in paths:
                wall, lat, failed = run_load(port, make, per_round, args.clients, start=r * per_round)
                rates[name].append(len(lat) / wall)
                latencies[name].extend(lat)
                failures[name] += failed
        print(f"\n{'path':<46} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8} {'lost':>6}")
        lost_total = 0
        for name, _, spool in paths:
            lost = "-"
            if spool:
                stored = len(os.listdir(work / "var" / "inbound" / spool / "new"))
                lost_total += len(latencies[name]) - stored
                lost = str(len(latencies[name]) - stored)
            lat = latencies[name]
            print(
                f"{name:<46} {statistics.median(rates[name]):8.1f} {percentile(lat, 0.5) * 1000:8.1f} "
                f"{percentile(lat, 0.99) * 1000:8.1f} {failures[name]:8d} {lost:>6}"
            )
        reference = paths[0][0]
        for name, _, _ in paths[1:]:
            ratios = [a / b for a, b in zip(rates[name], rates[reference], strict=True)]
            print(
                f"req/s ratio {name!r} / reference: median {statistics.median(ratios):.2f} "
                f"(rounds: {', '.join(f'{x:.2f}' for x in ratios)})"
            )
        print(f"\nrequests lost (answered 2xx but not in the spool): {lost_total}")
        return 1 if lost_total else 0
    finally:
        child.terminate()
        child.wait(10)
        import shutil

        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
