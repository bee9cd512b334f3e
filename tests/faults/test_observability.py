"""What the people who run the daemon see: Prometheus metrics, /healthz and /readyz on the daemon's
HTTP server (with no webhook source configured: `http.enabled`), every log line of a message's
processing tagged with that message, and `inbox-ocr ledger show ID` telling a message's story.
"""

from __future__ import annotations

import re
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import requests
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from inbox_ocr.app.cli import main as cli
from inbox_ocr.app.samples import SampleMessage, build_message, invoice_doc, render_pdf
from tests.faults.harness import ledger_rows, wait_until
from tests.http_receiver import Receiver

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _metrics(base: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = requests.get(f"{base}/metrics", timeout=10).text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_metrics_health_readiness_tagged_logs_and_the_audit_trail(tmp_path: Path) -> None:
    receiver = Receiver(secret="obs-secret").start()
    maildir = tmp_path / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True)
    pdf = render_pdf(invoice_doc(number="OBS-1"))
    mails = {
        "inv": build_message(SampleMessage("obs-inv", "Invoice OBS-1", "billing@acme.example", "attached",
                                           (("OBS-1.pdf", "application/pdf", pdf),))),
        "note": build_message(SampleMessage("obs-note", "Lunch", "c@company.example", "noon", ())),
        "junk": b"\x00\x01 not mail at all",
    }
    for key, raw in mails.items():
        (maildir / "new" / key).write_bytes(raw)
    port = _free_port()
    config = tmp_path / "config.yaml"
    config.write_text(
        f"state_dir: {tmp_path / 'var'}\n"
        f"sources:\n  - {{name: box, type: maildir, path: {maildir}, poll_every: 1s}}\n"
        f"webhooks:\n  erp: {{url: '{receiver.url}', secret: obs-secret}}\n"
        "rules:\n  - {name: invoices, when: {subject: 'Invoice *'}, then: [{move: Invoices}, {webhook: erp}]}\n"
        "default: [{keyword: other}]\n"
        f"http: {{enabled: true, host: 127.0.0.1, port: {port}}}\n"
        "log: {level: DEBUG}\n")
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "daemon.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, str(ROOT / "run_daemon.py"), "--config", str(config)],
                                cwd=tmp_path, stdout=out, stderr=out)
    try:
        wait_until(lambda: len(ledger_rows(tmp_path / "var", "SELECT 1 FROM messages WHERE acked_at IS NOT NULL"))
                   == 3 and len(receiver.accepted) == 1, 60, "three messages handled, one webhook delivered")
        wait_until(lambda: _ok(f"{base}/readyz"), 20, "ready")
        assert requests.get(f"{base}/healthz", timeout=5).status_code == 200
        ready = requests.get(f"{base}/readyz", timeout=5)
        assert ready.status_code == 200 and ready.json() == {"status": "ready"}

        wait_until(lambda: _metrics(base).get(("inbox_ocr_outbox_depth", (("status", "delivered"),))) == 1, 20,
                   "the delivery shows in the outbox depth")
        m = _metrics(base)
        assert m[("inbox_ocr_messages_total", (("source", "box"), ("status", "done")))] == 2
        assert m[("inbox_ocr_messages_total", (("source", "box"), ("status", "quarantined")))] == 1
        assert m[("inbox_ocr_rule_hits_total", (("rule", "invoices"),))] == 1
        assert m[("inbox_ocr_rule_hits_total", (("rule", "(default)"),))] == 1
        assert m[("inbox_ocr_webhook_deliveries_total", (("result", "delivered"), ("webhook", "erp")))] == 1
        assert m[("inbox_ocr_outbox_depth", (("status", "pending"),))] == 0
        assert m[("inbox_ocr_ledger_messages", (("status", "quarantined"),))] == 1
        assert sum(v for (name, labels), v in m.items() if name == "inbox_ocr_documents_total") == 1
        assert m[("inbox_ocr_read_seconds_count", (("read_source", "text_layer"),))] == 1
        assert ("inbox_ocr_ocr_pages_total", ()) in m and ("inbox_ocr_ocr_seconds_total", ()) in m
        # process metrics, what runs, how much waits, how long deliveries take
        assert m[("process_resident_memory_bytes", ())] > 10_000_000 and ("process_cpu_seconds_total", ()) in m
        build = [dict(labels) for (name, labels), v in m.items() if name == "inbox_ocr_build_info" and v == 1]
        assert len(build) == 1 and build[0]["version"] and build[0]["python"].startswith("3.")
        assert m[("inbox_ocr_source_backlog_messages", (("source", "box"),))] == 0
        assert m[("inbox_ocr_webhook_delivery_latency_seconds_count", (("webhook", "erp"),))] == 1
        assert m[("inbox_ocr_webhook_delivery_latency_seconds_sum", (("webhook", "erp"),))] >= 0  # no bound: CI is busy
        _dashboard_queries_exist(requests.get(f"{base}/metrics", timeout=10).text)

        # the source breaks: readiness says which and why; healthz (liveness) stays up
        shutil.move(maildir / "cur", tmp_path / "cur-away")
        wait_until(lambda: requests.get(f"{base}/readyz", timeout=5).status_code == 503, 20, "not ready")
        problems = requests.get(f"{base}/readyz", timeout=5).json()["problems"]
        assert "box" in problems["sources"] and "not a Maildir" in problems["sources"]["box"]
        assert requests.get(f"{base}/healthz", timeout=5).status_code == 200
        shutil.move(tmp_path / "cur-away", maildir / "cur")
        wait_until(lambda: _ok(f"{base}/readyz"), 20, "ready again")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        receiver.stop()

    # every line written while a message was processed names it
    lines = log.read_text().splitlines()
    for key in mails:
        tagged = [line for line in lines if f"msg_key={key} " in line]
        assert tagged, f"no log line names message {key}"
    for line in lines:
        if re.search(r"event=(routed|quarantined|maildir_\w+|acked)", line):
            assert "msg_key=" in line and "message_id=" in line, line
    assert any("msg_key=inv " in line and "message_id=<obs-inv@" in line for line in lines)

    row = ledger_rows(tmp_path / "var", "SELECT id FROM messages WHERE key = 'inv'")[0][0]
    shown = CliRunner().invoke(cli, ["ledger", "-c", str(config), "show", str(row)])
    assert shown.exit_code == 0, shown.output
    trail = [line.split()[1] for line in shown.output.split("audit trail:")[1].strip().splitlines()]
    assert trail == ["received", "read", "classified", "routed", "acked", "delivered"], shown.output
    assert "rule: invoices" in shown.output and "OBS-1.pdf" in shown.output


def _ok(url: str) -> bool:
    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.RequestException:
        return False


def _dashboard_queries_exist(exposition: str) -> None:
    """Every metric the sample Grafana dashboard queries is one the daemon exposes."""
    import json

    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "info": ("_info",)}
    exposed = {family.name + suffix for family in text_string_to_metric_families(exposition)
               for suffix in suffixes.get(family.type, ("",))}  # a labelled family may have no sample yet
    dashboard = json.loads((ROOT / "deploy" / "grafana" / "inbox-ocr-dashboard.json").read_text())
    queried = {name for panel in dashboard["panels"] for target in panel["targets"]
               for name in re.findall(r"\b((?:inbox_ocr|process|python)_[a-z_]+)", target["expr"])}
    assert len(queried) >= 12
    assert queried <= exposed, f"the dashboard queries metrics the daemon does not expose: {queried - exposed}"
