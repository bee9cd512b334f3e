"""The whole way through the daemon: a signed webhook is answered once spooled, the daemon's
pipeline processes it from the spool (idle mode, no poll delay), the routing rule's webhook action
reaches a real receiver on loopback, and the spool is empty afterwards."""

from __future__ import annotations

import base64
import json
import sqlite3
import threading
import time
from pathlib import Path

import pytest
import requests

from connectors.webhook_in import spool_dir
from inbox_ocr.app.config import parse_config
from inbox_ocr.app.daemon import Daemon
from tests.http_receiver import Receiver
from tests.integration.webhook_fixtures import make_pdf, mime_headers, raw_message, wait_for

pytestmark = pytest.mark.integration

SECRET = "whsec-daemon-0123456789"


def test_webhook_mail_is_processed_and_routed_by_the_daemon(tmp_path: Path, receiver: Receiver) -> None:
    config = parse_config(
        {
            "state_dir": str(tmp_path / "var"),
            "http": {"host": "127.0.0.1", "port": 0},
            "ocr": {"enabled": False},
            "sources": [{"name": "gateway", "type": "webhook", "provider": "mime", "secret": SECRET}],
            "webhooks": {"erp": {"url": receiver.url, "secret": "test-secret-123", "backoff": "1s"}},
            "rules": [
                {
                    "name": "mail with a PDF",
                    "when": {"has_attachment": True},
                    "then": [{"move": "Invoices"}, {"webhook": "erp"}],
                }
            ],
        }
    )
    daemon = Daemon(config)
    thread = threading.Thread(target=daemon.run_forever, daemon=True)
    thread.start()
    try:
        assert wait_for(lambda: daemon.http_server is not None)
        url = f"{daemon.http_server.url}/hooks/gateway"
        mime = raw_message("<daemon-1@vendor.example>", make_pdf())
        answer = requests.post(url, data=mime, headers=mime_headers(SECRET, mime), timeout=10)
        assert answer.status_code == 200
        assert wait_for(lambda: len(receiver.accepted) == 1), "the routed webhook never arrived"
        delivered = next(iter(receiver.accepted.values())).json()
        assert delivered["message"]["message_id"] == "<daemon-1@vendor.example>"
        assert delivered["source"] == "gateway"
        spool = spool_dir(config.state_dir, "gateway")
        assert wait_for(lambda: not any((spool / "new").iterdir())), "message left in the spool"
        again = requests.post(url, data=mime, headers=mime_headers(SECRET, mime), timeout=10)
        assert again.json()["duplicate"] is True
    finally:
        daemon.request_stop()
        thread.join(30)
    assert not thread.is_alive()
    assert len(receiver.accepted) == 1


def test_a_replay_after_the_spool_forgot_its_id_is_not_routed_again(tmp_path: Path, receiver: Receiver) -> None:
    """The spool keeps provider ids for 30 days (here it forgets them at once); the ledger keeps
    the message, and with it the id's hash, for as long as it keeps the message: a Postmark request
    replayed after the spool's window is dropped, not routed with a second webhook."""
    config = parse_config(
        {
            "state_dir": str(tmp_path / "var"),
            "http": {"host": "127.0.0.1", "port": 0},
            "ocr": {"enabled": False},
            "sources": [{"name": "pm", "type": "webhook", "provider": "postmark", "username": "postmark",
                         "secret": SECRET}],
            "webhooks": {"erp": {"url": receiver.url, "secret": "test-secret-123", "backoff": "1s"}},
            "rules": [{"name": "all", "when": {"has_attachment": True}, "then": [{"webhook": "erp"}]}],
        }
    )
    body = json.dumps({
        "MessageID": "pm-replay-1", "From": "billing@vendor.example", "Subject": "Invoice 4711",
        "TextBody": "Invoice attached",
        "Attachments": [{"Name": "invoice.pdf", "Content": base64.b64encode(make_pdf()).decode(),
                         "ContentType": "application/pdf"}],
    }).encode()
    daemon = Daemon(config)
    thread = threading.Thread(target=daemon.run_forever, daemon=True)
    thread.start()
    try:
        assert wait_for(lambda: daemon.http_server is not None)
        url = f"{daemon.http_server.url}/hooks/pm"
        spool = spool_dir(config.state_dir, "pm")
        assert requests.post(url, data=body, auth=("postmark", SECRET), timeout=10).status_code == 200
        assert wait_for(lambda: len(receiver.accepted) == 1), "the routed webhook never arrived"
        assert wait_for(lambda: not any((spool / "new").iterdir()))
        with sqlite3.connect(spool / "spool.sqlite3") as db:
            db.execute("DELETE FROM stored")  # 30 days later
        late = requests.post(url, data=body, auth=("postmark", SECRET), timeout=10)
        assert late.status_code == 200 and late.json()["duplicate"] is False  # the spool cannot tell
        assert wait_for(lambda: not any((spool / "new").iterdir())), "the replay stayed in the spool"
        time.sleep(2)  # time for a second delivery to go out, were there one (backoff 1s)
    finally:
        daemon.request_stop()
        thread.join(30)
    assert not thread.is_alive()
    assert len(receiver.requests) == 1
    with sqlite3.connect(config.state_dir / "ledger.sqlite3") as db:
        assert db.execute("SELECT COUNT(*) FROM messages WHERE source = 'pm'").fetchone()[0] == 1


