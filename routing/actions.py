"""What a rule can do with a message: one class per action, declared once here.

In YAML an action is `{move: Invoices}`, `{keyword: x}`, `{webhook: erp}`, `mark_seen`, `flag`,
`{assign: person}` or `{comment: "template"}` (these two only mean something in a helpdesk), or
`{review: "why"}` (hold the others until a person decides), `delete`.
Each class says what it is (`is_mailbox`: applied on the source by `Source.ack`; `is_webhook`:
delivered through the outbox), how it shows in explanations (`str`), and, for a mailbox action,
how it changes the message (`apply`, onto the kernel's `MailboxChanges`).

Adding an action: a class here, added to the `AnyAction` union. A mailbox action that needs a change
the sources do not know yet also adds a field to `MailboxChanges` (kernel/models.py) and its
handling to each source's `ack`.
"""

from __future__ import annotations

from string import Formatter
from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import BeforeValidator, Field, WithJsonSchema, field_validator

from inbox_ocr.kernel.config_types import Strict
from inbox_ocr.kernel.models import MailboxChanges
from routing.conditions import RoutingInput


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

    def apply(self, changes: MailboxChanges, inp: RoutingInput | None = None) -> MailboxChanges:
        """The mailbox changes with this action's part added (mailbox actions only); `inp` is what
        the rules looked at (a comment template takes its values from it)."""
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

    def apply(self, changes: MailboxChanges, inp: RoutingInput | None = None) -> MailboxChanges:
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

    def apply(self, changes: MailboxChanges, inp: RoutingInput | None = None) -> MailboxChanges:
        return changes.model_copy(update={"keywords": (*changes.keywords, self.name)})


class MarkSeen(BaseAction):
    """Mark the message as read."""

    kind: Literal["mark_seen"] = "mark_seen"
    is_mailbox: ClassVar[bool] = True

    def apply(self, changes: MailboxChanges, inp: RoutingInput | None = None) -> MailboxChanges:
        return changes.model_copy(update={"mark_seen": True})


class Flag(BaseAction):
    """Flag (star) the message."""

    kind: Literal["flag"] = "flag"
    is_mailbox: ClassVar[bool] = True

    def apply(self, changes: MailboxChanges, inp: RoutingInput | None = None) -> MailboxChanges:
        return changes.model_copy(update={"flag": True})


class Delete(BaseAction):
    """Delete the message: to the server's Trash (IMAP: its \\Trash folder, else flagged \\Deleted
    and left for the mail client to expunge, never expunging others' mail; Maildir: .Trash). A
    delete wins over a move."""

    kind: Literal["delete"] = "delete"
    is_mailbox: ClassVar[bool] = True

    def apply(self, changes: MailboxChanges, inp: RoutingInput | None = None) -> MailboxChanges:
        return changes.model_copy(update={"delete": True})


class Assign(BaseAction):
    """Assign the conversation to a person (helpdesk sources: a Front teammate, a Zendesk agent, a
    Help Scout user, by e-mail address or name)."""

    kind: Literal["assign"] = "assign"
    person: str
    takes: ClassVar[Literal["name", "nothing"]] = "name"
    is_mailbox: ClassVar[bool] = True
    exclusive: ClassVar[bool] = True  # one assignee

    @property
    def arg(self) -> str:
        return self.person

    def apply(self, changes: MailboxChanges, inp: RoutingInput | None = None) -> MailboxChanges:
        return changes.model_copy(update={"assign_to": self.person})


class Comment(BaseAction):
    """Add a private comment (helpdesk sources: a Front comment, a Zendesk internal note, a Help
    Scout note). The text is a template: `{invoice_number}`, `{total}`, ... (COMMENT_FIELDS) are
    replaced by the values read from the message's invoice, `-` where nothing was read."""

    kind: Literal["comment"] = "comment"
    template: str
    takes: ClassVar[Literal["name", "nothing"]] = "name"
    is_mailbox: ClassVar[bool] = True

    @property
    def arg(self) -> str:
        return self.template

    @field_validator("template")
    @classmethod
    def _known_fields(cls, template: str) -> str:
        try:
            names = {name for _, name, _, _ in Formatter().parse(template) if name is not None}
        except ValueError as exc:
            raise ValueError(f"comment template {template!r}: {exc} (write {{{{ and }}}} for braces)") from exc
        unknown = sorted(n for n in names if n not in COMMENT_FIELDS)
        if unknown:
            raise ValueError(f"comment template: unknown field(s) {', '.join(unknown)}; known: "
                             f"{', '.join(COMMENT_FIELDS)}")
        return template

    def apply(self, changes: MailboxChanges, inp: RoutingInput | None = None) -> MailboxChanges:
        text = self.template.format_map(comment_values(inp)) if inp is not None else self.template
        return changes.model_copy(update={"comments": (*changes.comments, text)})


