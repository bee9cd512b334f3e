"""The configured secrets, in every form we send them, and one function that masks them in text.

Everything that writes text a person or a file keeps (log lines, ledger columns, CLI output)
passes it through :func:`mask`. The app installs the secrets once, after loading the config
(`install`); until then nothing is masked. A secret is masked as written and in the forms it
travels in: URL-encoded, base64, and inside the base64 of a `user:password` pair (HTTP Basic),
which does not contain the base64 of the password itself.
"""

from __future__ import annotations

import base64
import sys
import threading
from collections import deque
from collections.abc import Iterable
from typing import Any, TextIO
from urllib.parse import quote

MASK = "***"
MIN_LENGTH = 4  # shorter values would mask ordinary words


def forms(secret: str) -> set[str]:
    """The forms `secret` may appear in: as written, URL-encoded, base64 (standard and URL-safe)."""
    if len(secret) < MIN_LENGTH:
        return set()
    raw = secret.encode()
    out = {secret, quote(secret, safe=""), quote(secret), quote(secret, safe="").lower()}
    for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        text = encoded.decode()
        out |= {text, text.rstrip("=")}
    return {f for f in out if len(f) >= MIN_LENGTH}


def basic_pair(username: str, password: str) -> set[str]:
    """The Authorization value of HTTP Basic (`base64(user:password)`) and the pair itself."""
    pair = f"{username}:{password}"
    return forms(pair)


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        values: set[str] = set()
        for secret in secrets:
            values |= forms(secret)
        self.values = sorted(values, key=len, reverse=True)  # longest first: no partial masks

    def mask(self, text: str) -> str:
        for value in self.values:
            if value in text:
                text = text.replace(value, MASK)
        return text


_lock = threading.Lock()
_installed = Redactor()
_current = _installed
_extra: deque[str] = deque(maxlen=32)  # secrets met at run time (OAuth access tokens): the latest ones


def install(secrets: Iterable[str]) -> Redactor:
    """Mask these secrets (and their forms) from now on, in this process."""
    global _installed, _current
    with _lock:
        _installed = Redactor(secrets)
        _current = _merge()
    return _installed


def extend(secrets: Iterable[str]) -> None:
    """Also mask secrets obtained at run time (an access token); the latest 32 are kept."""
    global _current
    with _lock:
        _extra.extend(s for s in secrets if s not in _extra)
        _current = _merge()


def _merge() -> Redactor:
    merged = Redactor()
    merged.values = sorted(set(_installed.values) | set(Redactor(_extra).values), key=len, reverse=True)
    return merged


def mask(text: str) -> str:
    return _current.mask(text)


def mask_optional(text: str | None) -> str | None:
    return None if text is None else _current.mask(text)


class MaskingStream:
    """A text stream that masks secrets in what is written to it (stdout and stderr of the CLI:
    summaries and `ledger`/`outbox` output do not go through the log filter)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        self.stream.write(mask(text))
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:  # encoding, errors, flush, isatty, fileno, ...
        return getattr(self.stream, name)


def mask_standard_streams() -> None:
    """Wrap sys.stdout and sys.stderr once, so that everything printed is masked."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, MaskingStream):
            setattr(sys, name, MaskingStream(stream))
