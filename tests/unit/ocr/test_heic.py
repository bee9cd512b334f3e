"""iPhone photos (HEIC) are read like any image: found in mail, OCRed, fields extracted."""

from __future__ import annotations

import io

import pillow_heif
import pymupdf
from PIL import Image

from inbox_ocr.app import samples
from inbox_ocr.app.config import parse_config
from inbox_ocr.app.wiring import build_processor
from inbox_ocr.kernel.models import RawMessage
from inbox_ocr.orchestration.pipeline import process_message


def heic_photo() -> bytes:
    pdf = pymupdf.open(stream=samples.render_pdf(samples.invoice_doc(number="HEIC-2026-9")), filetype="pdf")
    page = Image.open(io.BytesIO(pdf[0].get_pixmap(dpi=130).tobytes("png"))).convert("RGB")
    out = io.BytesIO()
    pillow_heif.from_pillow(page).save(out, quality=90)
    return out.getvalue()


def test_a_heic_photo_in_a_message_is_read(tmp_path) -> None:  # type: ignore[no-untyped-def]
    photo = heic_photo()
    assert photo[4:12] == b"ftypheic"
    raw = samples.build_message(samples.SampleMessage(
        name="heic", subject="Invoice photo", sender="me@example.com", body="from my phone",
        attachments=(("IMG_4711.HEIC", "application/octet-stream", photo),)))
    config = parse_config({"sources": [{"name": "m", "type": "maildir", "path": "unused"}],
                           "state_dir": str(tmp_path / "var"), "limits": {"isolate_documents": False}})
    outcome = process_message(RawMessage(source="m", key="k", raw=raw), build_processor(config))
    [doc] = outcome.documents
    assert doc.document.content_type == "image/heic" and doc.document.reading == "ocr"
    assert doc.fields.invoice_number == "HEIC-2026-9"
    assert doc.classification.doc_type == "invoice"
