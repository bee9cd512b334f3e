"""Extract stage: what a user sees of real and hostile mail (names, types, bodies, per-part errors)."""

from __future__ import annotations

import base64
import random
import unicodedata
from datetime import UTC
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inbox_ocr.kernel.errors import MalformedMessage
from inbox_ocr.kernel.models import ParsedMessage
from inbox_ocr.kernel.settings import Limits
from inbox_ocr.mime.parse import MAX_BODY_CHARS, parse_message
from tests.conftest import DATASETS, dataset

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
XML = b'<?xml version="1.0" encoding="UTF-8"?>\n<rsm:CrossIndustryInvoice xmlns:rsm="urn:x"/>\n'
EMAILS_DEV = DATASETS / "emails-dev"


def dev(name: str) -> ParsedMessage:
    return parse_message((dataset("emails-dev") / name).read_bytes())


def by_name(parsed: ParsedMessage) -> dict[str, object]:
    return {a.filename: a for a in parsed.attachments}


def message(body: str = "Please find the invoice attached.", **headers: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = headers.pop("from_", "Accounts <ap@vendor.example>")
    msg["To"] = headers.pop("to", "Finance <finance@corp.example>")
    msg["Subject"] = headers.pop("subject", "Invoice 4711")
    msg["Message-ID"] = "<4711@vendor.example>"
    msg["Date"] = headers.pop("date", "Tue, 03 Mar 2026 10:00:00 +0100")
    for key, value in headers.items():
        msg[key.replace("_", "-")] = value
    msg.set_content(body)
    return msg


def raw_part_message(part_headers: str, payload: bytes = b"", cte: str = "base64",
                     encode: bool = True) -> bytes:
    """A two-part message whose second part has hand-written headers (for what the email package
    refuses to generate: raw 8-bit names, lies, broken encodings). encode=False writes `payload`
    as it is, whatever `cte` says."""
    body = base64.encodebytes(payload) if cte == "base64" and encode else payload
    return (
        b"From: a@b.example\r\nTo: c@d.example\r\nSubject: test\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="XX"\r\n\r\n'
        b"--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nbody text\r\n"
        b"--XX\r\n" + part_headers.encode("utf-8", "surrogateescape")
        + f"\r\nContent-Transfer-Encoding: {cte}\r\n\r\n".encode() + body + b"\r\n--XX--\r\n"
    )


def named(header_value: bytes | str) -> str:
    """Parse a message whose PDF part carries this Content-Disposition value; return its file name."""
    if isinstance(header_value, bytes):
        header_value = header_value.decode("utf-8", "surrogateescape")
    headers = f"Content-Type: application/pdf\r\nContent-Disposition: {header_value}"
    parsed = parse_message(raw_part_message(headers, PDF))
    (att,) = parsed.attachments
    return att.filename


# --------------------------------------------------------------------------- the dev emails


@pytest.mark.parametrize("path", sorted(EMAILS_DEV.glob("*.eml")) or [None], ids=lambda p: p and p.name)
def test_every_dev_email_parses_to_safe_serializable_record(path: Path | None) -> None:
    if path is None:
        pytest.skip(f"dataset {EMAILS_DEV} not available")
    parsed = parse_message(path.read_bytes())
    parsed.model_dump_json(exclude={"attachments": {"__all__": {"data"}}})  # no lone surrogates anywhere
    assert parsed.sender or parsed.recipients
    for att in parsed.attachments:
        assert att.filename and "/" not in att.filename and "\\" not in att.filename
        assert not any(unicodedata.category(ch) == "Cc" for ch in att.filename)
        assert not att.filename.startswith(".")
    assert len(parsed.body_text) <= MAX_BODY_CHARS + 10


def test_koi8r_file_names_decode_to_cyrillic() -> None:
    parsed = dev("django-mailbox__message_with_koi8r_filename_attachments.eml")
    assert [a.filename for a in parsed.attachments] == [
        "Пакет предложений HSE Career Fair 8 апреля 2016.pdf",
        "Ведомости.pdf",
        "Пакет предложений 2016.pptx",
    ]
    pdfs = [a for a in parsed.attachments if a.content_type == "application/pdf"]
    assert len(pdfs) == 2 and all(a.data.startswith(b"%PDF-") for a in pdfs)
    assert parsed.attachments[2].content_type.endswith("presentationml.presentation")
    assert parsed.subject == "Предложения от НИУ ВШЭ на 2016 год"
    assert parsed.body_text.startswith("Добрый день")  # koi8-r quoted-printable body


def test_image_named_pdf_with_newline_gets_clean_name_and_image_type() -> None:
    parsed = dev("php-mime-mail-parser__issue250.eml")
    (att,) = parsed.attachments
    assert att.filename == "Kontoutskrift for 1506.14.90466 Bedriftskonto.pdf"
    assert att.original_filename == "Kontoutskrift for 1506.14.90466\nBedriftskonto.pdf"
    assert att.content_type == "image/png" and att.part == "1"
    assert any("empty" in d for d in parsed.defects)  # the sample is truncated before its data


def test_octet_stream_pdfs_are_sniffed_and_inline_images_keep_their_cid() -> None:
    parsed = dev("mail-parser__mail_test_2.eml")
    atts = by_name(parsed)
    bulletin = atts["Bollettino.pdf"]
    assert bulletin.declared_type == "application/octet-stream" and bulletin.content_type == "application/pdf"
    assert bulletin.data.startswith(b"%PDF-") and not bulletin.inline
    logo = atts["logometeo.jpg"]
    assert logo.inline and logo.content_id == "logo.jpg" and logo.part == "1.3"
    assert parsed.body_text.startswith("Ufficio Meteorologico")
    ibm = by_name(dev("mail-parser__mail_test_10.eml"))
    assert ibm["Move To Eight ZWEP6227F.pdf"].content_type == "application/pdf"
    assert {a.filename for a in ibm.values() if a.inline} == {"attachment-1.2.gif", "attachment-1.3.gif",
                                                               "attachment-1.4.gif"}


def test_nameless_inline_images_get_generated_names() -> None:
    parsed = dev("mail-parser__mail_test_6.eml")
    assert [a.filename for a in parsed.attachments] == [f"attachment-{i}.png" for i in range(2, 6)]
    assert all(a.inline and a.content_id and a.original_filename is None for a in parsed.attachments)
    assert "Профессионалы.ru" in parsed.body_text  # HTML-only body, tags stripped
    assert "<td" not in parsed.body_text


def test_declared_gif_that_is_a_jpeg_is_typed_by_its_bytes() -> None:
    atts = by_name(dev("php-mime-mail-parser__m0008.eml"))
    assert atts["logo.jpg"].declared_type == "image/gif"
    assert atts["logo.jpg"].content_type == "image/jpeg"
    assert atts["attachment.txt"].content_type == "text/plain"


def test_truncated_base64_is_a_part_error_and_the_rest_is_kept() -> None:
    parsed = dev("php-mime-mail-parser__m0018.eml")
    (error,) = parsed.errors
    assert error.part == "2" and error.filename == "사진.JPG" and "base64" in error.error
    assert [a.filename for a in parsed.attachments] == ["ATT00001.txt"]
    assert "My traveling companions" in parsed.body_text  # ks_c_5601-1987 body decoded


def test_a_pdf_that_is_not_a_pdf_is_kept_and_flagged() -> None:
    parsed = dev("php-mime-mail-parser__m0013.eml")
    (att,) = parsed.attachments
    assert att.filename == "50032266 CAR 11_MNPA00A01_9PTX_H00 ATT N° 1467829.pdf"
    assert att.content_type == "application/pdf"  # the read stage reports it as unreadable
    assert any("declared application/pdf, but the bytes are not" in d for d in parsed.defects)
    real = dev("mikel-mail__attachment_emails_attachment_pdf.eml")
    assert real.attachments[0].data.startswith(b"%PDF-") and not any("declared" in d for d in real.defects)


def test_parts_after_a_reused_closing_boundary_are_recovered() -> None:
    parsed = dev("mail-parser__mail_malformed_1.eml")
    att, member = parsed.attachments  # the ZIP, and the file in it (unpacked; a program, so never read)
    assert att.filename == "20160523_916527.jpg_.zip" and att.content_type == "application/zip"
    assert (member.part, member.content_type) == ("4.1", "application/x-msdownload")
    assert any("recovered" in d for d in parsed.defects)


def test_forwarded_messages_contribute_body_and_parts() -> None:
    fwd = dev("php-mime-mail-parser__issue158a.eml")
    assert "An original PLAIN TEXT" in fwd.body_text and "RFC 822 forward" in fwd.body_text
    inline = dev("mikel-mail__attachment_emails_attachment_message_rfc822_inline_image.eml")
    (img,) = inline.attachments
    assert img.filename == "img.png" and img.inline and img.content_id.endswith("@kronos")
    assert any(d.startswith("2") for d in inline.defects)  # the forwarded copy is cut off


def test_raw_8bit_and_non_ascii_names_and_subjects() -> None:
    raw_utf8 = b"\xc3\xb0\xcc\x9eo\xce\xb2\xcc\x9ele.png".decode()  # raw 8-bit UTF-8 in the header
    assert set(by_name(dev("django-mailbox__message_with_not_decoded_attachment_header.eml"))) == {raw_utf8}
    assert set(by_name(dev("django-mailbox__message_with_utf8_attachment.eml"))) == {
        "piłkochwyty.jpg", "odpowiedź Burmistrza.jpg"}
    assert set(by_name(dev("mikel-mail__attachment_emails_attachment_with_quoted_filename.eml"))) == {
        "Eelanalüüsi päring.jpg"}
    assert set(by_name(dev("mikel-mail__multi_charset_japanese_attachment.eml"))) == {"てすと.txt"}
    # raw cp1251 bytes in the Subject with no charset anywhere
    cp1251 = dev("django-mailbox__message_with_single_byte_extended_subject_encoding.eml")
    assert cp1251.subject == "Узнай как зарабатывать от 1000$ в неделю!"


def test_content_location_names_an_unnamed_part() -> None:
    parsed = dev("mikel-mail__attachment_emails_attachment_content_location.eml")
    (att,) = parsed.attachments
    assert att.filename == "Photo25.jpg" and att.inline and att.content_id == "qbFGyPQAS8"


def test_headers_of_a_plain_message() -> None:
    parsed = dev("django-mailbox__generic_message.eml")
    assert parsed.attachments == () and parsed.errors == ()
    assert parsed.sender == "test@adamcoddington.net" and parsed.sender_name == "Adam Coddington"
    assert parsed.subject == "Message Without Attachment"
    assert parsed.date is not None and parsed.date.utcoffset() is not None
    assert parsed.body_text == "Hello there."


# --------------------------------------------------------------------------- generated edge cases


def test_headers_recipients_and_dates() -> None:
    msg = message(to="Finance <Finance@Corp.example>, ap@corp.example",
                  Cc="FINANCE@corp.example, x@y.example")
    parsed = parse_message(msg.as_bytes())
    assert parsed.sender == "ap@vendor.example" and parsed.sender_name == "Accounts"
    assert parsed.recipients == ("finance@corp.example", "ap@corp.example", "x@y.example")
    assert parsed.date is not None and parsed.date.isoformat() == "2026-03-03T10:00:00+01:00"
    assert parsed.message_id == "<4711@vendor.example>"
    utc = parse_message(message(date="Tue, 03 Mar 2026 10:00:00 -0000").as_bytes())
    assert utc.date is not None and utc.date.tzinfo is not None and utc.date.utcoffset().total_seconds() == 0
    assert utc.date.astimezone(UTC).hour == 10
    assert parse_message(message(date="not a date").as_bytes()).date is None


def test_rfc2231_names_including_a_mis_declared_charset() -> None:
    msg = message()
    msg.add_attachment(PDF, maintype="application", subtype="pdf",
                       filename=("utf-8", "", "Rechnung März €.pdf"))
    raw = msg.as_bytes()
    assert b"filename*=" in raw
    assert parse_message(raw).attachments[0].filename == "Rechnung März €.pdf"
    assert named("attachment; filename*=iso-8859-1''Rechnung%20M%E4rz.pdf") == "Rechnung März.pdf"
    # declared UTF-8, really Latin-1
    assert named("attachment; filename*=utf-8''Rechnung%20M%E4rz.pdf") == "Rechnung März.pdf"
    assert named("attachment; filename*0*=utf-8''Rech; filename*1*=nung%20%C3%9F.pdf") == "Rechnung ß.pdf"


def test_encoded_word_names_including_koi8r_and_lies() -> None:
    koi8 = base64.b64encode("Счёт №5.pdf".replace("№", "N").encode("koi8-r")).decode()
    assert named(f'attachment; filename="=?koi8-r?B?{koi8}?="') == "Счёт N5.pdf"
    assert named('attachment; filename="=?utf-8?Q?Fa=C3=A7ture.pdf?="') == "Façture.pdf"
    assert named('attachment; filename="=?us-ascii?Q?Rechnung_M=E4rz.pdf?="') == "Rechnung März.pdf"
    assert named('attachment; filename="=?x-unknown?Q?caf=C3=A9.pdf?="') == "café.pdf"


def test_raw_8bit_names_in_legacy_charsets() -> None:
    cp1251 = "Счёт-фактура 12.pdf".encode("cp1251")
    koi8 = "Ведомости.pdf".encode("koi8-r")
    latin1 = "Prüfbericht Straße.pdf".encode("cp1252")
    for raw, expected in ((cp1251, "Счёт-фактура 12.pdf"), (koi8, "Ведомости.pdf"),
                          (latin1, "Prüfbericht Straße.pdf")):
        assert named(b'attachment; filename="' + raw + b'"') == expected


@pytest.mark.parametrize(
    ("given_name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\Windows\\System32\\evil.pdf", "evil.pdf"),
        ("/var/mail/invoice.pdf", "invoice.pdf"),
        ("invoice.pdf/..", "invoice.pdf"),
        (".htaccess.pdf", "htaccess.pdf"),
        ("CON.pdf", "_CON.pdf"),
        ('in<voice>:"x"|?*.pdf', "in_voice___x____.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
    ],
)
def test_file_names_cannot_escape_or_hide(given_name: str, expected: str) -> None:
    msg = message()
    msg.add_attachment(PDF, maintype="application", subtype="pdf", filename=given_name)
    (att,) = parse_message(msg.as_bytes()).attachments
    assert att.filename == expected
    assert att.original_filename == given_name


def test_control_characters_empty_and_overlong_names() -> None:
    assert named('attachment; filename="=?utf-8?Q?a=0Ab=00c=1Bd=0D=0A.pdf?="') == "a b c d .pdf"
    assert named('attachment; filename=".."') == "attachment-2.pdf"
    assert named('attachment; filename=""') == "attachment-2.pdf"
    long_name = named(f'attachment; filename="{"Rechnung-" * 60}.pdf"')
    assert long_name.endswith(".pdf") and len(long_name) <= 150 and long_name.startswith("Rechnung-")
    cyrillic = base64.b64encode(("ж" * 300 + ".pdf").encode()).decode()
    wide = named(f'attachment; filename="=?utf-8?B?{cyrillic}?="')
    assert wide.endswith(".pdf") and len(wide.encode()) <= 240


def test_parts_without_names_get_names_from_their_real_type() -> None:
    msg = message()
    msg.add_attachment(PDF, maintype="application", subtype="octet-stream")  # no name, PDF bytes
    msg.add_attachment(PNG, maintype="image", subtype="png")
    atts = parse_message(msg.as_bytes()).attachments
    assert [(a.filename, a.content_type, a.declared_type) for a in atts] == [
        ("attachment-2.pdf", "application/pdf", "application/octet-stream"),
        ("attachment-3.png", "image/png", "image/png"),
    ]


def test_lying_content_types_are_corrected_by_the_bytes() -> None:
    msg = message()
    msg.add_attachment(PNG, maintype="application", subtype="pdf", filename="scan.pdf")
    msg.add_attachment(PDF, maintype="image", subtype="jpeg", filename="invoice.jpg")
    msg.add_attachment(XML, maintype="application", subtype="octet-stream", filename="factur-x.dat")
    msg.add_attachment(XML, maintype="text", subtype="xml", filename="xrechnung.xml")
    msg.add_attachment(b"just some notes\n", maintype="text", subtype="plain", filename="notes.txt")
    msg.add_attachment(b"BMW;320d;41000\n", maintype="text", subtype="csv", filename="cars.csv")  # "BM" = BMP
    atts = parse_message(msg.as_bytes()).attachments
    assert [(a.declared_type, a.content_type) for a in atts] == [
        ("application/pdf", "image/png"),
        ("image/jpeg", "application/pdf"),
        ("application/octet-stream", "application/xml"),
        ("text/xml", "text/xml"),
        ("text/plain", "text/plain"),
        ("text/csv", "text/csv"),
    ]


def test_octet_stream_of_unknown_bytes_is_typed_by_its_extension() -> None:
    msg = message()
    msg.add_attachment(b"\x00\x01garbage", maintype="application", subtype="octet-stream", filename="x.csv")
    (att,) = parse_message(msg.as_bytes()).attachments
    assert att.content_type == "text/csv"


def forward(inner: EmailMessage, depth: int) -> EmailMessage:
    for level in range(depth):
        outer = message(body=f"forward level {level}", subject=f"Fwd {level}")
        outer.add_attachment(inner)  # message/rfc822
        inner = outer
    return inner


def test_attachments_inside_nested_forwarded_messages() -> None:
    original = message(body="Original invoice mail")
    original.add_attachment(PDF, maintype="application", subtype="pdf", filename="inv-1.pdf")
    parsed = parse_message(forward(original, 2).as_bytes())
    (att,) = parsed.attachments
    assert att.filename == "inv-1.pdf" and att.part == "2.2.2" and att.content_type == "application/pdf"
    assert "Original invoice mail" in parsed.body_text and "forward level 1" in parsed.body_text


def test_forwarding_nested_too_deep_is_a_part_error() -> None:
    original = message()
    original.add_attachment(PDF, maintype="application", subtype="pdf", filename="deep.pdf")
    parsed = parse_message(forward(original, 12).as_bytes())
    assert parsed.attachments == ()
    assert any("nested deeper" in e.error for e in parsed.errors)


def test_base64_encoded_forwarded_message_is_still_read() -> None:
    inner = message(body="inner body")
    inner.add_attachment(PDF, maintype="application", subtype="pdf", filename="inner.pdf")
    raw = raw_part_message("Content-Type: message/rfc822", inner.as_bytes())
    (att,) = parse_message(raw).attachments
    assert att.filename == "inner.pdf" and att.part == "2.2"


def test_bad_base64_and_unknown_charsets_are_part_errors() -> None:
    parsed = parse_message(raw_part_message('Content-Type: application/pdf; name="a.pdf"', b"JVBERi0xLjQK1",
                                            encode=False))
    assert parsed.attachments == ()
    (error,) = parsed.errors
    assert error.part == "2" and error.filename == "a.pdf" and "base64" in error.error
    assert parsed.body_text == "body text"  # the rest of the message is still read
    junk = raw_part_message('Content-Type: application/pdf; name="b.pdf"', b"%%%%!!!!****" * 20 + b"JVBE",
                            encode=False)
    assert "invalid characters" in parse_message(junk).errors[0].error
    latin = raw_part_message("Content-Type: text/plain; charset=x-klingon", "Grüße".encode("latin-1"),
                             cte="8bit")
    parsed = parse_message(latin)
    assert any("unknown charset 'x-klingon'" in e.error for e in parsed.errors)
    assert parsed.body_text == "body text\n\nGrüße"  # guessed, and the rest still read
    for label in ("base64", "hex"):  # codecs Python knows, but not text encodings
        header = f"Content-Type: text/plain; charset={label}"
        parsed = parse_message(raw_part_message(header, b"plain", cte="8bit"))
        assert parsed.body_text.endswith("plain") and any(label in e.error for e in parsed.errors)
    hebrew = raw_part_message("Content-Type: text/plain; charset=iso-8859-8-i", "שלום".encode("iso-8859-8"),
                              cte="8bit")
    assert parse_message(hebrew).body_text.endswith("שלום") and parse_message(hebrew).errors == ()


def test_nothing_on_the_record_can_inject_lines_into_logs() -> None:
    raw = raw_part_message('Content-Type: application/pdf; name="=?utf-8?Q?../x=0Ay.pdf?="', b"JVBERi0xLjQK1",
                           encode=False)
    raw = raw.replace(b"From: a@b.example", b"From: =?utf-8?Q?Evil=0Aevent=3Dfake?= <a@b.example>")
    parsed = parse_message(b" continuation first\r\n" + raw)
    assert parsed.sender_name == "Evil event=fake"
    assert parsed.errors[0].filename == "x y.pdf"
    assert parsed.defects and not any("\n" in d or "\r" in d for d in parsed.defects)


def test_mis_declared_body_charset_is_read_as_utf8() -> None:
    raw = raw_part_message("Content-Type: text/plain; charset=us-ascii", "Größe 5 €".encode(), cte="8bit")
    parsed = parse_message(raw)
    assert "Größe 5 €" in parsed.body_text and parsed.errors == ()


def test_headers_the_stdlib_parser_crashes_on_become_part_errors() -> None:
    raw = (b"From: \"\r\nTo: <\r\nCc: Real <real@corp.example>\r\nMessage-ID: <\r\nSubject: still here\r\n"
           b"Content-Type: multipart/mixed; boundary=B\r\n\r\n"
           b"--B\r\nContent-Type: text/plain; b*\r\n\r\nhello\r\n"
           b"--B\r\nContent-Type: application/pdf; name=x.pdf\r\n\r\n" + PDF + b"\r\n--B--\r\n")
    parsed = parse_message(raw)
    assert parsed.subject == "still here" and parsed.recipients == ("real@corp.example",)
    assert {e.part for e in parsed.errors} == {"header"}
    assert any(e.error.startswith("To header cannot be parsed") for e in parsed.errors)
    assert [a.filename for a in parsed.attachments] == ["x.pdf"] and parsed.body_text == "hello"


def test_which_parts_are_attachments() -> None:
    msg = message(body="plain body")
    msg.add_alternative("<html><body><p>html <b>body</b></p><script>alert(1)</script></body></html>",
                        subtype="html")
    msg.add_attachment(b"notes", maintype="text", subtype="plain", filename="notes.txt")  # attachment
    msg.add_attachment(b"sig", maintype="application", subtype="pkcs7-signature", filename="smime.p7s")
    related = message()
    related.make_related()
    related.add_related(PNG, maintype="image", subtype="png", cid="<logo@x>")  # inline, no name
    parsed = parse_message(msg.as_bytes())
    assert [(a.filename, a.content_type) for a in parsed.attachments] == [
        ("notes.txt", "text/plain"), ("smime.p7s", "application/pkcs7-signature")]
    assert parsed.body_text == "plain body"  # the alternative prefers text/plain
    (logo,) = parse_message(related.as_bytes()).attachments
    assert logo.inline and logo.content_id == "logo@x" and logo.content_type == "image/png"


def test_html_only_body_is_stripped_and_bounded() -> None:
    msg = message()
    msg.set_content("<html><head><style>p{}</style></head><body><p>Total:&nbsp;5&euro;</p>"
                    "<script>x()</script><div>Due</div></body></html>", subtype="html")
    assert parse_message(msg.as_bytes()).body_text == "Total: 5€\n\nDue"
    big = parse_message(message(body="word " * 10_000).as_bytes()).body_text
    assert MAX_BODY_CHARS <= len(big) <= MAX_BODY_CHARS + 10 and big.endswith("[...]")


def test_limits_turn_parts_into_errors() -> None:
    msg = message()
    for i in range(3):
        msg.add_attachment(PDF * 40, maintype="application", subtype="pdf", filename=f"{i}.pdf")
    raw = msg.as_bytes()
    few = parse_message(raw, Limits(max_attachments=1))
    assert [a.filename for a in few.attachments] == ["0.pdf"]
    assert [e.part for e in few.errors] == ["3", "4"] and "max_attachments" in few.errors[0].error
    small = parse_message(raw, Limits(max_attachment_bytes=1000))
    assert small.attachments == () and len(small.errors) == 3
    assert "max_attachment_bytes" in small.errors[0].error
    huge = parse_message(raw, Limits(max_message_bytes=2000))
    assert huge.attachments == () and huge.subject == "Invoice 4711"
    assert huge.errors[0].part == "message" and "max_message_bytes" in huge.errors[0].error


def test_part_count_and_nesting_are_bounded() -> None:
    parts = b"".join(b"--b\r\nContent-Type: image/png; name=p%d.png\r\n\r\nxx\r\n" % i for i in range(1100))
    raw = b"Subject: many\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" + parts + b"--b--\r\n"
    parsed = parse_message(raw, Limits(max_attachments=5000))
    assert len(parsed.attachments) == 1000
    assert [(e.part, e.error) for e in parsed.errors] == [
        ("1001", "more than 1000 MIME parts; the rest were not read")]
    deep = b"Subject: deep\r\n" + b"".join(
        b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (i, i) for i in range(3000))
    parsed = parse_message(deep)
    assert parsed.subject == "deep" and parsed.errors


@pytest.mark.parametrize("raw", [b"", b"  \r\n\r\n", PDF, b"\r\n\r\nonly a body", bytes(range(256))])
def test_only_non_messages_raise(raw: bytes) -> None:
    with pytest.raises(MalformedMessage):
        parse_message(raw)


# --------------------------------------------------------------------------- fuzzing

SEEDS = [p.read_bytes() for p in sorted(EMAILS_DEV.glob("*.eml")) if p.stat().st_size < 40_000] or [
    message().as_bytes()]
TOKENS = [b"\r\n", b"\n", b"--", b":", b";", b"=?", b"?=", b'"', b"<", b"*", b"'", b"%", b"\x00", b"\xff",
          b"boundary=", b"--XX\r\n", b"filename*=", b"charset=", b"Content-Type: message/rfc822\r\n",
          b"Content-Transfer-Encoding: base64\r\n"]


def assert_parses_or_malformed(raw: bytes) -> None:
    try:
        parsed = parse_message(raw)
    except MalformedMessage:
        return
    parsed.model_dump_json(exclude={"attachments": {"__all__": {"data"}}})


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000))
def test_fuzz_random_bytes(raw: bytes) -> None:
    assert_parses_or_malformed(raw)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SEEDS), st.randoms(use_true_random=False), st.integers(1, 25))
