"""Security properties a user relies on, checked against real servers on loopback:

* secrets come from environment variables or files (`${ENV}`, `${file:/path}`) and never show in
  the logs, even of a full daemon pass at DEBUG level;
* TLS certificates are verified by default (IMAP and outbound webhooks);
* the state directory is private (0700);
* an outbound webhook never follows a redirect to another host.
"""

from __future__ import annotations

import base64
import os
import ssl
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from connectors.imap import ImapSourceConfig
from connectors.webhook_out import WebhookConfig, make_sink
from inbox_ocr.app.config import load_config, parse_config
from inbox_ocr.app.samples import SampleMessage, build_message, invoice_doc, render_pdf, write_maildir
from inbox_ocr.kernel.errors import ConfigError, DeliveryFailed, DeliveryRejected, SourceUnavailable
from inbox_ocr.orchestration.ledger import DeliveryRecord, DeliveryStatus
from tests.faults.conftest import admin, dovecot  # noqa: F401  (fixtures: a Dovecot of this module)
from tests.faults.harness import srv
from tests.http_receiver import Receiver
from tests.integration.dovecot import Dovecot, _write_certificates

ROOT = Path(__file__).resolve().parents[2]
HOOK_SECRET = "hmac-Key-4f9a1c77e2"
BEARER = "bearer-Token-8812ab0c"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(secret=HOOK_SECRET).start()
    yield r
    r.stop()


def test_a_full_daemon_pass_at_debug_level_never_logs_a_configured_secret(
    tmp_path: Path, dovecot: Dovecot, admin: Any, receiver: Receiver  # noqa: F811
) -> None:
    tickets = Receiver().start()  # bearer auth, no HMAC
    try:
        _full_pass(tmp_path, dovecot, admin, receiver, tickets)
    finally:
        tickets.stop()


def _full_pass(tmp_path: Path, dovecot: Dovecot, admin: Any, receiver: Receiver,  # noqa: F811
               tickets: Receiver) -> None:
    folder = "Sec/Eingang"
    admin.create_folder(srv(folder))
    pdf = render_pdf(invoice_doc(number="SEC-1"))
    admin.multiappend(srv(folder), [
        build_message(SampleMessage("sec-1", "Invoice SEC-1", "billing@acme.example", "attached",
                                    (("SEC-1.pdf", "application/pdf", pdf),))),
        build_message(SampleMessage("sec-2", "Lunch", "c@company.example", "noon", ())),
        b"garbage that is not a message",
    ])
    secret_file = tmp_path / "hook.secret"
    secret_file.write_text(HOOK_SECRET + "\n")
    secret_file.chmod(0o600)
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({
        "state_dir": str(tmp_path / "var"),
        "sources": [{"name": "finance", "type": "imap", "host": "127.0.0.1", "port": dovecot.ssl_port,
                     "username": dovecot.user, "password": "${SEC_IMAP_PASSWORD}", "ca_file": str(dovecot.ca_file),
                     "folders": [folder], "quarantine_folder": "Sec/Quarantine"}],
        "webhooks": {"erp": {"url": receiver.url, "secret": f"${{file:{secret_file}}}",
                             "headers": {"X-Tenant": "acme"}},
                     "tickets": {"url": tickets.url, "auth": {"type": "bearer", "token": "${SEC_BEARER}"}}},
        "rules": [{"name": "invoices", "when": {"subject": "Invoice *"},
                   "then": [{"move": "Sec/Invoices"}, {"webhook": "erp"}, {"webhook": "tickets"}]}],
        "default": [{"move": "Sec/Other"}],
        "log": {"level": "DEBUG"},
    }))
    env = {**os.environ, "SEC_IMAP_PASSWORD": dovecot.password, "SEC_BEARER": BEARER, "PYTHONUNBUFFERED": "1"}
    secrets = (dovecot.password, HOOK_SECRET, BEARER)
    for fmt in ("text", "json"):
        if fmt == "json":  # the second pass: the same mail again (nothing to do) and JSON logs
            data = yaml.safe_load(config.read_text())
            data["log"]["format"] = "json"
            config.write_text(yaml.safe_dump(data))
        run = subprocess.run([sys.executable, str(ROOT / "run_daemon.py"), "--config", str(config), "--once"],
                             cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180)
        # the first pass quarantines the garbage message (exit status 1), the second has nothing to do
        assert run.returncode == (1 if fmt == "text" else 0), run.stderr[-3000:]
        output = run.stdout + run.stderr
        assert "DEBUG" in output  # the scan is meaningful only if the daemon really logged at DEBUG
        leaked = [s for s in secrets if s in output]
        assert not leaked, f"secrets in the {fmt} logs: {leaked}"
    # the secrets were really used: the receiver verified the HMAC, and saw the bearer token
    assert receiver.bad_signatures == 0
    assert len(receiver.accepted) == 1
    assert [r.headers.get("authorization") for r in tickets.requests] == [f"Bearer {BEARER}"]
    ledger = (tmp_path / "var" / "ledger.sqlite3").read_bytes()
    assert not [s for s in secrets if s.encode() in ledger]


