"""Structured logging: one event per line, key=value or JSON, with configured secrets masked."""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import re
import sys
import time
from collections.abc import Iterable, Iterator

from inbox_ocr.kernel import secrets

# The message in hand: (source, key, Message-ID). Every log line written while the pipeline works on
# a message carries it, whichever module writes the line, so `grep key=...` gives its whole story.
_MESSAGE: contextvars.ContextVar[tuple[str, str, str] | None] = contextvars.ContextVar("message", default=None)


@contextlib.contextmanager
def message_context(source: str, key: str, message_id: str | None) -> Iterator[None]:
    """Tag every log line written inside the block with the message's source, key and Message-ID."""
    token = _MESSAGE.set((source, key, message_id or ""))
    try:
        yield
    finally:
        _MESSAGE.reset(token)


def current_message() -> tuple[str, str, str] | None:
    return _MESSAGE.get()


class MessageContext(logging.Filter):
    """Adds `ctx` (' msg_source=.. msg_key=.. message_id=..' or '') to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        current = _MESSAGE.get()
        record.msg_context = current
        record.ctx = "" if current is None else (
            f" msg_source={current[0]} msg_key={_quote(current[1])} message_id={_quote(current[2])}")
        return True


def _quote(value: str) -> str:
    return json.dumps(value, ensure_ascii=False) if (not value or any(c in value for c in ' "=')) else value


class RedactSecrets(logging.Filter):
    """Masks every configured secret, in every form we send it (inbox_ocr/kernel/secrets.py), in
    a log line and its traceback (defence in depth: code should never log secrets at all)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = secrets.mask(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            # a traceback may quote a value too: format it here, masked, for the formatter to use
            record.exc_text = secrets.mask(logging.Formatter().formatException(record.exc_info))
        return True


_KEY = re.compile(r"(?:^|(?<=\s))([a-z_][a-z0-9_]*)=")
_SPEC = re.compile(r"%(?:\([^)]*\))?[#0\- +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa%]")


def event_fields(record: logging.LogRecord) -> dict[str, object]:
    """The `key=value` fields of an event line as a dict: from the format string and its arguments,
    so a value keeps its type (an int stays an int) and may contain spaces (`reason=no such folder`).
    Text before the first key, or a line without keys, is left to `msg`."""
    template = record.msg if isinstance(record.msg, str) else str(record.msg)
    args = record.args if isinstance(record.args, tuple) else ((record.args,) if record.args else ())
    keys = list(_KEY.finditer(template))
    fields: dict[str, object] = {}
    used = 0
    if keys:
        used = len(_SPEC.findall(template[: keys[0].start()]))  # placeholders before the first key
    for i, m in enumerate(keys):
        end = keys[i + 1].start() if i + 1 < len(keys) else len(template)
        raw = template[m.end():end].strip()
        specs = [x for x in _SPEC.findall(raw) if x != "%%"]
        mine = args[used : used + len(specs)]
        used += len(specs)
        if len(specs) == 1 and raw == specs[0] and isinstance(mine[0], int | float) and not isinstance(mine[0], bool):
            # a number stays a number (formatted as asked: seconds=%.2f gives 1.23)
            fields[m.group(1)] = mine[0] if specs[0][-1] in "sd" else float(raw % mine[0])
            continue
        try:
            fields[m.group(1)] = raw % tuple(mine) if specs or "%%" in raw else raw
        except (TypeError, ValueError):
            fields[m.group(1)] = raw
    return fields


def rfc3339(created: float) -> str:
    """UTC with milliseconds: 2026-11-30T18:12:50.123Z."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created)) + f".{int(created * 1000) % 1000:03d}Z"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts (RFC 3339, UTC, ms), level, logger, the event's fields as keys,
    the message in hand (msg_source, msg_key, message_id) and the whole line as `msg`."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, object] = {"ts": rfc3339(record.created), "level": record.levelname, "logger": record.name}
        fields = event_fields(record)
        data.update({k: v for k, v in fields.items() if k not in _RESERVED})
        current = getattr(record, "msg_context", None)
        if current is not None:
            data["msg_source"], data["msg_key"], data["message_id"] = current
        data["msg"] = record.getMessage()
        if record.exc_info:
            data["exc"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """`2026-11-30T18:12:50.123Z level=INFO logger=... event=... key=value ...` for people."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return rfc3339(record.created)


_RESERVED = {"ts", "level", "logger", "msg", "exc", "msg_source", "msg_key", "message_id"}


def setup(level: str = "INFO", fmt: str = "text", secret_values: Iterable[str] = ()) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter("%(asctime)s level=%(levelname)s logger=%(name)s %(message)s%(ctx)s"))
    handler.addFilter(MessageContext())
    secrets.install(secret_values)
    handler.addFilter(RedactSecrets())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("apscheduler", "urllib3", "imapclient"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
