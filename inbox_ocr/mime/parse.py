"""Extract stage: raw RFC 5322 bytes -> ParsedMessage (headers, body text, attachments, part errors).

Built on the stdlib `email` package with `policy.default` (plus a header factory that survives
headers the stdlib parser crashes on). Real mail is often broken, so the rule is:
one bad part becomes a `PartError` on the record and the rest of the message is still read; only a
message with nothing parseable at all (empty input, no header fields) raises `MalformedMessage`.

Part paths follow IMAP section numbering: the children of the top-level multipart are "1", "2", ...;
the body of a non-multipart message is "1"; inside a forwarded message/rfc822 at "3" they are
"3.1", "3.2", ... so a later IMAP stage can fetch a single part by the same path.
"""

from __future__ import annotations

import binascii
import quopri
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email import errors as email_errors
from email.message import EmailMessage, Message, MIMEPart
from email.parser import BytesHeaderParser, BytesParser

from inbox_ocr.kernel.errors import MalformedMessage
from inbox_ocr.kernel.models import Attachment, ParsedMessage, PartError
from inbox_ocr.kernel.settings import Limits
from inbox_ocr.mime.archives import (
    ArchiveError,
    Member,
    is_signed_file,
    is_tnef,
    signed_members,
    tnef_members,
    zip_members,
)
from inbox_ocr.mime.decode import (
    UNKNOWN_CHARSETS,
    charset_hints,
    content_type_for,
    detect_type,
    filename_of,
    generated_name,
    guess_decode,
    html_to_text,
    one_line,
    safe_filename,
    sanitize_filename,
    text_charset,
)
from inbox_ocr.mime.headers import POLICY, Headers, UnparsableHeader

MAX_BODY_CHARS = 20_000
MAX_MESSAGE_DEPTH = 10  # forwarded message/rfc822 inside forwarded ...
MAX_NESTING = 40  # multipart levels; guards our own recursion
MAX_PARTS = 1_000
MAX_DEFECTS = 100
MAX_HTML_BYTES = 1_000_000
MAX_SUBJECT_CHARS = 1_000


PARSER = BytesParser(policy=POLICY)
HEADER_PARSER = BytesHeaderParser(policy=POLICY)
_ALWAYS_ATTACHMENT = {"application/pdf", "application/octet-stream", "application/xml", "text/xml"}


class _PartFailure(Exception):
    """Internal: this part cannot be read; becomes a PartError."""


def parse_message(raw: bytes, limits: Limits | None = None) -> ParsedMessage:
    """Parse one RFC 5322 message into headers, bounded body text, attachments and per-part errors.

    Attachments inside forwarded message/rfc822 parts are included; file names are decoded
    (RFC 2231, encoded words, raw 8-bit) and sanitized; `content_type` is sniffed from the bytes.
    Raises MalformedMessage only when the input is not a message at all.
    """
    limits = limits or Limits()
    raw = bytes(raw)
    if not raw.strip():
        raise MalformedMessage("empty message: no bytes to parse")
    try:
        return _parse(raw, limits)
    except MalformedMessage:
        raise
    except Exception as exc:  # last resort: every known failure is handled per part below
        raise MalformedMessage(f"cannot parse message: {type(exc).__name__}: {exc}") from exc


def _parse(raw: bytes, limits: Limits) -> ParsedMessage:
    errors: list[PartError] = []
    msg: EmailMessage | None = None
    if len(raw) > limits.max_message_bytes:
        errors.append(PartError(part="message", error=(
            f"message is {len(raw)} bytes, over the limit of {limits.max_message_bytes} bytes "
            "(limits.max_message_bytes); attachments not extracted")))
    else:
        try:
            msg = _parse_bytes(raw)
        except Exception as exc:  # e.g. RecursionError on absurd nesting; keep the headers at least
            errors.append(PartError(part="message", error=f"MIME structure cannot be parsed: {exc!r}"))
    headers_only = msg is None
    if msg is None:
        msg = HEADER_PARSER.parsebytes(raw)  # type: ignore[assignment]
    if len(msg) == 0:
        raise MalformedMessage("no header fields found: this is not an email message")
    walker = _Walker(limits, errors, charset_hints(msg))
    body = "" if headers_only else walker.entity(msg, "", 0)[0]
    headers = Headers(msg, walker.errors, walker.defects, walker.hints)
    return ParsedMessage(
        message_id=headers.text("message-id")[:MAX_SUBJECT_CHARS] or None,
        subject=headers.text("subject")[:MAX_SUBJECT_CHARS],
        sender=headers.sender[0],
        sender_name=headers.sender[1],
        recipients=headers.recipients(),
        date=headers.date(),
        body_text=_bound(body),
        attachments=tuple(walker.attachments),
        errors=tuple(e.model_copy(update={"error": one_line(e.error)}) for e in walker.errors),
        defects=tuple(one_line(d) for d in walker.defects[:MAX_DEFECTS]),
    )


