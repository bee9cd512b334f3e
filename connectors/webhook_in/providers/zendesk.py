"""Zendesk webhooks (called by a trigger when a ticket is created or a comment with attachments
added). Zendesk sends whatever JSON the trigger's body template says; we expect this shape
(paste it into the trigger, "Notify by > Webhook", JSON body):

    {"ticket": {"id": "{{ticket.id}}", "subject": "{{ticket.title}}", "via": "{{ticket.via}}",
                "requester": {"email": "{{ticket.requester.email}}", "name": "{{ticket.requester.name}}"},
                "recipient": "{{ticket.recipient}}"},
     "comment": {"id": "{{ticket.latest_comment.id}}", "body": "{{ticket.latest_comment.value}}",
                 "created_at": "{{ticket.latest_comment.created_at_with_timestamp}}",
                 "attachments": [{% for a in ticket.latest_comment.attachments %}{"url": "{{a.url}}",
                    "filename": "{{a.filename}}"}{% if forloop.last == false %},{% endif %}{% endfor %}]}}

How Zendesk escapes quotes inside placeholder values was not verified against a live account:
send a test comment containing quotes and check the webhook's activity log; a body that is not
JSON is refused here with 400 and nothing is stored.

Signature (Zendesk "verifying webhooks"): `X-Zendesk-Webhook-Signature` is the base64
HMAC-SHA256 of `<X-Zendesk-Webhook-Signature-Timestamp><raw body>` with the webhook's signing
secret; the timestamp is ISO 8601. Attachment URLs are fetched with api_user
`agent@example.com/token` and the API token (or a Bearer OAuth token).
"""

from __future__ import annotations

import base64

from connectors.webhook_in.providers import Inbound, InboundRequest, ProviderContext, WebhookError
from connectors.webhook_in.providers.common import (
    CONVERSATION_HEADER,
    address,
    build_message,
    check_fresh,
    get,
    hmac_digest,
    parse_json,
    require_header,
    same,
    secret_of,
)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return base64.b64encode(hmac_digest(secret, timestamp.encode() + body)).decode()


class Zendesk:
    name = "zendesk"
    parses_form = False

    def verify(self, request: InboundRequest, ctx: ProviderContext) -> None:
        timestamp = require_header(request, "X-Zendesk-Webhook-Signature-Timestamp")
        given = require_header(request, "X-Zendesk-Webhook-Signature")
        if not same(sign(secret_of(ctx.config), timestamp, request.body), given):
            raise WebhookError(401, "bad signature")
        check_fresh(timestamp, ctx, "iso")

    def normalize(self, request: InboundRequest, ctx: ProviderContext) -> Inbound:
        data = parse_json(request)
        ticket_id, comment_id = get(data, "ticket", "id"), get(data, "comment", "id")
        if not ticket_id or not comment_id:
            raise WebhookError(422, "payload needs ticket.id and comment.id (see the trigger body in the docs)")
        attachments, notes = ctx.fetcher.fetch_all(
            (str(a.get("url", "")), str(a.get("filename", "")), str(a.get("content_type", "")))
            for a in get(data, "comment", "attachments") or []
            if isinstance(a, dict)
        )
        raw = build_message(
            sender=address(get(data, "ticket", "requester", "email"), get(data, "ticket", "requester", "name")),
            to=[str(get(data, "ticket", "recipient"))] if get(data, "ticket", "recipient") else [],
            subject=get(data, "ticket", "subject"),
            date=get(data, "comment", "created_at"),
            message_id=f"<{ticket_id}.{comment_id}@zendesk.inbox-ocr.invalid>",
            text=str(get(data, "comment", "body") or ""),
            headers=[("X-Zendesk-Ticket-Id", str(ticket_id)), (CONVERSATION_HEADER, str(ticket_id))],
            attachments=attachments,
            notes=notes,
        )
        return Inbound(raw, f"zendesk:{ticket_id}/{comment_id}")


PROVIDER = Zendesk()