class _Echo(BaseHTTPRequestHandler):
    """A receiver that refuses every request with a 400 whose body echoes the request's headers,
    as some APIs do in their error messages."""

    def do_POST(self) -> None:  # noqa: N802 (http.server API)
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = ("bad request; you sent: " + "; ".join(f"{k}: {v}" for k, v in self.headers.items())
                + f"; path {self.path}").encode()
        self.send_response(400)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return None


def test_no_configured_secret_in_any_form_reaches_logs_ledger_or_cli_output(tmp_path: Path) -> None:
    """Every configured secret, in every form we send it (raw, URL path, base64 of user:password,
    header values), is masked in the logs, the ledger file and the output of every CLI command,
    even when a receiver echoes our credentials back in its error body."""
    echo = _serve(_Echo)
    closed = _serve(_Handler)
    closed_port = closed.server_address[1]
    closed.shutdown()
    closed.server_close()  # nothing listens there now: the delivery fails with a connection error
    url_token = "XoXb7788990011aabbccDDee"
    bearer, password, api_key = "bearer-Tok-5566ee77", "basic-Pass-3344cc55", "hdr-Key-77aa11bb22"
    basic = base64.b64encode(f"bot@acme.example:{password}".encode()).decode()
    forms = {
        "url token": url_token, "bearer": bearer, "password": password, "basic": basic,
        "header value": api_key, "hmac key": HOOK_SECRET,
    }
    write_maildir(tmp_path / "Maildir", [SampleMessage(
        "sec-9", "Invoice SEC-9", "billing@acme.example", "attached",
        (("SEC-9.pdf", "application/pdf", render_pdf(invoice_doc(number="SEC-9"))),))])
    hook = f"http://127.0.0.1:{echo.server_address[1]}/hook"
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({
        "state_dir": str(tmp_path / "var"),
        "sources": [{"name": "box", "type": "maildir", "path": str(tmp_path / "Maildir")}],
        "webhooks": {
            "slack": {"url": f"http://127.0.0.1:{closed_port}/services/T000/B000/{url_token}", "max_attempts": 1},
            "bearer": {"url": hook, "auth": {"type": "bearer", "token": "${T_BEARER}"}, "secret": HOOK_SECRET},
            "basic": {"url": hook, "auth": {"type": "basic", "username": "bot@acme.example",
                                            "password": "${T_PASSWORD}"}},
            "keyed": {"url": hook, "headers": {"X-Api-Key": api_key}},
        },
        "rules": [{"name": "all", "when": {"has_attachment": True},
                   "then": [{"webhook": "slack"}, {"webhook": "bearer"}, {"webhook": "basic"}, {"webhook": "keyed"}]}],
        "log": {"level": "DEBUG"},
    }))
    env = {**os.environ, "T_BEARER": bearer, "T_PASSWORD": password, "PYTHONUNBUFFERED": "1"}

    def cli(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "inbox_ocr", *args], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=180)
        assert done.returncode in (0, 1), done.stderr[-3000:]
        return done.stdout + done.stderr

    try:
        outputs = {"run --once": cli("run", "-c", str(config), "--once")}
        outputs["outbox list"] = cli("outbox", "list", "-c", str(config))
        listed = outputs["outbox list"].splitlines()
        ids = sorted({int(line.split()[0]) for line in listed if line[:6].strip().isdigit()})
        assert len(ids) == 4, outputs["outbox list"]
        for i in ids:
            outputs[f"outbox show {i}"] = cli("outbox", "show", "-c", str(config), str(i))
            outputs[f"outbox retry {i}"] = cli("outbox", "retry", "-c", str(config), str(i), "--now")
        outputs["ledger show"] = cli("ledger", "-c", str(config), "show", "1")
        outputs["ledger"] = cli("ledger", "-c", str(config))
    finally:
        echo.shutdown()
    assert "DEBUG" in outputs["run --once"] and "HTTP 400" in outputs["outbox list"]  # it really failed as planned
    assert "***" in outputs["outbox list"]  # the echoed credentials were there, masked
    leaks = [(where, name) for where, text in outputs.items() for name, value in forms.items() if value in text]
    assert not leaks, leaks
    stored = b"".join(p.read_bytes() for p in (tmp_path / "var").glob("ledger.sqlite3*"))
    assert not [name for name, value in forms.items() if value.encode() in stored]