# --------------------------------------------------------------------------- walking the tree


@dataclass
class _Walker:
    limits: Limits
    errors: list[PartError]
    hints: list[str]
    attachments: list[Attachment] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    parts_seen: int = 0
    stopped: bool = False
    skipped: int = 0  # attachments over limits.max_attachments

    def entity(self, msg: MIMEPart, prefix: str, depth: int) -> tuple[str, bool]:
        """A whole message (top level or forwarded): its parts are numbered under `prefix`."""
        self._note_defects(msg, prefix or "message")
        if msg.is_multipart() and msg.get_content_maintype() == "multipart":
            try:
                return self.multipart(msg, prefix, depth)
            except Exception as exc:  # children are guarded one by one; this is the container itself
                error = f"multipart cannot be read: {exc!r}"
                self.errors.append(PartError(part=prefix or "message", error=error))
                return "", False
        return self.node(msg, _join(prefix, 1), depth, own_defects_noted=True)

    def node(self, part: MIMEPart, path: str, depth: int, own_defects_noted: bool = False
             ) -> tuple[str, bool]:
        """Visit one part; returns (body text found in it, whether that text came from text/plain)."""
        if self.stopped:
            return "", False
        self.parts_seen += 1
        if self.parts_seen > MAX_PARTS or path.count(".") > MAX_NESTING:
            self.stopped = self.parts_seen > MAX_PARTS
            self.errors.append(PartError(part=path, error=(
                f"more than {MAX_PARTS} MIME parts; the rest were not read" if self.stopped
                else f"MIME parts nested deeper than {MAX_NESTING} levels; not read")))
            return "", False
        if not own_defects_noted:
            self._note_defects(part, path)
        try:
            for name in ("content-type", "content-disposition", "content-transfer-encoding"):
                value = part.get(name)
                if isinstance(value, UnparsableHeader):
                    self.defects.append(f"{path}: {name} unparsable ({value.parse_error}); read leniently")
            ctype = part.get_content_type()
            if ctype in ("message/rfc822", "message/global"):
                return self.forwarded(part, path, depth)
            if part.is_multipart():
                return self.multipart(part, path, depth) if ctype.startswith("multipart/") else ("", False)
            return self.leaf(part, path, ctype)
        except _PartFailure as exc:
            self.errors.append(PartError(part=path, filename=safe_filename(part), error=str(exc)))
        except Exception as exc:  # a header or payload the email package chokes on
            self.errors.append(PartError(part=path, filename=safe_filename(part),
                                         error=f"part cannot be read: {type(exc).__name__}: {exc}"))
        return "", False

    def multipart(self, part: MIMEPart, path: str, depth: int) -> tuple[str, bool]:
        children = list(part.iter_parts())
        children += self._recover_from_epilogue(part, path)
        bodies = [self.node(child, _join(path, i), depth) for i, child in enumerate(children, 1)]
        found = [b for b in bodies if b[0].strip()]
        if not found:
            return "", False
        if part.get_content_subtype() == "alternative":
            return next((b for b in found if b[1]), found[0])
        return "\n\n".join(b[0] for b in found), any(b[1] for b in found)

    def forwarded(self, part: MIMEPart, path: str, depth: int) -> tuple[str, bool]:
        if depth + 1 > MAX_MESSAGE_DEPTH:
            raise _PartFailure(f"forwarded messages nested deeper than {MAX_MESSAGE_DEPTH}; not read")
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        cte = str(part.get("content-transfer-encoding", "")).strip().lower()
        if not isinstance(inner, MIMEPart) or cte in ("base64", "quoted-printable"):
            # An encoded message/rfc822 is illegal but seen in the wild: decode, then parse it.
            data = inner.as_bytes() if isinstance(inner, MIMEPart) else part.get_payload(decode=True)
            inner = _parse_bytes(_decode_cte(data if isinstance(data, bytes) else b"", cte))
        text, is_plain = self.entity(inner, path, depth + 1)
        return ("---------- Forwarded message ----------\n" + text if text.strip() else ""), is_plain

    def leaf(self, part: MIMEPart, path: str, ctype: str) -> tuple[str, bool]:
        disposition = part.get_content_disposition()
        filename = filename_of(part, self.hints)
        if not _is_attachment(ctype, disposition, filename):
            if ctype == "text/html":
                return html_to_text(self._text(part, path, MAX_HTML_BYTES)), False
            if ctype == "text/plain" or ctype.startswith("multipart/"):  # a multipart without boundary
                return self._text(part, path, MAX_BODY_CHARS * 4), True
            return "", False
        if len(self.attachments) >= self.limits.max_attachments:
            self.skipped += 1
            if self.skipped > 10:  # one error per skipped part would flood the record
                return "", False
            more = " (further ones not listed)" if self.skipped == 10 else ""
            raise _PartFailure(f"skipped: more than {self.limits.max_attachments} attachments "
                               f"(limits.max_attachments){more}")
        data = _payload(part, path, self.defects)
        if len(data) > self.limits.max_attachment_bytes:
            raise _PartFailure(f"attachment is {len(data)} bytes, over the limit of "
                               f"{self.limits.max_attachment_bytes} bytes (limits.max_attachment_bytes)")
        if not data:
            self.defects.append(f"{path}: attachment is empty (0 bytes); the message may be truncated")
        detected = detect_type(data, ctype)
        content_type = content_type_for(detected, ctype, filename)
        if detected is None and data and (ctype == "application/pdf" or ctype.startswith("image/")):
            self.defects.append(f"{path}: declared {ctype}, but the bytes are not (starts {data[:16]!r})")
        cid = one_line(str(part.get("content-id", "") or "")).strip("<> ") or None
        self.attachments.append(Attachment(
            part=path,
            filename=sanitize_filename(filename, generated_name(path, content_type)),
            original_filename=filename,
            declared_type=ctype,
            content_type=content_type,
            inline=disposition == "inline" or (disposition is None and cid is not None),
            content_id=cid,
            data=data,
        ))
        if content_type == "application/zip":  # kept as an attachment (its name routes), and unpacked
            self.unpack(zip_members, data, path, filename)
        elif is_tnef(data):  # Outlook's winmail.dat
            self.unpack(tnef_members, data, path, filename)
        elif is_signed_file(data, content_type, filename):  # a signed .xml.p7m (FatturaPA) or .pdf.p7m
            self.unpack(lambda d, limits, _room: signed_members(d, limits, filename), data, path, filename)
        return "", False

    def unpack(self, members_of: Callable[[bytes, Limits, int], Iterable[Member | ArchiveError]], data: bytes,
               path: str, filename: str | None) -> None:
        """The files of a ZIP, winmail.dat or .p7m attachment as attachments `path.1`, `path.2` ... (archives.py)."""
        room = self.limits.max_attachments - len(self.attachments)
        try:
            members = list(members_of(data, self.limits, room))
        except ArchiveError as exc:
            raise _PartFailure(str(exc)) from exc
        for index, member in enumerate(members, 1):
            member_path = f"{path}.{index}"
            if isinstance(member, ArchiveError):
                self.errors.append(PartError(part=member_path, filename=filename,
                                             error=f"in {filename or 'the archive'}: {member}"))
                continue
            kind = content_type_for(detect_type(member.data, "application/octet-stream"), "application/octet-stream",
                                    member.name)
            self.attachments.append(Attachment(
                part=member_path, filename=sanitize_filename(member.name, generated_name(member_path, kind)),
                original_filename=member.name, declared_type="application/octet-stream", content_type=kind,
                data=member.data,
            ))

    def _text(self, part: MIMEPart, path: str, max_bytes: int) -> str:
        data = _payload(part, path, self.defects)
        if len(data) > max_bytes:  # the body is bounded anyway; keep decoding and guessing cheap
            data = data[:max_bytes]
            while data and data[-1] >= 0x80 and len(data) > max_bytes - 3:
                data = data[:-1]  # do not leave half a UTF-8 character behind
        declared = part.get_content_charset()
        charset = text_charset(declared)
        if charset is None:
            text = guess_decode(data, self.hints)
            if declared and declared not in UNKNOWN_CHARSETS:
                self.errors.append(PartError(part=path, error=(
                    f"unknown charset {declared!r}; text decoded by guessing, some characters may be wrong")))
            return text
        try:
            return data.decode(charset)
        except UnicodeDecodeError:
            try:  # the declared charset lies; UTF-8 is the usual truth
                return data.decode("utf-8")
            except UnicodeDecodeError:
                self.defects.append(f"{path}: text is not valid {charset}; undecodable bytes replaced")
                return data.decode(charset, "replace")

    def _recover_from_epilogue(self, part: MIMEPart, path: str) -> list[MIMEPart]:
        """Parts written after the closing boundary (a nested multipart reusing its parent's boundary)."""
        epilogue, boundary = part.epilogue or "", part.get_boundary()
        if not boundary or f"--{boundary}" not in epilogue:
            return []
        chunks = re.split(rf"^--{re.escape(boundary)}(?:--)?[ \t]*\r?$", epilogue, flags=re.M)[1:]
        found: list[MIMEPart] = [_parse_bytes(c.lstrip("\r\n").encode("utf-8", "surrogateescape"))
                                 for c in chunks if c.strip()]
        found = [m for m in found if len(m) > 0]
        if found:
            self.defects.append(f"{path or 'message'}: {len(found)} part(s) found after the closing "
                                "boundary were recovered")
        return found

    def _note_defects(self, part: Message, path: str) -> None:
        for defect in getattr(part, "defects", ()):
            text = str(defect).strip()
            self.defects.append(f"{path}: {type(defect).__name__}" + (f": {text}" if text else ""))


