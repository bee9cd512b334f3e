"""People's decisions on held messages: corrected fields, then the held actions (approve) or the
configured reject actions (reject), in one ledger transaction.

A rule's `review` action commits a message as held (runner.py): its fields are in the ledger, its
mailbox changes and webhooks wait in the review row. `decide` applies a reviewer's corrections to
the stored documents (each checked as the field's type: a total must be an amount, a date a
date), builds the webhook payloads from the message as received with the corrected fields, and
writes all of it with an audit entry per correction and one for the decision, naming the
reviewer. The source is acknowledged on the runner's next pass, as for any committed message
whose acknowledgement is pending, so a decision made in the web server's process needs no
connection to the mailbox.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from inbox_ocr.kernel.models import InvoiceFields, RawMessage, RoutingDecision
from inbox_ocr.kernel.settings import Limits
from inbox_ocr.mime import parse_message
from inbox_ocr.orchestration.ledger import Decision, Ledger, ReviewConflict
from inbox_ocr.orchestration.outbox import decided_deliveries

EDITABLE = ("invoice_number", "invoice_date", "due_date", "total", "subtotal", "tax", "amount_due", "currency",
            "vendor_name", "vendor_vat_id", "customer_name", "iban", "bic", "po_number", "payment_reference")
"""The fields a reviewer can correct (the scalar ones a payment needs)."""

__all__ = ["EDITABLE", "CorrectionErrors", "ReviewConflict", "decide"]


@dataclass
class CorrectionErrors(Exception):
    """Corrections that are not valid values of their field: {(document index, field): why}."""

    problems: dict[tuple[int, str], str] = field(default_factory=dict)

    def __str__(self) -> str:
        return "; ".join(f"document {i + 1} {name}: {why}" for (i, name), why in self.problems.items())


def decide(ledger: Ledger, message: int, *, approve: bool, reviewer: str,
           corrections: Mapping[int, Mapping[str, str]], reject: RoutingDecision, limits: Limits,
           include_documents: Mapping[str, int] | None = None) -> None:
    """Approve or reject held message `message` (a ledger row id) as `reviewer`, with `corrections`
    ({document index: {field: text as typed}}; an empty text clears the field). Raises
    CorrectionErrors (nothing written) or ReviewConflict (already decided)."""
    review = ledger.reviews.get(message)
    record = ledger.messages.by_id(message)
    if review is None or record is None or review.status != "pending":
        raise ReviewConflict(f"message {message} is not waiting for review"
                             + (f": {review.status} by {review.decided_by}" if review and review.decided_by else ""))
    documents, audit, corrected = corrected_documents(record.documents, corrections, reviewer)
    if approve:
        held = review.held
        waiting = tuple(a for a in held.actions if not a.startswith("review:"))
        chosen = held.model_copy(update={"actions": waiting, "review": None})
    else:
        chosen = reject.model_copy(update={"rule": "(rejected in review)"})
    verdict = "approved" if approve else "rejected"
    raw = RawMessage(source=record.source, key=record.key, raw=review.raw)
    parsed = parse_message(review.raw, limits)
    stamp = {"decision": verdict, "by": reviewer, "corrected": corrected}
    deliveries = decided_deliveries(raw, parsed, chosen, documents, review=stamp, include_documents=include_documents)
    audit.append((verdict, f"by {reviewer}: {list(chosen.actions) or 'no actions'}"))
    ledger.reviews.decide(message, Decision(status=verdict, reviewer=reviewer, decision=chosen,
                                            documents=tuple(documents), deliveries=deliveries, audit=tuple(audit)))


def corrected_documents(
    documents: list[dict[str, Any]], corrections: Mapping[int, Mapping[str, str]], reviewer: str,
) -> tuple[list[dict[str, Any]], list[tuple[str, str]], list[str]]:
    """The documents with the corrections applied, the audit lines, and the names corrected."""
    out = copy.deepcopy(documents)
    audit: list[tuple[str, str]] = []
    corrected: list[str] = []
    errors = CorrectionErrors()
    for index, changes in corrections.items():
        if not 0 <= index < len(out):
            errors.problems[(index, "")] = "no such document"
            continue
        doc = out[index]
        fields = doc.setdefault("fields", {})
        for name, typed in changes.items():
            if name not in EDITABLE:
                errors.problems[(index, name)] = "not a field a reviewer can correct"
                continue
            try:
                value = _normalized(name, typed)
            except ValueError as exc:
                errors.problems[(index, name)] = str(exc)
                continue
            before = fields.get(name)
            if value == before:
                continue
            if value is None:
                fields.pop(name, None)
                doc.get("field_confidence", {}).pop(name, None)
            else:
                fields[name] = value
                doc.setdefault("field_confidence", {})[name] = 1.0
            doc.setdefault("corrected", {})[name] = {"was": before, "by": reviewer}
            corrected.append(name)
            audit.append(("corrected", f"by {reviewer}: {doc.get('attachment') or 'document'} {name}: "
                                       f"{before if before is not None else '(none)'} -> "
                                       f"{value if value is not None else '(cleared)'}"))
    if errors.problems:
        raise errors
    return out, audit, corrected


def _normalized(name: str, typed: str) -> Any:
    """The field's JSON value (decimal string, ISO date) of what a person typed; None for nothing."""
    text = typed.strip()
    if not text:
        return None
    if name in ("total", "subtotal", "tax", "amount_due"):
        text = text.replace(" ", "").replace("\u00a0", "")
        if "," in text and "." not in text:
            text = text.replace(",", ".")  # 1234,56
        text = text.replace(",", "")  # 1,234.56
    if name == "currency":
        text = text.upper()
    try:
        return InvoiceFields(**{name: text}).as_json()[name]
    except ValidationError as exc:
        raise ValueError(exc.errors()[0]["msg"]) from None
