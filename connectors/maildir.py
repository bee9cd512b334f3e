"""Maildir source (Maildir++ folders, Dovecot-compatible keywords).

Folders named `Invoices/Approval` in the config live in `.Invoices.Approval/` below the root, as
Dovecot and Courier lay them out; keywords are stored as Dovecot does, as lowercase flag letters
mapped through the folder's `dovecot-keywords` file, so an IMAP server serving the same Maildir
shows them.
"""

from __future__ import annotations

import base64
import logging
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import Field

from connectors.fsutil import fsync_dir
from inbox_ocr.kernel.errors import SourceUnavailable
from inbox_ocr.kernel.models import MailboxChanges, RawMessage
from inbox_ocr.kernel.ports import SourceState
from inbox_ocr.kernel.settings import SourceSettings

log = logging.getLogger(__name__)


class MaildirSourceConfig(SourceSettings):
    type: Literal["maildir"]
    path: Path
    create: bool = Field(default=False, description="create the Maildir when missing")


MAX_KEYWORDS = 26  # Dovecot maps keywords to the letters a..z


def folder_dir(root: Path, folder: str) -> Path:
    """`INBOX` is the root; `A/B` is `.A.B` (Maildir++), each name in IMAP's modified UTF-7 as
    Dovecot stores them (`Rechnungen/Geprüft` is `.Rechnungen.Gepr&APw-ft`). A folder an older
    version made under its UTF-8 name is used as it is, so its mail is not split in two."""
    if folder.upper() == "INBOX" or folder == "":
        return root
    parts = [p for p in folder.replace(".", "_").split("/") if p]
    path = root / ("." + ".".join(utf7_imap(p) for p in parts))
    legacy = root / ("." + ".".join(parts))
    if legacy != path and legacy.is_dir() and not path.exists():
        log.warning("event=maildir_legacy_folder folder=%s path=%s reason=made under its UTF-8 name, which IMAP "
                    "clients show garbled; rename it to %s", folder, legacy.name, path.name)
        return legacy
    return path


def utf7_imap(name: str) -> str:
    """A mailbox name in IMAP's modified UTF-7 (RFC 3501 5.1.3): printable ASCII as it is, `&` as
    `&-`, anything else as `&` + base64 of its UTF-16BE with `,` for `/`, no padding, + `-`."""
    out: list[str] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            encoded = base64.b64encode("".join(run).encode("utf-16-be")).rstrip(b"=").replace(b"/", b",")
            out.append("&" + encoded.decode() + "-")
            run.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            run.append(ch)
    flush()
    return "".join(out)


def ensure_maildir(path: Path, subfolder: bool = False) -> None:
    for sub in ("cur", "new", "tmp"):
        (path / sub).mkdir(parents=True, exist_ok=True)
    if subfolder:
        (path / "maildirfolder").touch(exist_ok=True)


def _split_name(filename: str) -> tuple[str, str]:
    """'1234.M1P2.host:2,FSab' -> ('1234.M1P2.host', 'FSab')."""
    if ":2," in filename:
        key, flags = filename.split(":2,", 1)
        return key, flags
    return filename.split(":", 1)[0], ""


def _files_with_key(folder: Path, key: str) -> list[Path]:
    """The files of `folder` whose name is `key` with or without its `:2,flags` part, compared as
    exact names (a glob would read '[', '*' and '?' in a delivered file name as patterns). A file
    in new/ carries its key as its whole name: that case needs no directory listing."""
    exact = folder / key
    if exact.is_file():
        return [exact]
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return []
    return [Path(e.path) for e in entries if _split_name(e.name)[0] == key and e.is_file()]


class Keywords:
    """The `dovecot-keywords` file of one folder: keyword name <-> flag letter."""

    def __init__(self, folder: Path) -> None:
        self.file = folder / "dovecot-keywords"

    def _read(self) -> dict[str, int]:
        try:
            lines = self.file.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return {}
        out: dict[str, int] = {}
        for line in lines:
            num, _, name = line.partition(" ")
            if num.isdigit() and name:
                out[name] = int(num)
        return out

    def letter(self, keyword: str) -> str | None:
        known = self._read()
        if keyword not in known:
            if len(known) >= MAX_KEYWORDS:
                return None
            known[keyword] = max(known.values(), default=-1) + 1
            tmp = self.file.with_suffix(".tmp")
            tmp.write_text("".join(f"{n} {k}\n" for k, n in sorted(known.items(), key=lambda kv: kv[1])))
            os.replace(tmp, self.file)
        return chr(ord("a") + known[keyword])

    def names(self, flags: str) -> list[str]:
        by_letter = {chr(ord("a") + n): k for k, n in self._read().items()}
        return [by_letter[c] for c in flags if c in by_letter]


