"""A raw RFC 5322 message POSTed as `message/rfc822` (a Postfix pipe, a mail-gateway hook, a script).

Signature: `X-Webhook-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>." + body>` with the
source's secret, and the Unix time in `X-Webhook-Timestamp`; e.g. from a shell:

    ts=$(date +%s)
    sig=$( (printf '%s.' "$ts"; cat msg.eml) | openssl dgst -sha256 -hmac "$SECRET" -r | cut -d' ' -f1)
    curl -H "Content-Type: message/rfc822" -H "X-Webhook-Timestamp: $ts" \
         -H "X-Webhook-Signature: sha256=$sig" --data-binary @msg.eml http://127.0.0.1:8025/hooks/NAME
"""

from __future__ import annotations

from connectors.webhook_in.providers import Inbound, InboundRequest, ProviderContext, WebhookError
from connectors.webhook_in.providers.common import (
    check_fresh,
    check_raw_mime,
    content_id,
    hmac_digest,
    message_id_of,
    require_header,
    same,
    secret_of,
)

ACCEPTED_TYPES = ("message/rfc822", "application/octet-stream", "text/plain")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The X-Webhook-Signature value for a body sent at `timestamp`."""
    return "sha256=" + hmac_digest(secret, timestamp.encode() + b"." + body).hex()


class RawMime:
    name = "mime"
    parses_form = False

    def verify(self, request: InboundRequest, ctx: ProviderContext) -> None:
        timestamp = require_header(request, "X-Webhook-Timestamp")
        given = require_header(request, "X-Webhook-Signature")
        if not same(sign(secret_of(ctx.config), timestamp, request.body), given.lower()):
            raise WebhookError(401, "bad signature")
        check_fresh(timestamp, ctx)

    def normalize(self, request: InboundRequest, ctx: ProviderContext) -> Inbound:
        if request.content_type and request.content_type not in ACCEPTED_TYPES:
            raise WebhookError(415, f"send the message as message/rfc822, not {request.content_type}")
        raw = check_raw_mime(request.body, "body")
        mid = message_id_of(raw)
        return Inbound(raw, f"mime:{mid}" if mid else content_id(raw))


PROVIDER = RawMime()
