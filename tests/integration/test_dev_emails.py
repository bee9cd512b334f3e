"""Every real message of ../shared/datasets/emails-dev goes through `process --dry-run` and
`extract --json` without a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from inbox_ocr.app.cli import main
from tests.conftest import ROOT, dataset


def emails() -> list[Path]:
    return sorted(dataset("emails-dev").glob("*.eml"))


def test_dataset_has_messages() -> None:
    assert len(emails()) >= 20


@pytest.mark.parametrize("name", [p.name for p in sorted((ROOT.parent / "shared/datasets/emails-dev").glob("*.eml"))])
def test_dry_run_explains_without_traceback(name: str) -> None:
    path = dataset("emails-dev") / name
    result = CliRunner().invoke(main, ["process", "--dry-run", "--config", str(ROOT / "config" / "demo.yaml"),
                                       str(path)])
    quarantined = "would be QUARANTINED" in result.output
    assert result.exit_code == (1 if quarantined else 0), result.output  # app/exits.py; never a traceback
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "decision:" in result.output or quarantined
    assert "rules:" in result.output or "QUARANTINED" in result.output


def test_extract_json_lines_for_every_email() -> None:
    files = [str(p) for p in emails()]
    result = CliRunner().invoke(main, ["extract", "--json", *files])
    lines = [json.loads(line) for line in result.output.splitlines() if line.strip()]
    failed = any(line.get("error") for line in lines)
    assert result.exit_code == (1 if failed else 0), result.output[-2000:]  # 1: some document unreadable
    assert {line["file"] for line in lines} <= set(files)
    for line in lines:
        assert "error" in line or line["doc_type"]
    pdfs = [line for line in lines if str(line.get("attachment", "")).lower().endswith(".pdf")]
    assert pdfs, "the dev emails carry PDF attachments"