def test_fuzz_mutated_real_messages(seed: bytes, rnd: random.Random, edits: int) -> None:
    data = bytearray(seed)
    for _ in range(edits):
        pos, kind = rnd.randrange(len(data) + 1), rnd.random()
        if kind < 0.3:
            data[pos:pos + 1] = bytes([rnd.randrange(256)])
        elif kind < 0.7:
            data[pos:pos] = rnd.choice(TOKENS)
        elif kind < 0.9:
            del data[pos:pos + rnd.randint(1, 80)]
        else:
            del data[max(pos, 1):]
    assert_parses_or_malformed(bytes(data))


def test_fuzz_seeds_are_real_messages_when_the_dataset_is_there() -> None:
    if not EMAILS_DEV.is_dir():
        pytest.skip(f"dataset {EMAILS_DEV} not available")
    assert len(SEEDS) >= 15
    assert all(isinstance(parse_message(seed), ParsedMessage) for seed in SEEDS)


def test_default_policy_messages_round_trip() -> None:
    # a message the stdlib writes is one we read back unchanged in what matters
    msg = message(body="Hello", subject="Réf. facture n° 12")
    msg.add_attachment(PDF, maintype="application", subtype="pdf", filename="facture n° 12.pdf")
    parsed = parse_message(msg.as_bytes(policy=default_policy))
    assert parsed.subject == "Réf. facture n° 12" and parsed.attachments[0].filename == "facture n° 12.pdf"
    assert parsed.attachments[0].data == PDF and parsed.attachments[0].sha256
