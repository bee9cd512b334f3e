"""Decoding for the MIME stage: charsets of raw 8-bit bytes, file names, content types, HTML.

Helpers of parse.py and headers.py. Mail in the wild declares the wrong charset, sends raw 8-bit header
bytes with no charset at all, lies about its content types and carries file names meant to escape a
directory; these functions turn all of that into safe, readable text and honest types.
"""

from __future__ import annotations

import codecs
import mimetypes
import re
import unicodedata
from email.header import decode_header
from email.message import Message
from html.parser import HTMLParser
from typing import Any

import filetype

MAX_FILENAME_CHARS = 150
_BIDI_CONTROLS = dict.fromkeys(map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
                     *(f"lpt{i}" for i in range(1, 10))}
# Single-byte charsets tried, after the message's own declarations, for raw 8-bit header bytes.
_GUESS_CHARSETS = ("cp1252", "cp1250", "cp1251", "koi8-r", "iso-8859-15")

# Charset labels seen in real mail that Python does not know under that name.
_CHARSET_ALIASES = {
    "iso-8859-8-i": "iso-8859-8", "iso-8859-6-i": "iso-8859-6", "iso-8859-8-e": "iso-8859-8",
    "x-mac-cyrillic": "mac-cyrillic", "x-mac-roman": "mac-roman", "unicode-1-1-utf-7": "utf-7",
    "windows-874": "cp874", "x-user-defined": "cp1252", "ansi_x3.4-1968": "ascii", "x-sjis": "shift_jis",
    "x-euc-jp": "euc_jp", "x-gbk": "gbk", "136": "big5",
}
UNKNOWN_CHARSETS = frozenset({"unknown-8bit", "x-unknown", "unknown", "default", "charset"})


def text_charset(label: str | None) -> str | None:
    """A Python text codec for a declared charset label, or None when it is unknown (or, like
    'base64' or 'rot13', a codec that is not a text encoding)."""
    if not label:
        return None
    label = _CHARSET_ALIASES.get(label.strip().strip('"').lower(), label.strip().strip('"').lower())
    try:
        info = codecs.lookup(label)
    except LookupError:
        return None
    return label if getattr(info, "_is_text_encoding", True) else None


def filename_of(part: Message, hints: list[str]) -> str | None:
    """The decoded file name: filename/name parameters, else Content-Location; None when absent."""
    try:
        name = part.get_filename()
    except Exception:
        name = None
    if name is None or "\ufffd" in name or has_surrogates(name):
        name = _redecoded_param(part, hints) or name
    if name is None:
        location = str(part.get("content-location", "") or "").strip()
        tail = re.split(r"[/\\]", location.split("?", 1)[0])[-1]
        name = tail if "." in tail.strip(".") else None
    return clean(name) if name is not None else None


def safe_filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except Exception:
        return None
    return sanitize_filename(name, "") or None if name is not None else None


def one_line(text: str) -> str:
    """Printable text on one line: safe for logs and single-line displays (no injected newlines)."""
    return re.sub(r"\s+", " ", "".join(ch if ch.isprintable() else " " for ch in clean(text))).strip()


def clean(text: str) -> str:
    """Lone surrogates (undecodable raw bytes) cannot be encoded as JSON or UTF-8: replace them."""
    if not has_surrogates(text):
        return text
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _redecoded_param(part: Message, hints: list[str]) -> str | None:
    """Re-read filename/name from the raw header when the policy decoder gave up (wrong charset)."""
    for header, param in (("content-disposition", "filename"), ("content-type", "name")):
        raw = next((v for k, v in part.raw_items() if k.lower() == header), None)
        if raw is None:
            continue
        raw = str(raw)
        if has_surrogates(raw):  # raw 8-bit bytes: choose their charset before parsing parameters
            raw = guess_decode(raw.encode("utf-8", "surrogateescape"), hints)
        legacy = Message()
        legacy[header] = raw
        value = legacy.get_param(param, header=header)
        if isinstance(value, tuple):  # RFC 2231: (charset, language, percent-decoded text)
            charset, _, text = value
            return _decode_with(bytes(text, "raw-unicode-escape"), charset, hints)
        if isinstance(value, str) and value:
            return decode_words(value, hints)
    return None