def test_secret_files_and_missing_ones(tmp_path: Path) -> None:
    secret = tmp_path / "imap.pw"
    secret.write_text("from-a-file\n")
    base = {"sources": [{"name": "m", "type": "imap", "host": "imap.example.com", "username": "u",
                         "password": f"${{file:{secret}}}"}]}
    config = parse_config(base, "c.yaml", env={})
    assert config.sources[0].password.get_secret_value() == "from-a-file"  # type: ignore[union-attr]
    base["sources"][0]["password"] = "${file:/nonexistent/imap.pw}"
    with pytest.raises(ConfigError) as err:
        parse_config(base, "c.yaml", env={})
    assert "sources[0].password: cannot read secret file /nonexistent/imap.pw" in str(err.value)


def test_imap_certificates_are_verified_by_default(dovecot: Dovecot) -> None:  # noqa: F811
    from connectors.imap import ImapSource
    from connectors.memory import MemoryState

    config = ImapSourceConfig.model_validate({
        "type": "imap", "name": "m", "host": "127.0.0.1", "port": dovecot.ssl_port, "username": dovecot.user,
        "password": dovecot.password, "reconnect_attempts": 1})  # no ca_file: the test CA is not trusted
    assert config.verify_tls is True
    source = ImapSource(config, MemoryState())
    with pytest.raises(SourceUnavailable, match="CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
        list(source.fetch())
    source.close()


class _Handler(BaseHTTPRequestHandler):
    hits: list[str] = []
    redirect_to: str | None = None

    def do_POST(self) -> None:  # noqa: N802 (http.server API)
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).hits.append(self.path)
        if type(self).redirect_to:
            self.send_response(307)
            self.send_header("Location", type(self).redirect_to)
        else:
            self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        return None


def _serve(handler: type[BaseHTTPRequestHandler], tls: ssl.SSLContext | None = None) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _delivery(key: str) -> DeliveryRecord:
    return DeliveryRecord(id=1, message=1, webhook="erp", idempotency_key=key, payload=b'{"a": 1}',
                          status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=0, last_error=None, receipt=None,
                          created_at="", delivered_at=None)


def test_webhook_certificates_are_verified_by_default(tmp_path: Path) -> None:
    _, cert, key = _write_certificates(tmp_path)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    handler = type("Tls", (_Handler,), {"hits": [], "redirect_to": None})
    server = _serve(handler, tls)
    try:
        sink = make_sink("erp", WebhookConfig(url=f"https://127.0.0.1:{server.server_address[1]}/hook"))
        with pytest.raises(DeliveryFailed, match="SSLError|CERTIFICATE_VERIFY_FAILED"):
            sink.deliver(_delivery("k1"))
        assert handler.hits == []  # the payload never reached the unverified server
    finally:
        server.shutdown()