def _parse_bytes(data: bytes) -> EmailMessage:
    msg = PARSER.parsebytes(data)
    assert isinstance(msg, EmailMessage)  # guaranteed by the policy
    return msg


def _join(prefix: str, index: int) -> str:
    return f"{prefix}.{index}" if prefix else str(index)


def _is_attachment(ctype: str, disposition: str | None, filename: str | None) -> bool:
    maintype = ctype.split("/", 1)[0]
    if maintype in ("multipart", "message"):
        return False
    if ctype in _ALWAYS_ATTACHMENT or ctype.endswith("+xml") or maintype == "image":
        return True
    if ctype in ("text/plain", "text/html"):
        return disposition == "attachment" and filename is not None
    return filename is not None or disposition == "attachment"


# --------------------------------------------------------------------------- payloads and types


def _payload(part: Message, path: str, defects: list[str]) -> bytes:
    """The decoded bytes of a leaf part; corrupt transfer encodings raise _PartFailure."""
    before = len(part.defects)
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        data = b""
    new = part.defects[before:]
    if any(isinstance(d, email_errors.InvalidBase64LengthDefect) for d in new):
        raise _PartFailure("base64 data is corrupt (impossible length) and cannot be decoded")
    if any(isinstance(d, email_errors.InvalidBase64CharactersDefect) for d in new):
        encoded = str(part.get_payload())
        bad = len(re.sub(r"[A-Za-z0-9+/=\s]", "", encoded))
        if bad > max(8, len(encoded) // 100):
            raise _PartFailure(f"base64 data contains {bad} invalid characters and cannot be decoded")
        defects.append(f"{path}: {bad} invalid base64 character(s) skipped")
    for d in new:
        defects.append(f"{path}: {type(d).__name__}")
    return data


def _decode_cte(data: bytes, cte: str) -> bytes:
    if cte == "base64":
        try:
            return binascii.a2b_base64(data)
        except binascii.Error as exc:
            raise _PartFailure(f"forwarded message: base64 data cannot be decoded ({exc})") from exc
    if cte == "quoted-printable":
        return quopri.decodestring(data)
    return data


def _bound(text: str) -> str:
    text = text.replace("\r\n", "\n").strip()
    return text if len(text) <= MAX_BODY_CHARS else text[:MAX_BODY_CHARS].rstrip() + "\n[...]"
