"""ZIP and TNEF (winmail.dat) attachments, and signed files (.p7m): the files inside become
attachments of their own, within the message's limits.

A vendor that zips its invoice PDFs (or a scanner that mails a ZIP of scans) must not be silently
skipped. The members are read with the same limits as attachments (count, bytes) and the archive
as a whole may not unpack to more than the message may hold; a member that would expand more than
MAX_RATIO times, or an archive nested in it, is refused with a clear error for that part: a zip
bomb costs one error, never the daemon's memory. Encrypted members cannot be read and say so.

A `.p7m` is a CMS/PKCS#7 SignedData envelope around one file: every Italian FatturaPA invoice sent
signed (`IT01234567890_00001.xml.p7m`), and signed PDFs. Its content is taken out (DER, BER or
base64, up to three envelopes deep) without checking the signature: the Italian exchange system
(SdI) checks it before delivery, and a signature says nothing about the fields.
"""

from __future__ import annotations

import base64
import binascii
import io
import posixpath
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

from inbox_ocr.kernel.errors import PermanentError
from inbox_ocr.kernel.settings import Limits
from inbox_ocr.mime.decode import SIGNED_DATA_OID

MAX_RATIO = 100  # uncompressed / compressed; PDFs and images compress far less
TNEF_SIGNATURE = b"\x78\x9f\x3e\x22"  # 0x223E9F78 little-endian: Outlook's winmail.dat
_SKIP_PREFIXES = ("__MACOSX/", ".")


class ArchiveError(PermanentError):
    """The archive (or one member) cannot be unpacked; the message goes on without it."""


@dataclass(frozen=True)
class Member:
    name: str  # the member's file name, without folders
    data: bytes


