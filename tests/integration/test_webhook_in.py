"""Inbound webhooks over real HTTP on loopback: the daemon's server (uvicorn in a thread) receives
requests signed as each provider documents it; forged and stale ones are refused; what is
accepted is on disk before the 200 and comes out of WebhookSource as the same message."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import ssl
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from connectors.webhook_in import WebhookSource, spool_dir
from inbox_ocr.app.config import Config, parse_config
from inbox_ocr.app.wiring import Wiring
from inbox_ocr.kernel.models import MailboxChanges
from inbox_ocr.mime.parse import parse_message
from tests.integration.dovecot import _write_certificates
from tests.integration.webhook_fixtures import (
    FileServer,
    SendGridKeys,
    front_headers,
    helpscout_headers,
    helpscout_payload,
    mailgun_fields,
    make_pdf,
    mime_headers,
    raw_message,
    zendesk_headers,
)

pytestmark = pytest.mark.integration

SECRET = "whsec-test-0123456789"
Served = tuple[Config, str, Wiring]  # the config, the server's URL, what serves it
PDF = make_pdf()


class NoState:
    """A ledger that has handled nothing yet."""

    def handled_keys(self, source: str, prefix: str = "") -> set[str]:
        return set()


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A private CA and a certificate for 127.0.0.1 signed by it: attachment URLs are https only."""
    return _write_certificates(tmp_path_factory.mktemp("tls"))


def _tls(certificates: tuple[Path, Path, Path]) -> ssl.SSLContext:
    _, cert, key = certificates
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


@pytest.fixture
def files(certificates: tuple[Path, Path, Path]) -> Iterator[FileServer]:
    server = FileServer(tls=_tls(certificates)).start()
    server.files["/att/invoice.pdf"] = (PDF, "application/pdf")
    server.files["/v2/attachments/5/data"] = (
        json.dumps({"data": base64.b64encode(PDF).decode()}).encode(),
        "application/json",
    )
    yield server
    server.stop()


@pytest.fixture
def keys() -> SendGridKeys:
    return SendGridKeys.generate()


@pytest.fixture
def daemon(
    tmp_path: Path, files: FileServer, keys: SendGridKeys, certificates: tuple[Path, Path, Path]
) -> Iterator[Served]:
    common = {
        "secret": SECRET,
        "api_token": "api-token-1",
        "allowed_hosts": [f"127.0.0.1:{files.port}"],
        "ca_file": str(certificates[0]),
    }
    config = parse_config(
        {
            "state_dir": str(tmp_path / "var"),
            "http": {"host": "127.0.0.1", "port": 0},
            "sources": [
                {"name": "pm", "type": "webhook", "provider": "postmark", "username": "postmark", **common},
                {"name": "mg", "type": "webhook", "provider": "mailgun", **common, "api_user": "api"},
                {"name": "sg", "type": "webhook", "provider": "sendgrid", "public_key": keys.public_b64},
                {
                    "name": "sgb",
                    "type": "webhook",
                    "provider": "sendgrid",
                    "username": "parse",
                    "secret": SECRET,
                },
                {
                    "name": "raw",
                    "type": "webhook",
                    "provider": "mime",
                    "secret": SECRET,
                    "max_body_bytes": "1MB",
                },
                {"name": "front", "type": "webhook", "provider": "front", **common},
                {
                    "name": "zd",
                    "type": "webhook",
                    "provider": "zendesk",
                    **common,
                    "api_user": "agent@example.com/token",
                },
                {"name": "hs", "type": "webhook", "provider": "helpscout", **common},
            ],
        }
    )
    wiring = Wiring(config, isolated=False)
    server = wiring.start_http()
    assert server is not None
    yield config, server.url, wiring
    wiring.close()


def spooled(config: Config, name: str) -> list[bytes]:
    new = spool_dir(config.state_dir, name) / "new"
    return [p.read_bytes() for p in sorted(new.iterdir()) if not p.name.startswith(".")]


def pdf_attachments(raw: bytes) -> list[bytes]:
    return [a.data for a in parse_message(raw).attachments if a.filename.endswith(".pdf")]


