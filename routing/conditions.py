"""Rule conditions, each declared once: its config key, its scope, the type of its value, its check.

A message condition looks at the message (sender, subject, body ...). Document conditions must
all hold for one and the same document of the message (doc_type, total_gt ...). The `when:`
schema of a rule (rules.py) is built from these declarations, so adding a condition is one
decorated function here: its config key, validation, explanation and place in the matching
follow from it.

A check returns `(holds, why)`: `why` is the short text the dry run prints after yes/no.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field

from inbox_ocr.kernel.config_types import Patterns, TextPattern, one_or_many_of
from inbox_ocr.kernel.models import AnalyzedDocument, DocType, InvoiceFields, ParsedMessage

Check = tuple[bool, str]
Scope = Literal["message", "document"]


@dataclass(frozen=True)
class RoutingInput:
    """What rules look at: the message, where it came from, and its analysed documents."""

    source: str
    message: ParsedMessage
    documents: tuple[AnalyzedDocument, ...] = ()


@dataclass(frozen=True)
class Condition:
    """One `when:` key."""

    name: str
    scope: Scope
    type: Any  # the annotation of its value in the config
    check: Callable[[Any, Any], Check]  # (value from the config, RoutingInput or AnalyzedDocument)
    doc: str


CONDITIONS: list[Condition] = []


def condition(name: str, scope: Scope, value_type: Any) -> Callable[[Callable[[Any, Any], Check]], Any]:
    """Declare a condition; the function's docstring documents the `when:` key."""

    def register(check: Callable[[Any, Any], Check]) -> Callable[[Any, Any], Check]:
        CONDITIONS.append(Condition(name, scope, value_type, check, (check.__doc__ or "").strip()))
        return check

    return register


# --------------------------------------------------------------------------- helpers


def text_matches(pattern: TextPattern, value: str) -> bool:
    if pattern.regex is not None:
        return pattern.regex.search(value) is not None
    return fnmatch.fnmatchcase(value.lower(), (pattern.glob or "").lower())


def any_pattern(patterns: Sequence[TextPattern], values: Sequence[str]) -> Check:
    """Some value matches one of the patterns (when there are any but `not:` ones), and no value
    matches a `not:` pattern."""
    for p in patterns:
        if p.negate:
            for v in values:
                if text_matches(p, v):
                    return False, f"{p}, but {_shown(v)} matches it"
    wanted = [p for p in patterns if not p.negate]
    if not wanted:
        return True, f"none of {_listed(values)} matches {' or '.join(str(p) for p in patterns)}"
    for p in wanted:
        for v in values:
            if text_matches(p, v):
                return True, f"{p} matches {_shown(v)}"
    return False, f"{' or '.join(str(p) for p in wanted)} matches none of {_listed(values)}"


def _listed(values: Sequence[str]) -> str:
    return ", ".join(_shown(v) for v in values[:3]) or "nothing"


def _shown(value: str, limit: int = 120) -> str:
    return repr(value if len(value) <= limit else value[: limit - 1] + "…")


def _iso_currencies(codes: list[str]) -> list[str]:
    for code in codes:
        if not re.fullmatch(r"[A-Z]{3}", code):
            raise ValueError(f"{code!r} is not an ISO 4217 code such as EUR")
    return codes


FIELD_NAMES: tuple[str, ...] = tuple(n for n in InvoiceFields.model_fields if n != "line_items")
"""The invoice fields a rule may name (`missing:`), straight from the model."""


def _known_fields(names: list[str]) -> list[str]:
    for name in names:
        if name not in FIELD_NAMES:
            raise ValueError(f"unknown field {name!r}; known: {', '.join(FIELD_NAMES)}")
    return names



# --------------------------------------------------------------------------- message conditions


@condition("source", "message", Patterns)
def _source(patterns: list[TextPattern], inp: RoutingInput) -> Check:
    """The name of the source the message came from."""
    return any_pattern(patterns, [inp.source])


@condition("sender", "message", Patterns)
def _sender(patterns: list[TextPattern], inp: RoutingInput) -> Check:
    """The From address, or `Name <address>`."""
    msg = inp.message
    values = [msg.sender] + ([f"{msg.sender_name} <{msg.sender}>"] if msg.sender_name else [])
    return any_pattern(patterns, values)


