"""ZIP attachments are unpacked within the limits: the PDFs inside are read; a zip bomb, an
encrypted member, a nested archive or a broken archive is an error for that part only."""

from __future__ import annotations

import io
import zipfile

from inbox_ocr.app import samples
from inbox_ocr.app.config import parse_config
from inbox_ocr.app.wiring import build_processor
from inbox_ocr.kernel.models import RawMessage
from inbox_ocr.kernel.settings import Limits
from inbox_ocr.mime import parse_message
from inbox_ocr.orchestration.pipeline import process_message


def zipped(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED,
           encrypted: frozenset[str] = frozenset()) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    data = bytearray(out.getvalue())
    for name in encrypted:  # zipfile cannot encrypt: set the flag in the member's central directory entry
        at = data.find(b"PK\x01\x02")
        while at >= 0:
            length = int.from_bytes(data[at + 28:at + 30], "little")
            if data[at + 46:at + 46 + length].decode() == name:
                data[at + 8] |= 0x1
            at = data.find(b"PK\x01\x02", at + 4)
    return bytes(data)


def mail(*attachments: tuple[str, str, bytes]) -> bytes:
    return samples.build_message(samples.SampleMessage(
        name="zip", subject="Invoices", sender="billing@acme.example", body="Two invoices, zipped.",
        attachments=attachments))


def test_the_invoices_in_a_zip_are_read(tmp_path) -> None:  # type: ignore[no-untyped-def]
    first = samples.render_pdf(samples.invoice_doc(number="ZIP-1"))
    second = samples.render_pdf(samples.invoice_doc(number="ZIP-2"))
    archive = zipped({"invoices/ZIP-1.pdf": first, "invoices/ZIP-2.pdf": second, "__MACOSX/._ZIP-1.pdf": b"x"},
                     method=zipfile.ZIP_STORED)  # stored: the PDF bytes are plain inside the archive
    config = parse_config({"sources": [{"name": "m", "type": "maildir", "path": "unused"}],
                           "state_dir": str(tmp_path / "var")})
    outcome = process_message(RawMessage(source="m", key="k", raw=mail(("invoices.zip", "application/zip", archive))),
                              build_processor(config))
    assert [a.filename for a in outcome.message.attachments] == ["invoices.zip", "ZIP-1.pdf", "ZIP-2.pdf"]
    assert [a.part for a in outcome.message.attachments] == ["2", "2.1", "2.2"]
    assert [d.fields.invoice_number for d in outcome.documents] == ["ZIP-1", "ZIP-2"]
    assert outcome.message.errors == ()


def test_a_zip_bomb_an_encrypted_or_nested_member_cost_one_error_each() -> None:
    pdf = samples.render_pdf(samples.invoice_doc())
    archive = zipped({"bomb.pdf": b"\0" * 20_000_000, "secret.pdf": pdf, "inner.zip": zipped({"a.pdf": pdf}),
                      "good.pdf": pdf}, encrypted=frozenset({"secret.pdf"}))
    parsed = parse_message(mail(("all.zip", "application/octet-stream", archive)))
    assert [a.filename for a in parsed.attachments] == ["all.zip", "good.pdf"]
    errors = {e.part: e.error for e in parsed.errors}
    assert "zip bomb" in errors["2.1"] and "encrypted" in errors["2.2"] and "archive inside" in errors["2.3"]


def test_an_archive_over_the_limits_or_broken_is_refused_whole() -> None:
    limits = Limits(max_message_bytes=1_000_000)
    big = zipped({f"{i}.pdf": b"%PDF-1.4 " + bytes(range(256)) * 1000 for i in range(5)})
    parsed = parse_message(mail(("big.zip", "application/zip", big)), limits)
    assert [a.filename for a in parsed.attachments] == ["big.zip"]
    assert "would unpack to 1280045 bytes, over limits.max_message_bytes" in parsed.errors[0].error
    broken = parse_message(mail(("broken.zip", "application/zip", b"PK\x03\x04" + b"\xff" * 200)))
    assert "not a readable ZIP archive" in broken.errors[0].error


def test_the_attachment_limit_counts_the_files_in_archives() -> None:
    archive = zipped({f"{i}.txt": b"x" for i in range(10)})
    parsed = parse_message(mail(("many.zip", "application/zip", archive)), Limits(max_attachments=4))
    assert len(parsed.attachments) == 4  # the archive and three of its files
    assert "7 not unpacked" in parsed.errors[-1].error


def winmail(files: list[tuple[str, bytes]]) -> bytes:
    """A winmail.dat as Outlook writes it (MS-OXTNEF): the signature, then attributes, each
    level, id, length, data and a checksum; per attachment its rendering, title and data."""
    import struct

    def attribute(level: int, attribute_id: int, data: bytes) -> bytes:
        return struct.pack("<BII", level, attribute_id, len(data)) + data + struct.pack("<H", sum(data) & 0xFFFF)

    out = struct.pack("<IH", 0x223E9F78, 0x0001)
    out += attribute(1, 0x00089006, struct.pack("<I", 0x00010000))  # attTnefVersion
    out += attribute(1, 0x00069007, struct.pack("<II", 1252, 0))  # attOemCodepage
    for name, data in files:
        out += attribute(2, 0x00069002, struct.pack("<HHIHHH", 1, 0xFFFF, 0xFFFFFFFF, 0, 0, 0))  # attAttachRenddata
        out += attribute(2, 0x00018010, name.encode() + b"\0")  # attAttachTitle
        out += attribute(2, 0x0006800F, data)  # attAttachData
    return out


def test_the_invoices_in_an_outlook_winmail_dat_are_read(tmp_path) -> None:  # type: ignore[no-untyped-def]
    first = samples.render_pdf(samples.invoice_doc(number="TNEF-1"))
    second = samples.render_pdf(samples.invoice_doc(number="TNEF-2"))
    config = parse_config({"sources": [{"name": "m", "type": "maildir", "path": "unused"}],
                           "state_dir": str(tmp_path / "var")})
    raw = mail(("winmail.dat", "application/ms-tnef", winmail([("TNEF-1.pdf", first), ("TNEF-2.pdf", second)])))
    outcome = process_message(RawMessage(source="m", key="k", raw=raw), build_processor(config))
    assert [a.filename for a in outcome.message.attachments] == ["winmail.dat", "TNEF-1.pdf", "TNEF-2.pdf"]
    assert [d.fields.invoice_number for d in outcome.documents] == ["TNEF-1", "TNEF-2"]
    # a winmail.dat with no files in it (only Outlook's rich text): nothing more to read, no error
    empty = parse_message(mail(("winmail.dat", "application/ms-tnef", b"\x78\x9f\x3e\x22" + b"\x00" * 10)))
    assert [a.filename for a in empty.attachments] == ["winmail.dat"] and empty.errors == ()
