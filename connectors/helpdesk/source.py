"""The webhook source of a helpdesk that can be acted in (an `api_token` is configured)."""

from __future__ import annotations

import logging
from email.parser import BytesHeaderParser
from email.policy import default

from connectors.webhook_in.providers.common import CONVERSATION_HEADER
from connectors.webhook_in.source import WebhookSource
from inbox_ocr.kernel.models import HelpdeskCall, MailboxChanges, RawMessage

log = logging.getLogger("connectors.helpdesk")

# what each helpdesk's API offers for mark_seen (done) and flag; see services.py
UNSUPPORTED = {"front": {"flag"}, "helpscout": {"flag"}, "zendesk": set()}


def sink_name(source: str) -> str:
    return f"helpdesk:{source}"


class HelpdeskSource(WebhookSource):
    """A webhook source whose mailbox changes are API calls on the message's conversation (Front),
    ticket (Zendesk) or conversation (Help Scout): move, tag, assign, comment, then mark_seen
    (archive, solve or close) and flag (Zendesk: priority high)."""

    @property
    def sink_name(self) -> str:
        return sink_name(self.name)

    def api_calls(self, message: RawMessage, changes: MailboxChanges) -> list[HelpdeskCall]:
        conversation = conversation_of(message)
        if conversation is None:
            log.warning("event=helpdesk_no_conversation source=%s key=%s reason=the message does not say which "
                        "conversation it belongs to; its changes are not made", self.name, message.key)
            return []
        calls, skipped = calls_for(self.config.provider, conversation, changes)
        for op in skipped:
            self._warn_once(op, f"{self.config.provider}'s API has no {op}")
        return calls

    def ack(self, message: RawMessage, changes: MailboxChanges) -> None:
        """The changes are outbox rows already (committed with the message): only finish it."""
        self._finish(message.key)

    def _warn_once(self, kind: str, reason: str) -> None:
        if kind not in self._warned:
            self._warned.add(kind)
            log.warning("event=action_not_applicable source=%s action=%s reason=%s (warned once)",
                        self.name, kind, reason)


def calls_for(provider: str, conversation: str, changes: MailboxChanges) -> tuple[list[HelpdeskCall], list[str]]:
    """The calls that make `changes` in `provider` (move, tags, assign, comments, then done and
    flag), and the operations that helpdesk's API does not have."""
    wanted: list[tuple[str, str | None]] = [("move", changes.move_to)] if changes.move_to else []
    wanted += [("tag", k) for k in changes.keywords]
    wanted += [("assign", changes.assign_to)] if changes.assign_to else []
    wanted += [("comment", c) for c in changes.comments]
    wanted += [("done", None)] if changes.mark_seen else []
    wanted += [("flag", None)] if changes.flag else []
    calls: list[HelpdeskCall] = []
    skipped = ["delete"] if changes.delete else []  # a conversation is not deleted through the API
    for op, arg in wanted:
        if op in UNSUPPORTED[provider]:
            skipped.append(op)
        else:
            calls.append(HelpdeskCall(op=op, conversation=conversation, arg=arg))  # type: ignore[arg-type]
    return calls, skipped


def conversation_of(message: RawMessage) -> str | None:
    """The conversation or ticket id the provider wrote into the message it built (providers/),
    or, for messages spooled before that header existed, the id in the key (zendesk:<ticket>/...,
    helpscout:<conversation>/...)."""
    head = message.raw[:65536].split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    value = BytesHeaderParser(policy=default).parsebytes(head + b"\r\n\r\n").get(CONVERSATION_HEADER)
    if value:
        return str(value).strip()
    provider, _, rest = message.key.partition(":")
    if provider in ("zendesk", "helpscout") and "/" in rest:
        return rest.split("/", 1)[0]
    return None
