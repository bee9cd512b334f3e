"""A corpus of hostile and broken mail, generated here (nothing is downloaded or checked in).

Each `Case` is one RFC 5322 message and a check of what the ledger must say about it afterwards:
quarantined with a reason, or routed with a clear error (or limit warning) on the bad part or
document. `python -m tests.badinput.corpus DIR` writes the corpus as .eml files to look at.
"""

from __future__ import annotations

import base64
import io
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pymupdf

from inbox_ocr.app.samples import invoice_doc, render_pdf

Row = dict[str, Any]  # a ledger row: status, error, documents (list of summaries)


@dataclass(frozen=True)
class Case:
    name: str
    raw: bytes
    check: Callable[[Row], str | None]  # None: as expected; else what is wrong


# --------------------------------------------------------------------------- building blocks


def _headers(subject: str) -> bytes:
    return (f"From: Vendor <billing@vendor.example>\r\nTo: ap@company.example\r\nSubject: {subject}\r\n"
            f"Message-ID: <{subject.replace(' ', '-')}@badinput.example>\r\nDate: Sat, 21 Nov 2026 10:00:00 +0000\r\n"
            ).encode()


def _with_attachment(subject: str, data: bytes, filename: str, ctype: str = "application/pdf") -> bytes:
    msg = EmailMessage()
    msg["From"] = "Vendor <billing@vendor.example>"
    msg["To"] = "ap@company.example"
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{subject.replace(' ', '-')}@badinput.example>"
    msg.set_content("See attached.")
    maintype, subtype = ctype.split("/")
    msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


def _png(width: int, height: int, bit_depth: int, color_type: int, rows: Callable[[], bytes] | None,
         idat: bytes | None = None) -> bytes:
    """A PNG written chunk by chunk, so absurd dimensions cost nothing to make."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    if idat is None:
        assert rows is not None
        idat = rows()
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _bomb_rows(width: int, height: int) -> bytes:
    """zlib stream of `height` all-zero 1-bit rows: ~312 MB of pixels in ~300 KB."""
    comp = zlib.compressobj(9)
    row = b"\x00" * (1 + (width + 7) // 8)
    out = [comp.compress(row * 1000) for _ in range(height // 1000)]
    out.append(comp.flush())
    return b"".join(out)


def _pdf_pages(count: int) -> bytes:
    """A PDF of `count` pages written by hand (pymupdf needs ~25 s for 10,000 pages): every page
    shares one content stream with a line of real text, so each has a text layer."""
    text = b"BT /F1 11 Tf 50 760 Td (Statement of account, page after page, nothing due) Tj ET"
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % (5 + i) for i in range(count))
               + b"] /Count %d >>" % count,
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
               b"<< /Length %d >>\nstream\n" % len(text) + text + b"\nendstream"]
    page = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
            b"/Resources << /Font << /F1 3 0 R >> >> >>")
    objects += [page] * count
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _huge_box_pdf() -> bytes:
    pdf = pymupdf.open()
    pdf.new_page(width=200_000, height=200_000)  # 2.8 km square; no text: a "scan" to be rendered
    data: bytes = pdf.tobytes()
    pdf.close()
    return data


def _scan_pdf(pages: int) -> bytes:
    """Pages that are images of text (no text layer): each must be OCRed."""
    source = pymupdf.open(stream=render_pdf(invoice_doc()), filetype="pdf")
    pix = source[0].get_pixmap(dpi=150)
    png = pix.tobytes("jpg", jpg_quality=60)
    source.close()
    pdf = pymupdf.open()
    xref = 0
    for _ in range(pages):
        page = pdf.new_page(width=595, height=842)
        # one image object shared by every page keeps the file small
        xref = page.insert_image(page.rect, xref=xref) if xref else page.insert_image(page.rect, stream=png)
    data: bytes = pdf.tobytes()
    pdf.close()
    return data


def _encrypted_pdf() -> bytes:
    pdf = pymupdf.open(stream=render_pdf(invoice_doc()), filetype="pdf")
    data: bytes = pdf.tobytes(encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="open-sesame", owner_pw="owner")
    pdf.close()
    return data


def _polyglot() -> bytes:
    """A valid PDF that is also a valid ZIP (the archive appended; ZIP readers look from the end)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("payload.exe", b"MZ" + b"\x00" * 500)
        z.writestr("../../evil.sh", b"#!/bin/sh\nrm -rf /\n")
    return render_pdf(invoice_doc(number="POLY-1")) + buf.getvalue()


