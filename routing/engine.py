"""Decide what happens to a message: walk the ordered rules, collect actions, honour `stop`."""

from __future__ import annotations

from collections.abc import Sequence

from inbox_ocr.models import Action, RoutingDecision
from inbox_ocr.settings import Rule
from routing.rules import RoutingInput, match


def decide(inp: RoutingInput, rules: Sequence[Rule], default: Sequence[Action] = ()) -> RoutingDecision:
    """Every enabled rule that matches adds its actions, in order, until a matching rule has `stop`.

    Duplicate actions (two rules moving to the same folder) are kept once; when several rules
    move the message, the first move wins (earlier rules are the more specific ones), since a
    message can only be in one folder. When no rule matches, the `default` actions apply."""
    actions: list[Action] = []
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
    moves = [a for a in actions if a.kind == "move"]
    if len(moves) > 1:
        explanation.append(f"several moves decided; the first one wins: {moves[0].arg}")
        actions = [a for a in actions if a.kind != "move" or a is moves[0]]
    return RoutingDecision(
        rule=matched[0] if matched else None,
        actions=tuple(actions),
        matched_rules=tuple(matched),
        explanation=tuple(explanation),
    )
