"""Header values that never raise: what real mail sends, decoded without aborting the message."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email import policy
from email.headerregistry import BaseHeader, HeaderRegistry, UnstructuredHeader
from email.message import Message
from email.utils import getaddresses
from typing import Any

from inbox_ocr.kernel.models import PartError
from inbox_ocr.mime.decode import decode_words, has_surrogates, one_line

MAX_HEADER_CHARS = 65_536


class UnparsableHeader(UnstructuredHeader, BaseHeader):
    """A header the structured parser crashed on, kept as plain text (`parse_error` says why)."""

    parse_error = ""


def safe_header_factory(name: str, value: str) -> BaseHeader:
    """policy.default's header factory, except that a header the stdlib parser crashes on (Python
    3.11 raises IndexError/AttributeError on e.g. `To: <` or `Content-Type: text/plain; b*`) becomes
    an unstructured header instead of aborting the whole message."""
    if len(value) > MAX_HEADER_CHARS:  # the structured parsers are superlinear: 1.4 MB of To took minutes
        error = f"header is {len(value)} characters long; only the first {MAX_HEADER_CHARS} were read"
        value = value[:MAX_HEADER_CHARS]
    else:
        try:
            return _REGISTRY(name, value)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
    try:
        header = UnparsableHeader(name, value)
    except Exception:
        header = UnparsableHeader(name, re.sub(r"[^\x20-\x7e]", "?", value).replace("=?", "=_"))
    header.parse_error = error
    return header


_REGISTRY = HeaderRegistry()
POLICY = policy.default.clone(header_factory=safe_header_factory)


class Headers:
    """Header values that never raise: a header the parser chokes on becomes a PartError in
    `errors`; header defects go to `defects`."""

    def __init__(self, msg: Message, errors: list[PartError], defects: list[str], hints: list[str]) -> None:
        self.msg, self.errors, self.defects, self.hints = msg, errors, defects, hints
        self.sender = self._sender()

    def _get_all(self, name: str) -> list[Any]:
        try:
            values = self.msg.get_all(name) or []
        except Exception as exc:  # the safe header factory should make this unreachable
            values, error = [], f"{exc!r}"
        else:
            error = next((v.parse_error for v in values if isinstance(v, UnparsableHeader)), "")
        if error:
            self.errors.append(PartError(part="header", error=(
                f"{name.title()} header cannot be parsed ({error}); read as plain text")))
        for value in values:
            for defect in getattr(value, "defects", ()):
                self.defects.append(f"header {name}: {type(defect).__name__}: {defect}")
        return values

    def text(self, name: str) -> str:
        values = self._get_all(name)
        if not values:
            return ""
        text = str(values[0])
        if "\ufffd" in text or has_surrogates(text):
            raw = next((v for k, v in self.msg.raw_items() if k.lower() == name), None)
            if raw is not None and has_surrogates(str(raw)):
                text = decode_words(str(raw), self.hints)
        return one_line(text)

    def _addresses(self, name: str) -> list[tuple[str, str]]:
        found = []
        for value in self._get_all(name):
            try:
                pairs = [(a.addr_spec, a.display_name) for a in value.addresses]
            except Exception:  # unparsable: the legacy parser is crude but never gives up
                pairs = [(addr, display) for display, addr in getaddresses([str(value)]) if "@" in addr]
            found += [(one_line(addr.lower()), one_line(str(display or ""))) for addr, display in pairs
                      if addr and addr != "<>"]
        return found

    def _sender(self) -> tuple[str, str]:
        for name in ("from", "sender"):
            found = self._addresses(name)
            if found:
                return found[0]
        return "", ""

    def recipients(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(a for a, _ in self._addresses("to") + self._addresses("cc")))

    def date(self) -> datetime | None:
        values = self._get_all("date")
        value = getattr(values[0], "datetime", None) if values else None
        if not isinstance(value, datetime):
            return None
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
