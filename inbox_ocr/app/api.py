"""The Python API: read documents and get their type and fields without a daemon or a config file.

    from inbox_ocr import extract_file, extract_bytes, ocr_image

    for doc in extract_file("invoice.pdf"):          # a PDF, image, e-invoice XML or .eml file
        print(doc.classification.doc_type, doc.fields.total, doc.field_confidence.get("total"))
        print(doc.summary())                         # what `inbox-ocr extract --json` prints

    pages = ocr_image("scan.png")                    # OCR lines with boxes and confidences

The results are the product's own models (inbox_ocr.kernel.models): `AnalyzedDocument` (the
document as read, its classification, `InvoiceFields`, per-field confidence, warnings) and `Page`
(lines with their text, four-corner box and confidence). Money is `Decimal`.

Files are read in the calling process, without the daemon's per-document time and memory limits
(`limits.document_seconds`, `document_memory`): read files you do not trust with `inbox-ocr
extract`, which uses them. A file that cannot be read gives a document with `reading="unreadable"`
and an `error`, never an exception; a missing file raises OSError.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from inbox_ocr.app.config import Config
from inbox_ocr.kernel.models import AnalyzedDocument, Classification, Document, Page, PartError
from inbox_ocr.kernel.settings import OcrSettings
from inbox_ocr.orchestration.pipeline import Processor

__all__ = ["extract_bytes", "extract_file", "ocr_image"]


def extract_file(path: str | os.PathLike[str], *, config: Config | None = None,
                 text_only: bool = False) -> list[AnalyzedDocument]:
    """The documents of a PDF, image, e-invoice XML or .eml file (an e-mail: one per attachment),
    classified and with their fields. `config` gives OCR settings, limits and vendor templates
    (default: the built-in defaults); `text_only` ignores embedded e-invoice XML."""
    file = Path(path)
    return extract_bytes(file.read_bytes(), file.name, config=config, text_only=text_only)


def extract_bytes(data: bytes, filename: str = "document", *, config: Config | None = None,
                  text_only: bool = False) -> list[AnalyzedDocument]:
    """As `extract_file`, for bytes in memory; `filename` (its suffix: `.eml` for a message)
    helps tell what they are."""
    from inbox_ocr.app.wiring import build_processor, build_reader

    config = config or _defaults()
    processor = build_processor(config, build_reader(config, isolated=False))
    try:
        documents, errors = documents_of(data, filename, processor, text_only)
    finally:
        processor.reader.close()
    return documents + [_unreadable(e) for e in errors]


def documents_of(data: bytes, filename: str, processor: Processor,
                 text_only: bool = False) -> tuple[list[AnalyzedDocument], list[PartError]]:
    """Read and analyze every document of one file; an e-mail's parts that could not be read come
    back as its PartErrors. Raises InboxOcrError for a message that cannot be parsed at all."""
    from inbox_ocr.mime import parse_message
    from inbox_ocr.mime.archives import ArchiveError, is_signed_file, signed_members
    from inbox_ocr.mime.decode import content_type_for, detect_type
    from inbox_ocr.orchestration.pipeline import analyze_attachments, without_einvoice
    from inbox_ocr.understand import analyze

    if filename.lower().endswith(".eml") or looks_like_message(data):
        message = parse_message(data, processor.limits)
        return list(analyze_attachments(message, processor, ignore_einvoice=text_only)), list(message.errors)
    kind = content_type_for(detect_type(data, "application/octet-stream"), "application/octet-stream", filename)
    if is_signed_file(data, kind, filename):  # IT..._001.xml.p7m: the document inside
        for member in signed_members(data, processor.limits, filename):
            if isinstance(member, ArchiveError):
                raise member
            return documents_of(member.data, member.name, processor, text_only)
    doc = processor.reader.read(data, filename=filename, content_type=kind, sha256=hashlib.sha256(data).hexdigest())
    if text_only:
        doc = without_einvoice(doc)
    return [analyze(doc, None, processor.templates)], []


_HEADER = re.compile(rb"^([A-Za-z][A-Za-z0-9-]*):[ \t]?", re.M)
_MESSAGE_HEADERS = {b"from", b"to", b"subject", b"date", b"message-id", b"received", b"mime-version",
                    b"return-path", b"content-type", b"delivered-to"}


def looks_like_message(data: bytes) -> bool:
    """An e-mail message whatever the file is called (`.msg`, `.txt`, no suffix): text that starts
    with header lines, at least three of them ones every mail has (From, Subject, Date, ...)."""
    head = data[:65536].split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    if not head or b"\0" in head or not _HEADER.match(head):
        return False
    names = {m.group(1).lower() for m in _HEADER.finditer(head)}
    return len(names & _MESSAGE_HEADERS) >= 3


def ocr_image(image: bytes | str | os.PathLike[str], *, settings: OcrSettings | None = None) -> list[Page]:
    """OCR an image (PNG, JPEG, TIFF, BMP, WebP) or every page of a PDF with the built-in engine:
    one Page per image page, its lines in reading order. Raises InboxOcrError for data that is no
    readable image or PDF."""
    from inbox_ocr.read.ocr.engine import get_engine
    from inbox_ocr.read.ocr.files import page_images

    data = image if isinstance(image, bytes) else Path(image).read_bytes()
    settings = settings or OcrSettings()
    return get_engine(settings).read_pages(page_images(data, settings, []))


def _defaults() -> Config:
    """The default OCR, limits and understanding settings (a Config needs a source; this one is never opened)."""
    return Config.model_validate({"sources": [{"name": "files", "type": "maildir", "path": "."}]})


def _unreadable(error: PartError) -> AnalyzedDocument:
    document = Document(filename=error.filename or f"part {error.part}", part=error.part,
                        content_type="application/octet-stream", sha256="", reading="unreadable", error=error.error)
    return AnalyzedDocument(document=document, classification=Classification(
        doc_type="other", confidence=0.0, reasons=("the part could not be read",)))

