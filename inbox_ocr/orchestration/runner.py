"""The message lifecycle around `process_message`: dedupe, commit, acknowledge, quarantine.

For each message a source hands over: skip what the ledger has committed (only redo a missing
acknowledgement), recognise the same message under a new key, process it, commit the outcome and
its outbox rows in one transaction, and only then acknowledge it on the source. A message that
cannot be processed is quarantined; a transient failure is counted and retried on the next pass
until `limits.max_attempts`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from inbox_ocr.kernel import metrics
from inbox_ocr.kernel.errors import InboxOcrError, PermanentError, TransientError
from inbox_ocr.kernel.logs import message_context
from inbox_ocr.kernel.models import HandlingResult, MailboxChanges, MessageOutcome, MessageStatus, RawMessage
from inbox_ocr.kernel.ports import ActsThroughApi, ChecksPresence, Source
from inbox_ocr.orchestration.ledger import HeldReview, Ledger, MessageIdentity, Outcome
from inbox_ocr.orchestration.outbox import helpdesk_deliveries, new_deliveries
from inbox_ocr.orchestration.pipeline import Processor, process_message

log = logging.getLogger("inbox_ocr.runner")


@dataclass
class MessageReport:
    """One line of the summary a pass prints."""

    source: str
    key: str
    subject: str
    status: HandlingResult
    rule: str | None = None
    actions: list[str] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)
    error: str | None = None
    acked: bool = False


class Runner:
    def __init__(self, processor: Processor, ledger: Ledger, max_attempts: int = 5,
                 stop: threading.Event | None = None, include_documents: Mapping[str, int] | None = None) -> None:
        self.processor = processor
        self.include_documents = dict(include_documents or {})  # webhook -> largest file its payload carries
        self.ledger = ledger
        self.max_attempts = max_attempts
        self.stop = stop or threading.Event()
        self.on_report: Callable[[MessageReport], None] | None = None  # e.g. a progress line per message

    def run_source(self, source: Source, limit: int | None = None) -> list[MessageReport]:
        """One pass over a source (at most `limit` messages). Returns what happened to each."""
        reports: list[MessageReport] = []
        self.settle_acknowledgements(source)
        for raw in source.fetch(limit=limit):
            reports.append(self.handle(source, raw))
            if self.on_report is not None:
                self.on_report(reports[-1])
            if self.stop.is_set():
                log.info("event=stopping source=%s reason=stop requested after the message in hand", source.name)
                break
        return reports

    def settle_acknowledgements(self, source: Source) -> int:
        """Note the acknowledgement of committed messages that are gone from the source: the ack
        (a move, a delete) happened and a crash came before the ledger noted it. A message still
        there is fetched again and its ack redone. Returns how many were noted."""
        if not isinstance(source, ChecksPresence):
            return 0
        settled = 0
        for row, key in self.ledger.messages.unacked(source.name):
            if not source.has_message(key):
                self.ledger.messages.mark_acked(row, "gone from the source: acknowledged before a restart")
                log.info("event=ack_settled source=%s key=%s", source.name, key)
                settled += 1
        return settled

    def handle(self, source: Source, raw: RawMessage) -> MessageReport:
        """Process one message; every log line written meanwhile carries its source, key and Message-ID."""
        with message_context(raw.source, raw.key, _message_id(raw)):
            report = self._handle(source, raw)
        metrics.MESSAGES.labels(raw.source, report.status.value).inc()
        return report

    def _handle(self, source: Source, raw: RawMessage) -> MessageReport:
        record = self.ledger.messages.get(raw.source, raw.key)
        if record is not None and record.status == MessageStatus.HELD:  # waiting for a person: left as it is
            return MessageReport(raw.source, raw.key, record.subject or "", HandlingResult.HELD, record.rule,
                                 list(record.actions))
        if record is not None and record.status in (MessageStatus.DONE, MessageStatus.QUARANTINED):
            # Committed before: only the acknowledgement may be missing (a crash in between).
            report = MessageReport(raw.source, raw.key, record.subject or "", HandlingResult.ACKED_AGAIN,
                                   record.rule, list(record.actions), error=record.error)
            self._acknowledge(source, raw, record.id, record.status, record.mailbox.model_copy(update={"redo": True}),
                              record.error, report)
            return report
        if self.ledger.messages.is_known(raw.source, _message_id(raw), raw.content_hash):
            row = self.ledger.messages.record_outcome(Outcome(
                identity=_identity(raw, subject="", sender=""), status=MessageStatus.DONE,
                error="duplicate of a message already handled from this source",
                audit=(("duplicate", "same Message-ID and content as a handled message"),),
            ))
            report = MessageReport(raw.source, raw.key, "", HandlingResult.DUPLICATE)
            self._acknowledge(source, raw, row, MessageStatus.DONE, MailboxChanges(), None, report)
            return report
        try:
            outcome = process_message(raw, self.processor)
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
        audit += [("skipped", f"{e.part} {e.filename or ''}: {e.error}") for e in outcome.skipped]
        audit += [("read", f"{d.document.filename}: {d.document.reading}" +
                   (f" error={d.document.error}" if d.document.error else "")) for d in outcome.documents]
        audit += [("classified", f"{d.document.filename}: {d.classification.doc_type} "
                   f"{d.classification.confidence:.2f}") for d in outcome.documents]
        audit.append(("routed", f"rule={decision.rule or '(default)'} actions={list(decision.actions)}"))
        if decision.review is not None:
            if not isinstance(source, ActsThroughApi):
                return self._hold(source, raw, outcome, docs, audit)
            audit.append(("review_skipped", "a helpdesk conversation is reviewed in the helpdesk: routed as decided"))
        deliveries = new_deliveries(raw, outcome, self.include_documents)
        if isinstance(source, ActsThroughApi) and decision.mailbox:
            calls = source.api_calls(raw, decision.mailbox)
            deliveries += helpdesk_deliveries(raw, source.sink_name, calls)
            audit += [("helpdesk_call", call.describe()) for call in calls]
        row = self.ledger.messages.record_outcome(Outcome(
            identity=_identity(raw, msg.subject, msg.sender), status=MessageStatus.DONE, rule=decision.rule,
            actions=decision.actions, mailbox=decision.mailbox, documents=tuple(docs),
            error="; ".join(f"part {e.part}: {e.error}" for e in msg.errors) or None,
            deliveries=deliveries, audit=tuple(audit),
        ))
        metrics.RULE_HITS.labels(decision.rule or "(default)").inc()
        for d in docs:
            metrics.DOCUMENTS.labels(d["doc_type"], d["source"]).inc()
        report = MessageReport(
            raw.source, raw.key, msg.subject, HandlingResult.DONE, decision.rule, list(decision.actions),
            [_doc_line(d) for d in docs], error="; ".join(e.error for e in msg.errors) or None,
        )
        self._acknowledge(source, raw, row, MessageStatus.DONE, decision.mailbox, None, report)
        log.info("event=routed source=%s key=%s rule=%s actions=%s documents=%d",
                 raw.source, raw.key, decision.rule, list(decision.actions), len(docs))
        return report

    def _hold(self, source: Source, raw: RawMessage, outcome: MessageOutcome, docs: list[dict[str, Any]],
              audit: list[tuple[str, str]]) -> MessageReport:
        """Commit the message as held for review: no webhook yet, no acknowledgement on the source
        (it stays where it is and is not fetched again until a person decided)."""
        msg, decision = outcome.message, outcome.decision
        reason = decision.review or "review"
        waiting = [a for a in decision.actions if a != f"review: {reason}"]
        audit.append(("held", f"for review: {reason}; waiting: {waiting}"))
        self.ledger.messages.record_outcome(Outcome(
            identity=_identity(raw, msg.subject, msg.sender), status=MessageStatus.HELD, rule=decision.rule,
            actions=decision.actions, documents=tuple(docs),
            error="; ".join(f"part {e.part}: {e.error}" for e in msg.errors) or None, audit=tuple(audit),
            review=HeldReview(reason=reason, held=decision, raw=raw.raw),
        ))
        metrics.RULE_HITS.labels(decision.rule or "(default)").inc()
        log.info("event=held source=%s key=%s rule=%s reason=%s documents=%d",
                 raw.source, raw.key, decision.rule, reason, len(docs))
        return MessageReport(raw.source, raw.key, msg.subject, HandlingResult.HELD, decision.rule,
                             list(decision.actions), [_doc_line(d) for d in docs],
                             error="; ".join(e.error for e in msg.errors) or None)

    def _quarantine(self, source: Source, raw: RawMessage, reason: str) -> MessageReport:
        row = self.ledger.messages.record_outcome(Outcome(
            identity=_identity(raw), status=MessageStatus.QUARANTINED, error=reason,
            audit=(("quarantined", reason),),
        ))
        log.warning("event=quarantined source=%s key=%s reason=%s", raw.source, raw.key, reason)
        report = MessageReport(raw.source, raw.key, _header(raw, "Subject"), HandlingResult.QUARANTINED, error=reason)
        self._acknowledge(source, raw, row, MessageStatus.QUARANTINED, MailboxChanges(), reason, report)
        return report

    def _transient(self, source: Source, raw: RawMessage, reason: str) -> MessageReport:
        attempts = self.ledger.messages.record_failure(_identity(raw), reason)
        if attempts >= self.max_attempts:
            return self._quarantine(source, raw, f"gave up after {attempts} attempts: {reason}")
        log.warning("event=failed source=%s key=%s attempts=%d error=%s", raw.source, raw.key, attempts, reason)
        return MessageReport(raw.source, raw.key, _header(raw, "Subject"), HandlingResult.FAILED, error=reason)

    def _acknowledge(
        self, source: Source, raw: RawMessage, row: int, status: MessageStatus, changes: MailboxChanges,
        reason: str | None, report: MessageReport,
    ) -> None:
        try:
            if status == MessageStatus.QUARANTINED:
                source.fail(raw, reason or "quarantined")
            else:
                source.ack(raw, changes)
        except Exception as exc:  # the ledger has the outcome: the ack is redone on the next pass
            log.warning("event=ack_failed source=%s key=%s error=%s", raw.source, raw.key,
                        exc if isinstance(exc, InboxOcrError) else repr(exc))
            report.error = f"acknowledgement pending: {exc}"
            return
        self.ledger.messages.mark_acked(row, ", ".join(changes.describe()) or status.value)
        report.acked = True


def _identity(raw: RawMessage, subject: str | None = None, sender: str | None = None) -> MessageIdentity:
    """The message's identity; subject and sender from the parsed message, or read from the raw
    headers for a message the parser rejected."""
    return MessageIdentity(
        source=raw.source, key=raw.key, message_id=_message_id(raw), content_hash=raw.content_hash,
        subject=_header(raw, "Subject") if subject is None else subject,
        sender=_header(raw, "From") if sender is None else sender,
    )


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
    return raw.header(name) or ""


def _message_id(raw: RawMessage) -> str | None:
    return _header(raw, "Message-ID") or None