def test_webhooks_follow_no_redirect_to_another_host() -> None:
    stranger = type("Stranger", (_Handler,), {"hits": [], "redirect_to": None})
    other = _serve(stranger)
    redirecting = type("Redirecting", (_Handler,), {"hits": [],
                                                    "redirect_to": f"http://localhost:{other.server_address[1]}/x"})
    first = _serve(redirecting)
    try:
        sink = make_sink("erp", WebhookConfig(url=f"http://127.0.0.1:{first.server_address[1]}/hook",
                                               secret=HOOK_SECRET))
        with pytest.raises(DeliveryRejected, match="redirect to http://localhost:.* not followed"):
            sink.deliver(_delivery("k2"))
        assert redirecting.hits == ["/hook"] and stranger.hits == []
    finally:
        first.shutdown()
        other.shutdown()


@pytest.mark.parametrize("form", [
    "http://localhost:{other}\\@127.0.0.1:{first}/hook",   # urlparse: 127.0.0.1:first; the client: localhost:other
    "http://127.0.0.1:{other}/hook",                         # same host, another port
    "//127.0.0.1:{other}/hook",                              # scheme-relative
    "http://127.0.0.1:{other}#@127.0.0.1:{first}/hook",
])
def test_webhooks_follow_no_redirect_to_another_port_however_it_is_spelled(form: str) -> None:
    """Same origin is decided on what the HTTP client connects to: no request, body, token or
    signature reaches the other port, and the delivery is not marked delivered."""
    stranger = type("Stranger", (_Handler,), {"hits": [], "redirect_to": None})
    other = _serve(stranger)
    redirecting = type("Redirecting", (_Handler,), {"hits": [], "redirect_to": None})
    first = _serve(redirecting)
    redirecting.redirect_to = form.format(other=other.server_address[1], first=first.server_address[1])
    try:
        sink = make_sink("erp", WebhookConfig(url=f"http://127.0.0.1:{first.server_address[1]}/hook",
                                               secret=HOOK_SECRET, auth={"type": "bearer", "token": BEARER}))
        with pytest.raises(DeliveryRejected, match="not followed"):
            sink.deliver(_delivery("k3"))
        assert stranger.hits == [] and redirecting.hits == ["/hook"]
    finally:
        first.shutdown()
        other.shutdown()


def test_webhooks_follow_a_307_on_the_same_origin() -> None:
    handler = type("Moved", (_Handler,), {"hits": [], "redirect_to": None})
    server = _serve(handler)
    port = server.server_address[1]

    class Once(handler):  # type: ignore[valid-type,misc]
        def do_POST(self) -> None:  # noqa: N802
            type(self).redirect_to = None if type(self).hits else f"http://127.0.0.1:{port}/new"
            super().do_POST()

    server.RequestHandlerClass = Once
    try:
        sink = make_sink("erp", WebhookConfig(url=f"http://127.0.0.1:{port}/hook"))
        assert sink.deliver(_delivery("k4")) == "HTTP 200"
        assert Once.hits == ["/hook", "/new"]
    finally:
        server.shutdown()


def test_state_directory_is_private(tmp_path: Path) -> None:
    from inbox_ocr.app.daemon import Daemon

    state = tmp_path / "var"
    state.mkdir(mode=0o755)
    state.chmod(0o755)  # made by someone else, world-readable
    (tmp_path / "Maildir").mkdir()
    config_file = tmp_path / "c.yaml"
    config_file.write_text(f"state_dir: {state}\nsources:\n  - {{name: m, type: maildir, path: {tmp_path / 'Maildir'}, "
                           "create: true}\nlimits: {isolate_documents: false}\n")
    old = os.umask(0o022)
    try:
        daemon = Daemon(load_config(config_file))
        daemon.close()
    finally:
        os.umask(old)
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
