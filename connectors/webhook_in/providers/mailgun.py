"""Mailgun routes: `forward()` to a URL posts the parsed message as form fields (files as
`attachment-1..N`), a URL ending in `mime` gets the whole message in `body-mime`; "store and
notify" posts attachment URLs (fetched with api_user `api` and the API key).

Signature (Mailgun "securing webhooks"): hex HMAC-SHA256 of `timestamp + token` with the HTTP
webhook signing key, in the `signature` field. A timestamp that is not a plain whole number of
seconds or is outside the replay window, and a token or a signature seen before, are refused.
"""

from __future__ import annotations

import json
from typing import Any

from connectors.webhook_in.providers import Inbound, InboundRequest, ProviderContext, WebhookError
from connectors.webhook_in.providers.common import (
    AttachmentData,
    build_message,
    check_fresh,
    check_raw_mime,
    content_id,
    derived_message_id,
    hmac_digest,
    message_id_of,
    payload_id,
    same,
    secret_of,
)


class Mailgun:
    name = "mailgun"
    parses_form = True

    def verify(self, request: InboundRequest, ctx: ProviderContext) -> None:
        timestamp, token, signature = (request.form.get(k, "") for k in ("timestamp", "token", "signature"))
        if not (timestamp and token and signature):
            raise WebhookError(401, "missing timestamp, token or signature field")
        want = hmac_digest(secret_of(ctx.config), (timestamp + token).encode()).hex()
        if not same(want, signature.lower()):
            raise WebhookError(401, "bad signature")
        check_fresh(timestamp, ctx)
        # the signed text has no separator, so one signature also fits other splits of it: a
        # signature is used once, whatever token it comes with
        replayed_signature = ctx.seen_before(f"mailgun-signature:{signature.lower()}")
        if ctx.seen_before(f"mailgun-token:{token}") or replayed_signature:
            raise WebhookError(403, "replayed token or signature")

    def normalize(self, request: InboundRequest, ctx: ProviderContext) -> Inbound:
        form = request.form
        body_mime = form.get("body-mime")
        if body_mime:
            raw = check_raw_mime(body_mime.encode("utf-8", "surrogateescape"), "body-mime")
            mid = message_id_of(raw)
            return Inbound(raw, f"mailgun:{mid}" if mid else content_id(raw))
        if not (form.get("from") or form.get("sender")):
            raise WebhookError(422, "not a Mailgun route payload (no from/sender and no body-mime)")
        headers = _headers(form.get("message-headers"))
        mid = next((v for k, v in headers if k.lower() == "message-id"), None)
        provider_id = f"mailgun:{mid}" if mid else payload_id(request)
        attachments, notes = self._attachments(request, ctx)
        raw = build_message(
            message_id=derived_message_id(provider_id),
            sender=form.get("from") or form.get("sender"),
            to=[form["To"]] if form.get("To") else [form.get("recipient", "")],
            subject=form.get("subject"),
            text=form.get("body-plain"),
            html=form.get("body-html"),
            headers=headers,
            attachments=attachments,
            notes=notes,
        )
        return Inbound(raw, provider_id)

    def _attachments(self, request: InboundRequest, ctx: ProviderContext) -> tuple[list[AttachmentData], list[str]]:
        out = []
        for field_name, (filename, content_type, data) in sorted(request.files.items()):
            if field_name.startswith("attachment"):
                out.append(AttachmentData(filename or field_name, content_type, data))
        notes: list[str] = []
        stored = request.form.get("attachments")  # store-and-notify: JSON list of {url, name, content-type}
        if stored:
            try:
                items: Any = json.loads(stored)
            except json.JSONDecodeError:
                raise WebhookError(422, "attachments field is not JSON") from None
            if not isinstance(items, list):
                raise WebhookError(422, "attachments field must be a JSON list")
            fetched, notes = ctx.fetcher.fetch_all(
                (str(i.get("url", "")), str(i.get("name", "")), str(i.get("content-type", "")))
                for i in items
                if isinstance(i, dict)
            )
            out.extend(fetched)
        return out, notes


def _headers(value: str | None) -> list[tuple[str, str]]:
    if not value:
        return []
    try:
        pairs = json.loads(value)
    except json.JSONDecodeError:
        raise WebhookError(422, "message-headers is not JSON") from None
    if not isinstance(pairs, list):
        raise WebhookError(422, "message-headers must be a list of [name, value] pairs")
    return [(str(p[0]), str(p[1])) for p in pairs if isinstance(p, list) and len(p) == 2]


PROVIDER = Mailgun()
