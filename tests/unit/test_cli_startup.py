"""What `inbox-ocr` loads at start: a command's module only when it runs, and `ocr` only the OCR core
(measured start-up and memory are in README "OCR"; no timing here)."""

from __future__ import annotations

import json
import subprocess
import sys

import click

from inbox_ocr.app.cli import COMMANDS, main


def test_every_listed_command_resolves_to_itself() -> None:
    ctx = click.Context(main)
    assert main.list_commands(ctx) == sorted(COMMANDS)
    for name in COMMANDS:
        command = main.get_command(ctx, name)
        assert command is not None and command.name == name
    assert main.get_command(ctx, "no-such-command") is None


def _modules_after(code: str) -> set[str]:
    """The modules a fresh interpreter has loaded after running `code`."""
    probe = code + "\nimport json, sys\nprint(json.dumps(sorted(k for k, v in sys.modules.items() if v is not None)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    return set(json.loads(out.stdout.splitlines()[-1]))


def test_ocr_of_an_image_loads_no_config_pipeline_or_pdf_library(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (240, 60), "white")
    ImageDraw.Draw(image).text((10, 20), "Total 12.50", fill="black")
    path = tmp_path / "small.png"
    image.save(path)
    modules = _modules_after(
        "import sys\nfrom click.testing import CliRunner\nfrom inbox_ocr.app.cli import main\n"
        f"result = CliRunner().invoke(main, ['ocr', {str(path)!r}])\n"
        "assert result.exit_code == 0, result.output\nassert 'Total' in result.output, result.output\n"
    )
    assert "inbox_ocr.read.ocr.engine" in modules  # it did OCR
    for heavy in ("inbox_ocr.app.config", "inbox_ocr.orchestration.pipeline", "inbox_ocr.understand",
                  "inbox_ocr.app.cli.admin", "pymupdf", "uvicorn", "starlette"):
        assert heavy not in modules, heavy


def test_pymupdf_comes_without_its_layout_and_llm_add_ons(tmp_path) -> None:  # type: ignore[no-untyped-def]
    modules = _modules_after(
        "from inbox_ocr.read.mupdf import pymupdf\n"
        "doc = pymupdf.open(); page = doc.new_page(); page.insert_text((72, 72), 'Rechnung 4711')\n"
        "assert [w[4] for w in page.get_text('words')] == ['Rechnung', '4711']\n"
        "assert page.get_pixmap(dpi=50).width > 0\n"
    )
    assert "pymupdf" in modules
    assert not {m for m in modules if m.startswith(("pymupdf.layout", "pymupdf4llm", "onnxruntime"))}


def test_reading_a_text_pdf_loads_no_ocr_stack() -> None:
    """A text-layer PDF is read and analysed without OpenCV, ONNX Runtime or the OCR core (they
    load with the first scan); the garbled-text-layer check is part of the text layer's reading."""
    modules = _modules_after(
        "from inbox_ocr.read.mupdf import pymupdf\n"
        "from inbox_ocr.read import read_document\n"
        "from inbox_ocr.understand import analyze\n"
        "pdf = pymupdf.open(); page = pdf.new_page()\n"
        "page.insert_text((72, 72), 'Rechnung Nr. 4711 vom 01.03.2026 Gesamtbetrag 119,00 EUR')\n"
        "doc = read_document(pdf.tobytes(), filename='r.pdf', content_type='application/pdf', sha256='-')\n"
        "assert doc.reading == 'text_layer', doc\n"
        "assert analyze(doc).fields.invoice_number == '4711'\n"
    )
    assert "inbox_ocr.read.garbage" in modules  # the text layer was checked
    assert not {m for m in modules if m.startswith(("cv2", "onnxruntime", "inbox_ocr.read.ocr"))}
