"""SendGrid Inbound Parse: multipart/form-data with the parsed message (`headers` as one raw block,
`text`, `html`, files `attachment1..N` described by the JSON `attachment-info`), or with "POST the
raw, full MIME message" the whole message in the `email` field.

Verification: with a Parse security policy, SendGrid signs `timestamp + raw body` with ECDSA
(P-256, SHA-256); the base64 DER signature is in `X-Twilio-Email-Event-Webhook-Signature`, the
timestamp in `X-Twilio-Email-Event-Webhook-Timestamp`, checked against the policy's public key
(`public_key`). Without a policy, the Basic credentials of the webhook URL (`username`, `secret`).
"""

from __future__ import annotations

import base64
import binascii
import json
from email import policy
from email.parser import HeaderParser
from typing import Any

from connectors.webhook_in.providers import Inbound, InboundRequest, ProviderContext, WebhookError
from connectors.webhook_in.providers.common import (
    AttachmentData,
    build_message,
    check_basic_auth,
    check_fresh,
    check_raw_mime,
    content_id,
    derived_message_id,
    message_id_of,
    payload_id,
    require_header,
)

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"


def load_public_key(value: str) -> Any:
    """The policy's key: base64 DER SubjectPublicKeyInfo, or a PEM block."""
    from cryptography.hazmat.primitives.serialization import load_der_public_key, load_pem_public_key

    text = value.strip()
    if text.startswith("-----BEGIN"):
        return load_pem_public_key(text.encode())
    return load_der_public_key(base64.b64decode(text))


class SendGrid:
    name = "sendgrid"
    parses_form = True

    def __init__(self) -> None:
        self._keys: dict[str, Any] = {}

    def verify(self, request: InboundRequest, ctx: ProviderContext) -> None:
        if ctx.config.public_key is None:
            check_basic_auth(request, ctx.config)
            return
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        signature = require_header(request, SIGNATURE_HEADER)
        timestamp = require_header(request, TIMESTAMP_HEADER)
        key = self._keys.get(ctx.config.public_key)
        if key is None:
            key = self._keys[ctx.config.public_key] = load_public_key(ctx.config.public_key)
        try:
            key.verify(base64.b64decode(signature), timestamp.encode() + request.body, ec.ECDSA(hashes.SHA256()))
        except (InvalidSignature, binascii.Error, ValueError):
            raise WebhookError(401, "bad signature") from None
        check_fresh(timestamp, ctx)

    def normalize(self, request: InboundRequest, ctx: ProviderContext) -> Inbound:
        form = request.form
        if form.get("email"):
            raw = check_raw_mime(form["email"].encode("utf-8", "surrogateescape"), "email field")
        else:
            if not (form.get("headers") or form.get("from")):
                raise WebhookError(422, "not a SendGrid Inbound Parse payload (no headers, from or email field)")
            parsed = HeaderParser(policy=policy.compat32).parsestr(form.get("headers", ""))
            headers = [(k, str(v)) for k, v in parsed.items()]
            mid = str(parsed.get("Message-ID") or "").strip()
            provider_id = f"sendgrid:{mid}" if mid else payload_id(request)
            raw = build_message(
                message_id=derived_message_id(provider_id),
                sender=form.get("from"),
                to=[form["to"]] if form.get("to") else [],
                cc=[form["cc"]] if form.get("cc") else [],
                subject=form.get("subject"),
                text=form.get("text"),
                html=form.get("html"),
                headers=headers,
                attachments=self._attachments(request),
            )
            return Inbound(raw, provider_id)
        raw_mid = message_id_of(raw)
        return Inbound(raw, f"sendgrid:{raw_mid}" if raw_mid else content_id(raw))

    def _attachments(self, request: InboundRequest) -> list[AttachmentData]:
        try:
            info: Any = json.loads(request.form.get("attachment-info") or "{}")
        except json.JSONDecodeError:
            raise WebhookError(422, "attachment-info is not JSON") from None
        info = info if isinstance(info, dict) else {}
        out = []
        for field_name, (filename, content_type, data) in sorted(request.files.items()):
            meta = info.get(field_name) if isinstance(info.get(field_name), dict) else {}
            cid = meta.get("content-id")
            out.append(
                AttachmentData(
                    str(meta.get("filename") or filename or field_name),
                    str(meta.get("type") or content_type),
                    data,
                    f"<{cid.strip('<>')}>" if cid else None,
                )
            )
        return out


PROVIDER = SendGrid()
