"""IMAP source (`type: imap`): polling and IDLE on imapclient, password or XOAUTH2.

    config.py    ImapSourceConfig, ImapOAuthConfig
    source.py    ImapSource: fetch by UID against the ledger, mailbox changes after the commit, IDLE
    session.py   one connection with reconnects (backoff, jitter) and the server's capabilities
    auth.py      XOAUTH2 access tokens: a token command, or the refresh-token flow
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from connectors.lazy import lazy_exports

if TYPE_CHECKING:
    from connectors.imap.config import ImapOAuthConfig, ImapSourceConfig
    from connectors.imap.source import ImapSource, split_key

# imported on first use (connectors/lazy.py)
_EXPORTS = {
    "ImapOAuthConfig": "config",
    "ImapSourceConfig": "config",
    "ImapSource": "source",
    "split_key": "source",
}
__all__ = [
    "ImapOAuthConfig",
    "ImapSource",
    "ImapSourceConfig",
    "split_key",
]


__getattr__ = lazy_exports(__name__, _EXPORTS)
