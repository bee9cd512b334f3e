"""`--json` on every command whose output a script reads: one JSON document on stdout, the same
facts as the text, and nothing else there."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from inbox_ocr.app import exits
from inbox_ocr.app.cli import main
from tests.integration.webhook_fixtures import make_pdf
from tests.unit.test_exit_codes import config, maildir, message


def _read_terminal(fd: int) -> bytes:
    """Everything written to a pseudo-terminal until the program on it exits (then closes it)."""
    out = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # the terminal closed with the program
            break
        if not chunk:
            break
        out += chunk
    os.close(fd)
    return out


def _json(args: list[str], code: int = exits.OK) -> object:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == code, result.output
    return json.loads(result.stdout)


def test_run_ledger_outbox_backfill_process_and_check_config_speak_json(tmp_path: Path) -> None:
    box = maildir(tmp_path / "Maildir", {"1.a": message("Invoice 1", make_pdf()), "2.b": message("Lunch")})
    cfg = config(tmp_path, box)
    cfg.write_text(cfg.read_text() + f"webhooks: {{erp: {{url: '{(tmp_path / 'drop').as_uri()}'}}}}\n"
                   "rules: [{name: pdfs, when: {has_attachment: true}, then: [{webhook: erp}]}]\n")

    run = _json(["run", "-c", str(cfg), "--once", "--json"])
    assert isinstance(run, dict)
    assert sorted(m["subject"] for m in run["messages"]) == ["Invoice 1", "Lunch"]
    assert {m["status"] for m in run["messages"]} == {"done"} and run["webhooks"]["delivered"] == 1

    listed = _json(["ledger", "-c", str(cfg), "--json"])
    assert isinstance(listed, dict) and listed["counts"]["messages_done"] == 2
    invoice = next(m for m in listed["messages"] if m["subject"] == "Invoice 1")
    assert invoice["rule"] == "pdfs" and invoice["actions"] == ["webhook: erp"]
    assert _json(["ledger", "-c", str(cfg), "--status", "failed", "--json"])["messages"] == []  # type: ignore[index]

    shown = _json(["ledger", "show", str(invoice["id"]), "-c", str(cfg), "--json"])
    assert isinstance(shown, dict) and shown["message"]["documents"][0]["attachment"] == "invoice.pdf"
    assert [e["event"] for e in shown["audit"]][:2] == ["received", "read"]

    deliveries = _json(["outbox", "list", "-c", str(cfg), "--json"])
    assert isinstance(deliveries, list) and len(deliveries) == 1 and deliveries[0]["status"] == "delivered"
    assert "payload" not in deliveries[0]
    one = _json(["outbox", "show", str(deliveries[0]["id"]), "-c", str(cfg), "--json"])
    assert isinstance(one, dict) and one["payload"]["message"]["subject"] == "Invoice 1"

    again = _json(["backfill", "-c", str(cfg), "--source", "box", "--json"])
    assert isinstance(again, dict) and again["handled"] == 0 and again["interrupted"] is False

    eml = tmp_path / "one.eml"
    eml.write_bytes(message("Invoice 2", make_pdf()))
    dry = _json(["process", "--dry-run", str(eml), "-c", str(cfg), "--json"])
    assert isinstance(dry, dict) and dry["rule"] == "pdfs" and dry["actions"] == ["webhook: erp"]
    assert dry["documents"][0]["doc_type"] and dry["quarantined"] is False

    ok = _json(["check-config", str(cfg), "--json"])
    assert ok == {"file": str(cfg), "ok": True, "sources": ["box"], "rules": ["pdfs"], "webhooks": ["erp"],
                  "endpoints": {}}
    bad = tmp_path / "bad.yaml"
    bad.write_text("sources: [{name: b, type: maildirr, path: x}]\nlimits: {document_seconds: soon}\n")
    problems = _json(["check-config", str(bad), "--json"], code=exits.CONFIG)
    assert isinstance(problems, dict) and problems["ok"] is False and len(problems["problems"]) == 2


def test_run_once_on_a_terminal_prints_each_message_then_the_totals(tmp_path: Path) -> None:
    box = maildir(tmp_path / "Maildir", {"1.a": message("Invoice 1", make_pdf()), "2.b": message("Lunch")})
    cfg = config(tmp_path, box)
    main_fd, child_fd = pty.openpty()
    program = Path(sys.executable).parent / "inbox-ocr"
    proc = subprocess.Popen([str(program), "run", "-c", str(cfg), "--once"], stdout=child_fd,
                            stderr=subprocess.DEVNULL, cwd=tmp_path)
    os.close(child_fd)
    out = _read_terminal(main_fd)
    assert proc.wait(timeout=120) == exits.OK
    text = out.decode()
    assert text.count("- [done]") == 2 and "'Invoice 1'" in text and "'Lunch'" in text
    assert text.rstrip().splitlines()[-2:][0].startswith("2 message(s) handled") or "2 message(s) handled" in text
    assert text.index("- [done]") < text.index("message(s) handled")  # lines first, totals last


def test_extract_shows_which_file_it_reads_on_a_terminal_and_nothing_when_piped(tmp_path: Path) -> None:
    from inbox_ocr.app.samples import invoice_doc, render_pdf

    files = []
    for number in ("P-1", "P-2"):
        files.append(tmp_path / f"{number}.pdf")
        files[-1].write_bytes(render_pdf(invoice_doc(number=number)))
    main_fd, child_fd = pty.openpty()
    program = Path(sys.executable).parent / "inbox-ocr"
    proc = subprocess.Popen([str(program), "extract", "--no-sandbox", *map(str, files)], stdout=subprocess.PIPE,
                            stderr=child_fd, cwd=tmp_path)
    os.close(child_fd)
    terminal = _read_terminal(main_fd)
    assert proc.stdout is not None
    piped = proc.stdout.read().decode()
    assert proc.wait(timeout=120) == exits.OK
    assert "[1/2]" in terminal.decode() and "[2/2]" in terminal.decode()
    assert "invoice_number: P-1" in piped and "invoice_number: P-2" in piped and "[1/2]" not in piped