@condition("recipients", "message", Patterns)
def _recipients(patterns: list[TextPattern], inp: RoutingInput) -> Check:
    """Any To or Cc address."""
    return any_pattern(patterns, list(inp.message.recipients))


@condition("subject", "message", Patterns)
def _subject(patterns: list[TextPattern], inp: RoutingInput) -> Check:
    """The Subject header."""
    return any_pattern(patterns, [inp.message.subject])


@condition("body", "message", Patterns)
def _body(patterns: list[TextPattern], inp: RoutingInput) -> Check:
    """The plain-text body (HTML bodies as text); a glob must match the whole body, so write
    `*words*`, or use `{regex: ...}`, which searches."""
    return any_pattern(patterns, [inp.message.body_text])


@condition("has_attachment", "message", bool)
def _has_attachment(wanted: bool, inp: RoutingInput) -> Check:
    """Whether the message has attachments at all."""
    count = len(inp.message.attachments)
    return (count > 0) == wanted, f"{count} attachment(s)"


@condition("attachment_name", "message", Patterns)
def _attachment_name(patterns: list[TextPattern], inp: RoutingInput) -> Check:
    """The file name of an attachment (one pattern or a list); `not:*.p7s` holds only when no
    attachment is so named."""
    return any_pattern(patterns, [a.filename for a in inp.message.attachments])


# --------------------------------------------------------------------------- document conditions


@condition("doc_type", "document", Annotated[list[DocType], one_or_many_of(DocType)])
def _doc_type(types: list[str], doc: AnalyzedDocument) -> Check:
    """The document's type: invoice, credit_note, reminder, receipt, order_confirmation, quote,
    statement or other (one or a list)."""
    cls = doc.classification
    return cls.doc_type in types, f"{cls.doc_type} (confidence {cls.confidence:.2f})"


@condition("min_confidence", "document", Annotated[float, Field(ge=0, le=1)])
def _min_confidence(minimum: float, doc: AnalyzedDocument) -> Check:
    """The confidence of the document's type is at least this."""
    confidence = doc.classification.confidence
    return confidence >= minimum, f"confidence {confidence:.2f} vs {minimum}"


@condition("total_gt", "document", Decimal)
def _total_gt(limit: Decimal, doc: AnalyzedDocument) -> Check:
    """The total is greater than this."""
    total = doc.fields.total
    return total is not None and total > limit, f"total {total} > {limit}"


@condition("total_lt", "document", Decimal)
def _total_lt(limit: Decimal, doc: AnalyzedDocument) -> Check:
    """The total is less than this."""
    total = doc.fields.total
    return total is not None and total < limit, f"total {total} < {limit}"


@condition("currency", "document", Annotated[list[str], one_or_many_of(str), AfterValidator(_iso_currencies)])
def _currency(codes: list[str], doc: AnalyzedDocument) -> Check:
    """The ISO 4217 currency (one or a list)."""
    return doc.fields.currency in codes, f"currency {doc.fields.currency}"


@condition("vendor", "document", Patterns)
def _vendor(patterns: list[TextPattern], doc: AnalyzedDocument) -> Check:
    """The vendor's name or VAT id."""
    return any_pattern(patterns, [v for v in (doc.fields.vendor_name, doc.fields.vendor_vat_id) if v])


@condition("duplicate_invoice", "document", bool)
def _duplicate_invoice(wanted: bool, doc: AnalyzedDocument) -> Check:
    """An earlier message brought the same invoice: the same vendor (VAT id, else name), invoice
    number and total (`true`), or none did (`false`)."""
    earlier = doc.duplicate_of
    why = f"first received in {earlier.describe()}" if earlier is not None else "not seen before"
    return (earlier is not None) == wanted, why


@condition("missing", "document", Annotated[list[str], one_or_many_of(str), AfterValidator(_known_fields)])
def _missing(names: list[str], doc: AnalyzedDocument) -> Check:
    """All these invoice fields were not found (one or a list of field names)."""
    absent = [name for name in names if getattr(doc.fields, name, None) in (None, "", ())]
    return len(absent) == len(names), f"missing {absent or 'none'} of {names}"
