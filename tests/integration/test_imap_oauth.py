"""XOAUTH2 against a real Dovecot whose oauth2 passdb asks a loopback identity provider.

The identity provider here is a small real HTTP server that behaves like Microsoft's documented
endpoints: a token endpoint that rotates refresh tokens (an old one is refused once used) and
answers the device-code grant (`authorization_pending` until the person has entered the code) and
the client-credentials grant; a device authorization endpoint (RFC 8628); a page where the person
enters the code; and a userinfo endpoint that Dovecot calls with the bearer token to learn whose it is."""

from __future__ import annotations

import json
import re
import secrets
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
import yaml

from connectors.imap import ImapSource
from connectors.imap.auth import CURSOR
from connectors.memory import MemoryState
from inbox_ocr.kernel.errors import SourceUnavailable
from tests.integration.conftest import _need_dovecot as need_dovecot
from tests.integration.conftest import admin_client, imap_source_config, make_email
from tests.integration.dovecot import USER, Dovecot

pytestmark = pytest.mark.integration


APP_ID, APP_SECRET = "inbox-ocr-app", "app-s3cret"  # the app registration for app-only access


@dataclass
class IdentityProvider:
    refresh_tokens: set[str] = field(default_factory=lambda: {"rt-0"})
    access_tokens: set[str] = field(default_factory=set)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    device_codes: dict[str, dict[str, object]] = field(default_factory=dict)  # device_code -> user_code, state

    def issue(self, refresh: bool = True) -> dict[str, object]:
        access = f"at-{secrets.token_hex(8)}"
        self.access_tokens.add(access)
        answer: dict[str, object] = {"access_token": access, "expires_in": 3600, "token_type": "Bearer"}
        if refresh:
            answer["refresh_token"] = new = f"rt-{secrets.token_hex(8)}"
            self.refresh_tokens.add(new)
        return answer

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, object]]:
        grant = form.get("grant_type")
        if grant == "refresh_token":
            old = form.get("refresh_token", "")
            if old not in self.refresh_tokens:
                return 400, {"error": "invalid_grant", "error_description": "refresh token unknown"}
            self.refresh_tokens.discard(old)  # rotation: each refresh token works once
            return 200, self.issue()
        if grant == "urn:ietf:params:oauth:grant-type:device_code":
            pending = self.device_codes.get(form.get("device_code", ""))
            if pending is None:
                return 400, {"error": "invalid_grant", "error_description": "device code unknown"}
            if pending["state"] == "pending":
                return 400, {"error": "authorization_pending", "error_description": "the user has not signed in"}
            if pending["state"] == "declined":
                return 400, {"error": "access_denied", "error_description": "the user declined"}
            del self.device_codes[form["device_code"]]
            return 200, self.issue()
        if grant == "client_credentials":
            if (form.get("client_id"), form.get("client_secret")) != (APP_ID, APP_SECRET):
                return 401, {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret"}
            if not form.get("scope", "").endswith("/.default"):
                return 400, {"error": "invalid_scope", "error_description": "app-only scopes end in /.default"}
            return 200, self.issue(refresh=False)
        return 400, {"error": "unsupported_grant_type"}

    def start(self) -> IdentityProvider:
        idp = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server API)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                form = {k: v[0] for k, v in parse_qs(body).items()}
                if self.path == "/devicecode":
                    code, user_code = secrets.token_hex(16), secrets.token_hex(4).upper()
                    idp.device_codes[code] = {"user_code": user_code, "state": "pending", "scope": form.get("scope")}
                    self._json(200, {"device_code": code, "user_code": user_code, "interval": 1, "expires_in": 120,
                                     "verification_uri": f"{idp.base}/device",
                                     "message": f"To sign in, open {idp.base}/device and enter {user_code}"})
                    return
                if self.path == "/device":  # the person, in a browser, enters the code and signs in (or not)
                    for pending in idp.device_codes.values():
                        if pending["user_code"] == form.get("user_code"):
                            pending["state"] = form.get("decision", "approved")
                            self._json(200, {"signed_in": True})
                            return
                    self._json(404, {"error": "no such code"})
                    return
                idp.token_requests.append(form)
                self._json(*idp.token(form))

            def do_GET(self) -> None:  # noqa: N802 (Dovecot's introspection)
                token = self.headers.get("Authorization", "").removeprefix("Bearer ")
                if token in idp.access_tokens:
                    self._json(200, {"email": USER, "active": True})
                else:
                    self._json(401, {"error": "invalid_token"})

            def _json(self, status: int, data: dict[str, object]) -> None:
                body = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def idp() -> Iterator[IdentityProvider]:
    provider = IdentityProvider().start()
    yield provider
    provider.stop()


