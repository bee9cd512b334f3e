"""Typed, frozen models that flow between the stages.

    Source.fetch() -> RawMessage
    extract        -> ParsedMessage (headers, Attachments, PartErrors)
    read           -> Document (Pages of TextLines of Words, or an e-invoice)
    understand     -> AnalyzedDocument (Classification, InvoiceFields, confidences, warnings)
    route          -> RoutingDecision (the rule and its Actions)

Every stage takes and returns these; nothing below the config edge sees raw dicts.
Money is Decimal, dates are datetime.date, currency is ISO 4217.

This module is part of the kernel: it imports nothing of ours.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from functools import cached_property
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

DocType = Literal[
    "invoice",
    "credit_note",
    "reminder",
    "receipt",
    "order_confirmation",
    "quote",
    "statement",
    "other",
]
DOC_TYPES: tuple[str, ...] = DocType.__args__  # type: ignore[attr-defined]

Reading = Literal["text_layer", "einvoice_xml", "ocr", "needs_ocr", "unreadable"]
"""How a document was read: its text layer, its embedded e-invoice XML, OCR; or not at all."""


class MessageStatus(StrEnum):
    """The status of a message in the ledger (the SQL CHECK is built from this)."""

    DONE = "done"  # routed and committed (acknowledged on the source once `acked_at` is set)
    FAILED = "failed"  # a transient failure; retried on the next pass until limits.max_attempts
    QUARANTINED = "quarantined"  # cannot be processed; put aside on the source
    HELD = "held"  # a rule's `review` action holds it: its actions wait for a person (orchestration/review.py)


class HandlingResult(StrEnum):
    """What one pass did with one message: a ledger status, or one of the two shortcuts."""

    DONE = "done"
    FAILED = "failed"
    QUARANTINED = "quarantined"
    DUPLICATE = "duplicate"  # the same Message-ID and content was handled under another key
    ACKED_AGAIN = "acked-again"  # committed before; only the acknowledgement was redone
    HELD = "held"  # committed for review; the source is acknowledged after a person decided
    QUEUED = "queued"  # stored for a worker (the work queue); acknowledged once its outcome is committed


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --------------------------------------------------------------------------- source


class RawMessage(Frozen):
    """One message as a source hands it over, before any parsing."""

    source: str = Field(description="configured source name")
    key: str = Field(description="identity of the message inside its source (Maildir key, IMAP folder/uidvalidity/uid)")
    folder: str = "INBOX"
    raw: bytes = Field(repr=False)
    size: int | None = Field(default=None, description="the message's size as the source declares it when "
                             "`raw` is only its header (a message over the size limit is not downloaded)")
    received_at: datetime | None = None

    @property
    def declared_size(self) -> int:
        return self.size if self.size is not None else len(self.raw)

    @cached_property
    def content_hash(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()

    def header(self, name: str) -> str | None:
        """One header's value read from the raw head without the full parser (for messages the
        parser may reject, and for sources that need one header): None when absent or empty."""
        head = self.raw[:65536].split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
        prefix = name.lower().encode() + b":"
        for line in head.splitlines():
            if line.lower().startswith(prefix):
                return line.split(b":", 1)[1].strip().decode("utf-8", "replace")[:200] or None
        return None


# --------------------------------------------------------------------------- extract


class Attachment(Frozen):
    part: str = Field(description="MIME part path, e.g. '2' or '3.1' inside a forwarded message")
    filename: str = Field(description="sanitized file name, never empty")
    original_filename: str | None = None
    declared_type: str
    content_type: str = Field(description="type sniffed from the bytes when they disagree with the declaration")
    inline: bool = False
    content_id: str | None = None
    data: bytes = Field(repr=False)

    @property
    def size(self) -> int:
        return len(self.data)

    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


class PartError(Frozen):
    """A MIME part that could not be read; the rest of the message still is."""

    part: str
    filename: str | None = None
    error: str


class ParsedMessage(Frozen):
    message_id: str | None = None
    subject: str = ""
    sender: str = ""
    sender_name: str = ""
    recipients: tuple[str, ...] = ()
    date: datetime | None = None
    body_text: str = Field(default="", repr=False, description="plain-text body, bounded in length")
    attachments: tuple[Attachment, ...] = ()
    errors: tuple[PartError, ...] = ()
    defects: tuple[str, ...] = Field(default=(), description="header/structure defects the parser noted")


# --------------------------------------------------------------------------- read

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in page units (points for PDFs, pixels for images)
Quad = tuple[tuple[float, float], tuple[float, float], tuple[float, float], tuple[float, float]]


class Word(Frozen):
    text: str
    box: Box
    confidence: float = 1.0


class TextLine(Frozen):
    text: str
    box: Quad = Field(description="four corners, clockwise from top-left")
    confidence: float = 1.0
    words: tuple[Word, ...] = ()

    @cached_property
    def bbox(self) -> Box:
        xs = [p[0] for p in self.box]
        ys = [p[1] for p in self.box]
        return (min(xs), min(ys), max(xs), max(ys))


class Page(Frozen):
    number: int = Field(description="1-based")
    width: float
    height: float
    lines: tuple[TextLine, ...] = ()
    warnings: tuple[str, ...] = Field(default=(), description="what reading this page left out")

    @cached_property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


class InvoiceFields(Frozen):
    """What we extract from an invoice-like document. Every field is optional."""

    invoice_number: str | None = None
    invoice_date: date | None = None
    due_date: date | None = None
    service_period_start: date | None = None
    service_period_end: date | None = None
    total: Decimal | None = Field(default=None, description="gross amount due")
    subtotal: Decimal | None = Field(default=None, description="net amount")
    tax: Decimal | None = None
    tax_rates: tuple[Decimal, ...] = ()
    amount_due: Decimal | None = None
    currency: str | None = Field(default=None, description="ISO 4217")
    vendor_name: str | None = None
    vendor_address: str | None = None
    vendor_vat_id: str | None = None
    vendor_tax_number: str | None = None
    customer_name: str | None = None
    customer_vat_id: str | None = None
    iban: str | None = None
    bic: str | None = None
    po_number: str | None = None
    payment_terms: str | None = None
    payment_reference: str | None = None
    type_code: str | None = Field(default=None, description="UNTDID 1001 document type code from an e-invoice")
    line_items: tuple[LineItem, ...] = ()

    def as_json(self) -> dict[str, Any]:
        """ISO dates, decimal strings; empty fields left out."""
        return {k: v for k, v in self.model_dump(mode="json").items() if v not in (None, [], ())}


class LineItem(Frozen):
    description: str
    quantity: Decimal | None = None
    unit_price: Decimal | None = None
    amount: Decimal | None = None
    tax_rate: Decimal | None = None


class Document(Frozen):
    """One readable file: a PDF, an image or an e-invoice XML, with its text and positions."""

    filename: str
    part: str | None = Field(default=None, description="MIME part it came from; None for a file read directly")
    content_type: str
    sha256: str
    reading: Reading
    pages: tuple[Page, ...] = ()
    einvoice: InvoiceFields | None = Field(default=None, description="exact values of an embedded e-invoice XML")
    einvoice_format: str | None = None
    warnings: tuple[str, ...] = ()
    error: str | None = Field(default=None, description="why this document could not be read")

    @property
    def text(self) -> str:
        return "\n\n".join(p.text for p in self.pages)


# --------------------------------------------------------------------------- understand


class Classification(Frozen):
    doc_type: DocType
    confidence: float = Field(ge=0.0, le=1.0)
    reasons: tuple[str, ...] = ()


class FieldPosition(Frozen):
    """Where a field's value is printed: for highlighting it to a person."""

    page: int = Field(description="1-based page number")
    box: Box = Field(description="x0, y0, x1, y1 in the page's units (Page.width/height)")