# --------------------------------------------------------------------------- checks


def _quarantined(row: Row) -> str | None:
    if row["status"] != "quarantined":
        return f"expected quarantined, got {row['status']}"
    return None if row["error"] else "quarantined without a reason"


def _doc_error(*needles: str) -> Callable[[Row], str | None]:
    assert needles, "say which error is expected"

    def check(row: Row) -> str | None:
        if row["status"] == "quarantined":
            return None if row["error"] else "quarantined without a reason"
        texts = [f"{d.get('error') or ''} {' '.join(d.get('warnings') or [])}" for d in row["documents"]]
        texts.append(row["error"] or "")
        if any(all(n.lower() in t.lower() for n in needles) for t in texts):
            return None
        return f"no error or warning mentioning {needles}: error={row['error']!r} documents={row['documents']!r}"
    return check


def _part_error(*needles: str) -> Callable[[Row], str | None]:
    def check(row: Row) -> str | None:
        if row["status"] == "quarantined":
            return None if row["error"] else "quarantined without a reason"
        text = (row["error"] or "").lower()
        return None if all(n.lower() in text for n in needles) else f"part error {row['error']!r} lacks {needles}"
    return check


def _clean_names(row: Row) -> str | None:
    names = [d.get("attachment") or "" for d in row["documents"]]
    bad = [n for n in names if "/" in n or "\\" in n or ".." in n or any(ord(c) < 32 or ord(c) == 127 for c in n)]
    if not names:
        return f"no document recorded: {row}"
    return f"unsafe file names kept: {bad!r}" if bad else None


def _one_document(row: Row) -> str | None:
    if row["status"] != "done" or len(row["documents"]) != 1:
        return f"expected routed with one document: {row}"
    doc = row["documents"][0]
    return None if doc.get("error") or doc.get("source") == "text_layer" else f"neither read nor errored: {doc}"


def _routed(row: Row) -> str | None:
    return None if row["status"] == "done" else f"expected routed, got {row['status']}: {row['error']}"


# --------------------------------------------------------------------------- the corpus