@pytest.fixture(scope="module")
def dovecot_oauth(idp: IdentityProvider) -> Iterator[Dovecot]:
    need_dovecot()
    server = Dovecot.start(oauth_url=f"{idp.base}/userinfo")
    yield server
    server.close()


def test_refresh_token_flow_logs_in_and_a_restart_uses_the_rotated_token(dovecot_oauth, idp):
    admin = admin_client(dovecot_oauth)
    admin.append("INBOX", make_email("via oauth"))
    admin.logout()
    state = MemoryState()
    oauth = {"token_url": f"{idp.base}/token", "client_id": "inbox-ocr", "refresh_token": "rt-0"}
    config = imap_source_config(dovecot_oauth, ["INBOX"], auth="xoauth2", password=None, oauth=oauth)

    first = ImapSource(config, state)
    assert [b"via oauth" in m.raw for m in first.fetch()] == [True]
    first.close()
    rotated = json.loads(state.get_cursor("finance", CURSOR) or "{}")["refresh_token"]
    assert rotated in idp.refresh_tokens and "rt-0" not in idp.refresh_tokens

    # A restart: the config still says rt-0, which the provider no longer accepts.
    again = ImapSource(config, state)
    assert len(list(again.fetch())) == 1
    again.close()
    assert idp.token_requests[-1]["refresh_token"] == rotated


def test_token_command_supplies_the_access_token(dovecot_oauth, idp):
    idp.access_tokens.add("at-from-cli-tool")
    command = f"{sys.executable} -c \"print('at-from-cli-tool')\""
    config = imap_source_config(
        dovecot_oauth, ["INBOX"], auth="xoauth2", password=None, oauth={"token_command": command}
    )
    source = ImapSource(config, MemoryState())
    try:
        assert isinstance(list(source.fetch()), list)
        assert source.has(b"IDLE")
    finally:
        source.close()


def sign_in_in_a_browser(idp: IdentityProvider, stderr: Any, decision: str = "approved") -> str:
    """What the person does: read the code the command printed, enter it on the provider's page."""
    line = stderr.readline()
    match = re.search(r"open (\S+) and enter the code (\S+)", line)
    assert match, line
    page, code = match.groups()
    requests.post(page, data={"user_code": code, "decision": decision}, timeout=10).raise_for_status()
    return code


def auth_config(tmp_path: Path, server: Dovecot, idp: IdentityProvider, oauth: dict[str, Any]) -> Path:
    path = tmp_path / "inbox-ocr.yaml"
    path.write_text(yaml.safe_dump({
        "state_dir": str(tmp_path / "var"),
        "sources": [{"name": "shared", "type": "imap", "host": "127.0.0.1", "port": server.ssl_port,
                     "security": "ssl", "username": server.user, "auth": "xoauth2", "ca_file": str(server.ca_file),
                     "folders": ["INBOX"], "oauth": oauth}],
        "default": [{"keyword": "seen-by-inbox-ocr"}],
        "log": {"level": "WARNING"},
    }))
    return path


