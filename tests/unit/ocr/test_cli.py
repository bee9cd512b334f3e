"""`inbox-ocr ocr FILE... [--json]`."""

from __future__ import annotations

import json
from pathlib import Path

import pymupdf
from click.testing import CliRunner

from inbox_ocr.app.cli.ocr import ocr_command
from tests.unit.ocr.conftest import RenderedPage, image_bytes


def _files(tmp_path: Path, invoice: RenderedPage) -> tuple[Path, Path, Path]:
    png = tmp_path / "top.png"
    png.write_bytes(image_bytes(invoice.pixels[:420]))
    pdf_path = tmp_path / "scan.pdf"
    pdf = pymupdf.open()
    for _ in range(2):
        page = pdf.new_page(width=595, height=200)
        page.insert_image(page.rect, stream=image_bytes(invoice.pixels[:420], "JPEG", quality=90))
    pdf.save(pdf_path)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 truncated")
    return png, pdf_path, broken


def test_json_lines_one_per_file(tmp_path: Path, invoice: RenderedPage) -> None:
    png, pdf, broken = _files(tmp_path, invoice)
    result = CliRunner().invoke(ocr_command, [str(png), str(broken), str(pdf), "--json"])
    assert result.exit_code == 1  # one file failed, the others were still read
    records = [json.loads(line) for line in result.output.splitlines()]
    assert [r["file"] for r in records] == [str(png), str(broken), str(pdf)]
    first = records[0]
    assert set(first) == {"file", "pages", "seconds"}
    page = first["pages"][0]
    assert page["width"] == invoice.pixels.shape[1] and page["height"] == 420
    line = page["lines"][0]
    assert line["text"] == "Nordlicht Bürobedarf GmbH"
    assert 0 < line["confidence"] <= 1
    assert len(line["box"]) == 4 and all(len(p) == 2 for p in line["box"])
    assert "error" in records[1] and "pages" not in records[1]
    assert len(records[2]["pages"]) == 2
    assert records[2]["pages"][1]["width"] == 595  # PDF pages in points


def test_plain_text_in_reading_order(tmp_path: Path, invoice: RenderedPage) -> None:
    png, _, _ = _files(tmp_path, invoice)
    result = CliRunner().invoke(ocr_command, [str(png)])
    assert result.exit_code == 0
    assert result.output.splitlines()[:3] == list(invoice.lines[:3])


def test_many_files_read_together_come_out_each_in_its_turn(tmp_path: Path, invoice: RenderedPage) -> None:
    """Pages of several files are read in shared batches on several threads; every file still gets
    its own record, in the order given, with its own pages."""
    png, pdf, broken = _files(tmp_path, invoice)
    bottom = tmp_path / "bottom.png"
    bottom.write_bytes(image_bytes(invoice.pixels[400:900]))
    order = [pdf, png, broken, bottom, pdf, png]
    result = CliRunner().invoke(ocr_command, [*map(str, order), "--json"])
    assert result.exit_code == 1
    records = [json.loads(line) for line in result.output.splitlines()]
    assert [r["file"] for r in records] == [str(p) for p in order]
    assert [len(r["pages"]) if "pages" in r else None for r in records] == [2, 1, None, 1, 2, 1]
    alone = json.loads(CliRunner().invoke(ocr_command, [str(bottom), "--json"]).output)
    texts = [line["text"] for line in records[3]["pages"][0]["lines"]]
    assert texts == [line["text"] for line in alone["pages"][0]["lines"]]
    assert texts and "Nordlicht Bürobedarf GmbH" not in texts  # the bottom of the page, not the top
    assert records[1]["pages"][0]["lines"][0]["text"] == "Nordlicht Bürobedarf GmbH"


def test_a_page_the_engine_fails_on_costs_only_its_own_file(tmp_path: Path, invoice: RenderedPage,
                                                             monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from inbox_ocr.kernel.errors import UnreadableDocument
    from inbox_ocr.read.ocr.engine import OcrEngine

    png, _, _ = _files(tmp_path, invoice)
    black = tmp_path / "black.png"
    black.write_bytes(image_bytes(invoice.pixels[:420] * 0))
    read_batch = OcrEngine.read_batch

    def failing(self, pages):  # type: ignore[no-untyped-def]
        if any(not page.pixels.any() for page in pages):
            raise UnreadableDocument("text recognition failed: made to fail by the test")
        return read_batch(self, pages)

    monkeypatch.setattr(OcrEngine, "read_batch", failing)
    result = CliRunner().invoke(ocr_command, [str(png), str(black), str(png), "--json"])
    assert result.exit_code == 1
    records = [json.loads(line) for line in result.output.splitlines()]
    assert [r.get("error") for r in records] == [None, "text recognition failed: made to fail by the test", None]
    assert records[0]["pages"][0]["lines"][0]["text"] == records[2]["pages"][0]["lines"][0]["text"] \
        == "Nordlicht Bürobedarf GmbH"
