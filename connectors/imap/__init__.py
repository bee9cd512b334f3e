"""IMAP source (`type: imap`): polling and IDLE on imapclient, password or XOAUTH2.

    config.py    ImapSourceConfig, ImapOAuthConfig
    source.py    ImapSource: fetch by UID against the ledger, IDLE on the first folder
    actions.py   MailboxActions: what an ack changes on the server (flags, move, delete, quarantine)
    watch.py     FolderWatcher: IDLE on each further folder, within idle_connections
    session.py   one connection with reconnects (backoff, jitter) and the server's capabilities
    auth.py      XOAUTH2 access tokens: a token command, or the refresh-token flow
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors.lazy import lazy_exports

if TYPE_CHECKING:
    from connectors.imap.actions import split_key
    from connectors.imap.config import ImapOAuthConfig, ImapSourceConfig
    from connectors.imap.source import ImapSource

# imported on first use (connectors/lazy.py)
_EXPORTS = {
    "ImapOAuthConfig": "config",
    "ImapSourceConfig": "config",
    "ImapSource": "source",
    "split_key": "actions",
}
__all__ = [
    "ImapOAuthConfig",
    "ImapSource",
    "ImapSourceConfig",
    "split_key",
]


__getattr__ = lazy_exports(__name__, _EXPORTS)
