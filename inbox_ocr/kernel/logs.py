"""Structured logging: one event per line, key=value or JSON, with configured secrets masked."""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import sys
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


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {"ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"), "level": record.levelname,
                "logger": record.name, "msg": record.getMessage()}
        current = getattr(record, "msg_context", None)
        if current is not None:
            data["msg_source"], data["msg_key"], data["message_id"] = current
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


def setup(level: str = "INFO", fmt: str = "text", secret_values: Iterable[str] = ()) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s level=%(levelname)s logger=%(name)s %(message)s%(ctx)s",
                                               "%Y-%m-%dT%H:%M:%S"))
    handler.addFilter(MessageContext())
    secrets.install(secret_values)
    handler.addFilter(RedactSecrets())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("apscheduler", "urllib3", "imapclient"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