def zip_members(data: bytes, limits: Limits, room: int) -> Iterator[Member | ArchiveError]:
    """The files of a ZIP archive, at most `room` of them (attachments left under the limit), each
    as a Member, or an ArchiveError for one that cannot be read. Raises ArchiveError for an archive
    that cannot be opened or that would unpack to more than limits.max_message_bytes."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = [i for i in archive.infolist() if not i.is_dir()
                 and not posixpath.basename(i.filename).startswith(_SKIP_PREFIXES)
                 and not i.filename.startswith(_SKIP_PREFIXES)]
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise ArchiveError(f"not a readable ZIP archive: {exc}") from exc
    declared = sum(i.file_size for i in infos)
    if declared > limits.max_message_bytes:
        raise ArchiveError(f"the ZIP archive would unpack to {declared} bytes, over limits.max_message_bytes "
                           f"({limits.max_message_bytes}); not unpacked (a zip bomb?)")
    unpacked = 0
    for count, info in enumerate(infos):
        name = posixpath.basename(info.filename) or f"member-{count + 1}"
        if count >= room:
            yield ArchiveError(f"{name}: more files in the archive than limits.max_attachments allows; "
                               f"{len(infos) - count} not unpacked")
            return
        if info.flag_bits & 0x1:
            yield ArchiveError(f"{name}: encrypted in the archive; cannot be read")
            continue
        if info.file_size > limits.max_attachment_bytes:
            yield ArchiveError(f"{name}: {info.file_size} bytes unpacked, over limits.max_attachment_bytes")
            continue
        if info.compress_size and info.file_size / info.compress_size > MAX_RATIO:
            yield ArchiveError(f"{name}: would expand {info.file_size // info.compress_size}x "
                               f"(over {MAX_RATIO}x: a zip bomb?); not unpacked")
            continue
        try:
            with archive.open(info) as member:  # the declared size is not trusted: read at most that much
                content = member.read(info.file_size + 1)
        except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
            yield ArchiveError(f"{name}: cannot be unpacked: {exc}")
            continue
        if len(content) > info.file_size:
            yield ArchiveError(f"{name}: unpacks to more than the archive declares; not read")
            continue
        unpacked += len(content)
        if unpacked > limits.max_message_bytes:
            yield ArchiveError(f"the archive unpacks to more than limits.max_message_bytes; stopped at {name}")
            return
        if content.startswith(b"PK\x03\x04") and name.lower().endswith(".zip"):
            yield ArchiveError(f"{name}: an archive inside the archive; not unpacked")
            continue
        yield Member(name, content)


def is_tnef(data: bytes) -> bool:
    return data.startswith(TNEF_SIGNATURE)


def tnef_members(data: bytes, limits: Limits, room: int) -> Iterator[Member | ArchiveError]:
    """The files Outlook wrapped into a winmail.dat (TNEF), like zip_members. Raises ArchiveError
    for data that tnefparse cannot read."""
    from tnefparse import TNEF

    try:
        wrapped = TNEF(data)
        attachments = list(wrapped.attachments)
    except Exception as exc:  # tnefparse raises several types for damaged data
        raise ArchiveError(f"not a readable winmail.dat (TNEF): {exc}") from exc
    total = 0
    for count, attachment in enumerate(attachments):
        try:
            name = attachment.long_filename() or attachment.name or f"member-{count + 1}"
        except Exception:  # a name in a broken encoding
            name = f"member-{count + 1}"
        name = posixpath.basename(str(name).replace("\\", "/")) or f"member-{count + 1}"
        if count >= room:
            yield ArchiveError(f"{name}: more files in winmail.dat than limits.max_attachments allows; "
                               f"{len(attachments) - count} not unpacked")
            return
        content = bytes(attachment.data or b"")
        if len(content) > limits.max_attachment_bytes:
            yield ArchiveError(f"{name}: {len(content)} bytes, over limits.max_attachment_bytes")
            continue
        total += len(content)
        if total > limits.max_message_bytes:
            yield ArchiveError(f"winmail.dat holds more than limits.max_message_bytes; stopped at {name}")
            return
        yield Member(name, content)


MAX_ENVELOPES = 3


def _der(data: bytes) -> bytes | None:
    """The DER/BER bytes of a CMS SignedData file given as DER, base64 or PEM; None for anything else."""
    if data[:1] == b"\x30":
        return data if SIGNED_DATA_OID in data[:32] else None
    text = data.strip()
    if text.startswith(b"-----BEGIN"):
        text = b"".join(line for line in text.splitlines() if not line.startswith(b"-----"))
    if not text.startswith(b"MI"):  # base64 of a DER SEQUENCE starts so
        return None
    try:
        der = base64.b64decode(b"".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        return None
    return der if der[:1] == b"\x30" and SIGNED_DATA_OID in der[:32] else None


SIGNED_TYPES = frozenset({"application/pkcs7-mime", "application/x-pkcs7-mime"})


def is_signed_file(data: bytes, content_type: str, filename: str | None) -> bool:
    """A signed file to open: a .p7m (by type or name) that holds CMS SignedData (DER, BER or base64).
    A detached signature (.p7s, an S/MIME mail's signature part) is not one."""
    named = (filename or "").lower().endswith(".p7m")
    return (content_type in SIGNED_TYPES or named) and _der(data) is not None


def signed_members(data: bytes, limits: Limits, filename: str | None) -> Iterator[Member | ArchiveError]:
    """The file inside a signed .p7m, named as the envelope without `.p7m`. Raises ArchiveError
    for an envelope that cannot be read and for a detached signature (it holds no file)."""
    from asn1crypto import cms

    name = posixpath.basename(filename or "") or "signed-content"
    content: bytes | None = data
    for _ in range(MAX_ENVELOPES):
        der = _der(content) if content is not None else None
        if der is None:
            break
        try:
            info = cms.ContentInfo.load(der)
            content = info["content"]["encap_content_info"]["content"].native
        except Exception as exc:  # asn1crypto raises several types for damaged or hostile bytes
            raise ArchiveError(f"not a readable signed file (.p7m): {exc}") from exc
        if content is None:
            raise ArchiveError("a detached signature: it holds no document")
        if name.lower().endswith((".p7m", ".p7s")):
            name = name[:-4]
    if content is None or content is data:
        raise ArchiveError("not a signed file (.p7m)")
    if len(content) > limits.max_attachment_bytes:
        yield ArchiveError(f"{name}: {len(content)} bytes, over limits.max_attachment_bytes")
        return
    yield Member(name or "signed-content", content)
