"""IMAP source on imapclient: fetch by UID against the ledger, mailbox actions after the commit, IDLE.

Keys are ``{folder}/{uidvalidity}/{uid}`` with the folder as written in the config ('/' between
levels). Choices worth knowing:

* Mail is read with ``BODY.PEEK[]`` only, so fetching never sets ``\\Seen``; messages flagged
  ``\\Deleted`` (by anyone) are left alone. Sizes (``RFC822.SIZE``) come first: a message over
  ``limits.max_message_bytes`` is handed over as its header only, for the pipeline to quarantine.
* A UIDVALIDITY change is logged and remembered (cursor ``uidvalidity:{folder}``); every message of
  the folder then has a new key and is fetched again. The pipeline recognises the ones it already
  handled by Message-ID plus content hash (``SourceState.is_known``) and records them under the new
  key without processing or acting on them again, so each old message is downloaded once, not on
  every poll (which is what skipping them inside ``fetch`` would cost).
* ``ack`` acts only under the UIDVALIDITY of the key; commands on a UID that is gone (moved on an
  earlier, interrupted attempt) are no-ops on an IMAP server, so a repeated ack changes nothing.
  Flags and keywords come before the move, so a repeated ack completes a half-done one.
* MOVE when offered, else COPY + ``\\Deleted`` + ``UID EXPUNGE`` of that one UID (UIDPLUS); without
  UIDPLUS the original stays flagged ``\\Deleted`` and is not expunged: a plain EXPUNGE would also
  remove mail that someone else flagged ``\\Deleted``.
* A dropped connection is reopened (exponential backoff with jitter, tenacity) and the command
  retried once; what still fails becomes ``SourceUnavailable``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from connectors.imap.actions import MailboxActions, split_key
from connectors.imap.auth import TokenProvider
from connectors.imap.config import ImapSourceConfig
from connectors.imap.session import CONNECTION_ERRORS, ImapSession, brief
from connectors.imap.watch import FolderWatcher
from inbox_ocr.kernel.errors import SourceUnavailable
from inbox_ocr.kernel.models import MailboxChanges, RawMessage
from inbox_ocr.kernel.ports import SourceState

log = logging.getLogger(__name__)

FETCH_BYTES = 64 * 1024**2  # bodies fetched together, by their declared sizes (one message may be larger)


class ImapSource:
    """One IMAP account, one or more folders. Not thread-safe: one connection, used by one loop."""

    def __init__(
        self,
        config: ImapSourceConfig,
        state: SourceState,
        client_factory: Callable[..., IMAPClient] = IMAPClient,
        max_message_bytes: int | None = None,
    ) -> None:
        self.config = config
        self.max_message_bytes = max_message_bytes  # limits.max_message_bytes: larger mail is not downloaded
        self.name = config.name
        self.state = state
        self._uidnext_seen: dict[str, int] = {}
        self.since: date | None = None  # `backfill --since`: only mail received on or after this day
        tokens = TokenProvider(self.name, config.oauth, state) if config.oauth else None
        self.session = ImapSession(config, tokens, client_factory)
        self.mailbox = MailboxActions(config, self.session)  # what ack and fail change (actions.py)
        self._tokens, self._client_factory = tokens, client_factory
        self._pushed = threading.Event()  # a watcher saw new mail in another folder (watch.py)
        self._closing = threading.Event()
        self._watchers: list[FolderWatcher] | None = None

    # ------------------------------------------------------------------ fetch

    def fetch(self, limit: int | None = None) -> Iterator[RawMessage]:
        left = limit
        for folder in self.config.folders:
            for message in self._fetch_folder(folder, left):
                yield message
                if left is not None:
                    left -= 1
                    if left <= 0:
                        return

    def _pending_uids(self, folder: str) -> tuple[int, list[int]]:
        def op(client: IMAPClient) -> tuple[int, list[int], int]:
            info = self.session.select(client, folder, fresh=True)  # current UIDVALIDITY and UIDNEXT
            criteria: list[Any] = ["UNDELETED"]
            since = self._since()
            if since is not None:
                criteria += ["SINCE", since]
            return int(info[b"UIDVALIDITY"]), sorted(client.search(criteria)), int(info.get(b"UIDNEXT", 0))

        uidvalidity, uids, uidnext = self.session.run(f"search {folder}", op)
        self._uidnext_seen[folder] = uidnext
        cursor = f"uidvalidity:{folder}"
        before = self.state.get_cursor(self.name, cursor)
        if before != str(uidvalidity):
            if before is not None:
                log.warning(
                    "event=uidvalidity_changed source=%s folder=%s old=%s new=%d messages=%d "
                    "note=re-scanning, known messages are recognised by Message-ID and content hash",
                    self.name,
                    folder,
                    before,
                    uidvalidity,
                    len(uids),
                )
            self.state.set_cursor(self.name, cursor, str(uidvalidity))
        prefix = f"{folder}/{uidvalidity}/"
        handled = {int(k[len(prefix) :]) for k in self.state.handled_keys(self.name, prefix)}
        return uidvalidity, [u for u in uids if u not in handled]

    def _since(self) -> date | None:
        days = [self.since] if self.since else []
        if self.config.max_age is not None:
            days.append((datetime.now(UTC) - timedelta(seconds=self.config.max_age)).date())
        return max(days) if days else None

    def set_since(self, day: date | None) -> None:
        """Leave out mail received before `day` (`backfill --since`)."""
        self.since = day

    def pending_count(self) -> int:
        """How many messages `fetch` would hand over now (for progress bars)."""
        return sum(len(self._pending_uids(folder)[1]) for folder in self.config.folders)

    def _fetch_folder(self, folder: str, limit: int | None) -> Iterator[RawMessage]:
        uidvalidity, pending = self._pending_uids(folder)
        if limit is not None:
            pending = pending[:limit]
        log.debug("event=imap_pending source=%s folder=%s count=%d", self.name, folder, len(pending))
        size = self.config.fetch_batch
        for start in range(0, len(pending), size):
            batch = pending[start : start + size]
            # RFC822.SIZE first: a message over max_message_bytes is never downloaded (only its
            # header, for the record), and bodies are fetched in groups of at most FETCH_BYTES
            sizes = self._fetch_items(folder, uidvalidity, batch, ["RFC822.SIZE"])
            if sizes is None:
                return  # UIDVALIDITY changed: the next pass starts over with the new one
            declared = {uid: int(item.get(b"RFC822.SIZE", 0)) for uid, item in sizes.items()}
            for group, items in self._groups(batch, declared):
                data = self._fetch_items(folder, uidvalidity, group, items)
                if data is None:
                    return
                for uid in group:
                    message = self._message(folder, uidvalidity, uid, data.get(uid), declared.get(uid))
                    if message is not None:
                        yield message

    def _groups(self, batch: list[int], declared: dict[int, int]) -> Iterator[tuple[list[int], list[str]]]:
        """UIDs to fetch together, and what to fetch of them: whole messages up to FETCH_BYTES a
        group; the header only of a message over max_message_bytes."""
        limit = self.max_message_bytes
        group: list[int] = []
        group_bytes = 0
        for uid in batch:
            size = declared.get(uid, 0)
            if limit is not None and size > limit:
                if group:  # keep the oldest-first order
                    yield group, ["BODY.PEEK[]", "INTERNALDATE"]
                    group, group_bytes = [], 0
                yield [uid], ["BODY.PEEK[HEADER]", "INTERNALDATE"]
                continue
            if group and group_bytes + size > FETCH_BYTES:
                yield group, ["BODY.PEEK[]", "INTERNALDATE"]
                group, group_bytes = [], 0
            group.append(uid)
            group_bytes += size
        if group:
            yield group, ["BODY.PEEK[]", "INTERNALDATE"]

    def _fetch_items(
        self, folder: str, uidvalidity: int, uids: list[int], items: list[str]
    ) -> dict[int, dict[bytes, Any]] | None:
        def op(client: IMAPClient) -> dict[int, dict[bytes, Any]] | None:
            info = self.session.select(client, folder)
            if int(info[b"UIDVALIDITY"]) != uidvalidity:  # changed under us after a reconnect
                return None
            # A list of at most `fetch_batch` UIDs keeps the command line short in any mailbox size.
            return client.fetch(uids, items)  # type: ignore[no-any-return]

        return self.session.run(f"fetch {folder}", op)

    def _message(
        self, folder: str, uidvalidity: int, uid: int, item: dict[bytes, Any] | None, declared: int | None
    ) -> RawMessage | None:
        body = item.get(b"BODY[]") if item else None
        header = item.get(b"BODY[HEADER]") if item else None
        content = body if body is not None else header
        if content is None:
            # Expunged since the search, or unreadable: the next pass sees it again if it exists.
            log.info("event=imap_message_gone source=%s folder=%s uid=%d", self.name, folder, uid)
            return None
        received = item.get(b"INTERNALDATE") if item else None
        return RawMessage(
            source=self.name,
            key=f"{folder}/{uidvalidity}/{uid}",
            folder=folder,
            raw=bytes(content),
            size=None if body is not None else declared,  # header only: the pipeline refuses it by size
            received_at=received if isinstance(received, datetime) else None,
        )

    # ------------------------------------------------------------------ actions

    def has_message(self, key: str) -> bool:
        """Whether the UID is still in its folder (with the same UIDVALIDITY); one UID SEARCH."""
        folder, uidvalidity, uid = split_key(key)

        def op(client: IMAPClient) -> bool:
            info = self.session.select(client, folder)
            if int(info[b"UIDVALIDITY"]) != uidvalidity:
                return False  # the old UIDs are gone with the old UIDVALIDITY
            return uid in client.search(["UID", str(uid)])

        return bool(self.session.run(f"check {key}", op))

    def ack(self, message: RawMessage, changes: MailboxChanges) -> None:
        for change in changes.helpdesk_only():
            log.warning("event=action_not_applicable source=%s key=%s action=%s reason=only a helpdesk source "
                        "can assign or comment", self.name, message.key, change.split(":")[0])
        attempts = 0

        def apply(client: IMAPClient) -> None:
            nonlocal attempts
            attempts += 1  # a retry after a dropped connection may follow a MOVE the server did halfway
            self.mailbox.apply(client, message, changes if attempts == 1 else changes.model_copy(update={"redo": True}))

        self.session.run(f"ack {message.key}", apply)
        log.info("event=imap_acked source=%s key=%s actions=%s", self.name, message.key, changes.describe())

    def fail(self, message: RawMessage, reason: str) -> None:
        attempts = 0

        def quarantine(client: IMAPClient) -> None:
            nonlocal attempts
            attempts += 1  # as in ack: a retry looks for the copy a half-done MOVE left
            self.mailbox.quarantine(client, message, redo=attempts > 1)

        self.session.run(f"quarantine {message.key}", quarantine)
        log.warning(
            "event=imap_quarantined source=%s key=%s folder=%s reason=%s",
            self.name,
            message.key,
            self.config.quarantine_folder,
            reason[:200],
        )

    # ------------------------------------------------------------------ IDLE

    def wait_for_mail(self, timeout: float, stop: threading.Event | None = None) -> bool:
        """Block in IDLE on the first folder until the server reports new mail there or in a
        folder a watcher IDLEs on (True), or `timeout` passes (False). The other folders get a
        connection each within `idle_connections` (watch.py); folders beyond them are polled, so
        then the wait ends after at most `poll_every` with True. IDLE is re-issued every
        `idle_renew` seconds. After a dropped connection it reconnects and returns True: mail may
        have come meanwhile. Setting `stop` ends the wait within about a second (False)."""
        stopped = stop.is_set if stop is not None else lambda: False
        longest_step = 1.0 if stop is not None else 30.0
        folder = self.config.folders[0]
        try:
            client = self.session.connect()
            polled = self._start_watchers()  # after connecting: IDLE is a capability the server names
            if polled:
                timeout = min(timeout, self.config.poll_every)
            deadline = time.monotonic() + timeout
            if self._pushed.is_set():
                self._pushed.clear()
                return True
            info = self.session.select(client, folder, fresh=True)
            uidnext = int(info.get(b"UIDNEXT", 0))
            if folder in self._uidnext_seen and uidnext != self._uidnext_seen[folder]:
                return True  # arrived between the last fetch and now
            if not self.session.has(b"IDLE"):
                pause = max(0.0, min(timeout, self.config.poll_every))
                if stop is not None:
                    return not stop.wait(pause)
                time.sleep(pause)
                return True
            while True:
                left = deadline - time.monotonic()
                if left <= 0 or stopped():
                    return bool(polled) and not stopped()
                client.idle()
                renew_at = time.monotonic() + min(left, self.config.idle_renew)
                new_mail = False
                while not new_mail and not stopped() and (wait := renew_at - time.monotonic()) > 0:
                    step = min(wait, longest_step)
                    began = time.monotonic()
                    responses = client.idle_check(timeout=min(step, 1.0) if self._watchers else step)
                    new_mail = any(len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in responses)
                    if self._pushed.is_set():  # another folder's watcher
                        self._pushed.clear()
                        new_mail = True
                    if not responses and time.monotonic() - began < step / 2:
                        break  # imapclient hides EOF as "no responses": DONE below finds out
                client.idle_done()  # raises on a dropped connection
                if new_mail:
                    return True
        except CONNECTION_ERRORS as exc:
            self.session.drop()
            log.warning("event=imap_idle_connection_lost source=%s error=%s", self.name, brief(exc))
            self.session.connect()  # backoff and jitter inside; SourceUnavailable when the server stays away
            return True
        except IMAPClientError as exc:
            self.session.drop()
            raise SourceUnavailable(f"{self.name}: IDLE refused: {brief(exc)}") from exc

    def _start_watchers(self) -> list[str]:
        """Start the watchers of the other folders, once; the folders left to polling."""
        others = self.config.folders[1:]
        if self._watchers is None:
            watched = others[: self.config.idle_connections - 1] if self.session.has(b"IDLE") else []
            self._watchers = [FolderWatcher(self.config, f, self._tokens, self._client_factory, self._pushed,
                                            self._closing) for f in watched]
            for watcher in self._watchers:
                watcher.start()
            polled = [f for f in others if f not in watched]
            log.info("event=imap_idle_folders source=%s pushed=%s polled=%s", self.name,
                     ",".join([self.config.folders[0], *watched]), ",".join(polled) or "-")
        return [f for f in others if f not in {w.folder for w in self._watchers}]

    def has(self, capability: bytes) -> bool:
        """Whether the server announced `capability` (known after the first connection)."""
        return self.session.has(capability)

    def close(self) -> None:
        self._closing.set()
        for watcher in self._watchers or ():
            watcher.join(timeout=5)
        self.session.close()
