"""The message lifecycle around `process_message`: dedupe, commit, acknowledge, quarantine.

For each message a source hands over: skip what the ledger has committed (only redo a missing
acknowledgement), recognise the same message under a new key, process it, commit the outcome and
its outbox rows in one transaction, and only then acknowledge it on the source. A message that
cannot be processed is quarantined; a transient failure is counted and retried on the next pass
until `limits.max_attempts`.

With a work queue (`dispatch`), the scheduler's runner does not process a new message: it stores
it in the ledger (ledger/queue.py) and dispatches its key; a worker's runner `work`s on it
(process, commit, no acknowledgement: the worker holds no source connection), and the scheduler
acknowledges it on its next pass, when the committed message is fetched again.
"""

from __future__ import annotations

import logging
import threading
import time
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


class Busy(Exception):
    """Another worker holds the message's claim until `until` (a Unix time)."""

    def __init__(self, until: float) -> None:
        super().__init__(f"claimed by another worker until {until:.0f}")
        self.until = until


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
                 stop: threading.Event | None = None, include_documents: Mapping[str, int] | None = None,
                 dispatch: Callable[[str, str], None] | None = None) -> None:
        self.processor = processor
        self.dispatch = dispatch  # the work queue: send a stored message's (source, key) to the workers
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
            # Committed before: only the acknowledgement may be missing (a crash in between, or a
            # worker committed it: with the work queue this is its first acknowledgement).
            result = HandlingResult.ACKED_AGAIN if self.dispatch is None else HandlingResult(record.status.value)
            report = MessageReport(raw.source, raw.key, record.subject or "", result,
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
        if self.dispatch is not None and not isinstance(source, ActsThroughApi):
            return self._enqueue(raw)
        return self._process(source, raw)

    def _enqueue(self, raw: RawMessage) -> MessageReport:
        """Store the message for a worker and send its key; a key the broker does not take now is
        sent again by `resend_stale` (the message waits in the ledger meanwhile)."""
        assert self.dispatch is not None
        if self.ledger.queue.put(raw, time.time()):
            try:
                self.dispatch(raw.source, raw.key)
            except Exception as exc:  # the broker is away: the row waits, resend_stale sends it later
                log.warning("event=dispatch_failed source=%s key=%s error=%r", raw.source, raw.key, exc)
        log.info("event=queued source=%s key=%s bytes=%d", raw.source, raw.key, len(raw.raw))
        return MessageReport(raw.source, raw.key, _header(raw, "Subject"), HandlingResult.QUEUED)

    def resend_stale(self, older_than: float) -> int:
        """Send again the keys of stored messages no worker has claimed for `older_than` seconds
        (the broker lost them: a Redis restart without persistence). Returns how many."""
        assert self.dispatch is not None
        now, sent = time.time(), 0
        for source, key in self.ledger.queue.stale(now, older_than):
            self.dispatch(source, key)
            self.ledger.queue.resent(source, key, now)
            log.warning("event=dispatched_again source=%s key=%s reason=not claimed for %.0fs", source, key,
                        older_than)
            sent += 1
        return sent

    def work(self, source: str, key: str, lease: float, worker: str = "") -> MessageReport | None:
        """A worker's part: process a stored message and commit its outcome (no acknowledgement),
        noting `worker` in its audit trail; None when there is nothing to do (done already). Raises
        Busy while another worker's claim on it runs (a task redelivered while its first worker may
        still be on it, or dead without releasing it): try again when the claim ends."""
        raw, held_until = self.ledger.queue.claim(source, key, time.time(), lease)
        if raw is None:
            if held_until is not None:
                raise Busy(held_until)
            return None
        with message_context(raw.source, raw.key, _message_id(raw)):
            record = self.ledger.messages.get(source, key)
            if record is not None and record.status in (MessageStatus.DONE, MessageStatus.QUARANTINED,
                                                        MessageStatus.HELD):
                report = None  # committed before a worker died: nothing to redo
            else:
                report = self._process(None, raw)
                metrics.MESSAGES.labels(raw.source, report.status.value).inc()
                committed = self.ledger.messages.get(source, key)
                if committed is not None and worker:
                    self.ledger.audit.add(committed.id, "worker", worker)
            # done, or failed (counted: the scheduler fetches it again from its source on its next pass)
            self.ledger.queue.remove(source, key)
        return report

    def _process(self, source: Source | None, raw: RawMessage) -> MessageReport:
        """Process a message and commit its outcome; acknowledge it when `source` is given."""
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

    def _commit(self, source: Source | None, raw: RawMessage, outcome: MessageOutcome) -> MessageReport:
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

    def _hold(self, source: Source | None, raw: RawMessage, outcome: MessageOutcome, docs: list[dict[str, Any]],
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

    def _quarantine(self, source: Source | None, raw: RawMessage, reason: str) -> MessageReport:
        row = self.ledger.messages.record_outcome(Outcome(
            identity=_identity(raw), status=MessageStatus.QUARANTINED, error=reason,
            audit=(("quarantined", reason),),
        ))
        log.warning("event=quarantined source=%s key=%s reason=%s", raw.source, raw.key, reason)
        report = MessageReport(raw.source, raw.key, _header(raw, "Subject"), HandlingResult.QUARANTINED, error=reason)
        self._acknowledge(source, raw, row, MessageStatus.QUARANTINED, MailboxChanges(), reason, report)
        return report

    def _transient(self, source: Source | None, raw: RawMessage, reason: str) -> MessageReport:
        attempts = self.ledger.messages.record_failure(_identity(raw), reason)
        if attempts >= self.max_attempts:
            return self._quarantine(source, raw, f"gave up after {attempts} attempts: {reason}")
        log.warning("event=failed source=%s key=%s attempts=%d error=%s", raw.source, raw.key, attempts, reason)
        return MessageReport(raw.source, raw.key, _header(raw, "Subject"), HandlingResult.FAILED, error=reason)

    def _acknowledge(
        self, source: Source | None, raw: RawMessage, row: int, status: MessageStatus, changes: MailboxChanges,
        reason: str | None, report: MessageReport,
    ) -> None:
        if source is None:  # a worker: the scheduler, which holds the source, acknowledges it
            return
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
