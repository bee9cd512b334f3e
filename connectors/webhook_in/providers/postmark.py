"""Postmark inbound webhook: a JSON body, attachments inline as base64 `Content`.

Postmark does not sign inbound webhooks; it sends the HTTP Basic credentials written into the
webhook URL (https://user:secret@host/hooks/name), which we check in constant time. Postmark's
`MessageID` is the dedupe key; with "include raw email content" on, `RawEmail` is spooled as is.
"""

from __future__ import annotations

from typing import Any

from connectors.webhook_in.providers import Inbound, InboundRequest, ProviderContext, WebhookError
from connectors.webhook_in.providers.common import (
    AttachmentData,
    address,
    b64decode,
    build_message,
    check_basic_auth,
    check_raw_mime,
    content_id,
    derived_message_id,
    obj,
    parse_json,
    payload_id,
)


def _addresses(full: Any, plain: Any) -> list[str]:
    if isinstance(full, list) and full:
        return [address(a.get("Email"), a.get("Name")) for a in full if isinstance(a, dict) and a.get("Email")]
    return [plain] if isinstance(plain, str) and plain else []


def _list(data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    if value in (None, ""):
        return []
    if not isinstance(value, list):
        raise WebhookError(422, f"{key} must be a list, not {type(value).__name__}")
    return value


class Postmark:
    name = "postmark"
    parses_form = False

    def verify(self, request: InboundRequest, ctx: ProviderContext) -> None:
        check_basic_auth(request, ctx.config)

    def normalize(self, request: InboundRequest, ctx: ProviderContext) -> Inbound:
        data = parse_json(request)
        provider_id = data.get("MessageID")
        raw_email = data.get("RawEmail")
        if isinstance(raw_email, str) and raw_email.strip():
            raw = check_raw_mime(raw_email.encode("utf-8", "surrogateescape"), "RawEmail")
            return Inbound(raw, f"postmark:{provider_id}" if provider_id else content_id(raw))
        if not any(data.get(k) for k in ("From", "FromFull", "Subject", "TextBody", "HtmlBody", "Attachments")):
            raise WebhookError(422, "not a Postmark inbound payload (no From, Subject, body or Attachments)")
        attachments = []
        for i, att in enumerate(_list(data, "Attachments")):
            if not isinstance(att, dict):
                raise WebhookError(422, f"Attachments[{i}] is not an object")
            attachments.append(
                AttachmentData(
                    filename=str(att.get("Name") or f"attachment-{i + 1}"),
                    content_type=str(att.get("ContentType") or "application/octet-stream"),
                    data=b64decode(att.get("Content"), f"Attachments[{i}].Content"),
                    content_id=(str(att["ContentID"]).strip("<>") and f"<{str(att['ContentID']).strip('<>')}>")
                    if att.get("ContentID")
                    else None,
                )
            )
        headers = [(h.get("Name", ""), h.get("Value", "")) for h in _list(data, "Headers") if isinstance(h, dict)]
        sender = obj(data.get("FromFull"))
        key = f"postmark:{provider_id}" if provider_id else payload_id(request)
        raw = build_message(
            message_id=derived_message_id(key),
            sender=address(sender.get("Email"), sender.get("Name")) or data.get("From"),
            to=_addresses(data.get("ToFull"), data.get("To")),
            cc=_addresses(data.get("CcFull"), data.get("Cc")),
            subject=data.get("Subject"),
            date=data.get("Date"),
            text=data.get("TextBody"),
            html=data.get("HtmlBody"),
            headers=headers,
            attachments=attachments,
        )
        return Inbound(raw, key)


PROVIDER = Postmark()