def postmark_body(message_id: str, **extra: Any) -> bytes:
    return json.dumps(
        {
            "MessageID": message_id,
            "From": "billing@vendor.example",
            "FromFull": {"Email": "billing@vendor.example", "Name": "Vera Vendor"},
            "ToFull": [{"Email": "ap@example.com", "Name": ""}],
            "Subject": "Invoice 4711",
            "Date": "Sat, 21 Nov 2026 10:00:00 +0000",
            "TextBody": "Invoice attached",
            "HtmlBody": "<p>Invoice</p>",
            "Headers": [{"Name": "Message-ID", "Value": f"<{message_id}@vendor.example>"}],
            "Attachments": [
                {
                    "Name": "invoice-4711.pdf",
                    "Content": base64.b64encode(PDF).decode(),
                    "ContentType": "application/pdf",
                    "ContentLength": len(PDF),
                }
            ],
            **extra,
        }
    ).encode()


# --------------------------------------------------------------------------- basics


def test_healthz_lists_sources(daemon: Served) -> None:
    _, url, _ = daemon
    answer = requests.get(f"{url}/healthz", timeout=5)
    assert answer.status_code == 200
    assert answer.json()["sources"]["pm"] == {"provider": "postmark", "path": "/hooks/pm", "spooled": 0}


# --------------------------------------------------------------------------- Postmark


