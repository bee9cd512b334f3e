"""Front application webhooks: inbound message events, with the challenge handshake.

Signature (Front "application webhooks"): `X-Front-Signature` is the base64 HMAC-SHA256 of
`<X-Front-Request-Timestamp>:<raw body>` with the app's signing key; the timestamp is in
milliseconds. When an admin saves the webhook, Front sends a signed `sync` request with an
`X-Front-Challenge` header, answered with `{"challenge": <value>}`. Events are stored only for
inbound messages (`target._meta.type == "message"`, `is_inbound`); others are answered 200 and
dropped. Attachments are URLs on api2.frontapp.com, fetched with the API token (Bearer).
"""

from __future__ import annotations

import base64
from typing import Any

from connectors.webhook_in.providers import Inbound, InboundRequest, ProviderContext, Reply, WebhookError
from connectors.webhook_in.providers.common import (
    CONVERSATION_HEADER,
    address,
    build_message,
    check_fresh,
    get,
    hmac_digest,
    obj,
    parse_json,
    require_header,
    same,
    secret_of,
)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return base64.b64encode(hmac_digest(secret, timestamp.encode() + b":" + body)).decode()


class Front:
    name = "front"
    parses_form = False

    def verify(self, request: InboundRequest, ctx: ProviderContext) -> None:
        timestamp = require_header(request, "X-Front-Request-Timestamp")
        given = require_header(request, "X-Front-Signature")
        if not same(sign(secret_of(ctx.config), timestamp, request.body), given):
            raise WebhookError(401, "bad signature")
        check_fresh(timestamp, ctx, "ms")

    def normalize(self, request: InboundRequest, ctx: ProviderContext) -> Inbound | Reply:
        challenge = request.headers.get("x-front-challenge")
        if challenge:
            return Reply(200, {"challenge": challenge})
        data = parse_json(request)
        event: Any = data["payload"] if isinstance(data.get("payload"), dict) else data
        if data.get("type") == "sync":
            return Reply(200, {"ignored": "sync"})
        if get(event, "target", "_meta", "type") != "message":
            return Reply(200, {"ignored": f"event {event.get('type')!r} carries no message"})
        message = get(event, "target", "data")
        if not isinstance(message, dict) or not message.get("id"):
            raise WebhookError(422, "event target has no message data")
        if message.get("is_inbound") is False:
            return Reply(200, {"ignored": "outbound message"})
        if message.get("body") is None and message.get("text") is None:
            raise WebhookError(422, "message is a preview without body: send the full event payload")
        recipients = [r for r in message.get("recipients") or [] if isinstance(r, dict)]

        def by_role(role: str) -> list[str]:
            return [address(r.get("handle"), r.get("name")) for r in recipients if r.get("role") == role]

        attachments, notes = ctx.fetcher.fetch_all(
            (str(a.get("url", "")), str(a.get("filename", "")), str(a.get("content_type", "")))
            for a in message.get("attachments") or []
            if isinstance(a, dict)
        )
        conversation = get(event, "conversation", "id")  # cnv_...: what tags, moves and comments act on
        senders = by_role("from")
        author = obj(message.get("author"))
        raw = build_message(
            sender=senders[0] if senders else address(author.get("email"), author.get("username")),
            to=by_role("to"),
            cc=by_role("cc"),
            subject=message.get("subject") or get(event, "conversation", "subject"),
            date=message.get("created_at"),
            message_id=f"<{message['id']}@frontapp.inbox-ocr.invalid>",
            text=message.get("text"),
            html=message.get("body"),
            headers=[(CONVERSATION_HEADER, str(conversation))] if conversation else [],
            attachments=attachments,
            notes=notes,
        )
        return Inbound(raw, f"front:{message['id']}")


PROVIDER = Front()