COMMENT_FIELDS = ("invoice_number", "invoice_date", "due_date", "total", "currency", "vendor", "vendor_vat_id",
                  "doc_type", "subject", "sender", "attachment", "review_link")


def comment_values(inp: RoutingInput) -> dict[str, str]:
    """The values a comment template can use, from the message and its main document (the first
    invoice or credit note, else the first document). `review_link` is empty: comments are made in
    helpdesks, whose conversations are not held for the web UI's review queue."""
    docs = inp.documents
    main = next((d for d in docs if d.classification.doc_type in ("invoice", "credit_note")), docs[0] if docs else None)
    fields = main.fields if main is not None else None

    def show(value: Any) -> str:
        return "-" if value in (None, "", ()) else str(value)

    values = {name: show(getattr(fields, name, None)) for name in
              ("invoice_number", "invoice_date", "due_date", "total", "currency", "vendor_vat_id")}
    values.update(
        vendor=show(getattr(fields, "vendor_name", None)),
        doc_type=show(main.classification.doc_type if main is not None else None),
        subject=show(inp.message.subject), sender=show(inp.message.sender),
        attachment=show(main.document.filename if main is not None else None), review_link="",
    )
    return values


class Webhook(BaseAction):
    """Call a webhook of the config's `webhooks:` (through the outbox, after the commit)."""

    kind: Literal["webhook"] = "webhook"
    webhook: str
    takes: ClassVar[Literal["name", "nothing"]] = "name"
    is_webhook: ClassVar[bool] = True

    @property
    def arg(self) -> str:
        return self.webhook


class Review(BaseAction):
    """Hold the message for a person: the other actions decided for it wait in the review queue of
    the web UI until someone approves them (with corrected fields) or rejects the message (then the
    config's `review.reject` actions apply). The argument says why, for the queue."""

    kind: Literal["review"] = "review"
    reason: str
    takes: ClassVar[Literal["name", "nothing"]] = "name"
    exclusive: ClassVar[bool] = True  # one reason shown; the first rule's

    @property
    def arg(self) -> str:
        return self.reason


AnyAction = Move | Keyword | Webhook | MarkSeen | Flag | Delete | Assign | Comment | Review
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
        import difflib

        close = difflib.get_close_matches(str(kind), ACTION_KINDS, n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"unknown action {kind!r}{hint}; known: {', '.join(ACTION_KINDS)}")
    if action.takes == "nothing":
        if arg is not True:
            raise ValueError(f"{kind} takes no argument (write `{kind}` or `{{{kind}: true}}`)")
        return {"kind": kind}
    if not isinstance(arg, str) or not arg.strip():
        raise ValueError(f"{kind} needs a non-empty name")
    return {"kind": kind, _argument_field(action): arg.strip()}


def _json_schema() -> dict[str, Any]:
    """An action as the config writes it (`mark_seen`, `{move: Folder}`), for editors."""
    bare = [k for k, t in _BY_KIND.items() if t.takes == "nothing"]
    named = [k for k, t in _BY_KIND.items() if t.takes == "name"]
    return {"anyOf": [
        {"type": "string", "enum": bare},
        {"type": "object", "minProperties": 1, "maxProperties": 1, "additionalProperties": False,
         "properties": {**{k: {"type": "string", "minLength": 1} for k in named},
                        **{k: {"const": True} for k in bare}}},
    ]}


Action = Annotated[AnyAction, Field(discriminator="kind"), BeforeValidator(_from_yaml), WithJsonSchema(_json_schema())]
"""One action as the config writes it; validated into its class."""