SERVE = """
import sys, time
from pathlib import Path
from inbox_ocr.app.config import load_config
from inbox_ocr.app.wiring import Wiring
server = Wiring(load_config(sys.argv[1]), isolated=False).start_http()
Path(sys.argv[2]).write_text(str(server.port))
time.sleep(600)
"""


def test_a_killed_server_loses_nothing_it_answered(tmp_path: Path) -> None:
    """SIGKILL right after the answers: every message answered 200 is in the spool and comes out
    of the source after the restart (what 'durable before the 2xx' promises)."""
    import signal
    import subprocess
    import sys

    from connectors.memory import MemoryState
    from connectors.webhook_in import Spool, WebhookSource, spool_dir

    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        f"state_dir: {tmp_path / 'var'}\nhttp: {{port: 0}}\n"
        f"sources:\n  - {{name: gw, type: webhook, provider: mime, secret: {SECRET}}}\n"
    )
    port_file = tmp_path / "port"
    root = Path(__file__).resolve().parents[2]
    child = subprocess.Popen([sys.executable, "-c", SERVE, str(cfg), str(port_file)], cwd=root)
    try:
        assert wait_for(lambda: port_file.exists() and port_file.read_text() != "", 30)
        url = f"http://127.0.0.1:{port_file.read_text()}/hooks/gw"
        pdf = make_pdf()
        answered = []
        for i in range(20):
            mime = raw_message(f"<kill-{i}@vendor.example>", pdf)
            if requests.post(url, data=mime, headers=mime_headers(SECRET, mime), timeout=10).status_code == 200:
                answered.append(mime)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    assert len(answered) == 20
    config = parse_config(
        {
            "state_dir": str(tmp_path / "var"),
            "sources": [{"name": "gw", "type": "webhook", "provider": "mime", "secret": SECRET}],
        }
    )
    spool = Spool(spool_dir(config.state_dir, "gw"))
    source = WebhookSource(config.sources[0], MemoryState(), spool)  # type: ignore[arg-type]
    assert sorted(m.raw for m in source.fetch()) == sorted(answered)
    source.close()
    spool.close()


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


def test_the_server_can_terminate_tls_itself(tmp_path: Path) -> None:
    from inbox_ocr.app.wiring import Wiring

    cert, key = _self_signed(tmp_path)
    config = parse_config(
        {
            "state_dir": str(tmp_path / "var"),
            "http": {"host": "127.0.0.1", "port": 0, "tls_cert": str(cert), "tls_key": str(key)},
            "sources": [{"name": "gw", "type": "webhook", "provider": "mime", "secret": SECRET}],
        }
    )
    wiring = Wiring(config, isolated=False)
    server = wiring.start_http()
    assert server is not None
    try:
        assert server.url.startswith("https://")
        mime = raw_message("<tls-1@vendor.example>", make_pdf())
        with requests.Session() as session:  # closed before stop: an idle TLS connection delays shutdown
            answer = session.post(
                f"{server.url}/hooks/gw", data=mime, headers=mime_headers(SECRET, mime), verify=str(cert), timeout=10
            )
        assert answer.status_code == 200
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(f"http://127.0.0.1:{server.port}/healthz", timeout=5)  # no plain HTTP on that port
    finally:
        wiring.close()