class EarlierInvoice(Frozen):
    """The message that brought the same invoice (vendor, number and total) before."""

    message: int = Field(description="its ledger row")
    source: str
    key: str
    received: str = Field(description="when it was committed (ISO 8601)")

    def describe(self) -> str:
        return f"message #{self.message} ({self.source} {self.key}, {self.received.replace('T', ' ')[:16]})"


class AnalyzedDocument(Frozen):
    document: Document
    classification: Classification
    fields: InvoiceFields = InvoiceFields()
    field_confidence: dict[str, float] = Field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    template: str | None = Field(default=None, description="vendor template that supplied fields")
    positions: dict[str, FieldPosition] = Field(default_factory=dict, description="where each field is printed")
    duplicate_of: EarlierInvoice | None = Field(default=None, description="an earlier message with the same "
                                                "vendor, invoice number and total (a double payment waiting to happen)")

    def summary(self) -> dict[str, Any]:
        """The JSON shape used by `extract --json`, webhook payloads and the ledger."""
        return {
            "attachment": self.document.filename if self.document.part is not None else None,
            "part": self.document.part,
            "sha256": self.document.sha256,
            "doc_type": self.classification.doc_type,
            "doc_type_confidence": round(self.classification.confidence, 3),
            "source": self.document.reading,
            "fields": self.fields.as_json(),
            "field_confidence": {k: round(v, 3) for k, v in self.field_confidence.items()},
            "field_positions": {k: {"page": p.page, "box": list(p.box)} for k, p in self.positions.items()},
            "pages": [{"number": p.number, "width": p.width, "height": p.height} for p in self.document.pages],
            "warnings": list(self.document.warnings) + list(self.warnings),
            "error": self.document.error,
            "template": self.template,
            "duplicate_of": self.duplicate_of.model_dump() if self.duplicate_of is not None else None,
        }


