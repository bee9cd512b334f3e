"""IDLE on the other folders of an account: one connection per folder, each in a thread of its
own, within the account's `idle_connections` budget (servers limit connections per user; Dovecot
allows 10 per IP by default, Microsoft 365 and Gmail about 15). A watcher only listens: when its
folder reports new mail (EXISTS) it sets the source's event, and the source's own loop, which
IDLEs on the first folder, wakes up and fetches. Folders beyond the budget are polled.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from connectors.imap.config import ImapSourceConfig
from connectors.imap.session import CONNECTION_ERRORS, ImapSession, brief

log = logging.getLogger("connectors.imap")


class FolderWatcher(threading.Thread):
    """IDLE on one folder until `closing` is set; `pushed` is set when mail arrives there."""

    def __init__(self, config: ImapSourceConfig, folder: str, tokens: object | None,
                 client_factory: Callable[..., IMAPClient], pushed: threading.Event, closing: threading.Event) -> None:
        super().__init__(name=f"idle-{config.name}-{folder}", daemon=True)
        self.config = config
        self.folder = folder
        self.session = ImapSession(config, tokens, client_factory)  # type: ignore[arg-type]
        self.pushed = pushed
        self.closing = closing

    def run(self) -> None:
        pause = 1.0
        while not self.closing.is_set():
            try:
                self._watch()
                pause = 1.0
            except (*CONNECTION_ERRORS, IMAPClientError, OSError) as exc:
                self.session.drop()
                log.warning("event=imap_idle_watch_lost source=%s folder=%s error=%s", self.config.name, self.folder,
                            brief(exc))
                self.pushed.set()  # mail may have come while it was away: the source looks
                self.closing.wait(pause)
                pause = min(pause * 2, 60.0)
            except Exception as exc:  # a watcher must never take the daemon down; the folder is polled
                log.warning("event=imap_idle_watch_failed source=%s folder=%s error=%r", self.config.name,
                            self.folder, exc)
                self.closing.wait(60.0)
        self.session.close()

    def _watch(self) -> None:
        client = self.session.connect()
        self.session.select(client, self.folder, fresh=True)
        while not self.closing.is_set():
            client.idle()
            renew_at = time.monotonic() + self.config.idle_renew
            new_mail = False
            while not new_mail and not self.closing.is_set() and (wait := renew_at - time.monotonic()) > 0:
                began = time.monotonic()
                responses = client.idle_check(timeout=min(wait, 1.0))
                new_mail = any(len(r) > 1 and r[1] in (b"EXISTS", b"RECENT") for r in responses)
                if not responses and time.monotonic() - began < 0.5:
                    break  # a dropped connection looks like "no responses": DONE below finds out
            client.idle_done()
            if new_mail:
                log.debug("event=imap_idle_pushed source=%s folder=%s", self.config.name, self.folder)
                self.pushed.set()