class MaildirSource:
    def __init__(self, config: MaildirSourceConfig, state: SourceState) -> None:
        self.name = config.name
        self.root = Path(config.path)
        self.config = config
        self.state = state
        if config.create:
            ensure_maildir(self.root)

    # ------------------------------------------------------------------ fetch

    def pending_count(self) -> int:
        """How many messages `fetch` would hand over now (backlog gauge, progress bars)."""
        return len(self._pending())

    def fetch(self, limit: int | None = None) -> Iterator[RawMessage]:
        for count, (mtime, key, path) in enumerate(self._pending()):
            if limit is not None and count >= limit:
                return
            try:
                raw = path.read_bytes()
            except FileNotFoundError:
                continue
            except OSError as exc:
                log.warning("event=maildir_unreadable source=%s key=%s error=%s", self.name, key, exc)
                continue
            yield RawMessage(source=self.name, key=key, folder="INBOX", raw=raw,
                             received_at=datetime.fromtimestamp(mtime, UTC))

    def _pending(self) -> list[tuple[float, str, Path]]:
        """(mtime, key, path) of the messages not handled yet, oldest first."""
        if not (self.root / "cur").is_dir() or not (self.root / "new").is_dir():
            raise SourceUnavailable(f"{self.root} is not a Maildir (no cur/ and new/)")
        handled = self.state.handled_keys(self.name)
        entries: list[tuple[float, str, Path]] = []
        for sub in ("new", "cur"):
            for entry in os.scandir(self.root / sub):
                if entry.name.startswith(".") or not entry.is_file():
                    continue
                key, _ = _split_name(entry.name)
                if key in handled:
                    continue
                try:
                    entries.append((entry.stat().st_mtime, key, Path(entry.path)))
                except FileNotFoundError:
                    continue  # moved away by someone else meanwhile
        entries.sort()
        return entries

    # ------------------------------------------------------------------ actions

    def _locate(self, key: str) -> Path | None:
        for sub in ("new", "cur"):
            found = _files_with_key(self.root / sub, key)
            if found:
                return found[0]
        return None

    def has_message(self, key: str) -> bool:
        return self._locate(key) is not None

    def ack(self, message: RawMessage, changes: MailboxChanges) -> None:
        for change in changes.helpdesk_only():
            log.warning("event=action_not_applicable source=%s key=%s action=%s reason=only a helpdesk source "
                        "can assign or comment", self.name, message.key, change.split(":")[0])
        path = self._locate(message.key)
        if path is None:
            return  # already moved by an earlier ack that was interrupted before the ledger noted it
        flags = set(_split_name(path.name)[1])
        if changes.mark_seen:
            flags.add("S")
        if changes.flag:
            flags.add("F")
        if changes.delete:  # Dovecot's Trash, flagged T (trashed): a mail client shows it as deleted
            flags.add("T")
        target = "Trash" if changes.delete else changes.move_to
        target_dir = folder_dir(self.root, target) if target else self.root
        if target_dir != self.root:
            ensure_maildir(target_dir, subfolder=True)
        for keyword in changes.keywords:
            letter = Keywords(target_dir).letter(keyword)
            if letter is None:
                log.warning("event=keyword_skipped source=%s reason=folder has %d keywords already",
                            self.name, MAX_KEYWORDS)
            else:
                flags.add(letter)
        self._place(path, message.key, target_dir, flags)

    def fail(self, message: RawMessage, reason: str) -> None:
        path = self._locate(message.key)
        if path is None:
            return
        flags = set(_split_name(path.name)[1])
        target = folder_dir(self.root, self.config.quarantine_folder)
        self._place(path, message.key, target, flags)

    def _place(self, path: Path, key: str, target_dir: Path, flags: set[str]) -> None:
        """Rename within a folder, or link into the target then unlink: a crash in between leaves
        the same file name in both places, and the redo finds it already in the target."""
        upper = "".join(sorted(f for f in flags if f.isupper()))
        lower = "".join(sorted(f for f in flags if f.islower()))
        name = f"{key}:2,{upper}{lower}"
        if target_dir == self.root:
            os.replace(path, self.root / "cur" / name)
            return
        ensure_maildir(target_dir, subfolder=True)
        dest = target_dir / "cur" / name
        if not (_files_with_key(target_dir / "cur", key) or _files_with_key(target_dir / "new", key)):
            os.link(path, dest)
            fsync_dir(dest.parent)
        path.unlink(missing_ok=True)
        fsync_dir(path.parent)

    def close(self) -> None:
        return None
