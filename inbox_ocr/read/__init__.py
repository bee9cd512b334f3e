"""The read stage: one attachment (or file) in, one Document with text and positions out.

    PDF with an embedded e-invoice XML  -> einvoice values (+ the text layer for context)
    PDF with a text layer               -> text_layer
    PDF without one, or an image        -> OCR when enabled, else recorded honestly as needs_ocr
    standalone e-invoice XML            -> einvoice values
    anything else                       -> not a document (the caller skips it)

A file that cannot be read becomes a Document with `reading="unreadable"` and an `error`; it never
raises past this function, so one bad attachment never stops the rest of its message.

`InProcessReader` is the pipeline's Reader (kernel/ports.py) in the calling process;
`sandbox.SandboxedReader` reads in a worker process under time and memory limits.
"""

from __future__ import annotations

import logging

from inbox_ocr.kernel.errors import InboxOcrError, UnreadableDocument
from inbox_ocr.kernel.models import Document, Page, Reading
from inbox_ocr.kernel.settings import OcrSettings
from inbox_ocr.read.garbage import looks_garbled

log = logging.getLogger(__name__)

IMAGE_TYPES = frozenset(
    {"image/png", "image/jpeg", "image/tiff", "image/bmp", "image/webp", "image/gif", "image/x-ms-bmp",
     "image/heic", "image/heif"}  # HEIC/HEIF: iPhone photos (pillow-heif)
)
XML_TYPES = frozenset({"application/xml", "text/xml"})
PDF_TYPE = "application/pdf"


def is_readable(content_type: str) -> bool:
    """Whether the read stage makes a Document of this (sniffed) content type."""
    return content_type == PDF_TYPE or content_type in IMAGE_TYPES or content_type in XML_TYPES


def read_document(
    data: bytes,
    *,
    filename: str,
    content_type: str,
    sha256: str,
    part: str | None = None,
    ocr: OcrSettings | None = None,
    max_pages: int = 200,
    max_words: int | None = None,
) -> Document:
    """Read one file. Never raises for bad input: errors land in `Document.error`."""
    ocr = ocr or OcrSettings()
    base = {"filename": filename, "part": part, "content_type": content_type, "sha256": sha256}
    try:
        if content_type == PDF_TYPE:
            return _read_pdf(data, base, ocr, max_pages, max_words)
        if content_type in IMAGE_TYPES:
            return _read_image(data, base, ocr)
        if content_type in XML_TYPES:
            return _read_xml(data, base)
        raise UnreadableDocument(f"not a document type we read: {content_type}")
    except InboxOcrError as exc:
        return Document(**base, reading="unreadable", error=str(exc))
    except Exception as exc:  # a bug or a foreign error we did not foresee: keep it to this file
        log.exception("event=read_failed file=%s", filename)
        return Document(**base, reading="unreadable", error=f"internal error while reading: {exc!r}")


class InProcessReader:
    """The Reader port in this process (CLI commands, tests): no time or memory limit."""

    def __init__(self, ocr: OcrSettings | None = None, max_pages: int = 200, max_words: int | None = None) -> None:
        self.ocr = ocr or OcrSettings()
        self.max_pages = max_pages
        self.max_words = max_words

    def read(self, data: bytes, *, filename: str, content_type: str, sha256: str, part: str | None = None) -> Document:
        return read_document(data, filename=filename, content_type=content_type, sha256=sha256, part=part,
                             ocr=self.ocr, max_pages=self.max_pages, max_words=self.max_words)

    def close(self) -> None:
        return None


def _read_pdf(data: bytes, base: dict, ocr: OcrSettings, max_pages: int, max_words: int | None) -> Document:
    from inbox_ocr.read import text_layer  # here: OCR of an image does not load pymupdf (0.1 s)

    pdf = text_layer.open_pdf(data)
    try:
        warnings: list[str] = []
        if pdf.page_count > max_pages:
            warnings.append(f"the PDF has {pdf.page_count} pages; only the first {max_pages} were read")
        einvoice, einvoice_format = _embedded_einvoice(pdf, warnings)
        pages, scanned = text_layer.read_pages(pdf, max_pages, max_words, warnings)
        scanned = _with_garbled_pages(pages, scanned, ocr, warnings)
        reading: Reading = "text_layer"
        if scanned and len(scanned) == len(pages):
            reading = "needs_ocr"
        if scanned:
            ocr_pages = _ocr_pdf_pages(data, scanned, ocr, warnings)
            if ocr_pages is not None:
                by_number = {p.number: p for p in ocr_pages}
                pages = [by_number.get(p.number, p) for p in pages]
                reading = "ocr" if len(scanned) == len(pages) else "text_layer"
        if einvoice is not None:
            reading = "einvoice_xml"
        return Document(
            **base,
            reading=reading,
            pages=tuple(pages),
            einvoice=einvoice,
            einvoice_format=einvoice_format,
            warnings=tuple(warnings),
        )
    finally:
        pdf.close()


def _embedded_einvoice(pdf, warnings: list[str]):  # type: ignore[no-untyped-def]
    """The Factur-X / ZUGFeRD / XRechnung XML embedded in the PDF: (InvoiceFields, format) or (None, None)."""
    from inbox_ocr.read import einvoice

    return einvoice.from_pdf(pdf, warnings)


def _with_garbled_pages(pages: list[Page], scanned: list[int], ocr: OcrSettings, warnings: list[str]) -> list[int]:
    """Pages whose text layer is garbage (broken font encodings) are OCRed like scans."""
    if not ocr.enabled:
        return scanned
    garbled = [p.number for p in pages if p.number not in scanned and looks_garbled(p.text)]
    for number in garbled:
        warnings.append(f"page {number} has a garbled text layer; it was OCRed instead")
    return sorted([*scanned, *garbled])


def _ocr_pdf_pages(data: bytes, numbers: list[int], ocr: OcrSettings, warnings: list[str]) -> list[Page] | None:
    """OCR the scanned pages of a PDF with the OCR core; None means 'not OCRed' (OCR disabled)."""
    if not ocr.enabled:
        return None
    from inbox_ocr.read.ocr import ocr_pdf_pages  # imported late: loads ONNX Runtime

    return ocr_pdf_pages(data, numbers, ocr, warnings)


def _read_image(data: bytes, base: dict, ocr: OcrSettings) -> Document:
    if not ocr.enabled:
        return Document(**base, reading="needs_ocr", warnings=("OCR is disabled (ocr.enabled): image text not read",))
    from inbox_ocr.read.ocr import ocr_image_bytes  # imported late: loads ONNX Runtime

    warnings: list[str] = []
    pages = ocr_image_bytes(data, ocr, warnings)
    return Document(**base, reading="ocr", pages=tuple(pages), warnings=tuple(warnings))


def _read_xml(data: bytes, base: dict) -> Document:
    """A standalone XRechnung / EN 16931 XML (CII or UBL); anything else raises UnreadableDocument."""
    from inbox_ocr.read import einvoice

    warnings: list[str] = []
    fields, fmt = einvoice.parse_einvoice(data, warnings)
    return Document(**base, reading="einvoice_xml", einvoice=fields, einvoice_format=fmt, warnings=tuple(warnings))
