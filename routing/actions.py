"""What a rule can do with a message: one class per action, declared once here.

In YAML an action is `{move: Invoices}`, `{keyword: x}`, `{webhook: erp}`, `mark_seen` or `flag`.
Each class says what it is (`is_mailbox`: applied on the source by `Source.ack`; `is_webhook`:
delivered through the outbox), how it shows in explanations (`str`), and, for a mailbox action,
how it changes the message (`apply`, onto the kernel's `MailboxChanges`).

Adding an action: a class here, added to the `AnyAction` union. A mailbox action that needs a change
the sources do not know yet also adds a field to `MailboxChanges` (kernel/models.py) and its
handling to each source's `ack`.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import BeforeValidator, Field

from inbox_ocr.kernel.config_types import Strict
from inbox_ocr.kernel.models import MailboxChanges


class BaseAction(Strict):
    kind: str
    takes: ClassVar[Literal["name", "nothing"]] = "nothing"  # `{kind: NAME}` or a bare `kind`
    is_mailbox: ClassVar[bool] = False
    is_webhook: ClassVar[bool] = False
    exclusive: ClassVar[bool] = False  # a message takes at most one; when rules decide several, the first wins

    @property
    def arg(self) -> str | None:
        """The action's argument as written in the config (a folder, keyword or webhook name)."""
        return None

    def apply(self, changes: MailboxChanges) -> MailboxChanges:
        """The mailbox changes with this action's part added (mailbox actions only)."""
        return changes

    def __str__(self) -> str:
        return self.kind if self.arg is None else f"{self.kind}: {self.arg}"


class Move(BaseAction):
    """Move the message to a folder ('/' between levels)."""

    kind: Literal["move"] = "move"
    folder: str
    takes: ClassVar[Literal["name", "nothing"]] = "name"
    is_mailbox: ClassVar[bool] = True
    exclusive: ClassVar[bool] = True  # a message can be in one folder only

    @property
    def arg(self) -> str:
        return self.folder

    def apply(self, changes: MailboxChanges) -> MailboxChanges:
        return changes.model_copy(update={"move_to": self.folder})


class Keyword(BaseAction):
    """Set a keyword (IMAP keyword, Gmail label, Dovecot Maildir keyword)."""

    kind: Literal["keyword"] = "keyword"
    name: str
    takes: ClassVar[Literal["name", "nothing"]] = "name"
    is_mailbox: ClassVar[bool] = True

    @property
    def arg(self) -> str:
        return self.name

    def apply(self, changes: MailboxChanges) -> MailboxChanges:
        return changes.model_copy(update={"keywords": (*changes.keywords, self.name)})


class MarkSeen(BaseAction):
    """Mark the message as read."""

    kind: Literal["mark_seen"] = "mark_seen"
    is_mailbox: ClassVar[bool] = True

    def apply(self, changes: MailboxChanges) -> MailboxChanges:
        return changes.model_copy(update={"mark_seen": True})


class Flag(BaseAction):
    """Flag (star) the message."""

    kind: Literal["flag"] = "flag"
    is_mailbox: ClassVar[bool] = True

    def apply(self, changes: MailboxChanges) -> MailboxChanges:
        return changes.model_copy(update={"flag": True})


class Webhook(BaseAction):
    """Call a webhook of the config's `webhooks:` (through the outbox, after the commit)."""

    kind: Literal["webhook"] = "webhook"
    webhook: str
    takes: ClassVar[Literal["name", "nothing"]] = "name"
    is_webhook: ClassVar[bool] = True

    @property
    def arg(self) -> str:
        return self.webhook


AnyAction = Move | Keyword | Webhook | MarkSeen | Flag
ACTION_TYPES: tuple[type[BaseAction], ...] = get_args(AnyAction)
_BY_KIND: dict[str, type[BaseAction]] = {t.model_fields["kind"].default: t for t in ACTION_TYPES}
ACTION_KINDS: tuple[str, ...] = tuple(_BY_KIND)


def _argument_field(action: type[BaseAction]) -> str:
    (name,) = (n for n in action.model_fields if n != "kind")
    return name


def _from_yaml(value: Any) -> Any:
    """`{move: X}`, `mark_seen`, `{mark_seen: true}` -> the fields of the action's class."""
    if isinstance(value, str):
        value = {value: True}
    if not isinstance(value, dict) or "kind" in value:
        return value
    if len(value) != 1:
        raise ValueError(f"an action is one of {'/'.join(ACTION_KINDS)}, got keys {sorted(value)}")
    ((kind, arg),) = value.items()
    action = _BY_KIND.get(kind)
    if action is None:
        raise ValueError(f"unknown action {kind!r}; known: {', '.join(ACTION_KINDS)}")
    if action.takes == "nothing":
        if arg is not True:
            raise ValueError(f"{kind} takes no argument (write `{kind}` or `{{{kind}: true}}`)")
        return {"kind": kind}
    if not isinstance(arg, str) or not arg.strip():
        raise ValueError(f"{kind} needs a non-empty name")
    return {"kind": kind, _argument_field(action): arg.strip()}


Action = Annotated[AnyAction, Field(discriminator="kind"), BeforeValidator(_from_yaml)]
"""One action as the config writes it; validated into its class."""
