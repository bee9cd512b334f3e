"""What the providers share: constant-time signature checks, the freshness window, building an
RFC 5322 message from JSON fields (attachment URLs: fetch.py)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.errors import MessageError
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import format_datetime, formatdate, getaddresses, make_msgid, parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Literal

from connectors.webhook_in.config import WebhookSourceConfig
from connectors.webhook_in.providers import InboundRequest, WebhookError

if TYPE_CHECKING:
    from connectors.webhook_in.providers import ProviderContext

CONVERSATION_HEADER = "X-Inbox-Ocr-Conversation"  # the helpdesk conversation or ticket a message belongs to
log = logging.getLogger("connectors.webhook_in")

# headers of the original message that describe its old MIME body; the rebuilt message has its own
# fold only beyond 998 characters: the stdlib folder can emit a continuation line without leading white space for
# odd address headers (non-ASCII local parts), which would end the header block early
_POLICY = policy.default.clone(max_line_length=998)  # RFC 5322's hard limit
_BODY_HEADERS = frozenset(
    {"content-type", "content-transfer-encoding", "mime-version", "content-disposition", "content-length"}
)


# --------------------------------------------------------------------------- signatures


def hmac_digest(key: str | bytes, message: bytes, algorithm: str = "sha256") -> bytes:
    raw_key = key.encode() if isinstance(key, str) else key
    return hmac.new(raw_key, message, algorithm).digest()


def same(expected: str | bytes, given: str | bytes | None) -> bool:
    """Constant-time comparison of two signature strings (a missing one never matches)."""
    if given is None:
        return False
    a = expected.encode() if isinstance(expected, str) else expected
    b = given.encode() if isinstance(given, str) else given
    return hmac.compare_digest(a, b)


def secret_of(config: WebhookSourceConfig) -> str:
    if config.secret is None:
        raise WebhookError(500, "no secret configured for this source")
    return config.secret.get_secret_value()


def require_header(request: InboundRequest, name: str) -> str:
    value = request.headers.get(name.lower())
    if not value:
        raise WebhookError(401, f"missing {name} header")
    return value.strip()


_DIGITS = re.compile(r"[0-9]{1,16}")


def check_fresh(timestamp: str, ctx: ProviderContext, unit: Literal["s", "ms", "iso"] = "s") -> None:
    """Parse a signed timestamp (Unix seconds, milliseconds or ISO 8601) and refuse it when it is
    more than the source's replay window away from now (either way): a captured request replayed
    later must not be accepted."""
    if unit == "iso":
        try:
            ts = datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()
        except ValueError:
            raise WebhookError(401, "timestamp is not ISO 8601") from None
    else:
        # plain ASCII digits only: float() would take '1e0', 'nan', '+1', ' 1', '１' and let a signed
        # 'timestamp + token' be re-split into another timestamp and another (unseen) token
        if not _DIGITS.fullmatch(timestamp):
            unit_name = "milliseconds" if unit == "ms" else "seconds"
            raise WebhookError(401, f"timestamp is not a whole number of {unit_name}")
        ts = int(timestamp) / (1000.0 if unit == "ms" else 1.0)
    now, window = ctx.now(), ctx.config.replay_window
    if abs(now - ts) > window:
        raise WebhookError(
            403,
            f"stale signature: timestamp {ts:.0f} is {now - ts:+.0f}s from now (window {window:.0f}s)",
        )


def check_basic_auth(request: InboundRequest, config: WebhookSourceConfig) -> None:
    """HTTP Basic credentials (Postmark puts them in the webhook URL: https://user:pass@host/path)."""
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        raise WebhookError(401, "missing HTTP Basic credentials")
    try:
        given = base64.b64decode(header[6:].strip(), validate=True)
    except (binascii.Error, ValueError):
        raise WebhookError(401, "malformed HTTP Basic credentials") from None
    want = f"{config.username or ''}:{secret_of(config)}".encode()
    if not same(want, given):
        raise WebhookError(401, "wrong HTTP Basic credentials")


# --------------------------------------------------------------------------- payloads


def parse_json(request: InboundRequest) -> dict[str, Any]:
    try:
        data = json.loads(request.body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WebhookError(400, f"body is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise WebhookError(422, "JSON body must be an object")
    return data


def b64decode(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise WebhookError(422, f"{what}: base64 content missing")
    try:
        return base64.b64decode(value, validate=False)
    except (binascii.Error, ValueError):
        raise WebhookError(422, f"{what}: not base64") from None


def check_raw_mime(raw: bytes, what: str) -> bytes:
    """A raw message must at least have a header block with a From or Message-ID line; anything
    else (an HTML error page, a JSON body sent to the wrong path) is refused at the door."""
    if not raw.strip():
        raise WebhookError(422, f"{what} is empty")
    headers = BytesHeaderParser(policy=policy.compat32).parsebytes(_head(raw))
    if not any(headers.get(h) for h in ("From", "Message-ID", "Subject", "Date")):
        raise WebhookError(422, f"{what} is not an RFC 5322 message (no From, Subject, Date or Message-ID)")
    return raw


def _head(raw: bytes, limit: int = 65536) -> bytes:
    """The header block (up to `limit` bytes): parsing the body too costs time and tells nothing."""
    window = raw[:limit]
    ends = [i for i in (window.find(b"\n\n"), window.find(b"\r\n\r\n")) if i >= 0]
    return window[: min(ends) + 2] if ends else window


def message_id_of(raw: bytes) -> str | None:
    value = BytesHeaderParser(policy=policy.compat32).parsebytes(_head(raw)).get("Message-ID")
    return str(value).strip() or None if value else None


def content_id(raw: bytes) -> str:
    """Fallback identity for a raw message without a Message-ID: the hash of its bytes."""
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def payload_id(request: InboundRequest, skip: tuple[str, ...] = ("timestamp", "token", "signature")) -> str:
    """Fallback identity for a message rebuilt from fields: a hash of the fields (not of the rebuilt
    bytes, which carry a fresh Date), without the per-delivery signature fields, so that a retry
    of the same delivery is recognised."""
    digest = hashlib.sha256()
    if request.form or request.files:
        for name in sorted(request.form):
            if name not in skip:
                digest.update(f"{name}\0{request.form[name]}\0".encode("utf-8", "surrogateescape"))
        for name in sorted(request.files):
            digest.update(name.encode() + b"\0" + request.files[name][2] + b"\0")
    else:
        digest.update(request.body)
    return "fields-sha256:" + digest.hexdigest()


def derived_message_id(provider_id: str) -> str:
    """A stable Message-ID for a rebuilt message whose original had none."""
    return (
        f"<{hashlib.sha256(provider_id.encode('utf-8', 'surrogateescape')).hexdigest()[:32]}@webhook.inbox-ocr.invalid>"
    )


@dataclass(frozen=True)
class AttachmentData:
    filename: str
    content_type: str
    data: bytes
    content_id: str | None = None


def clean(value: Any) -> str:
    # header injection: a provider field with CR/LF must not start a header of its own
    return " ".join(str(value).split()) if value is not None else ""


def build_message(
    *,
    sender: str | None,
    to: Iterable[str] = (),
    cc: Iterable[str] = (),
    subject: str | None = None,
    date: datetime | float | str | None = None,
    message_id: str | None = None,
    text: str | None = None,
    html: str | None = None,
    headers: Iterable[tuple[str, str]] = (),
    attachments: Iterable[AttachmentData] = (),
    notes: Iterable[str] = (),
) -> bytes:
    """An RFC 5322 message from the fields JSON providers send. `headers` are the original
    message's headers (kept except those describing its old body); explicit fields fill in what
    they lack. `notes` become `X-Inbox-Ocr-Note` headers (an attachment that was skipped)."""
    msg = EmailMessage(policy=_POLICY)
    for name, value in headers:
        if name.lower() in _BODY_HEADERS or not name or any(c in name for c in ": \r\n"):
            continue
        try:
            msg[name] = _header_value(name, value)
        except (ValueError, TypeError, IndexError, MessageError):
            log.info("event=header_dropped name=%s", clean(name)[:60])
    fields: list[tuple[str, Any]] = [
        ("From", sender),
        ("To", ", ".join(to)),
        ("Cc", ", ".join(cc)),
        ("Subject", subject),
        ("Message-ID", message_id),
    ]
    for name, value in fields:
        if value and name not in msg:
            try:
                msg[name] = _header_value(name, value)
            except (ValueError, TypeError, IndexError, MessageError):
                log.info("event=header_dropped name=%s", name)
    if "Date" not in msg:
        if isinstance(date, datetime):
            msg["Date"] = format_datetime(date)
        elif isinstance(date, int | float):
            msg["Date"] = formatdate(float(date), localtime=False)
        else:
            msg["Date"] = _date_header(date)
    if "Message-ID" not in msg:
        msg["Message-ID"] = make_msgid(domain="webhook.inbox-ocr.invalid")
    for note in notes:
        msg["X-Inbox-Ocr-Note"] = clean(note)
    if html and text:
        msg.set_content(text)
        msg.add_alternative(html, subtype="html")
    elif html:
        msg.set_content(html, subtype="html")
    else:
        msg.set_content(text or "")
    for att in attachments:
        maintype, _, subtype = (att.content_type or "application/octet-stream").partition("/")
        if not subtype or maintype == "multipart":
            maintype, subtype = "application", "octet-stream"
        msg.add_attachment(
            att.data,
            maintype=maintype,
            subtype=subtype.split(";")[0].strip(),
            filename=clean(att.filename) or "attachment",
            cid=att.content_id,
        )
    raw = msg.as_bytes()
    if not _header_block_ok(raw):
        raise WebhookError(422, "payload headers cannot be written as an RFC 5322 header block")
    return raw


_ADDRESS_HEADERS = frozenset({"from", "to", "cc", "bcc", "reply-to", "sender"})
_ADDR_SPEC = re.compile(r"[^\s<>,;:\"()\[\]@]+@[^\s<>,;:\"()\[\]@]+")


_HEADER_LINE = re.compile(rb"^([!-9;-~]+:|[ \t])")


def _header_block_ok(raw: bytes) -> bool:
    """Every line before the blank line is a header or a continuation (white space first)."""
    head = raw.split(b"\n\n", 1)[0]
    return all(_HEADER_LINE.match(line) for line in head.split(b"\n"))


def _header_value(name: str, value: Any) -> str:
    """One line, and for address headers each address re-quoted: a display name with a bare comma
    or non-ASCII bytes from a provider's JSON would otherwise fold into a broken header block."""
    text = clean(value)
    if name.lower() not in _ADDRESS_HEADERS:
        return text
    pairs = [(n, a) for n, a in getaddresses([text]) if "@" in a]
    if not pairs:  # unparseable: keep the bare addresses, lose the names
        pairs = [("", a) for a in _ADDR_SPEC.findall(text)]
    if not pairs:
        raise ValueError(f"no address in {name}")
    return ", ".join(address(a, n) for n, a in pairs)


def _date_header(value: Any) -> str:
    """RFC 5322 date from an RFC 5322 or ISO 8601 string (providers send both); now when unusable."""
    if isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
            if parsed.tzinfo is not None:
                return format_datetime(parsed)
        except ValueError:
            pass
        try:
            parsed = parsedate_to_datetime(text)
            if parsed.tzinfo is not None:
                return format_datetime(parsed)
        except (TypeError, ValueError, IndexError):
            pass
    return formatdate(time.time())


def address(email: str | None, name: str | None = None) -> str:
    """'Name <email>' with the name quoted as RFC 5322 needs."""
    if not email:
        return ""
    try:
        return str(Address(display_name=clean(name), addr_spec=clean(email)))
    except (ValueError, IndexError, MessageError):
        return clean(email)


def obj(value: Any) -> dict[str, Any]:
    """`value` when it is a JSON object, else an empty one (providers leave fields out or null)."""
    return value if isinstance(value, dict) else {}


def get(data: Mapping[str, Any] | None, *path: str | int) -> Any:
    """data['a']['b'][0] or None when any step is missing."""
    node: Any = data
    for step in path:
        if isinstance(step, int):
            node = node[step] if isinstance(node, list) and -len(node) <= step < len(node) else None
        else:
            node = node.get(step) if isinstance(node, Mapping) else None
        if node is None:
            return None
    return node
