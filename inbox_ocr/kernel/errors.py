"""One exception tree for the whole program.

    InboxOcrError
     ├── ConfigError            the config file is wrong; names the file and the key path
     ├── TransientError         worth retrying later: a server down, a timeout, a lock
     │    ├── SourceUnavailable     IMAP/HTTP source cannot be reached right now
     │    └── DeliveryFailed        a webhook target answered 5xx/429 or not at all
     └── PermanentError         retrying will not help: quarantine the item with this reason
          ├── MalformedMessage      the MIME cannot be parsed at all
          ├── UnreadableDocument    a corrupt PDF or image, an encrypted PDF, over a limit
          └── DeliveryRejected      a webhook target answered 4xx (not 408/429)

Foreign errors (imapclient, pymupdf, onnxruntime, requests, sqlite3) are translated where they enter
our code, with `raise ... from exc`, so the rest of the program sees only these.
"""

from __future__ import annotations


class InboxOcrError(Exception):
    """Base of every error this program raises on purpose."""


class ConfigError(InboxOcrError):
    def __init__(self, file: str, problems: list[str]) -> None:
        self.file = file
        self.problems = problems
        super().__init__(f"{file}: " + "; ".join(problems) if len(problems) == 1 else
                         f"{file}: {len(problems)} problems:\n  " + "\n  ".join(problems))


class TransientError(InboxOcrError):
    """Try again later; the item stays where it is."""


class SourceUnavailable(TransientError):
    pass


class DeliveryFailed(TransientError):
    """Try the delivery again later; `retry_after` (seconds) is the receiver's own wish (an HTTP
    429 or 503 with Retry-After), which the outbox honours when it is longer than its backoff."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(InboxOcrError):
    """Retrying will not help; the item is quarantined with this reason."""


class MalformedMessage(PermanentError):
    pass


class UnreadableDocument(PermanentError):
    pass


class DeliveryRejected(PermanentError):
    pass
