"""Rules as the config writes them, and pure matching: does one rule's `when` hold, and why.

`RuleWhen` has one optional key per declared condition (conditions.py), in declaration order.
Message conditions are checked first; document conditions must then all hold for one and the
same document, which the explanation names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import Field, create_model

from inbox_ocr.kernel.config_types import Strict
from inbox_ocr.kernel.models import AnalyzedDocument
from routing.actions import Action
from routing.conditions import CONDITIONS, Condition, RoutingInput

MESSAGE_CONDITIONS: tuple[Condition, ...] = tuple(c for c in CONDITIONS if c.scope == "message")
DOCUMENT_CONDITIONS: tuple[Condition, ...] = tuple(c for c in CONDITIONS if c.scope == "document")

_WHEN_DOC = ("All given conditions must hold. Document conditions must all hold for one and the same "
             "document of the message.")

if TYPE_CHECKING:

    class RuleWhen(Strict):
        """All given conditions must hold (one optional attribute per declared condition)."""

        def __getattr__(self, name: str) -> Any: ...

else:
    RuleWhen = create_model(
        "RuleWhen",
        __base__=Strict,
        __doc__=_WHEN_DOC,
        **{c.name: (c.type | None, Field(default=None, description=c.doc)) for c in CONDITIONS},
    )


class Rule(Strict):
    name: str
    enabled: bool = True
    when: RuleWhen = RuleWhen()
    then: list[Action] = Field(min_length=1)
    stop: bool = False


@dataclass(frozen=True)
class RuleMatch:
    matched: bool
    checks: list[str] = field(default_factory=list)  # "subject glob '*invoice*': yes ('Invoice 42')"
    document: AnalyzedDocument | None = None


Outcome = tuple[str, bool, str]  # condition name, holds, why


def _run(conditions: tuple[Condition, ...], when: RuleWhen, subject: Any) -> list[Outcome]:
    out: list[Outcome] = []
    for c in conditions:
        value = getattr(when, c.name)
        if value is not None:
            ok, why = c.check(value, subject)
            out.append((c.name, ok, why))
    return out


def _fmt(checks: list[Outcome], prefix: str = "") -> list[str]:
    return [f"{prefix}{name}: {'yes' if ok else 'no'} ({why})" for name, ok, why in checks]


def has_document_conditions(when: RuleWhen) -> bool:
    return any(getattr(when, c.name) is not None for c in DOCUMENT_CONDITIONS)


def match(rule: Rule, inp: RoutingInput) -> RuleMatch:
    """Whether `rule.when` holds for this message, with one line per condition checked."""
    msg_checks = _run(MESSAGE_CONDITIONS, rule.when, inp)
    lines = _fmt(msg_checks)
    if not all(ok for _, ok, _ in msg_checks):
        return RuleMatch(False, lines)
    if not has_document_conditions(rule.when):
        return RuleMatch(True, lines or ["no conditions: matches every message"])
    if not inp.documents:
        return RuleMatch(False, lines + ["document conditions: no (the message has no readable document)"])
    for doc in inp.documents:
        doc_checks = _run(DOCUMENT_CONDITIONS, rule.when, doc)
        if all(ok for _, ok, _ in doc_checks):
            return RuleMatch(True, lines + _fmt(doc_checks, f"{doc.document.filename}: "), doc)

    def holding(d: AnalyzedDocument) -> int:
        return sum(ok for _, ok, _ in _run(DOCUMENT_CONDITIONS, rule.when, d))

    closest = max(inp.documents, key=holding)  # explain with the document that came closest
    return RuleMatch(False, lines + _fmt(_run(DOCUMENT_CONDITIONS, rule.when, closest),
                                         f"{closest.document.filename}: "))
