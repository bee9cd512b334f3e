"""What acknowledging an IMAP message changes on the server: flags and keywords, a move (MOVE,
else COPY + \\Deleted + UID EXPUNGE of that one UID, never a plain EXPUNGE), a delete to the
Trash, the quarantine folder. A move redone after a crash, or retried after the connection dropped
under it, first looks for the copy a half-done MOVE may have left in the target. Every step is
harmless when repeated: STORE, COPY, MOVE and EXPUNGE of a UID that is gone are no-ops (RFC 3501
6.4.8).
"""

from __future__ import annotations

import logging
import re

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError
from imapclient.imapclient import TRASH

from connectors.imap.config import ImapSourceConfig
from connectors.imap.session import ImapSession
from inbox_ocr.kernel.models import MailboxChanges, RawMessage

log = logging.getLogger("connectors.imap.source")

KEYWORD_ATOM = re.compile(r"^[^\\\s(){%*\"\]\x00-\x1f\x7f][^\s(){%*\"\\\]\x00-\x1f\x7f]*$")
SEEN, FLAGGED, DELETED = b"\\Seen", b"\\Flagged", b"\\Deleted"


def split_key(key: str) -> tuple[str, int, int]:
    """`folder/uidvalidity/uid` (the folder may contain '/')."""
    folder, uidvalidity, uid = key.rsplit("/", 2)
    return folder, int(uidvalidity), int(uid)