def test_auth_login_signs_in_by_device_code_and_the_daemon_reads_mail_with_it(tmp_path, dovecot_oauth, idp):
    """`inbox-ocr auth login` as a user runs it: the URL and code on stderr, someone signs in on the
    provider's page, the refresh token lands in the ledger, and `run --once` reads the mailbox."""
    admin = admin_client(dovecot_oauth)
    admin.append("INBOX", make_email("after device login"))
    admin.logout()
    oauth = {"grant": "device_code", "client_id": "inbox-ocr", "token_url": f"{idp.base}/token",
             "device_code_url": f"{idp.base}/devicecode"}
    config = auth_config(tmp_path, dovecot_oauth, idp, oauth)
    cli = [sys.executable, "-m", "inbox_ocr", "-c", str(config)]

    not_yet = subprocess.run([*cli[:3], "run", "--once", "-c", str(config)], capture_output=True, text=True,
                             timeout=120)
    assert not_yet.returncode == 3 and "run `inbox-ocr auth login --source shared`" in not_yet.stderr

    login = subprocess.Popen([*cli[:3], "auth", "login", "--source", "shared", "-c", str(config)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sign_in_in_a_browser(idp, login.stderr)
    out, err = login.communicate(timeout=120)
    assert login.returncode == 0, err
    assert "shared: signed in; the refresh token is kept in the ledger" in out
    waiting = re.search(f"IMAP login as {dovecot_oauth.user} works; (\\d+) message\\(s\\) waiting in INBOX", out)
    assert waiting and int(waiting.group(1)) >= 1, out  # the INBOX is shared with this module's other tests
    assert not any(t in out + err for t in idp.access_tokens | idp.refresh_tokens)  # no token printed

    done = subprocess.run([*cli[:3], "run", "--once", "--json", "-c", str(config)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    handled = json.loads(done.stdout)["messages"]
    assert len(handled) == int(waiting.group(1)) and {m["status"] for m in handled} == {"done"}
    assert "after device login" in {m["subject"] for m in handled}


def test_auth_login_says_when_the_sign_in_is_declined(tmp_path, dovecot_oauth, idp):
    oauth = {"grant": "device_code", "client_id": "inbox-ocr", "token_url": f"{idp.base}/token",
             "device_code_url": f"{idp.base}/devicecode"}
    config = auth_config(tmp_path, dovecot_oauth, idp, oauth)
    login = subprocess.Popen([sys.executable, "-m", "inbox_ocr", "auth", "login", "--source", "shared",
                              "-c", str(config)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sign_in_in_a_browser(idp, login.stderr, decision="declined")
    _, err = login.communicate(timeout=120)
    assert login.returncode == 3 and "shared: the sign-in was declined" in err


def test_app_only_access_reads_a_shared_mailbox_without_a_user(dovecot_oauth, idp):
    admin = admin_client(dovecot_oauth)
    admin.append("INBOX", make_email("app only"))
    admin.logout()
    oauth = {"grant": "client_credentials", "client_id": APP_ID, "client_secret": APP_SECRET,
             "token_url": f"{idp.base}/token", "scope": "https://outlook.office365.com/.default"}
    config = imap_source_config(dovecot_oauth, ["INBOX"], auth="xoauth2", password=None, oauth=oauth)
    source = ImapSource(config, MemoryState())
    try:
        assert any(b"app only" in m.raw for m in source.fetch())
    finally:
        source.close()
    assert idp.token_requests[-1]["grant_type"] == "client_credentials"

    wrong = {**oauth, "client_secret": "not-the-secret"}
    bad = ImapSource(imap_source_config(dovecot_oauth, ["INBOX"], auth="xoauth2", password=None, oauth=wrong,
                                        reconnect_attempts=1), MemoryState())
    with pytest.raises(SourceUnavailable, match="app-only token refused: AADSTS7000215: Invalid client secret"):
        list(bad.fetch())
    bad.close()
