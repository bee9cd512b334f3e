"""The only module that calls the stages in order.

`process_message` is a pure function of the raw message, the config and the loaded models: it
touches no source and no ledger, so it can run in a worker process (or later a Celery worker).
`Pipeline.run_source` wraps it with the ledger and the source: fetch, process, commit the outcome
and its outbox rows, then acknowledge on the source.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from connectors.base import Source
from inbox_ocr import metrics
from inbox_ocr.errors import InboxOcrError, PermanentError, TransientError
from inbox_ocr.extract import parse_message
from inbox_ocr.ledger import Ledger
from inbox_ocr.logs import message_context
from inbox_ocr.models import Action, AnalyzedDocument, Document, MessageOutcome, ParsedMessage, RawMessage
from inbox_ocr.outbox import new_deliveries
from inbox_ocr.read import is_readable, read_document
from inbox_ocr.settings import Config
from inbox_ocr.understand import Templates, analyze, load_templates
from routing.engine import decide
from routing.rules import RoutingInput

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Context:
    """What processing needs besides the message: the config and models loaded once."""

    config: Config
    templates: Templates
    # read_document, or the daemon's DocumentReader that enforces limits.document_seconds in a worker
    reader: Callable[..., Any] | None = None

    @classmethod
    def load(cls, config: Config, reader: Callable[..., Any] | None = None) -> Context:
        return cls(config=config, templates=load_templates(config.understanding.templates_dir), reader=reader)


def analyze_attachments(
    parsed: ParsedMessage, ctx: Context, ignore_einvoice: bool = False
) -> tuple[AnalyzedDocument, ...]:
    """Read and understand every readable attachment of a parsed message. `ignore_einvoice` reads
    PDFs by their text layer only, as if they had come without embedded XML (`extract --text-only`)."""
    documents: list[AnalyzedDocument] = []
    read = ctx.reader or read_document
    for att in parsed.attachments:
        if not is_readable(att.content_type):
            continue
        started = time.monotonic()
        doc = read(
            att.data,
            filename=att.filename,
            content_type=att.content_type,
            sha256=att.sha256,
            part=att.part,
            ocr=ctx.config.ocr,
            max_pages=ctx.config.limits.max_pdf_pages,
        )
        _count_read(doc, time.monotonic() - started)
        if ignore_einvoice:
            doc = without_einvoice(doc)
        documents.append(analyze(doc, parsed, ctx.templates))
    return tuple(documents)


def without_einvoice(doc: Document) -> Document:
    """The document as if its PDF had come without embedded e-invoice XML."""
    if doc.einvoice is None:
        return doc
    return doc.model_copy(update={"einvoice": None, "einvoice_format": None, "source": "text_layer"})


def process_message(raw: RawMessage, ctx: Context) -> MessageOutcome:
    """Parse, read, understand and route one message. Raises PermanentError for a message that
    cannot be parsed at all; a bad attachment only becomes an error on its document."""
    limits = ctx.config.limits
    if len(raw.raw) > limits.max_message_bytes:
        raise PermanentError(f"message is {len(raw.raw)} bytes, over the limit of {limits.max_message_bytes}")
    parsed = parse_message(raw.raw, limits)
    documents = analyze_attachments(parsed, ctx)
    decision = decide(
        RoutingInput(source=raw.source, message=parsed, documents=documents),
        ctx.config.rules,
        ctx.config.default,
    )
    return MessageOutcome(message=parsed, documents=documents, decision=decision)


@dataclass
class MessageReport:
    """One line of the summary a pass prints."""

    source: str
    key: str
    subject: str
    status: str  # done | quarantined | failed | duplicate | acked-again
    rule: str | None = None
    actions: list[str] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)
    error: str | None = None
    acked: bool = False


class Pipeline:
    def __init__(self, ctx: Context, ledger: Ledger, stop: threading.Event | None = None) -> None:
        self.ctx = ctx
        self.ledger = ledger
        self.stop = stop or threading.Event()

    def run_source(self, source: Source, limit: int | None = None) -> list[MessageReport]:
        """One pass over a source. Returns what happened to each message it handed over."""
        reports: list[MessageReport] = []
        batch = limit if limit is not None else self.ctx.config.source(source.name).batch_size
        for raw in source.fetch(limit=batch):
            reports.append(self.handle(source, raw))
            if self.stop.is_set():
                log.info("event=stopping source=%s reason=stop requested after the message in hand", source.name)
                break
        return reports

    def handle(self, source: Source, raw: RawMessage) -> MessageReport:
        """Process one message; every log line written meanwhile carries its source, key and Message-ID."""
        with message_context(raw.source, raw.key, _message_id(raw)):
            report = self._handle(source, raw)
        metrics.MESSAGES.labels(raw.source, report.status).inc()
        return report

    def _handle(self, source: Source, raw: RawMessage) -> MessageReport:
        record = self.ledger.get(raw.source, raw.key)
        if record is not None and record.status in ("done", "quarantined"):
            # Committed before: only the acknowledgement may be missing (a crash in between).
            actions = tuple(Action.model_validate(a) for a in record.actions)
            report = MessageReport(raw.source, raw.key, record.subject or "", "acked-again", record.rule,
                                   [str(a) for a in actions], error=record.error)
            self._acknowledge(source, raw, record.id, record.status, actions, record.error, report)
            return report
        if self.ledger.is_known(raw.source, _message_id(raw), raw.content_hash):
            row = self.ledger.record_outcome(
                source=raw.source, key=raw.key, message_id=_message_id(raw), content_hash=raw.content_hash,
                subject="", sender="", status="done", rule=None, actions=[], documents=[],
                error="duplicate of a message already handled from this source",
                audit=[("duplicate", "same Message-ID and content as a handled message")],
            )
            report = MessageReport(raw.source, raw.key, "", "duplicate")
            self._acknowledge(source, raw, row, "done", (), None, report)
            return report
        try:
            outcome = process_message(raw, self.ctx)
        except PermanentError as exc:
            return self._quarantine(source, raw, str(exc))
        except TransientError as exc:
            return self._transient(source, raw, str(exc))
        except Exception as exc:  # a bug: retried a few times, then quarantined, never stops the daemon
            log.exception("event=process_crashed source=%s key=%s", raw.source, raw.key)
            return self._transient(source, raw, f"internal error: {exc!r}")
        return self._commit(source, raw, outcome)

    def _commit(self, source: Source, raw: RawMessage, outcome: MessageOutcome) -> MessageReport:
        msg = outcome.message
        decision = outcome.decision
        docs = [d.summary() for d in outcome.documents]
        audit = [("received", f"{raw.source} {raw.key} {len(raw.raw)} bytes")]
        audit += [("part_error", f"{e.part} {e.filename or ''}: {e.error}") for e in msg.errors]
        audit += [("read", f"{d.document.filename}: {d.document.source}" +
                   (f" error={d.document.error}" if d.document.error else "")) for d in outcome.documents]
        audit += [("classified", f"{d.document.filename}: {d.classification.doc_type} "
                   f"{d.classification.confidence:.2f}") for d in outcome.documents]
        audit.append(("routed", f"rule={decision.rule or '(default)'} actions={[str(a) for a in decision.actions]}"))
        row = self.ledger.record_outcome(
            source=raw.source, key=raw.key, message_id=_message_id(raw), content_hash=raw.content_hash,
            subject=msg.subject, sender=msg.sender, status="done", rule=decision.rule,
            actions=[a.model_dump() for a in decision.actions], documents=docs,
            error="; ".join(f"part {e.part}: {e.error}" for e in msg.errors) or None,
            deliveries=new_deliveries(raw, outcome), audit=audit,
        )
        metrics.RULE_HITS.labels(decision.rule or "(default)").inc()
        for d in docs:
            metrics.DOCUMENTS.labels(d["doc_type"], d["source"]).inc()
        report = MessageReport(
            raw.source, raw.key, msg.subject, "done", decision.rule, [str(a) for a in decision.actions],
            [_doc_line(d) for d in docs], error="; ".join(e.error for e in msg.errors) or None,
        )
        self._acknowledge(source, raw, row, "done", decision.mailbox_actions, None, report)
        log.info("event=routed source=%s key=%s rule=%s actions=%s documents=%d",
                 raw.source, raw.key, decision.rule, [str(a) for a in decision.actions], len(docs))
        return report

    def _quarantine(self, source: Source, raw: RawMessage, reason: str) -> MessageReport:
        row = self.ledger.record_outcome(
            source=raw.source, key=raw.key, message_id=_message_id(raw), content_hash=raw.content_hash,
            subject=_header(raw, "Subject"), sender=_header(raw, "From"), status="quarantined", rule=None,
            actions=[], documents=[], error=reason, audit=[("quarantined", reason)],
        )
        log.warning("event=quarantined source=%s key=%s reason=%s", raw.source, raw.key, reason)
        report = MessageReport(raw.source, raw.key, _header(raw, "Subject"), "quarantined", error=reason)
        self._acknowledge(source, raw, row, "quarantined", (), reason, report)
        return report

    def _transient(self, source: Source, raw: RawMessage, reason: str) -> MessageReport:
        attempts = self.ledger.record_failure(
            source=raw.source, key=raw.key, message_id=_message_id(raw), content_hash=raw.content_hash,
            subject=_header(raw, "Subject"), sender=_header(raw, "From"), error=reason,
        )
        if attempts >= self.ctx.config.limits.max_attempts:
            return self._quarantine(source, raw, f"gave up after {attempts} attempts: {reason}")
        log.warning("event=failed source=%s key=%s attempts=%d error=%s", raw.source, raw.key, attempts, reason)
        return MessageReport(raw.source, raw.key, _header(raw, "Subject"), "failed", error=reason)

    def _acknowledge(
        self, source: Source, raw: RawMessage, row: int, status: str, actions: tuple[Action, ...] | tuple[()],
        reason: str | None, report: MessageReport,
    ) -> None:
        mailbox_actions = tuple(a for a in actions if a.kind != "webhook")
        try:
            if status == "quarantined":
                source.fail(raw, reason or "quarantined")
            else:
                source.ack(raw, mailbox_actions)
        except Exception as exc:  # the ledger has the outcome: the ack is redone on the next pass
            log.warning("event=ack_failed source=%s key=%s error=%s", raw.source, raw.key,
                        exc if isinstance(exc, InboxOcrError) else repr(exc))
            report.error = f"acknowledgement pending: {exc}"
            return
        self.ledger.mark_acked(row, ", ".join(str(a) for a in mailbox_actions) or status)
        report.acked = True


def _count_read(doc: Any, seconds: float) -> None:
    metrics.READ_SECONDS.labels(doc.source).observe(seconds)
    if doc.source == "ocr" or any("OCR" in w for w in doc.warnings):
        metrics.OCR_PAGES.inc(len(doc.pages))
        metrics.OCR_SECONDS.inc(seconds)
    if doc.error:
        metrics.DOCUMENT_ERRORS.labels(metrics.error_reason(doc.error)).inc()


def _doc_line(summary: dict[str, Any]) -> str:
    fields = summary.get("fields", {})
    bits = [f"{summary.get('attachment')}: {summary['doc_type']} ({summary['source']})"]
    if fields.get("total"):
        bits.append(f"total {fields['total']} {fields.get('currency', '')}".rstrip())
    if fields.get("invoice_number"):
        bits.append(f"no. {fields['invoice_number']}")
    if summary.get("error"):
        bits.append(f"ERROR {summary['error']}")
    return ", ".join(bits)


def _header(raw: RawMessage, name: str) -> str:
    """A header read without the full parser, for records of messages the parser rejected."""
    head = raw.raw[:65536].split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    for line in head.splitlines():
        if line.lower().startswith(name.lower().encode() + b":"):
            return line.split(b":", 1)[1].strip().decode("utf-8", "replace")[:200]
    return ""


def _message_id(raw: RawMessage) -> str | None:
    return _header(raw, "Message-ID") or None