class MailboxActions:
    """The changes of one account's messages, over the source's session."""

    def __init__(self, config: ImapSourceConfig, session: ImapSession) -> None:
        self.config = config
        self.name = config.name
        self.session = session
        self._known_folders: set[str] = set()

    def apply(self, client: IMAPClient, message: RawMessage, changes: MailboxChanges) -> None:
        folder, uidvalidity, uid = split_key(message.key)
        if not self._still_there(client, folder, uidvalidity, uid):
            return
        flags: list[bytes | str] = []  # one STORE for all of them: a round trip per message, not per flag
        if changes.mark_seen:
            flags.append(SEEN)
        if changes.flag:
            flags.append(FLAGGED)
        flags += [k for k in changes.keywords if self._keyword_allowed(client, uid, k)]
        if flags:
            client.add_flags([uid], flags, silent=True)
        if changes.delete:
            self._delete(client, message, folder, uid, changes.redo)
        elif changes.move_to and changes.redo and self._moved_before(
            client, message, folder, self.session.server_name(changes.move_to)
        ):
            self._remove_original(client, folder, uid)  # the copy is there: only the original is left
        elif changes.move_to:
            self._move(client, folder, uid, changes.move_to)

    def quarantine(self, client: IMAPClient, message: RawMessage, redo: bool = False) -> None:
        """Move the message to the quarantine folder; `redo` (a retry after a dropped connection)
        first looks for the copy a half-done MOVE may have left there."""
        folder, uidvalidity, uid = split_key(message.key)
        if not self._still_there(client, folder, uidvalidity, uid):
            return
        target = self.config.quarantine_folder
        if redo and self._moved_before(client, message, folder, self.session.server_name(target)):
            self._remove_original(client, folder, uid)
        else:
            self._move(client, folder, uid, target)

    def _still_there(self, client: IMAPClient, folder: str, uidvalidity: int, uid: int) -> bool:
        """False when the folder's UIDVALIDITY changed: the UID may name another message now.

        Whether the UID is still in the folder is not asked (a round trip per message): UID STORE,
        COPY, MOVE and EXPUNGE of a UID that is gone are no-ops (RFC 3501 6.4.8), which is what
        makes a repeated ack harmless."""
        info = self.session.select(client, folder)
        if int(info[b"UIDVALIDITY"]) != uidvalidity:
            log.warning(
                "event=imap_ack_skipped source=%s folder=%s uid=%d reason=uidvalidity changed",
                self.name,
                folder,
                uid,
            )
            return False
        return True

    def _keyword_allowed(self, client: IMAPClient, uid: int, keyword: str) -> bool:
        """Whether `keyword` can be stored as a flag; on Gmail it becomes a label right here."""
        if self.session.has(b"X-GM-EXT-1"):
            client.add_gmail_labels([uid], [keyword], silent=True)
            return False
        if not KEYWORD_ATOM.match(keyword):
            log.warning(
                "event=imap_keyword_skipped source=%s keyword=%r reason=not a valid IMAP keyword atom",
                self.name,
                keyword,
            )
            return False
        permanent = self.session.select_info.get(b"PERMANENTFLAGS", ())
        if b"\\*" not in permanent and keyword.encode() not in permanent:
            log.warning(
                "event=imap_keyword_skipped source=%s folder=%s keyword=%s "
                "reason=server does not allow custom keywords here (no \\* in PERMANENTFLAGS)",
                self.name,
                self.session.selected,
                keyword,
            )
            return False
        return True

    def _ensure_folder(self, client: IMAPClient, folder: str) -> str:
        """Create `folder` (and its parents) when missing; returns the config name."""
        if folder in self._known_folders or folder.upper() == "INBOX":
            return folder
        parts = folder.split("/")
        for depth in range(1, len(parts) + 1):
            name = "/".join(parts[:depth])
            if name in self._known_folders:
                continue
            server_name = self.session.server_name(name)
            if not client.folder_exists(server_name):
                try:
                    client.create_folder(server_name)
                    log.info("event=imap_folder_created source=%s folder=%s", self.name, name)
                except IMAPClientError:
                    if not client.folder_exists(server_name):  # lost a race with another client: fine
                        raise
            self._known_folders.add(name)
        return folder

    def _delete(self, client: IMAPClient, message: RawMessage, folder: str, uid: int, redo: bool) -> None:
        """To the Trash; without one, flagged \\Deleted for the user's client to expunge (we never
        expunge: the folder may hold others' \\Deleted mail they still want to undelete). A redo
        looks for the copy a half-done MOVE may have left in the Trash, like any other move."""
        trash = self._trash(client)
        if trash is None or trash == self.session.server_name(folder):
            client.add_flags([uid], [DELETED], silent=True)
            if trash is None:
                log.info("event=imap_deleted_flag_only source=%s folder=%s uid=%d reason=no Trash folder "
                         "(set trash_folder)", self.name, folder, uid)
            return
        if redo and self._moved_before(client, message, folder, trash):
            self._remove_original(client, folder, uid)
        else:
            self._move_to_server_folder(client, folder, uid, trash)

    def _trash(self, client: IMAPClient) -> str | None:
        """The server's name of the Trash: configured, SPECIAL-USE \\Trash, or an existing 'Trash'."""
        if self.config.trash_folder:
            self._ensure_folder(client, self.config.trash_folder)
            return self.session.server_name(self.config.trash_folder)
        try:
            special = client.find_special_folder(TRASH)  # SPECIAL-USE, else the usual names
        except IMAPClientError:
            special = None
        if special:
            return str(special)
        fallback = self.session.server_name("Trash")
        return fallback if client.folder_exists(fallback) else None

    def _move(self, client: IMAPClient, folder: str, uid: int, target: str) -> None:
        if target == folder:
            return
        self._ensure_folder(client, target)
        self._move_to_server_folder(client, folder, uid, self.session.server_name(target))

    def _moved_before(self, client: IMAPClient, message: RawMessage, folder: str, server_target: str) -> bool:
        """Whether `server_target` (the server's folder name) already holds this message (by
        Message-ID): an ack redone after a crash must not copy it a second time when the server had
        copied it and not yet removed the original (Dovecot can leave a MOVE half done when the
        client is killed mid-command)."""
        message_id = message.header("Message-ID")
        if not message_id or server_target.upper() == "INBOX":
            return False
        if not client.folder_exists(server_target):
            return False
        client.select_folder(server_target, readonly=True)
        self.session.selected = None
        try:
            found = bool(client.search(["HEADER", "Message-ID", message_id]))
        finally:
            self.session.select(client, folder)  # what follows works on the original's folder again
        if found:
            log.info("event=imap_move_completed source=%s key=%s folder=%s reason=a copy was already there",
                     self.name, message.key, server_target)
        return found

    def _move_to_server_folder(self, client: IMAPClient, folder: str, uid: int, server_target: str) -> None:
        if self.session.has(b"MOVE"):
            client.move([uid], server_target)
            return
        client.copy([uid], server_target)
        self._remove_original(client, folder, uid)

    def _remove_original(self, client: IMAPClient, folder: str, uid: int) -> None:
        client.add_flags([uid], [DELETED], silent=True)
        if self.session.has(b"UIDPLUS"):
            client.uid_expunge([uid])  # this UID only: others' \Deleted mail stays
        else:
            log.warning(
                "event=imap_expunge_skipped source=%s folder=%s uid=%d reason=no UIDPLUS; the original "
                "stays flagged \\Deleted rather than expunging mail others flagged",
                self.name,
                folder,
                uid,
            )
