"""Help Scout webhooks: conversation events (`X-HelpScout-Event: convo.created`,
`convo.customer.reply.created`) whose body is the conversation with its threads embedded.

Signature (Help Scout "webhooks"): `X-HelpScout-Signature` is the base64 HMAC-SHA1 of the raw body
with the webhook's secret key. Help Scout sends no timestamp, so there is no freshness check: a
replayed request is caught by the dedupe on conversation and thread id. The newest customer thread
becomes the message (when the payload does not embed the threads, they are fetched from
`_links.threads.href`); its attachments are fetched from the API (`_links.data.href` answers JSON with
base64 `data`) with an OAuth token (Bearer).
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from connectors.webhook_in.providers import Inbound, InboundRequest, ProviderContext, Reply, WebhookError
from connectors.webhook_in.providers.common import (
    CONVERSATION_HEADER,
    AttachmentData,
    address,
    build_message,
    get,
    hmac_digest,
    obj,
    parse_json,
    require_header,
    same,
    secret_of,
)

API = "https://api.helpscout.net/v2"
MAIL_EVENTS = frozenset({"convo.created", "convo.customer.reply.created"})


def sign(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac_digest(secret, body, "sha1")).decode()


class HelpScout:
    name = "helpscout"
    parses_form = False

    def verify(self, request: InboundRequest, ctx: ProviderContext) -> None:
        given = require_header(request, "X-HelpScout-Signature")
        if not same(sign(secret_of(ctx.config), request.body), given):
            raise WebhookError(401, "bad signature")

    def normalize(self, request: InboundRequest, ctx: ProviderContext) -> Inbound | Reply:
        event = request.headers.get("x-helpscout-event", "")
        if event not in MAIL_EVENTS:
            return Reply(200, {"ignored": f"event {event!r} carries no customer mail"})
        data = parse_json(request)
        if not data.get("id"):
            raise WebhookError(422, "conversation payload has no id")
        threads = get(data, "_embedded", "threads")
        if threads is None:  # not embedded in this payload: ask the Mailbox API 2.0 for them
            threads = _fetch_threads(data, ctx)
        customer = [t for t in threads if isinstance(t, dict) and t.get("type") == "customer"]
        if not customer:
            raise WebhookError(422, "conversation has no customer thread")
        thread = max(customer, key=lambda t: (str(t.get("createdAt") or ""), int(t.get("id") or 0)))
        notes: list[str] = []
        attachments = []
        for att in get(thread, "_embedded", "attachments") or []:
            if not isinstance(att, dict):
                continue
            url = get(att, "_links", "data", "href") or get(att, "_links", "web", "href") or ""
            fetched, skipped = ctx.fetcher.fetch_all(
                [(str(url), str(att.get("filename", "")), str(att.get("mimeType", "")))]
            )
            notes += skipped
            attachments += [_unwrap(a) for a in fetched]
        person = obj(thread.get("createdBy")) or obj(data.get("primaryCustomer"))
        name = " ".join(p for p in (person.get("first"), person.get("last")) if p)
        raw = build_message(
            sender=address(person.get("email"), name),
            to=[str(t) for t in thread.get("to") or []],
            cc=[str(c) for c in thread.get("cc") or []],
            subject=data.get("subject"),
            date=thread.get("createdAt"),
            message_id=f"<{data['id']}.{thread.get('id')}@helpscout.inbox-ocr.invalid>",
            html=thread.get("body") or "",
            headers=[("X-HelpScout-Conversation", str(data.get("number") or data["id"])),
                     (CONVERSATION_HEADER, str(data["id"]))],
            attachments=attachments,
            notes=notes,
        )
        return Inbound(raw, f"helpscout:{data['id']}/{thread.get('id')}")


def _fetch_threads(data: dict[str, Any], ctx: ProviderContext) -> list[Any]:
    url = get(data, "_links", "threads", "href") or f"{API}/conversations/{int(data['id'])}/threads"
    body, _ = ctx.fetcher.fetch(str(url), accept="application/json")
    try:
        threads = get(json.loads(body), "_embedded", "threads")
    except ValueError:
        raise WebhookError(503, "threads answer from Help Scout is not JSON", retry_after=60) from None
    return threads if isinstance(threads, list) else []


def _unwrap(att: AttachmentData) -> AttachmentData:
    """The attachment-data endpoint answers `{"data": "<base64>"}`; a web link answers the file."""
    if att.data[:1] != b"{":
        return att
    try:
        data = json.loads(att.data)["data"]
        return AttachmentData(att.filename, att.content_type, base64.b64decode(data))
    except (ValueError, KeyError, TypeError, binascii.Error):
        return att


PROVIDER = HelpScout()
