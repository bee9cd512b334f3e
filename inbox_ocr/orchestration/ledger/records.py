"""Typed records in and out of the ledger's stores."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from inbox_ocr.kernel.models import MailboxChanges, MessageStatus, RoutingDecision


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # due at next_attempt_at
    DELIVERED = "delivered"
    DEAD = "dead"  # gave up, or rejected: `inbox-ocr outbox retry ID` re-drives it


@dataclass(frozen=True)
class MessageIdentity:
    """Who a message is: the source's key for it, and what is known without parsing it fully."""

    source: str
    key: str
    message_id: str | None
    content_hash: str
    subject: str = ""
    sender: str = ""


@dataclass(frozen=True)
class NewDelivery:
    """An outbox row to insert with the message's outcome."""

    webhook: str
    idempotency_key: str
    payload: bytes


@dataclass(frozen=True)
class HeldReview:
    """What a `review` action holds: the decision waiting for a person, and the message as received."""

    reason: str
    held: RoutingDecision
    raw: bytes = field(repr=False)


@dataclass(frozen=True)
class ReviewRecord:
    message: int
    reason: str
    held: RoutingDecision
    raw: bytes = field(repr=False)
    status: str  # pending | approved | rejected
    created_at: str
    decided_by: str | None
    decided_at: str | None


@dataclass(frozen=True)
class Outcome:
    """A message's outcome (done, quarantined or held for review), written with its outbox rows atomically."""

    identity: MessageIdentity
    status: MessageStatus
    rule: str | None = None
    actions: tuple[str, ...] = ()  # as the config writes them, for people
    mailbox: MailboxChanges = MailboxChanges()  # what the source applies on ack (redone after a crash)
    documents: tuple[dict[str, Any], ...] = ()  # AnalyzedDocument.summary() of each
    error: str | None = None
    deliveries: tuple[NewDelivery, ...] = ()
    audit: tuple[tuple[str, str], ...] = ()  # (event, detail)
    review: HeldReview | None = None  # with status held


@dataclass(frozen=True)
class MessageRecord:
    id: int
    source: str
    key: str
    message_id: str | None
    content_hash: str
    subject: str | None
    sender: str | None
    status: MessageStatus
    attempts: int
    error: str | None
    rule: str | None
    actions: list[str]
    mailbox: MailboxChanges
    documents: list[dict[str, Any]]
    created_at: str
    updated_at: str
    acked_at: str | None


@dataclass(frozen=True)
class DeliveryRecord:
    """One outbox row; also what a Sink is handed (kernel/ports.py Delivery)."""

    id: int
    message: int
    webhook: str
    idempotency_key: str
    payload: bytes = field(repr=False)
    status: DeliveryStatus
    attempts: int
    next_attempt_at: float
    last_error: str | None
    receipt: str | None
    created_at: str
    delivered_at: str | None


@dataclass(frozen=True)
class AuditEntry:
    at: str
    event: str
    detail: str
