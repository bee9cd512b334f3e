"""Pure rule matching: does one rule's `when` hold for a message and its documents, and why.

Message conditions (source, sender, recipients, subject, has_attachment, attachment_name) look at
the message. Document conditions (doc_type, min_confidence, total_gt/lt, currency, vendor, missing)
must all hold for one and the same document; the first such document is named in the explanation.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from inbox_ocr.models import AnalyzedDocument, ParsedMessage
from inbox_ocr.settings import Rule, RuleWhen, TextPattern


@dataclass(frozen=True)
class RoutingInput:
    source: str
    message: ParsedMessage
    documents: tuple[AnalyzedDocument, ...] = ()


@dataclass(frozen=True)
class RuleMatch:
    matched: bool
    checks: list[str] = field(default_factory=list)  # "subject glob '*invoice*': yes ('Invoice 42')"
    document: AnalyzedDocument | None = None


def text_matches(pattern: TextPattern, value: str) -> bool:
    if pattern.regex is not None:
        return pattern.regex.search(value) is not None
    return fnmatch.fnmatchcase(value.lower(), (pattern.glob or "").lower())


def _any_pattern(patterns: Sequence[TextPattern], values: Sequence[str]) -> tuple[bool, str]:
    for p in patterns:
        for v in values:
            if text_matches(p, v):
                return True, f"{p} matches {v!r}"
    shown = ", ".join(repr(v) for v in values[:3]) or "nothing"
    return False, f"{' or '.join(str(p) for p in patterns)} matches none of {shown}"


def _message_checks(when: RuleWhen, inp: RoutingInput) -> list[tuple[str, bool, str]]:
    msg = inp.message
    checks: list[tuple[str, bool, str]] = []
    if when.source is not None:
        ok, why = _any_pattern(when.source, [inp.source])
        checks.append(("source", ok, why))
    if when.sender is not None:
        values = [msg.sender] + ([f"{msg.sender_name} <{msg.sender}>"] if msg.sender_name else [])
        ok, why = _any_pattern(when.sender, values)
        checks.append(("sender", ok, why))
    if when.recipients is not None:
        ok, why = _any_pattern(when.recipients, list(msg.recipients))
        checks.append(("recipients", ok, why))
    if when.subject is not None:
        ok, why = _any_pattern(when.subject, [msg.subject])
        checks.append(("subject", ok, why))
    if when.has_attachment is not None:
        has = bool(msg.attachments)
        checks.append(("has_attachment", has == when.has_attachment, f"{len(msg.attachments)} attachment(s)"))
    if when.attachment_name is not None:
        ok, why = _any_pattern(when.attachment_name, [a.filename for a in msg.attachments])
        checks.append(("attachment_name", ok, why))
    return checks


def _document_checks(when: RuleWhen, doc: AnalyzedDocument) -> list[tuple[str, bool, str]]:
    f = doc.fields
    cls = doc.classification
    checks: list[tuple[str, bool, str]] = []
    if when.doc_type is not None:
        checks.append(("doc_type", cls.doc_type in when.doc_type, f"{cls.doc_type} (confidence {cls.confidence:.2f})"))
    if when.min_confidence is not None:
        checks.append(("min_confidence", cls.confidence >= when.min_confidence,
                       f"confidence {cls.confidence:.2f} vs {when.min_confidence}"))
    if when.total_gt is not None:
        ok = f.total is not None and f.total > when.total_gt
        checks.append(("total_gt", ok, f"total {f.total} > {when.total_gt}"))
    if when.total_lt is not None:
        ok = f.total is not None and f.total < when.total_lt
        checks.append(("total_lt", ok, f"total {f.total} < {when.total_lt}"))
    if when.currency is not None:
        checks.append(("currency", f.currency in when.currency, f"currency {f.currency}"))
    if when.vendor is not None:
        ok, why = _any_pattern(when.vendor, [v for v in (f.vendor_name, f.vendor_vat_id) if v])
        checks.append(("vendor", ok, why))
    if when.missing is not None:
        absent = [name for name in when.missing if getattr(f, name, None) in (None, "", ())]
        checks.append(("missing", len(absent) == len(when.missing),
                       f"missing {absent or 'none'} of {when.missing}"))
    return checks


def _has_document_conditions(when: RuleWhen) -> bool:
    names = ("doc_type", "min_confidence", "total_gt", "total_lt", "currency", "vendor", "missing")
    return any(getattr(when, n) is not None for n in names)


def _fmt(checks: list[tuple[str, bool, str]], prefix: str = "") -> list[str]:
    return [f"{prefix}{name}: {'yes' if ok else 'no'} ({why})" for name, ok, why in checks]


def match(rule: Rule, inp: RoutingInput) -> RuleMatch:
    """Whether `rule.when` holds for this message, with one line per condition checked."""
    msg_checks = _message_checks(rule.when, inp)
    lines = _fmt(msg_checks)
    if not all(ok for _, ok, _ in msg_checks):
        return RuleMatch(False, lines)
    if not _has_document_conditions(rule.when):
        return RuleMatch(True, lines or ["no conditions: matches every message"])
    if not inp.documents:
        return RuleMatch(False, lines + ["document conditions: no (the message has no readable document)"])
    for doc in inp.documents:
        doc_checks = _document_checks(rule.when, doc)
        if all(ok for _, ok, _ in doc_checks):
            return RuleMatch(True, lines + _fmt(doc_checks, f"{doc.document.filename}: "), doc)
    # explain with the document that came closest
    best: Callable[[AnalyzedDocument], int] = lambda d: sum(ok for _, ok, _ in _document_checks(rule.when, d))  # noqa: E731
    closest = max(inp.documents, key=best)
    return RuleMatch(False, lines + _fmt(_document_checks(rule.when, closest), f"{closest.document.filename}: "))
