"""XOAUTH2 against a real Dovecot whose oauth2 passdb asks a loopback identity provider.

The identity provider here is a small real HTTP server that behaves like Microsoft's: a token
endpoint that rotates refresh tokens (an old one is refused once used) and a userinfo endpoint
that Dovecot calls with the bearer token to learn whose it is."""

from __future__ import annotations

import json
import secrets
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from connectors.imap import ImapSource
from connectors.imap.auth import CURSOR
from connectors.memory import MemoryState
from tests.integration.conftest import _need_dovecot as need_dovecot
from tests.integration.conftest import admin_client, imap_source_config, make_email
from tests.integration.dovecot import USER, Dovecot

pytestmark = pytest.mark.integration


@dataclass
class IdentityProvider:
    refresh_tokens: set[str] = field(default_factory=lambda: {"rt-0"})
    access_tokens: set[str] = field(default_factory=set)
    token_requests: list[dict[str, str]] = field(default_factory=list)

    def start(self) -> IdentityProvider:
        idp = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server API)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                form = {k: v[0] for k, v in parse_qs(body).items()}
                idp.token_requests.append(form)
                old = form.get("refresh_token", "")
                if form.get("grant_type") != "refresh_token" or old not in idp.refresh_tokens:
                    self._json(400, {"error": "invalid_grant", "error_description": "refresh token unknown"})
                    return
                idp.refresh_tokens.discard(old)  # rotation: each refresh token works once
                access, new = f"at-{secrets.token_hex(8)}", f"rt-{secrets.token_hex(8)}"
                idp.access_tokens.add(access)
                idp.refresh_tokens.add(new)
                self._json(
                    200, {"access_token": access, "refresh_token": new, "expires_in": 3600, "token_type": "Bearer"}
                )

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
