"""The webhook `Source`: reads what the HTTP endpoint (http.py) stored in the spool (spool.py)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

from connectors.fsutil import fsync_dir
from connectors.webhook_in.config import WebhookSourceConfig
from connectors.webhook_in.spool import Spool, provider_id_hash
from inbox_ocr.kernel.errors import SourceUnavailable
from inbox_ocr.kernel.models import MailboxChanges, RawMessage
from inbox_ocr.kernel.ports import SourceState

log = logging.getLogger("connectors.webhook_in")


class WebhookSource:
    """Reads the spool of one webhook source like a Maildir: `fetch` yields new/ oldest first,
    `ack` deletes (or moves to cur/ with `keep_processed`), `fail` moves to the quarantine folder.
    Mailbox changes (move, keyword, flag, mark_seen) have no meaning here: warned once per kind."""

    def __init__(self, config: WebhookSourceConfig, state: SourceState, spool: Spool) -> None:
        self.name = config.name
        self.config = config
        self.state = state
        self.spool = spool
        self._warned: set[str] = set()

    def pending_count(self) -> int:
        """Messages in the spool waiting to be processed (backlog gauge)."""
        if self.spool.closed:
            raise SourceUnavailable(f"spool of {self.name} is closed")
        return self.spool.count()

    def fetch(self, limit: int | None = None) -> Iterator[RawMessage]:
        if self.spool.closed:
            raise SourceUnavailable(f"spool of {self.name} is closed")
        handled = self.state.handled_keys(self.name)
        # The spool forgets provider ids after DEDUPE_SECONDS; the ledger keeps its keys, which
        # carry the id's hash, for as long as it keeps the message: a replay after the spool's
        # window is still recognised here, before anything routes it a second time.
        handled_ids = {h for h in map(provider_id_hash, handled) if h is not None}
        count = 0
        for key, path in self.spool.pending():
            if limit is not None and count >= limit:
                return
            if key in handled:  # committed, but the ack did not happen before a crash: do it now
                self._finish(key)
                continue
            if provider_id_hash(key) in handled_ids:
                log.warning(
                    "event=duplicate_dropped source=%s key=%s reason=the ledger handled this provider "
                    "message id before",
                    self.name,
                    key,
                )
                self._drop(key)
                continue
            try:
                raw = path.read_bytes()
                received = datetime.fromtimestamp(path.stat().st_mtime, UTC)
            except FileNotFoundError:
                continue
            except OSError as exc:
                log.warning("event=spool_unreadable source=%s key=%s error=%s", self.name, key, exc)
                continue
            count += 1
            yield RawMessage(source=self.name, key=key, folder="INBOX", raw=raw, received_at=received)

    def has_message(self, key: str) -> bool:
        return self.spool.locate(key) is not None

    def ack(self, message: RawMessage, changes: MailboxChanges) -> None:
        for change in changes.describe():
            kind = change.split(":")[0]
            if kind not in self._warned:
                self._warned.add(kind)
                log.warning(
                    "event=action_not_applicable source=%s action=%s reason=a webhook source has no "
                    "mailbox (warned once per action kind)",
                    self.name,
                    kind,
                )
        self._finish(message.key)

    def _finish(self, key: str) -> None:
        path = self.spool.locate(key)
        if path is None:
            return  # an earlier ack got this far
        if self.config.keep_processed:
            path.replace(self.spool.root / "cur" / f"{key}:2,S")
        else:
            path.unlink(missing_ok=True)
        fsync_dir(path.parent)

    def _drop(self, key: str) -> None:
        path = self.spool.locate(key)
        if path is not None:
            path.unlink(missing_ok=True)
            fsync_dir(path.parent)

    def fail(self, message: RawMessage, reason: str) -> None:
        path = self.spool.locate(message.key)
        if path is None:
            return
        folder = self.spool.root / f".{self.config.quarantine_folder.replace('/', '.')}"
        for sub in ("tmp", "new", "cur"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        path.replace(folder / "cur" / f"{message.key}:2,")
        fsync_dir(path.parent)
        log.warning("event=quarantined source=%s key=%s reason=%s", self.name, message.key, reason)

    def wait_for_mail(self, timeout: float, stop: threading.Event | None = None) -> None:
        """Return when the server has spooled a message (or after `timeout`, or on `stop`), so that
        the daemon processes webhook mail at once instead of on the next poll."""
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0 and not (stop is not None and stop.is_set()):
            if self.spool.arrived.wait(min(remaining, 0.5)):
                self.spool.arrived.clear()
                return

    def close(self) -> None:
        """The spool is shared with the HTTP endpoint: the app closes it after both are done."""
        return None
