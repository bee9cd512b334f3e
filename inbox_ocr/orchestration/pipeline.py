"""The only module that calls the stages in order: MIME -> read -> understand -> route.

`process_message` is a pure function of the raw message and a `Processor` (the limits, the
Reader, the vendor templates, the Router and the invoices seen before): it touches no source and
writes nothing, so it can run in a worker process (or later a Celery worker). The runner
(runner.py) wraps it with the ledger and the source.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from inbox_ocr.kernel import metrics
from inbox_ocr.kernel.errors import PermanentError
from inbox_ocr.kernel.models import (
    AnalyzedDocument,
    Attachment,
    Document,
    MessageOutcome,
    ParsedMessage,
    PartError,
    RawMessage,
)
from inbox_ocr.kernel.ports import InvoiceHistory, Reader, Router
from inbox_ocr.kernel.settings import AttachmentFilter, Limits
from inbox_ocr.mime import parse_message
from inbox_ocr.read import is_readable
from inbox_ocr.understand import Templates, analyze


@dataclass(frozen=True)
class Processor:
    """What processing needs besides the message, built once by the app (app/wiring.py)."""

    limits: Limits
    reader: Reader
    templates: Templates
    router: Router
    history: InvoiceHistory | None = None  # the ledger's invoices: a document seen before is marked
    filters: Mapping[str, AttachmentFilter] = field(default_factory=dict)  # per source: attachments not read


def analyze_attachments(
    parsed: ParsedMessage, processor: Processor, ignore_einvoice: bool = False
) -> tuple[AnalyzedDocument, ...]:
    """Read and understand every readable attachment of a parsed message. `ignore_einvoice` reads
    PDFs by their text layer only, as if they had come without embedded XML (`extract --text-only`).

    Identical files (same SHA-256, e.g. one scan attached twice) are read once. Reading stops
    when `limits.message_seconds` are used up: the documents not read yet get an error saying so,
    and the message goes on to routing, so one message of many slow scans cannot hold its source."""
    documents: list[AnalyzedDocument] = []
    read: dict[str, Document] = {}
    budget = processor.limits.message_seconds
    deadline = time.monotonic() + budget
    for att in parsed.attachments:
        if not is_readable(att.content_type):
            continue
        earlier = read.get(att.sha256)
        if earlier is not None:
            doc = earlier.model_copy(update={"filename": att.filename, "part": att.part})
        elif time.monotonic() > deadline:
            doc = Document(filename=att.filename, part=att.part, content_type=att.content_type, sha256=att.sha256,
                           reading="unreadable",
                           error=f"not read: the message's reading time budget ({budget:.0f} s) was used up")
            count_read(doc, 0.0)
        else:
            started = time.monotonic()
            doc = processor.reader.read(
                att.data, filename=att.filename, content_type=att.content_type, sha256=att.sha256, part=att.part
            )
            count_read(doc, time.monotonic() - started)
            read[att.sha256] = doc
        if ignore_einvoice:
            doc = without_einvoice(doc)
        documents.append(analyze(doc, parsed, processor.templates))
    return tuple(documents)


def without_einvoice(doc: Document) -> Document:
    """The document as if its PDF had come without embedded e-invoice XML."""
    if doc.einvoice is None:
        return doc
    return doc.model_copy(update={"einvoice": None, "einvoice_format": None, "reading": "text_layer"})


def process_message(raw: RawMessage, processor: Processor) -> MessageOutcome:
    """Parse, read, understand and route one message. Raises PermanentError for a message that
    cannot be parsed at all; a bad attachment only becomes an error on its document."""
    limits = processor.limits
    if raw.declared_size > limits.max_message_bytes:
        raise PermanentError(f"message is {raw.declared_size} bytes, over the limit of {limits.max_message_bytes}")
    parsed = parse_message(raw.raw, limits)
    kept, skipped = select_attachments(parsed, processor.filters.get(raw.source))
    documents = analyze_attachments(parsed.model_copy(update={"attachments": kept}), processor)
    if processor.history is not None:
        documents = tuple(mark_duplicate(d, processor.history, raw) for d in documents)
    decision = processor.router.decide(raw.source, parsed, documents)
    return MessageOutcome(message=parsed, documents=documents, decision=decision, skipped=skipped)


def select_attachments(parsed: ParsedMessage, rules: AttachmentFilter | None
                       ) -> tuple[tuple[Attachment, ...], tuple[PartError, ...]]:
    """The attachments to read, and the readable ones the source's filter leaves out, with why."""
    if rules is None or rules == AttachmentFilter():
        return parsed.attachments, ()
    kept: list[Attachment] = []
    skipped: list[PartError] = []
    for att in parsed.attachments:
        shown_in_body = att.inline or att.content_id is not None  # a signature logo, referenced as cid:
        side = _image_side(att) if shown_in_body and att.content_type.startswith("image/") else None
        reason = rules.skip_reason(att.filename, att.size, side) if is_readable(att.content_type) else None
        if reason is None:
            kept.append(att)
        else:
            skipped.append(PartError(part=att.part, filename=att.filename, error=f"not read: {reason}"))
    return tuple(kept), tuple(skipped)


def _image_side(att: Attachment) -> int | None:
    """The longer side of an image in pixels, from its header (None when it cannot be told)."""
    import io

    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(att.data)) as image:
            return max(image.size)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None


def mark_duplicate(doc: AnalyzedDocument, history: InvoiceHistory, raw: RawMessage) -> AnalyzedDocument:
    """The document, marked when an earlier message brought the same vendor, number and total."""
    earlier = history.first_seen(doc.fields.as_json(), raw.source, raw.key)
    if earlier is None:
        return doc
    warning = (f"duplicate invoice: {doc.fields.vendor_name or doc.fields.vendor_vat_id} "
               f"{doc.fields.invoice_number} over {doc.fields.total} arrived before in {earlier.describe()}")
    return doc.model_copy(update={"duplicate_of": earlier, "warnings": (*doc.warnings, warning)})


def count_read(doc: Document, seconds: float) -> None:
    metrics.READ_SECONDS.labels(doc.reading).observe(seconds)
    if doc.reading == "ocr" or any("OCR" in w for w in doc.warnings):
        metrics.OCR_PAGES.inc(len(doc.pages))
        metrics.OCR_SECONDS.inc(seconds)
    if doc.error:
        metrics.DOCUMENT_ERRORS.labels(metrics.error_reason(doc.error)).inc()
