"""Helpers for the understand tests: real PDFs drawn with pymupdf, read by the real read stage."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

import pymupdf
import pytest

from inbox_ocr.kernel.models import Document
from inbox_ocr.read import read_document

DATASETS = Path(__file__).resolve().parents[3].parent / "shared" / "datasets"

# (x, y, text) in PDF points, y growing downwards; optional 4th item: font size
Item = tuple


def make_pdf(items: Iterable[Item], *, cjk: bool = False, attachments: dict[str, bytes] | None = None) -> bytes:
    """A one-page A4 PDF with each text at its position (a real text layer, as invoices have)."""
    pdf = pymupdf.open()
    page = pdf.new_page(width=595, height=842)
    for item in items:
        x, y, text = item[:3]
        size = item[3] if len(item) > 3 else 10
        font = "china-s" if cjk and any(ord(ch) > 0x2E80 for ch in text) else "helv"
        page.insert_text((x, y), text, fontsize=size, fontname=font)
    for name, data in (attachments or {}).items():
        pdf.embfile_add(name, data, filename=name)
    data = pdf.tobytes()
    pdf.close()
    return data


def read_pdf(data: bytes, name: str = "invoice.pdf") -> Document:
    return read_document(data, filename=name, content_type="application/pdf", sha256=hashlib.sha256(data).hexdigest())


def read_xml(data: bytes, name: str = "invoice.xml") -> Document:
    return read_document(data, filename=name, content_type="application/xml", sha256=hashlib.sha256(data).hexdigest())


@pytest.fixture
def zugferd_dev() -> Path:
    folder = DATASETS / "zugferd-dev"
    if not (folder / "expected.json").exists():
        pytest.skip(f"dataset folder missing: {folder}")
    return folder