def decode_words(value: str, hints: list[str]) -> str:
    """Decode raw 8-bit bytes and RFC 2047 encoded words, repairing mis-declared charsets."""
    if has_surrogates(value):
        value = guess_decode(value.encode("utf-8", "surrogateescape"), hints)
    try:
        chunks = decode_header(value)
    except Exception:
        return value
    return "".join(c if isinstance(c, str) else _decode_with(c, cs, hints) for c, cs in chunks)


def _decode_with(data: bytes, label: str | None, hints: list[str]) -> str:
    charset = text_charset(label)
    if charset:
        try:
            return data.decode(charset)
        except UnicodeDecodeError:
            pass
    return guess_decode(data, hints)


def guess_decode(data: bytes, hints: list[str]) -> str:
    """Bytes of unknown charset: UTF-8 if valid, else the most plausible single-byte charset."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    best, best_score = data.decode("cp1252", "replace"), float("-inf")
    for rank, charset in enumerate(dict.fromkeys([*hints, *_GUESS_CHARSETS])):
        try:
            text = data.decode(charset)
        except (LookupError, UnicodeDecodeError):
            continue
        score = _plausibility(text) - rank * 0.01  # declared charsets win ties
        if score > best_score:
            best, best_score = text, score
    return best


def _plausibility(text: str) -> float:
    """How much `text` looks like real words. Mis-decoded text shows symbols, case flips inside
    words (KOI8-R read as cp1251: 'чЕДПНПУФЙ'), Latin mixed with Cyrillic in one word, or words
    made mostly of accented Latin letters (cp1251 read as cp1252: 'çàðàáàòûâàòü')."""
    score = 0.0
    for ch in text:
        if ord(ch) >= 128:
            cat = unicodedata.category(ch)
            score += 1 if cat == "Ll" else 0.3 if cat == "Lu" else -3
    for word in re.findall(r"[^\W\d_]+", text):
        score -= 2 * sum(1 for a, b in zip(word, word[1:], strict=False) if a.islower() and b.isupper())
        accented = sum(1 for ch in word if 128 <= ord(ch) < 0x250)
        foreign = sum(1 for ch in word if ord(ch) >= 0x370)
        if foreign and foreign < len(word):
            score -= 2 * len(word)
        elif len(word) >= 3 and accented * 2 > len(word):
            score -= len(word)
    return score


def charset_hints(msg: Message) -> list[str]:
    """Charsets the message declares somewhere: the best guesses for its undeclared raw bytes."""
    hints: list[str] = []
    try:
        for i, part in enumerate(msg.walk()):
            if i > 50:
                break
            charset = text_charset(part.get_content_charset())
            if charset and charset not in ("us-ascii", "ascii", "utf-8") and charset not in hints:
                hints.append(charset)
    except Exception:  # hints are a nicety; a structure too odd to walk just gives fewer of them
        pass
    return hints


def has_surrogates(text: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in text)


def sanitize_filename(name: str | None, fallback: str) -> str:
    """A name that is safe to write to any file system: base name only, no control characters,
    no leading dots, bounded length with the extension kept; `fallback` when nothing is left."""
    if not name:
        return fallback
    name = unicodedata.normalize("NFC", name).translate(_BIDI_CONTROLS)
    name = "".join(" " if unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp") else ch for ch in name)
    name = next((c for c in reversed(re.split(r"[/\\]", name)) if c.strip(". ")), "")
    name = re.sub(r"\s+", " ", re.sub(r'[<>:"|?*]', "_", name)).strip().strip(". ")
    if not name:
        return fallback
    if name.split(".", 1)[0].lower() in _WINDOWS_RESERVED:
        name = "_" + name
    if len(name) > MAX_FILENAME_CHARS or len(name.encode("utf-8")) > 240:
        stem, dot, ext = name.rpartition(".")
        ext = "." + ext if dot and stem and len(ext) <= 16 and ext.isalnum() else ""
        stem = name[: len(name) - len(ext)][: MAX_FILENAME_CHARS - len(ext)]
        while len((stem + ext).encode("utf-8")) > 240:
            stem = stem[:-1]
        name = stem.rstrip(". ") + ext
    return name or fallback


class _HtmlText(HTMLParser):
    _BLOCKS = {"p", "div", "br", "tr", "li", "table", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("script", "style", "head", "title"):
            self.skip += 1
        elif tag in self._BLOCKS or tag == "td":
            self.out.append("\n" if tag != "td" else "\t")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head", "title"):
            self.skip = max(0, self.skip - 1)
        elif tag in self._BLOCKS:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.out.append(data)


def html_to_text(html: str) -> str:
    """Readable text of an HTML body: tags, scripts and styles dropped, blocks on their own lines."""
    parser = _HtmlText()
    try:
        parser.feed(html)
        parser.close()
        text = "".join(parser.out)
    except Exception:  # HTMLParser can still trip on odd markup; a crude strip is better than nothing
        text = re.sub(r"<[^>]*>", " ", html)
    lines = [re.sub(r"[ \t\xa0]+", " ", line).strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# --------------------------------------------------------------------------- content types

_ZIP_CONTAINERS = ("openxmlformats", "opendocument", "+zip", "java-archive", "epub", "ms-xpsdocument")
_EXTENSIONS = {
    "application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif",
    "image/tiff": ".tif", "image/webp": ".webp", "image/bmp": ".bmp", "application/xml": ".xml",
    "text/xml": ".xml", "text/plain": ".txt", "text/html": ".html", "application/octet-stream": ".bin",
    "application/pkcs7-signature": ".p7s", "application/x-pkcs7-signature": ".p7s",
    "application/zip": ".zip", "message/rfc822": ".eml",
}
SIGNED_DATA_OID = bytes.fromhex("06092a864886f70d010702")  # CMS SignedData
_TEXT_HEAD = re.compile(rb"[^\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]*")
_XML_ROOT = re.compile(rb"^<([A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)(\s|/?>)")
_HTML_ROOTS = {b"html", b"head", b"body", b"div", b"p", b"table", b"span", b"meta", b"font", b"br", b"style"}


def detect_type(data: bytes, declared: str) -> str | None:
    """The type the bytes themselves show, or None when they show nothing we trust."""
    if data.startswith(b"PK\x03\x04"):  # a ZIP (or an Office file), even one that stores a PDF unpacked
        try:
            kind = filetype.guess(data[:8192])
        except Exception:
            kind = None
        return str(kind.mime) if kind else "application/zip"
    if data.startswith(b"\x78\x9f\x3e\x22"):  # Outlook's winmail.dat (TNEF), whatever PDF it wraps
        return "application/ms-tnef"
    if data[:1] == b"\x30" and SIGNED_DATA_OID in data[:32]:  # a signed envelope (.p7m), whatever it holds
        return "application/pkcs7-mime"
    if b"%PDF-" in data[:1024]:
        return "application/pdf"
    try:
        kind = filetype.guess(data[:8192]) if data else None
    except Exception:  # filetype matchers are not meant to see hostile bytes; never fatal
        kind = None
    # Some signatures are short printable text ("BM" = BMP, "MZ" = exe, "ID3" = MP3): a CSV that
    # starts with "BMW" is still text. Real binary formats carry control bytes near the start.
    if kind and not _TEXT_HEAD.fullmatch(data[:512]):
        return str(kind.mime)
    if declared != "text/html" and _looks_like_xml(data):
        return "application/xml"
    return None


def content_type_for(detected: str | None, declared: str, filename: str | None) -> str:
    """The content type to act on: the bytes' type when they disagree with the declaration."""
    if detected is None:
        if declared == "application/octet-stream" and filename:
            return mimetypes.guess_type(filename, strict=False)[0] or declared
        return declared
    if detected == "application/xml" and (declared.endswith("/xml") or declared.endswith("+xml")):
        return declared
    if detected == "application/zip" and any(marker in declared for marker in _ZIP_CONTAINERS):
        return declared
    if detected == "application/pkcs7-mime" and "pkcs7-signature" in declared:
        return declared  # a detached S/MIME signature: the same envelope, without content
    return detected


def _looks_like_xml(data: bytes) -> bool:
    head = data[:512]
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if head.startswith(bom):
            head = head[len(bom):].decode(codec, "ignore").encode("utf-8")
            break
    head = head.lstrip()
    if head.startswith(b"<?xml"):
        return True
    root = _XML_ROOT.match(head)
    return root is not None and root.group(2).lower() not in _HTML_ROOTS and data.rstrip().endswith(b">")


def generated_name(path: str, content_type: str) -> str:
    ext = _EXTENSIONS.get(content_type) or mimetypes.guess_extension(content_type, strict=False) or ".bin"
    return f"attachment-{path}{ext}"