def build_corpus(slow_pages: int = 40) -> list[Case]:
    pdf = render_pdf(invoice_doc(number="BAD-1"))
    cases: list[Case] = []
    add = cases.append

    add(Case("not a message", b"\x00\x01\x02 this is not mail \xff\xfe" * 50, _quarantined))
    add(Case("empty message", b"\r\n\r\n", _quarantined))
    add(Case("broken boundary", _headers("broken boundary")
             + b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="declared"\r\n\r\n'
             b"--other\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4 garbage\r\n--other\r\n"
             b"--declared\r\nContent-Type: text/plain\r\n\r\nhello", _routed))
    bad_b64 = base64.b64encode(pdf).decode()
    bad_b64 = "".join(ch if i % 7 else "!" for i, ch in enumerate(bad_b64))
    add(Case("bad base64", _headers("bad base64") + b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; '
             b'boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee pdf\r\n--b\r\nContent-Type: '
             b'application/pdf; name="x.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
             + bad_b64.encode() + b"\r\n--b--\r\n", _part_error("base64")))
    add(Case("unknown charset", _headers("unknown charset") + b'MIME-Version: 1.0\r\nContent-Type: text/plain; '
             b'charset="x-klingon-42"\r\nContent-Transfer-Encoding: 8bit\r\n\r\nQapla\xe2\x80\x99 \xff\xfe\r\n',
             _part_error("charset")))
    parts = b"".join(b'--p\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; '
                     b'filename="f%d.bin"\r\n\r\nxx\r\n' % i for i in range(1000))
    add(Case("1000 parts", _headers("1000 parts") + b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; '
             b'boundary="p"\r\n\r\n' + parts + b"--p--\r\n", _part_error("attachments")))
    inner = _with_attachment("innermost", pdf, "deep.pdf")
    for level in range(60):
        subject = "nested message/rfc822 x60" if level == 59 else f"level {level}"
        inner = (_headers(subject) + b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="n'
                 + str(level).encode() + b'"\r\n\r\n--n' + str(level).encode()
                 + b"\r\nContent-Type: message/rfc822\r\n\r\n" + inner + b"\r\n--n" + str(level).encode() + b"--\r\n")
    add(Case("nested message/rfc822 x60", inner, _part_error("nested")))
    add(Case("enormous headers", _headers("enormous headers") + b"To: " + b", ".join(
        b"person%d@example.com" % i for i in range(60_000)) + b"\r\nX-Junk: " + b"A" * 3_000_000
        + b"\r\n\r\nbody\r\n", _part_error("header")))
    # pymupdf repairs what it can: half a file still gives the text of the objects that survived
    add(Case("truncated pdf half", _with_attachment("truncated pdf half", pdf[: len(pdf) // 2], "half.pdf"),
             _one_document))
    add(Case("truncated pdf 400 bytes", _with_attachment("truncated pdf 400 bytes", pdf[:400], "stub.pdf"),
             _doc_error("not a readable PDF")))
    add(Case("encrypted pdf", _with_attachment("encrypted pdf", _encrypted_pdf(), "locked.pdf"),
             _doc_error("encrypted")))
    add(Case("10000 pages", _with_attachment("10000 pages", _pdf_pages(10_000), "statement.pdf"),
             _doc_error("10000 pages")))
    add(Case("huge page box", _with_attachment("huge page box", _huge_box_pdf(), "poster.pdf"), _routed))
    add(Case("decompression bomb png", _with_attachment(
        "decompression bomb png", _png(50_000, 50_000, 1, 0, lambda: _bomb_rows(50_000, 50_000)), "bomb.png",
        "image/png"), _doc_error("too large")))
    add(Case("50000x50000 rgb png header", _with_attachment(
        "50000x50000 rgb png header", _png(50_000, 50_000, 8, 2, None, idat=zlib.compress(b"\x00" * 4096)),
        "big.png", "image/png"), _doc_error("too large")))
    add(Case("pdf zip polyglot", _with_attachment("pdf zip polyglot", _polyglot(), "poly.pdf"), _routed))
    add(Case("path traversal names", _with_attachment("path traversal names", pdf, "../../../etc/cron.d/x.pdf"),
             _clean_names))
    raw = _with_attachment("control characters", pdf, "placeholder.pdf").replace(
        b'filename="placeholder.pdf"', b'filename="inv\x01oice\x1b[31m\r\n .pdf"')
    add(Case("control characters", raw, _clean_names))
    add(Case("windows traversal", _with_attachment("windows traversal", pdf, "..\\..\\Windows\\system32\\x.pdf"),
             _clean_names))
    add(Case("over the attachment limit", _with_attachment("over the attachment limit", b"%PDF-1.4\n" + b"0" * (
        6 * 1024**2), "big.pdf"), _part_error("bytes")))
    add(Case("slow scan", _with_attachment("slow scan", _scan_pdf(slow_pages), "scan.pdf"),
             _doc_error("limits.document_seconds")))
    return cases


def main() -> None:
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "badinput-corpus")
    target.mkdir(parents=True, exist_ok=True)
    for i, case in enumerate(build_corpus()):
        (target / f"{i:02d}-{case.name.replace(' ', '-')}.eml").write_bytes(case.raw)
    print(f"wrote the corpus to {target}")


if __name__ == "__main__":
    main()