def test_postmark_json_is_spooled_as_mime_with_the_pdf(daemon: Served) -> None:
    config, url, wiring = daemon
    answer = requests.post(
        f"{url}/hooks/pm",
        data=postmark_body("pm-1"),
        auth=("postmark", SECRET),
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    [raw] = spooled(config, "pm")
    parsed = parse_message(raw)
    assert parsed.sender == "billing@vendor.example"
    assert parsed.subject == "Invoice 4711"
    assert parsed.message_id == "<pm-1@vendor.example>"
    assert pdf_attachments(raw) == [PDF]


@pytest.mark.parametrize("auth", [("postmark", "wrong"), None])
def test_postmark_without_the_right_credentials_is_refused(daemon: Served, auth: Any) -> None:
    config, url, wiring = daemon
    answer = requests.post(f"{url}/hooks/pm", data=postmark_body("pm-2"), auth=auth, timeout=10)
    assert answer.status_code == 401
    assert spooled(config, "pm") == []


def test_same_message_delivered_twice_is_stored_once(daemon: Served) -> None:
    config, url, wiring = daemon
    answers = [
        requests.post(f"{url}/hooks/pm", data=postmark_body("pm-dup"), auth=("postmark", SECRET), timeout=10)
        for _ in range(2)
    ]
    assert [a.status_code for a in answers] == [200, 200]
    assert [a.json()["duplicate"] for a in answers] == [False, True]
    assert len(spooled(config, "pm")) == 1


def test_concurrent_duplicates_are_stored_once(daemon: Served) -> None:
    config, url, wiring = daemon
    body = postmark_body("pm-race")

    def send(_: int) -> int:
        return requests.post(f"{url}/hooks/pm", data=body, auth=("postmark", SECRET), timeout=20).status_code

    with ThreadPoolExecutor(12) as pool:
        assert set(pool.map(send, range(12))) == {200}
    assert len(spooled(config, "pm")) == 1


def test_malformed_json_is_a_clear_400(daemon: Served) -> None:
    _, url, _ = daemon
    answer = requests.post(f"{url}/hooks/pm", data=b"{not json", auth=("postmark", SECRET), timeout=10)
    assert answer.status_code == 400
    assert "not JSON" in answer.json()["error"]


# --------------------------------------------------------------------------- Mailgun


def test_mailgun_form_with_attachment_is_stored(daemon: Served) -> None:
    config, url, wiring = daemon
    fields = {
        **mailgun_fields(SECRET),
        "from": "Vera <billing@vendor.example>",
        "recipient": "ap@example.com",
        "subject": "Invoice 4711",
        "body-plain": "attached",
        "attachment-count": "1",
        "message-headers": json.dumps([["Message-Id", "<mg-1@vendor.example>"], ["Subject", "Invoice 4711"]]),
    }
    answer = requests.post(
        f"{url}/hooks/mg",
        data=fields,
        files={"attachment-1": ("invoice-4711.pdf", PDF, "application/pdf")},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    [raw] = spooled(config, "mg")
    assert parse_message(raw).message_id == "<mg-1@vendor.example>"
    assert pdf_attachments(raw) == [PDF]


def test_mailgun_body_mime_is_stored_verbatim(daemon: Served) -> None:
    config, url, wiring = daemon
    mime = raw_message("<mg-mime@vendor.example>", PDF)
    answer = requests.post(f"{url}/hooks/mg", data={**mailgun_fields(SECRET), "body-mime": mime.decode()}, timeout=10)
    assert answer.status_code == 200, answer.text
    assert spooled(config, "mg") == [mime]


def test_mailgun_replayed_token_is_refused(daemon: Served) -> None:
    config, url, wiring = daemon
    fields = {**mailgun_fields(SECRET), "body-mime": raw_message("<mg-r1@vendor.example>", PDF).decode()}
    assert requests.post(f"{url}/hooks/mg", data=fields, timeout=10).status_code == 200
    replay = {**fields, "body-mime": raw_message("<mg-r2@vendor.example>", PDF).decode()}
    answer = requests.post(f"{url}/hooks/mg", data=replay, timeout=10)
    assert answer.status_code == 403
    assert "replayed" in answer.json()["error"]
    assert len(spooled(config, "mg")) == 1


def test_mailgun_signature_resplit_into_another_token_is_refused(daemon: Served) -> None:
    """Mailgun signs timestamp + token with no separator: with a token starting with 'e0', the same
    signature fits timestamp '<ts>e0' and the token minus 'e0'. The timestamp must be plain digits
    and the signature is used once."""
    config, url, wiring = daemon
    token = "e0" + "7" * 48
    fields = {**mailgun_fields(SECRET, token=token), "body-mime": raw_message("<mg-s1@vendor.example>", PDF).decode()}
    resplit = {
        **fields,
        "timestamp": fields["timestamp"] + "e0",
        "token": token[2:],
        "body-mime": raw_message("<mg-s2@vendor.example>", PDF).decode(),
    }
    answer = requests.post(f"{url}/hooks/mg", data=resplit, timeout=10)  # before the original, too
    assert answer.status_code == 401 and "whole number" in answer.json()["error"]
    assert requests.post(f"{url}/hooks/mg", data=fields, timeout=10).status_code == 200
    for odd in ("nan", " " + fields["timestamp"], "+" + fields["timestamp"], fields["timestamp"] + ".0"):
        mac = hmac.new(SECRET.encode(), (odd + token[2:]).encode(), hashlib.sha256).hexdigest()
        answer = requests.post(f"{url}/hooks/mg", data={**resplit, "timestamp": odd, "signature": mac}, timeout=10)
        assert answer.status_code == 401, odd
    # the same signature with its own token again: a replay
    answer = requests.post(f"{url}/hooks/mg", data={**fields, "token": token}, timeout=10)
    assert answer.status_code == 403
    assert len(spooled(config, "mg")) == 1


def test_mailgun_forged_and_stale_signatures_are_refused(daemon: Served) -> None:
    config, url, wiring = daemon
    mime = raw_message("<mg-bad@vendor.example>", PDF).decode()
    forged = {**mailgun_fields("not-the-key"), "body-mime": mime}
    stale = {**mailgun_fields(SECRET, timestamp=int(time.time()) - 3600), "body-mime": mime}
    assert requests.post(f"{url}/hooks/mg", data=forged, timeout=10).status_code == 401
    assert requests.post(f"{url}/hooks/mg", data=stale, timeout=10).status_code == 403
    assert spooled(config, "mg") == []


# --------------------------------------------------------------------------- SendGrid


def _multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]) -> tuple[bytes, str]:
    """Encode a multipart form (SendGrid always posts multipart/form-data) once, so that the
    signature covers exactly the bytes sent."""
    parts: dict[str, Any] = {name: (None, value) for name, value in fields.items()}
    parts.update(files)
    request = requests.Request("POST", "http://x/", files=parts).prepare()
    return request.body, request.headers["Content-Type"]  # type: ignore[return-value]


