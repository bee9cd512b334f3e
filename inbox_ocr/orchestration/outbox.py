"""The webhook outbox: payloads committed with the message, delivered later with retries.

Each row has an idempotency key derived from the message and the action, so processing the same
message twice (after a crash before the ledger commit) inserts no second row, and a receiver sees
the same `Idempotency-Key` on every retry. A delivery that keeps failing becomes a dead letter
that `inbox-ocr outbox list --dead` shows and `inbox-ocr outbox retry ID` re-drives.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from inbox_ocr.kernel import metrics
from inbox_ocr.kernel.errors import DeliveryFailed, DeliveryRejected
from inbox_ocr.kernel.models import HelpdeskCall, MessageOutcome, ParsedMessage, RawMessage, RoutingDecision
from inbox_ocr.kernel.ports import Sink
from inbox_ocr.kernel.settings import DeliveryPolicy
from inbox_ocr.orchestration.ledger import DeliveryRecord, Ledger, NewDelivery

log = logging.getLogger(__name__)

# On a shared ledger: rows claimed at a time. A claim keeps them from other senders for as long as
# sending the batch may take (each send up to its webhook's timeout), so that the rows of a sender
# that died mid-batch are due again soon, not after an arbitrary long lease.
CLAIM_BATCH = 5
CLAIM_MARGIN = 30.0

PAYLOAD_VERSION = 1


def idempotency_key(message: RawMessage, webhook: str, index: int) -> str:
    """Stable across retries and reprocessing: source, message identity and which action it is."""
    basis = "\0".join((message.source, message.key, message.content_hash, webhook, str(index)))
    return hashlib.sha256(basis.encode()).hexdigest()[:32]


def webhook_payload(message: RawMessage, parsed: ParsedMessage, decision: RoutingDecision,
                    documents: Sequence[Mapping[str, Any]], key: str,
                    review: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The JSON a webhook receives; `documents` are AnalyzedDocument.summary() dicts (corrected by
    a reviewer, when `review` says who decided what)."""
    body = {
        "version": PAYLOAD_VERSION,
        "event": "message.routed",
        "idempotency_key": key,
        "source": message.source,
        "message": {
            "message_id": parsed.message_id,
            "subject": parsed.subject,
            "from": parsed.sender,
            "from_name": parsed.sender_name,
            "to": list(parsed.recipients),
            "date": parsed.date.isoformat() if parsed.date else None,
            "attachments": [a.filename for a in parsed.attachments],
        },
        "rule": decision.rule,
        "actions": list(decision.actions),
        "documents": list(documents),
    }
    if review is not None:
        body["review"] = dict(review)
    return body


def new_deliveries(message: RawMessage, outcome: MessageOutcome,
                   include_documents: Mapping[str, int] | None = None) -> tuple[NewDelivery, ...]:
    return decided_deliveries(message, outcome.message, outcome.decision, [d.summary() for d in outcome.documents],
                              include_documents=include_documents)


def decided_deliveries(message: RawMessage, parsed: ParsedMessage, decision: RoutingDecision,
                       documents: Sequence[Mapping[str, Any]], review: Mapping[str, Any] | None = None,
                       include_documents: Mapping[str, int] | None = None) -> tuple[NewDelivery, ...]:
    """One outbox row per webhook of `decision`. A reviewed message's rows have keys of their own
    (`review` in the basis): a receiver tells the corrected payload from any earlier one.
    `include_documents`: webhook -> largest file whose bytes its payload carries (base64)."""
    out = []
    for index, webhook in enumerate(decision.webhooks):
        key = idempotency_key(message, webhook if review is None else f"{webhook}:reviewed", index)
        limit = (include_documents or {}).get(webhook)
        shown = documents if limit is None else with_content(documents, parsed, limit)
        body = json.dumps(webhook_payload(message, parsed, decision, shown, key, review),
                          ensure_ascii=False, sort_keys=True).encode()
        out.append(NewDelivery(webhook=webhook, idempotency_key=key, payload=body))
    return tuple(out)


def with_content(documents: Sequence[Mapping[str, Any]], parsed: ParsedMessage, limit: int) -> list[dict[str, Any]]:
    """The documents with their files' bytes (`content_base64`), each up to `limit` bytes; a larger
    one says why it was left out (`content_omitted`)."""
    files = {a.part: a for a in parsed.attachments}
    out = []
    for doc in documents:
        shown = dict(doc)
        attachment = files.get(str(doc.get("part")))
        if attachment is None:
            shown["content_omitted"] = "not an attachment of the message"
        elif attachment.size > limit:
            shown["content_omitted"] = f"{attachment.size} bytes, over include_document_max_bytes ({limit})"
        else:
            shown["content_type"] = attachment.content_type
            shown["content_base64"] = base64.b64encode(attachment.data).decode("ascii")
        out.append(shown)
    return out


