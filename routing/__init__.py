"""Routing: the config's rules decide what happens to a message. A stage: imports only the kernel.

    conditions.py  every `when:` condition, declared once (key, scope, value type, check)
    actions.py     every action, one class each (`is_mailbox`, `is_webhook`, how it changes the message)
    rules.py       Rule and RuleWhen (built from the conditions); `match` with explanations
    engine.py      `decide` (pure) and RuleRouter, the pipeline's Router
"""

from routing.actions import Action, BaseAction
from routing.conditions import RoutingInput
from routing.engine import RuleRouter, decide
from routing.rules import Rule, RuleWhen, match

__all__ = ["Action", "BaseAction", "RoutingInput", "Rule", "RuleRouter", "RuleWhen", "decide", "match"]
