"""The README's first command, end to end: seed the demo Maildir, run the daemon once, look at
where the messages went, the keywords they carry and the webhook deliveries."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import run_daemon
from connectors.maildir import Keywords, _split_name
from inbox_ocr.app.cli import main

ROOT = Path(__file__).resolve().parents[2]


def messages_in(folder: Path) -> dict[str, list[str]]:
    """subject -> keyword names, for the messages of one Maildir folder."""
    out = {}
    for sub in ("new", "cur"):
        for path in sorted((folder / sub).glob("*")):
            subject = next(line for line in path.read_text(errors="replace").splitlines()
                           if line.startswith("Subject:"))[len("Subject: "):]
            flags = _split_name(path.name)[1]
            out[subject] = Keywords(folder).names(flags) + [f"\\{c}" for c in flags if c.isupper()]
    return out


@pytest.fixture
def demo_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config").mkdir()
    shutil.copy(ROOT / "config" / "demo.yaml", tmp_path / "config" / "demo.yaml")
    result = CliRunner().invoke(main, ["demo", "seed"])
    assert result.exit_code == 0, result.output
    return tmp_path / "demo"


def test_demo_routes_every_message(demo_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_daemon.main(["--config", "config/demo.yaml", "--once"]) == 0
    summary = capsys.readouterr().out
    assert "7 message(s) handled" in summary
    assert "webhooks: 3 delivered" in summary

    maildir = demo_dir / "Maildir"
    assert messages_in(maildir / ".Invoices") == {"Invoice INV-2026-0042": [], "Gutschrift GS-2026-117": []}
    assert messages_in(maildir / ".Invoices.Approval") == {"Invoice INV-2026-0043": ["needs-approval"]}
    assert messages_in(maildir / ".Invoices.Reminders") == {"Payment reminder NW-55120": ["reminder", "\\F"]}
    assert messages_in(maildir / ".Invoices.Check") == {"Invoice attached (broken)": ["needs-review"]}
    assert messages_in(maildir) == {"Offsite agenda": ["not-invoice"],
                                    "Question about our account": ["not-invoice"]}

    payloads = [json.loads(p.read_text()) for p in sorted((demo_dir / "webhooks" / "erp").glob("*.json"))]
    by_subject = {p["message"]["subject"]: p for p in payloads}
    assert set(by_subject) == {"Invoice INV-2026-0042", "Invoice INV-2026-0043", "Gutschrift GS-2026-117"}
    (doc,) = by_subject["Invoice INV-2026-0043"]["documents"]
    assert doc["doc_type"] == "invoice"
    assert doc["fields"]["total"] == "18600.00"
    assert doc["fields"]["invoice_number"] == "INV-2026-0043"
    (credit,) = by_subject["Gutschrift GS-2026-117"]["documents"]
    assert credit["doc_type"] == "credit_note" and credit["fields"]["total"] == "297.50"

    # a second run finds nothing new and delivers nothing again
    assert run_daemon.main(["--config", "config/demo.yaml", "--once"]) == 0
    again = capsys.readouterr().out
    assert "0 message(s) handled" in again and "webhooks: 0 delivered" in again
    assert len(list((demo_dir / "webhooks" / "erp").glob("*.json"))) == 3


def test_seed_refuses_a_folder_it_did_not_make(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "precious.txt").write_text("keep me")
    result = CliRunner().invoke(main, ["demo", "seed"])
    assert result.exit_code != 0 and "refusing" in result.output
    assert (tmp_path / "demo" / "precious.txt").exists()
