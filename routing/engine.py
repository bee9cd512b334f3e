"""Decide what happens to a message: walk the ordered rules, collect actions, honour `stop`."""

from __future__ import annotations

from collections.abc import Sequence

from inbox_ocr.kernel.models import AnalyzedDocument, MailboxChanges, ParsedMessage, RoutingDecision
from routing.actions import BaseAction
from routing.conditions import RoutingInput
from routing.rules import Rule, match


def decide(inp: RoutingInput, rules: Sequence[Rule], default: Sequence[BaseAction] = ()) -> RoutingDecision:
    """Every enabled rule that matches adds its actions, in order, until a matching rule has `stop`.

    Duplicate actions (two rules moving to the same folder) are kept once; of an `exclusive`
    action (a move: a message can be in one folder only) the first one decided wins, since
    earlier rules are the more specific ones. When no rule matches, the `default` actions apply."""
    actions: list[BaseAction] = []
    matched: list[str] = []
    explanation: list[str] = []
    for rule in rules:
        if not rule.enabled:
            explanation.append(f"rule {rule.name!r}: disabled")
            continue
        result = match(rule, inp)
        explanation.append(f"rule {rule.name!r}: {'MATCH' if result.matched else 'no match'}")
        explanation.extend(f"  {line}" for line in result.checks)
        if not result.matched:
            continue
        matched.append(rule.name)
        for action in rule.then:
            if action not in actions:
                actions.append(action)
        if rule.stop:
            explanation.append(f"rule {rule.name!r} has stop: later rules are not considered")
            break
    if not matched:
        actions = list(default)
        explanation.append(f"no rule matched: default actions {[str(a) for a in default] or 'none'}")
    decided = _first_of_exclusive(actions, explanation)
    return decision_of(decided, matched[0] if matched else None, inp).model_copy(
        update={"matched_rules": tuple(matched), "explanation": tuple(explanation)})


def decision_of(actions: Sequence[BaseAction], rule: str | None, inp: RoutingInput | None = None) -> RoutingDecision:
    """The decision that applies `actions` (already de-duplicated): their mailbox changes, the
    webhooks to call, and the review reason when one of them is a `review`."""
    changes = MailboxChanges()
    for action in actions:
        if action.is_mailbox:
            changes = action.apply(changes, inp)
    return RoutingDecision(
        rule=rule,
        actions=tuple(str(a) for a in actions),
        mailbox=changes,
        webhooks=tuple(a.arg for a in actions if a.is_webhook and a.arg),
        review=next((a.arg for a in actions if a.kind == "review"), None),
    )


def _first_of_exclusive(actions: list[BaseAction], explanation: list[str]) -> list[BaseAction]:
    kept: list[BaseAction] = []
    for action in actions:
        first = next((k for k in kept if k.kind == action.kind), None)
        if action.exclusive and first is not None:
            if not any(line.startswith(f"several {action.kind}s decided") for line in explanation):
                explanation.append(f"several {action.kind}s decided; the first one wins: {first.arg}")
            continue
        kept.append(action)
    return kept


class RuleRouter:
    """The pipeline's Router (kernel/ports.py) over the config's rules and default actions."""

    def __init__(self, rules: Sequence[Rule], default: Sequence[BaseAction] = ()) -> None:
        self.rules = tuple(rules)
        self.default = tuple(default)

    def decide(self, source: str, message: ParsedMessage, documents: tuple[AnalyzedDocument, ...]) -> RoutingDecision:
        return decide(RoutingInput(source=source, message=message, documents=documents), self.rules, self.default)
