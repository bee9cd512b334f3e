"""Exit statuses (inbox_ocr/app/exits.py): 0 all handled, 1 some items failed, 2 usage or config
error, 3 a source or the ledger unavailable; the same through `inbox-ocr`, `python -m inbox_ocr`
and `run_daemon.py`."""

from __future__ import annotations

import subprocess
import sys
from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner

from inbox_ocr.app import exits
from inbox_ocr.app.cli import main
from tests.conftest import ROOT
from tests.integration.webhook_fixtures import make_pdf


def maildir(root: Path, messages: dict[str, bytes]) -> Path:
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for name, raw in messages.items():
        (root / "new" / name).write_bytes(raw)
    return root


def message(subject: str, pdf: bytes | None = None) -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "billing@vendor.example", "ap@example.com", subject
    msg["Message-ID"] = f"<{abs(hash(subject))}@vendor.example>"
    msg.set_content("see attachment")
    if pdf is not None:
        msg.add_attachment(pdf, maintype="application", subtype="pdf", filename="invoice.pdf")
    return msg.as_bytes()


def config(tmp_path: Path, box: Path, limits: str = "") -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(f"state_dir: {tmp_path / 'var'}\nsources:\n  - {{name: box, type: maildir, path: {box}}}\n"
                    f"ocr: {{enabled: false}}\nlimits: {{isolate_documents: false{limits}}}\n")
    return path


def run_once(cfg: Path) -> int:
    return CliRunner().invoke(main, ["run", "-c", str(cfg), "--once"]).exit_code


def test_a_pass_that_handled_everything_exits_0(tmp_path: Path) -> None:
    box = maildir(tmp_path / "Maildir", {"1.a": message("Invoice 1", make_pdf())})
    assert run_once(config(tmp_path, box)) == exits.OK


def test_a_quarantined_message_exits_1_and_the_next_pass_0(tmp_path: Path) -> None:
    box = maildir(tmp_path / "Maildir", {"1.a": message("Invoice 1", make_pdf(pad_to=40_000))})
    cfg = config(tmp_path, box, ", max_message_bytes: 20KB")
    assert run_once(cfg) == exits.ITEMS
    assert run_once(cfg) == exits.OK  # quarantined means handled: nothing left to fail


def test_an_unreachable_source_exits_3(tmp_path: Path) -> None:
    assert run_once(config(tmp_path, tmp_path / "no-such-maildir")) == exits.UNAVAILABLE


@pytest.mark.parametrize("command", [["run", "--once"], ["ledger"], ["ocr", "x.png"], ["extract", "x.pdf"],
                                     ["check-config"]])
