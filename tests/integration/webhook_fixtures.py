"""Helpers for the inbound webhook tests: a real PDF, requests signed the way each provider
documents it (written out here from the providers' docs, not taken from the code under test),
and a loopback file server that plays a helpdesk's attachment API."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import ssl
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def make_pdf(text: str = "INVOICE 4711  Total EUR 99.00", pad_to: int = 0) -> bytes:
    """A real one-page PDF with a text layer; `pad_to` adds an incompressible image stream so the
    file reaches about that many bytes (the benchmark's 200 KB attachment)."""
    import pymupdf as fitz

    doc = fitz.open()
    page = doc.new_page()
    page.insert_text((72, 72), text, fontsize=14)
    if pad_to:
        side = int((pad_to / 3) ** 0.5) + 1
        page.insert_image(fitz.Rect(72, 100, 300, 328), stream=_noise_png(side))
    data = doc.tobytes()
    doc.close()
    return data


def _noise_png(side: int) -> bytes:
    import io
    import os

    from PIL import Image

    img = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=0)
    return buf.getvalue()


# --------------------------------------------------------------------------- provider signing


def mailgun_fields(key: str, timestamp: int | None = None, token: str | None = None) -> dict[str, str]:
    """Mailgun: signature = hex HMAC-SHA256(signing key, timestamp + token)."""
    ts = str(timestamp if timestamp is not None else int(time.time()))
    tok = token or hashlib.sha256(str(time.perf_counter_ns()).encode()).hexdigest()[:50]
    sig = hmac.new(key.encode(), (ts + tok).encode(), hashlib.sha256).hexdigest()
    return {"timestamp": ts, "token": tok, "signature": sig}


def front_headers(secret: str, body: bytes, at: float | None = None) -> dict[str, str]:
    """Front application webhooks: base64 HMAC-SHA256(key, '<ms timestamp>:<body>')."""
    ts = str(int((at if at is not None else time.time()) * 1000))
    sig = base64.b64encode(
        hmac.new(secret.encode(), ts.encode() + b":" + body, hashlib.sha256).digest()
    ).decode()
    return {"X-Front-Request-Timestamp": ts, "X-Front-Signature": sig, "Content-Type": "application/json"}


def zendesk_headers(secret: str, body: bytes, at: float | None = None) -> dict[str, str]:
    """Zendesk: base64 HMAC-SHA256(secret, timestamp + body), ISO 8601 timestamp header."""
    ts = datetime.fromtimestamp(at if at is not None else time.time(), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    sig = base64.b64encode(hmac.new(secret.encode(), ts.encode() + body, hashlib.sha256).digest()).decode()
    return {
        "X-Zendesk-Webhook-Signature": sig,
        "X-Zendesk-Webhook-Signature-Timestamp": ts,
        "Content-Type": "application/json",
    }


def helpscout_headers(secret: str, body: bytes, event: str = "convo.created") -> dict[str, str]:
    """Help Scout: base64 HMAC-SHA1(secret, body)."""
    sig = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha1).digest()).decode()
    return {"X-HelpScout-Signature": sig, "X-HelpScout-Event": event, "Content-Type": "application/json"}


def mime_headers(secret: str, body: bytes, at: float | None = None) -> dict[str, str]:
    ts = str(int(at if at is not None else time.time()))
    sig = hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {
        "X-Webhook-Timestamp": ts,
        "X-Webhook-Signature": f"sha256={sig}",
        "Content-Type": "message/rfc822",
    }


@dataclass
class SendGridKeys:
    """An ECDSA P-256 key pair standing in for a SendGrid Parse security policy."""

    private: Any = None
    public_b64: str = ""

    @classmethod
    def generate(cls) -> SendGridKeys:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        key = ec.generate_private_key(ec.SECP256R1())
        der = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return cls(key, base64.b64encode(der).decode())

    def headers(self, body: bytes, at: float | None = None) -> dict[str, str]:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        ts = str(int(at if at is not None else time.time()))
        sig = self.private.sign(ts.encode() + body, ec.ECDSA(hashes.SHA256()))
        return {
            "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(sig).decode(),
            "X-Twilio-Email-Event-Webhook-Timestamp": ts,
        }


def raw_message(message_id: str, pdf: bytes, subject: str = "Invoice 4711") -> bytes:
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["From"] = "Billing <billing@vendor.example>"
    msg["To"] = "ap@example.com"
    msg["Subject"] = subject
    msg["Date"] = "Sat, 21 Nov 2026 10:00:00 +0000"
    msg["Message-ID"] = message_id
    msg.set_content("Please find the invoice attached.")
    msg.add_attachment(pdf, maintype="application", subtype="pdf", filename="invoice-4711.pdf")
    return msg.as_bytes()


# --------------------------------------------------------------------------- attachment API


@dataclass
class FileServer:
    """Serves files by path on loopback and records the Authorization header of each request."""

    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    seen_auth: list[str | None] = field(default_factory=list)
    redirects: dict[str, str] = field(default_factory=dict)
    tls: ssl.SSLContext | None = None  # serve https with this context

    def start(self) -> FileServer:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                outer.seen_auth.append(self.headers.get("Authorization"))
                if self.path in outer.redirects:
                    self.send_response(302)
                    self.send_header("Location", outer.redirects[self.path])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                item = outer.files.get(self.path)
                if item is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data, ctype = item
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if self.tls is not None:
            self.server.socket = self.tls.wrap_socket(self.server.socket, server_side=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def url(self, path: str) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}{path}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def helpscout_payload(conversation_id: int, thread_id: int, attachment_url: str) -> bytes:
    return json.dumps(
        {
            "id": conversation_id,
            "number": 1000 + conversation_id,
            "subject": "Invoice 4711",
            "primaryCustomer": {"email": "billing@vendor.example", "first": "Vera", "last": "Vendor"},
            "_embedded": {
                "threads": [
                    {
                        "id": thread_id,
                        "type": "customer",
                        "createdAt": "2026-11-21T10:00:00Z",
                        "body": "<p>Invoice attached</p>",
                        "to": ["ap@example.com"],
                        "createdBy": {"email": "billing@vendor.example", "first": "Vera", "last": "Vendor"},
                        "_embedded": {
                            "attachments": [
                                {
                                    "id": 5,
                                    "filename": "invoice-4711.pdf",
                                    "mimeType": "application/pdf",
                                    "_links": {"data": {"href": attachment_url}},
                                }
                            ]
                        },
                    }
                ]
            },
        }
    ).encode()


def wait_for(condition: Any, timeout: float = 60.0) -> bool:
    """Whether `condition()` came true within `timeout` seconds (polled every 50 ms)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False