def test_sendgrid_parsed_multipart_with_ecdsa_signature(daemon: Served, keys: SendGridKeys) -> None:
    config, url, wiring = daemon
    headers_block = (
        "Message-ID: <sg-1@vendor.example>\nFrom: Vera <billing@vendor.example>\n"
        "To: ap@example.com\nSubject: Invoice 4711\nDate: Sat, 21 Nov 2026 10:00:00 +0000\n"
    )
    body, ctype = _multipart(
        {
            "headers": headers_block,
            "from": "Vera <billing@vendor.example>",
            "to": "ap@example.com",
            "subject": "Invoice 4711",
            "text": "attached",
            "attachments": "1",
            "attachment-info": json.dumps({"attachment1": {"filename": "invoice-4711.pdf", "type": "application/pdf"}}),
        },
        {"attachment1": ("invoice-4711.pdf", PDF, "application/pdf")},
    )
    answer = requests.post(
        f"{url}/hooks/sg", data=body, headers={"Content-Type": ctype, **keys.headers(body)}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    [raw] = spooled(config, "sg")
    assert parse_message(raw).message_id == "<sg-1@vendor.example>"
    assert pdf_attachments(raw) == [PDF]


def test_sendgrid_raw_email_field(daemon: Served, keys: SendGridKeys) -> None:
    config, url, wiring = daemon
    mime = raw_message("<sg-raw@vendor.example>", PDF)
    body, ctype = _multipart({"email": mime.decode(), "to": "ap@example.com"}, {})
    answer = requests.post(
        f"{url}/hooks/sg", data=body, headers={"Content-Type": ctype, **keys.headers(body)}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    assert spooled(config, "sg") == [mime]


def test_sendgrid_forged_stale_and_tampered_are_refused(daemon: Served, keys: SendGridKeys) -> None:
    config, url, wiring = daemon
    body, ctype = _multipart({"email": raw_message("<sg-bad@vendor.example>", PDF).decode()}, {})
    other = SendGridKeys.generate()
    cases = [
        (other.headers(body), 401),  # signed with another key
        (keys.headers(body, at=time.time() - 600), 403),  # stale
    ]
    for headers, status in cases:
        answer = requests.post(f"{url}/hooks/sg", data=body, headers={"Content-Type": ctype, **headers}, timeout=10)
        assert answer.status_code == status
    signed = keys.headers(body)
    tampered = body.replace(b"Invoice 4711", b"Invoice 9999")
    answer = requests.post(f"{url}/hooks/sg", data=tampered, headers={"Content-Type": ctype, **signed}, timeout=10)
    assert answer.status_code == 401
    assert spooled(config, "sg") == []


def test_sendgrid_basic_auth_variant(daemon: Served) -> None:
    config, url, wiring = daemon
    mime = raw_message("<sgb-1@vendor.example>", PDF)
    ok = requests.post(f"{url}/hooks/sgb", data={"email": mime.decode()}, auth=("parse", SECRET), timeout=10)
    bad = requests.post(f"{url}/hooks/sgb", data={"email": mime.decode()}, auth=("parse", "x"), timeout=10)
    assert (ok.status_code, bad.status_code) == (200, 401)
    assert spooled(config, "sgb") == [mime]


# --------------------------------------------------------------------------- raw MIME


def test_raw_mime_signed_is_stored_and_forged_or_stale_refused(daemon: Served) -> None:
    config, url, wiring = daemon
    mime = raw_message("<raw-1@vendor.example>", PDF)
    assert (
        requests.post(f"{url}/hooks/raw", data=mime, headers=mime_headers("wrong", mime), timeout=10).status_code == 401
    )
    assert (
        requests.post(
            f"{url}/hooks/raw",
            data=mime,
            headers=mime_headers(SECRET, mime, at=time.time() - 301),
            timeout=10,
        ).status_code
        == 403
    )
    assert (
        requests.post(f"{url}/hooks/raw", data=mime, headers=mime_headers(SECRET, mime), timeout=10).status_code == 200
    )
    assert spooled(config, "raw") == [mime]


def test_raw_mime_limits_and_malformed_bodies(daemon: Served) -> None:
    config, url, wiring = daemon
    too_big = raw_message("<raw-big@vendor.example>", make_pdf(pad_to=1_200_000))
    answer = requests.post(f"{url}/hooks/raw", data=too_big, headers=mime_headers(SECRET, too_big), timeout=20)
    assert answer.status_code == 413
    junk = b"<html><body>502 Bad Gateway</body></html>"
    answer = requests.post(f"{url}/hooks/raw", data=junk, headers=mime_headers(SECRET, junk), timeout=10)
    assert answer.status_code == 422
    wrong_type = {**mime_headers(SECRET, junk), "Content-Type": "application/json"}
    assert requests.post(f"{url}/hooks/raw", data=junk, headers=wrong_type, timeout=10).status_code == 415
    assert spooled(config, "raw") == []


# --------------------------------------------------------------------------- Front


def test_front_challenge_handshake(daemon: Served) -> None:
    config, url, wiring = daemon
    body = json.dumps({"type": "sync", "authorization": {"id": "cmp_123"}}).encode()
    headers = {**front_headers(SECRET, body), "X-Front-Challenge": "c-42"}
    answer = requests.post(f"{url}/hooks/front", data=body, headers=headers, timeout=10)
    assert answer.status_code == 200
    assert answer.json() == {"challenge": "c-42"}
    forged = {**front_headers("wrong", body), "X-Front-Challenge": "c-42"}
    assert requests.post(f"{url}/hooks/front", data=body, headers=forged, timeout=10).status_code == 401
    assert spooled(config, "front") == []


def front_event(message_id: str, attachment_url: str) -> bytes:
    return json.dumps(
        {
            "type": "inbound_received",
            "authorization": {"id": "cmp_123"},
            "payload": {
                "id": "evt_1",
                "type": "inbound",
                "emitted_at": time.time(),
                "conversation": {"id": "cnv_1", "subject": "Invoice 4711"},
                "target": {
                    "_meta": {"type": "message"},
                    "data": {
                        "id": message_id,
                        "type": "email",
                        "is_inbound": True,
                        "created_at": time.time(),
                        "subject": "Invoice 4711",
                        "body": "<p>Invoice attached</p>",
                        "text": "Invoice attached",
                        "recipients": [
                            {"handle": "billing@vendor.example", "role": "from", "name": "Vera"},
                            {"handle": "ap@example.com", "role": "to"},
                        ],
                        "attachments": [
                            {
                                "filename": "invoice-4711.pdf",
                                "url": attachment_url,
                                "content_type": "application/pdf",
                                "size": len(PDF),
                            }
                        ],
                    },
                },
            },
        }
    ).encode()


def test_front_inbound_message_with_attachment_url(daemon: Served, files: FileServer) -> None:
    config, url, wiring = daemon
    body = front_event("msg_1", files.url("/att/invoice.pdf"))
    answer = requests.post(f"{url}/hooks/front", data=body, headers=front_headers(SECRET, body), timeout=10)
    assert answer.status_code == 200, answer.text
    [raw] = spooled(config, "front")
    assert parse_message(raw).sender == "billing@vendor.example"
    assert pdf_attachments(raw) == [PDF]
    assert files.seen_auth == ["Bearer api-token-1"]


def test_front_stale_signature_is_refused(daemon: Served, files: FileServer) -> None:
    config, url, wiring = daemon
    body = front_event("msg_2", files.url("/att/invoice.pdf"))
    answer = requests.post(
        f"{url}/hooks/front", data=body, headers=front_headers(SECRET, body, at=time.time() - 400), timeout=10
    )
    assert answer.status_code == 403
    assert spooled(config, "front") == [] and files.seen_auth == []


def test_attachment_from_a_host_not_allowed_is_not_fetched(daemon: Served, files: FileServer) -> None:
    config, url, wiring = daemon
    body = front_event("msg_3", "https://localhost:9/att/invoice.pdf")  # 'localhost' is not in allowed_hosts
    answer = requests.post(f"{url}/hooks/front", data=body, headers=front_headers(SECRET, body), timeout=10)
    assert answer.status_code == 200
    [raw] = spooled(config, "front")
    assert pdf_attachments(raw) == [] and files.seen_auth == []
    assert b"localhost:9 is not in allowed_hosts" in raw


def test_attachment_on_another_port_of_an_allowed_host_is_not_fetched(
    daemon: Served, files: FileServer, certificates: tuple[Path, Path, Path]
) -> None:
    """allowed_hosts names host:port; the same host on another port gets no request and no token,
    neither directly nor through a redirect from the allowed port."""
    config, url, wiring = daemon
    other = FileServer(tls=_tls(certificates)).start()
    try:
        other.files["/att/invoice.pdf"] = (PDF, "application/pdf")
        body = front_event("msg_3a", other.url("/att/invoice.pdf"))
        answer = requests.post(f"{url}/hooks/front", data=body, headers=front_headers(SECRET, body), timeout=10)
        assert answer.status_code == 200
        files.redirects["/att/hop.pdf"] = other.url("/att/invoice.pdf")
        body = front_event("msg_3b", files.url("/att/hop.pdf"))
        answer = requests.post(f"{url}/hooks/front", data=body, headers=front_headers(SECRET, body), timeout=10)
        assert answer.status_code == 200
        first, second = spooled(config, "front")
        assert pdf_attachments(first) == [] and pdf_attachments(second) == []
        assert other.seen_auth == []  # the other port got no request at all
        assert files.seen_auth == ["Bearer api-token-1"]  # the allowed port got the first hop only
        assert f"127.0.0.1:{other.port} is not in allowed_hosts".encode() in first + second
    finally:
        other.stop()


def test_plain_http_attachment_urls_are_refused(daemon: Served, files: FileServer) -> None:
    """The token is never sent over plain HTTP, even to an allowed host and port."""
    config, url, wiring = daemon
    body = front_event("msg_3c", files.url("/att/invoice.pdf").replace("https://", "http://"))
    answer = requests.post(f"{url}/hooks/front", data=body, headers=front_headers(SECRET, body), timeout=10)
    assert answer.status_code == 200
    [raw] = spooled(config, "front")
    assert pdf_attachments(raw) == [] and files.seen_auth == [] and b"not https" in raw


def test_attachment_redirect_to_another_host_is_not_followed(daemon: Served, files: FileServer) -> None:
    config, url, wiring = daemon
    files.redirects["/att/moved.pdf"] = "http://localhost:9/evil.pdf"
    body = front_event("msg_4", files.url("/att/moved.pdf"))
    answer = requests.post(f"{url}/hooks/front", data=body, headers=front_headers(SECRET, body), timeout=10)
    assert answer.status_code == 200
    [raw] = spooled(config, "front")
    assert pdf_attachments(raw) == [] and b"redirect" in raw


# --------------------------------------------------------------------------- Zendesk, Help Scout


def test_zendesk_comment_with_attachment(daemon: Served, files: FileServer) -> None:
    config, url, wiring = daemon
    body = json.dumps(
        {
            "ticket": {
                "id": "812",
                "subject": "Invoice 4711",
                "recipient": "ap@example.com",
                "requester": {"email": "billing@vendor.example", "name": "Vera Vendor"},
            },
            "comment": {
                "id": "9001",
                "body": "Invoice attached",
                "created_at": "2026-11-21T10:00:00Z",
                "attachments": [{"url": files.url("/att/invoice.pdf"), "filename": "invoice-4711.pdf"}],
            },
        }
    ).encode()
    stale = zendesk_headers(SECRET, body, at=time.time() - 3600)
    assert requests.post(f"{url}/hooks/zd", data=body, headers=stale, timeout=10).status_code == 403
    answer = requests.post(f"{url}/hooks/zd", data=body, headers=zendesk_headers(SECRET, body), timeout=10)
    assert answer.status_code == 200, answer.text
    [raw] = spooled(config, "zd")
    assert parse_message(raw).sender == "billing@vendor.example"
    assert pdf_attachments(raw) == [PDF]
    expected = "Basic " + base64.b64encode(b"agent@example.com/token:api-token-1").decode()
    assert files.seen_auth == [expected]


def test_helpscout_conversation_with_attachment_data(daemon: Served, files: FileServer) -> None:
    config, url, wiring = daemon
    body = helpscout_payload(77, 501, files.url("/v2/attachments/5/data"))
    assert (
        requests.post(f"{url}/hooks/hs", data=body, headers=helpscout_headers("wrong", body), timeout=10).status_code
        == 401
    )
    answer = requests.post(f"{url}/hooks/hs", data=body, headers=helpscout_headers(SECRET, body), timeout=10)
    assert answer.status_code == 200, answer.text
    again = requests.post(f"{url}/hooks/hs", data=body, headers=helpscout_headers(SECRET, body), timeout=10)
    assert again.json()["duplicate"] is True
    [raw] = spooled(config, "hs")
    assert pdf_attachments(raw) == [PDF]


def test_helpscout_event_without_mail_is_acknowledged_not_stored(daemon: Served) -> None:
    config, url, wiring = daemon
    body = json.dumps({"id": 78, "status": "closed"}).encode()
    answer = requests.post(
        f"{url}/hooks/hs", data=body, headers=helpscout_headers(SECRET, body, "convo.status"), timeout=10
    )
    assert answer.status_code == 200
    assert spooled(config, "hs") == []


# --------------------------------------------------------------------------- the source side


def test_webhook_source_fetch_ack_fail(daemon: Served) -> None:
    config, url, wiring = daemon
    for i in range(3):
        mime = raw_message(f"<src-{i}@vendor.example>", PDF, subject=f"Invoice {i}")
        assert (
            requests.post(f"{url}/hooks/raw", data=mime, headers=mime_headers(SECRET, mime), timeout=10).status_code
            == 200
        )
    raw_source = config.source("raw")
    assert raw_source.type == "webhook"
    source = WebhookSource(raw_source, NoState(), wiring.spool(raw_source))  # type: ignore[arg-type]
    messages = list(source.fetch())
    assert [parse_message(m.raw).subject for m in messages] == ["Invoice 0", "Invoice 1", "Invoice 2"]
    source.ack(messages[0], MailboxChanges(move_to="Archive"))
    source.ack(messages[0], MailboxChanges())  # idempotent
    source.fail(messages[1], "unreadable")
    assert [m.key for m in source.fetch()] == [messages[2].key]
    quarantine = spool_dir(config.state_dir, "raw") / ".Quarantine" / "cur"
    assert [p.read_bytes() for p in quarantine.iterdir()] == [messages[1].raw]


def test_dedupe_survives_a_lost_index(daemon: Served) -> None:
    """A crash between the rename into new/ and the index insert: the id is recovered from the file
    name on the next start, so the provider's retry is still recognised as a duplicate."""
    config, url, wiring = daemon
    mime = raw_message(f"<crash-{uuid.uuid4()}@vendor.example>", PDF)
    assert (
        requests.post(f"{url}/hooks/raw", data=mime, headers=mime_headers(SECRET, mime), timeout=10).status_code == 200
    )
    raw_source = config.source("raw")
    assert raw_source.type == "webhook"
    spool = wiring.spool(raw_source)
    with spool._db_lock:
        spool._db.execute("DELETE FROM stored")
    assert spool.recover() == 1
    again = requests.post(f"{url}/hooks/raw", data=mime, headers=mime_headers(SECRET, mime), timeout=10)
    assert again.json()["duplicate"] is True
    assert len(spooled(config, "raw")) == 1


def test_mailgun_stored_message_attachments_are_fetched_with_the_api_key(
    daemon: Served, files: FileServer
) -> None:
    config, url, wiring = daemon
    attachments = [
        {
            "url": files.url("/att/invoice.pdf"),
            "name": "invoice-4711.pdf",
            "content-type": "application/pdf",
            "size": len(PDF),
        }
    ]
    fields = {
        **mailgun_fields(SECRET),
        "from": "billing@vendor.example",
        "recipient": "ap@example.com",
        "subject": "Invoice 4711",
        "body-plain": "attached",
        "attachments": json.dumps(attachments),
    }
    answer = requests.post(f"{url}/hooks/mg", data=fields, timeout=10)
    assert answer.status_code == 200, answer.text
    [raw] = spooled(config, "mg")
    assert pdf_attachments(raw) == [PDF]
    assert files.seen_auth == ["Basic " + base64.b64encode(b"api:api-token-1").decode()]


def test_refusals_are_logged_without_the_body(daemon: Served, caplog: pytest.LogCaptureFixture) -> None:
    _, url, _ = daemon
    mime = raw_message("<secret-body@vendor.example>", PDF, subject="Confidential salary list")
    with caplog.at_level("INFO", logger="connectors.webhook_in"):
        answer = requests.post(f"{url}/hooks/raw", data=mime, headers=mime_headers("forged", mime), timeout=10)
    assert answer.status_code == 401
    refusals = [r.getMessage() for r in caplog.records if "webhook_refused" in r.getMessage()]
    assert len(refusals) == 1 and "status=401" in refusals[0] and "source=raw" in refusals[0]
    assert "Confidential" not in caplog.text and "secret-body" not in caplog.text


def test_helpscout_threads_not_embedded_are_fetched(daemon: Served, files: FileServer) -> None:
    config, url, wiring = daemon
    embedded = json.loads(helpscout_payload(79, 502, files.url("/v2/attachments/5/data")))
    threads = embedded.pop("_embedded")
    files.files["/v2/conversations/79/threads"] = (json.dumps({"_embedded": threads}).encode(), "application/json")
    body = json.dumps({**embedded, "_links": {"threads": {"href": files.url("/v2/conversations/79/threads")}}}).encode()
    answer = requests.post(f"{url}/hooks/hs", data=body, headers=helpscout_headers(SECRET, body), timeout=10)
    assert answer.status_code == 200, answer.text
    [raw] = spooled(config, "hs")
    assert pdf_attachments(raw) == [PDF]
    assert files.seen_auth == ["Bearer api-token-1", "Bearer api-token-1"]