# --------------------------------------------------------------------------- route


class MailboxChanges(Frozen):
    """What a source changes on a message when it acknowledges it (`Source.ack`).

    The routing stage turns the actions of the matching rules into this; every source applies
    it as far as it can (a webhook source has no folders). A new kind of mailbox action adds a
    field here and its handling in each source's `ack`."""

    move_to: str | None = Field(default=None, description="folder, '/' between levels")
    keywords: tuple[str, ...] = ()
    mark_seen: bool = False
    flag: bool = False
    assign_to: str | None = Field(default=None, description="a person (helpdesk sources only)")
    comments: tuple[str, ...] = Field(default=(), description="private comments, rendered (helpdesk sources only)")
    redo: bool = Field(default=False, description="the acknowledgement is done again after a crash: a move "
                       "first checks that the target does not hold the message already (a server can leave a "
                       "half-done MOVE behind when the client is killed)")
    delete: bool = Field(default=False, description="to the Trash (IMAP: the \\Trash folder, else \\Deleted "
                         "without expunging; Maildir: .Trash); wins over move_to")

    def __bool__(self) -> bool:
        return bool(self.move_to or self.keywords or self.mark_seen or self.flag or self.assign_to or self.comments
                    or self.delete)

    def describe(self) -> list[str]:
        """One short line per change, as the ledger's audit trail shows them."""
        out = ["delete"] if self.delete else [f"move: {self.move_to}"] if self.move_to else []
        out += [f"keyword: {k}" for k in self.keywords]
        out += ["mark_seen"] if self.mark_seen else []
        out += ["flag"] if self.flag else []
        out += [f"assign: {self.assign_to}"] if self.assign_to else []
        out += [f"comment: {_preview(c)}" for c in self.comments]
        return out

    def helpdesk_only(self) -> list[str]:
        """The changes only a helpdesk can make (a mailbox has no assignee and no comments)."""
        return [line for line in self.describe() if line.startswith(("assign:", "comment:"))]


def _preview(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class HelpdeskCall(Frozen):
    """One change made in a helpdesk through its API (connectors/helpdesk), delivered by the outbox."""

    op: Literal["tag", "move", "assign", "comment", "done", "flag"]
    conversation: str = Field(description="the helpdesk's id of the conversation or ticket")
    arg: str | None = Field(default=None, description="tag, inbox/group/mailbox or person name; comment text")

    def describe(self) -> str:
        arg = "" if self.arg is None else f" {_preview(self.arg)!r}"
        return f"{self.op}{arg} on {self.conversation}"


class RoutingDecision(Frozen):
    rule: str | None = Field(description="name of the rule that decided; None when the default applied")
    actions: tuple[str, ...] = Field(default=(), description="the decided actions as written in the config, "
                                     "for people ('move: Invoices', 'webhook: erp')")
    mailbox: MailboxChanges = MailboxChanges()
    webhooks: tuple[str, ...] = Field(default=(), description="names of the webhooks to call, in order")
    matched_rules: tuple[str, ...] = ()
    explanation: tuple[str, ...] = Field(default=(), description="one line per rule considered")
    review: str | None = Field(default=None, description="why a `review` action holds the message: its "
                               "mailbox changes and webhooks wait until a person approves or rejects it")


class MessageOutcome(Frozen):
    """Everything the pipeline learned about one message; stored in the ledger."""

    message: ParsedMessage
    documents: tuple[AnalyzedDocument, ...] = ()
    decision: RoutingDecision
    skipped: tuple[PartError, ...] = Field(default=(), description="attachments the source's filter left unread")


InvoiceFields.model_rebuild()