def test_a_bad_config_exits_2_for_every_command(tmp_path: Path, command: list[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("sources:\n  - {name: box, type: maildir, pth: x}\n")
    (tmp_path / "x.png").write_bytes(b"")
    (tmp_path / "x.pdf").write_bytes(b"")
    args = [command[0], "-c", str(bad), *command[1:]]
    args = [a if not a.startswith("x.") else str(tmp_path / a) for a in args]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == exits.CONFIG, (args, result.output)
    assert "pth" in result.output


def test_an_unreadable_file_and_a_message_that_would_be_quarantined_exit_1(tmp_path: Path) -> None:
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7 broken")
    assert CliRunner().invoke(main, ["extract", "--no-sandbox", str(broken)]).exit_code == exits.ITEMS
    box = maildir(tmp_path / "Maildir", {})
    cfg = config(tmp_path, box, ", max_message_bytes: 20KB")
    big = tmp_path / "big.eml"
    big.write_bytes(message("Invoice 2", make_pdf(pad_to=40_000)))
    result = CliRunner().invoke(main, ["process", "--dry-run", "-c", str(cfg), str(big)])
    assert result.exit_code == exits.ITEMS and "would be QUARANTINED" in result.output


def test_the_three_ways_to_start_give_the_same_status(tmp_path: Path) -> None:
    cfg = config(tmp_path, tmp_path / "no-such-maildir")
    ways = [[sys.executable, "-m", "inbox_ocr", "run", "--once", "-c", str(cfg)],
            [sys.executable, str(ROOT / "run_daemon.py"), "--once", "--config", str(cfg)],
            [str(Path(sys.executable).parent / "inbox-ocr"), "run", "--once", "-c", str(cfg)]]
    for way in ways:
        done = subprocess.run(way, cwd=tmp_path, capture_output=True, text=True, timeout=120)
        assert done.returncode == exits.UNAVAILABLE, (way, done.stderr[-1000:])
        assert "source box is unavailable" in done.stderr


def test_the_config_is_found_by_option_environment_or_search_order(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("INBOX_OCR_CONFIG", raising=False)
    missing = CliRunner().invoke(main, ["run", "--once"])
    if not Path("/etc/inbox-ocr/config.yaml").exists():
        assert missing.exit_code == exits.CONFIG and "inbox-ocr.yaml" in missing.output
    config(tmp_path, tmp_path / "no-such-maildir").rename(tmp_path / "inbox-ocr.yaml")
    found = CliRunner().invoke(main, ["run", "--once"])
    assert found.exit_code == exits.UNAVAILABLE, found.output  # it read ./inbox-ocr.yaml
    other = tmp_path / "other.yaml"
    box = maildir(tmp_path / "Maildir", {})
    config(tmp_path, box).rename(other)
    by_env = CliRunner().invoke(main, ["run", "--once"], env={"INBOX_OCR_CONFIG": str(other)})
    assert by_env.exit_code == exits.OK, by_env.output


def test_every_command_that_reads_a_config_takes_c_before_or_after_its_arguments(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`ledger -c F show 1` and `ledger show 1 -c F`, `outbox -c F list` and `outbox list -c F`: the
    config is read wherever -c stands; a -c after the command wins over one before it and over
    $INBOX_OCR_CONFIG."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("INBOX_OCR_CONFIG", raising=False)
    box = maildir(tmp_path / "Maildir", {"1.a": message("Invoice 1", make_pdf())})
    cfg = str(config(tmp_path, box))
    assert run_once(Path(cfg)) == exits.OK
    eml = str(tmp_path / "one.eml")
    Path(eml).write_bytes(message("Invoice 2", make_pdf()))
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(f"state_dir: {tmp_path / 'empty'}\nsources:\n  - {{name: b, type: maildir, path: {box}}}\n")
    calls = {
        "ledger": [["ledger", "-c", cfg], ["ledger", "--limit", "5", "-c", cfg]],
        "ledger show": [["ledger", "-c", cfg, "show", "1"], ["ledger", "show", "1", "-c", cfg],
                        ["ledger", "show", "-c", cfg, "1"], ["ledger", "-c", str(wrong), "show", "1", "-c", cfg]],
        "outbox list": [["outbox", "-c", cfg, "list"], ["outbox", "list", "-c", cfg]],
        "check-config": [["check-config", "-c", cfg], ["check-config", cfg]],
        "run": [["run", "--once", "-c", cfg], ["run", "-c", cfg, "--once"]],
        "process": [["process", "--dry-run", eml, "-c", cfg], ["process", "-c", cfg, "--dry-run", eml]],
    }
    for name, ways in calls.items():
        for args in ways:
            result = CliRunner().invoke(main, args, env={"INBOX_OCR_CONFIG": str(wrong)})
            assert result.exit_code == exits.OK, (args, result.output)
            if name.startswith("ledger"):
                assert "Invoice 1" in result.output, (args, result.output)
    nowhere = CliRunner().invoke(main, ["ledger", "show", "1"])
    assert nowhere.exit_code == exits.CONFIG and "no config file" in nowhere.output


def test_a_config_without_sources_is_for_serve_only(tmp_path: Path) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(f"state_dir: {tmp_path / 'var'}\nhttp: {{api_tokens: ['a-token-of-twelve']}}\n")
    assert CliRunner().invoke(main, ["check-config", str(cfg)]).exit_code == exits.OK
    refused = CliRunner().invoke(main, ["run", "--once", "-c", str(cfg)])
    assert refused.exit_code == exits.CONFIG and "inbox-ocr serve" in refused.output