def helpdesk_deliveries(message: RawMessage, sink: str, calls: Sequence[HelpdeskCall]) -> tuple[NewDelivery, ...]:
    """One outbox row per helpdesk API call, for the sink `sink`: the call and its idempotency
    key (a comment carries the key as a marker, so a retry after a lost answer posts it once)."""
    out = []
    for index, call in enumerate(calls):
        key = idempotency_key(message, f"{sink}:{call.op}", index)
        body = {"version": PAYLOAD_VERSION, "event": "helpdesk.call", "idempotency_key": key,
                "source": message.source, "key": message.key, **call.model_dump()}
        out.append(NewDelivery(webhook=sink, idempotency_key=key,
                               payload=json.dumps(body, ensure_ascii=False, sort_keys=True).encode()))
    return tuple(out)


@dataclass
class DeliveryReport:
    delivered: int = 0
    retrying: int = 0
    dead: int = 0
    errors: list[str] = field(default_factory=list)
    receipts: list[str] = field(default_factory=list)


class Outbox:
    def __init__(
        self,
        ledger: Ledger,
        sinks: Mapping[str, Sink],
        policies: Mapping[str, DeliveryPolicy],
        clock: Callable[[], float] = time.time,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.ledger = ledger
        self.sinks = sinks
        self.policies = policies
        self.clock = clock
        self.jitter = jitter

    @property
    def claim_lease(self) -> float:
        """Seconds a claimed batch may take: CLAIM_BATCH sends at the slowest webhook's timeout."""
        slowest = max((float(getattr(p, "timeout", 30.0)) for p in self.policies.values()), default=30.0)
        return CLAIM_BATCH * slowest + CLAIM_MARGIN

    def backoff(self, webhook: str, attempts: int) -> float:
        """Delay before the next attempt after `attempts` failures: exponential, capped, with up to
        `jitter` (default 25%) added so that many retries do not hit a recovering target at the same instant."""
        cfg = self.policies[webhook]
        delay = min(cfg.backoff * (2 ** max(attempts - 1, 0)), cfg.max_backoff)
        return delay * (1 + cfg.jitter * self.jitter())

    def deliver_due(self, limit: int = 100) -> DeliveryReport:
        """Send the due deliveries (at most `limit`). On a shared ledger they are claimed a few at a
        time, each batch for as long as sending it may take (ledger/deliveries.py), so no other
        sender sends them meanwhile."""
        report = DeliveryReport()
        if not self.ledger.shared:
            self._send(self.ledger.deliveries.due(self.clock(), limit), report)
            return report
        while limit > 0:
            batch = self.ledger.deliveries.claim(self.clock(), min(CLAIM_BATCH, limit), self.claim_lease)
            if not batch:
                break
            self._send(batch, report)
            limit -= len(batch)
        return report

    def _send(self, rows: list[DeliveryRecord], report: DeliveryReport) -> None:
        for row in rows:
            sink = self.sinks.get(row.webhook)
            if sink is None:
                self.ledger.deliveries.failed(row.id, f"no webhook named {row.webhook!r} in the config", None)
                report.dead += 1
                continue
            try:
                receipt = sink.deliver(row)
            except DeliveryRejected as exc:
                self.ledger.deliveries.failed(row.id, str(exc), None)
                metrics.DELIVERIES.labels(row.webhook, "dead").inc()
                log.warning("event=dead_letter delivery=%d webhook=%s error=%s", row.id, row.webhook, exc)
                report.dead += 1
                report.errors.append(f"{row.webhook}: {exc}")
                continue
            except DeliveryFailed as exc:
                attempts = row.attempts + 1
                metrics.DELIVERIES.labels(row.webhook, "retry" if attempts < self.policies[row.webhook].max_attempts
                                          else "dead").inc()
                if attempts >= self.policies[row.webhook].max_attempts:
                    self.ledger.deliveries.failed(row.id, f"{exc} (gave up after {attempts} attempts)", None)
                    log.warning("event=dead_letter delivery=%d webhook=%s attempts=%d error=%s",
                                row.id, row.webhook, attempts, exc)
                    report.dead += 1
                else:
                    delay = max(self.backoff(row.webhook, attempts), exc.retry_after or 0.0)
                    self.ledger.deliveries.failed(row.id, str(exc), self.clock() + delay)
                    log.info("event=delivery_retry delivery=%d webhook=%s attempts=%d in=%.0fs error=%s",
                             row.id, row.webhook, attempts, delay, exc)
                    report.retrying += 1
                report.errors.append(f"{row.webhook}: {exc}")
                continue
            self.ledger.deliveries.succeeded(row.id, receipt)
            metrics.DELIVERIES.labels(row.webhook, "delivered").inc()
            with contextlib.suppress(ValueError):  # a row written by hand without a proper time
                created = datetime.fromisoformat(row.created_at).timestamp()
                metrics.DELIVERY_LATENCY.labels(row.webhook).observe(max(time.time() - created, 0.0))
            log.info("event=delivered delivery=%d webhook=%s receipt=%s", row.id, row.webhook, receipt)
            report.delivered += 1
            report.receipts.append(f"delivery {row.id} -> {row.webhook}: {receipt}")
