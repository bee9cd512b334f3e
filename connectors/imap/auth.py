"""XOAUTH2 access tokens for the IMAP source: from a command, or by the OAuth refresh-token flow.

Google keeps a refresh token valid until it is revoked; Microsoft rotates it on every refresh
(the old one keeps working for a while, then not). The newest refresh token is therefore kept
with `SourceState.set_cursor` and preferred over the one in the config file, as long as the config
still names the token it grew from (a fingerprint, so that an admin who pastes a fresh token after
re-consent wins over the stored one). Tokens are never logged.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shlex
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass

import requests

from connectors.imap.config import ImapOAuthConfig
from inbox_ocr.kernel import secrets
from inbox_ocr.kernel.errors import SourceUnavailable
from inbox_ocr.kernel.ports import SourceState

log = logging.getLogger(__name__)

TOKEN_URLS = {
    "google": "https://oauth2.googleapis.com/token",
    "microsoft": "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token",
}
DEFAULT_SCOPES = {
    "google": None,  # Google keeps the scopes of the original grant
    "microsoft": "https://outlook.office.com/IMAP.AccessAsUser.All offline_access",
}
CURSOR = "oauth_refresh_token"
EARLY = 60.0  # seconds before expiry at which a cached access token counts as expired


def _fingerprint(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:16]


@dataclass
class _Cached:
    token: str
    expires_at: float


class TokenProvider:
    """Hands out XOAUTH2 access tokens for one source, refreshing them when needed."""

    def __init__(
        self,
        source: str,
        config: ImapOAuthConfig,
        state: SourceState,
        session: requests.Session | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.source = source
        self.config = config
        self.state = state
        self.session = session or requests.Session()
        self._now = now
        self._cached: _Cached | None = None

    def access_token(self, force_refresh: bool = False) -> str:
        """A current access token; `force_refresh` after the server rejected the cached one. A new
        token is masked from then on in logs and output, like a configured secret."""
        if not force_refresh and self._cached and self._cached.expires_at - EARLY > self._now():
            return self._cached.token
        if self.config.token_command:
            token = self._from_command(self.config.token_command)
            # A command decides its own caching; ask it again for every new connection.
            self._cached = None
        else:
            self._cached = self._refresh()
            token = self._cached.token
        secrets.extend([token])
        return token

    # ------------------------------------------------------------------ token command

    def _from_command(self, command: str) -> str:
        try:
            done = subprocess.run(
                shlex.split(command),
                capture_output=True,
                text=True,
                timeout=self.config.command_timeout,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SourceUnavailable(f"{self.source}: token_command failed to run: {exc}") from exc
        token = done.stdout.strip()
        if done.returncode != 0 or not token:
            # stderr may help the admin; stdout may hold a token, so it is never shown.
            raise SourceUnavailable(
                f"{self.source}: token_command exited with {done.returncode} and "
                f"{'no token' if not token else 'an error'}: {done.stderr.strip()[:200]}"
            )
        return token.splitlines()[-1].strip()

    # ------------------------------------------------------------------ refresh-token flow

    def _current_refresh_token(self) -> str:
        assert self.config.refresh_token is not None  # checked by the config schema
        configured = self.config.refresh_token.get_secret_value()
        stored = self.state.get_cursor(self.source, CURSOR)
        if stored:
            try:
                data = json.loads(stored)
                if data.get("from") == _fingerprint(configured) and data.get("refresh_token"):
                    return str(data["refresh_token"])
            except ValueError:
                log.warning("event=oauth_cursor_unreadable source=%s", self.source)
        return configured

    def _token_url(self) -> str:
        if self.config.token_url:
            return self.config.token_url
        assert self.config.provider is not None
        return TOKEN_URLS[self.config.provider].format(tenant=self.config.tenant)

    def _refresh(self) -> _Cached:
        refresh_token = self._current_refresh_token()
        form = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": self.config.client_id,
        }
        if self.config.client_secret is not None:
            form["client_secret"] = self.config.client_secret.get_secret_value()
        scope = self.config.scope or DEFAULT_SCOPES.get(self.config.provider or "")
        if scope:
            form["scope"] = scope
        url = self._token_url()
        try:
            resp = self.session.post(url, data=form, timeout=self.config.http_timeout)
        except requests.RequestException as exc:
            raise SourceUnavailable(
                f"{self.source}: token endpoint {url} unreachable: {type(exc).__name__}"
            ) from exc
        try:
            body = resp.json()
        except ValueError:
            body = {}
        if resp.status_code != 200 or "access_token" not in body:
            # OAuth errors carry `error` and `error_description`, never a token: safe to show.
            reason = body.get("error_description") or body.get("error") or f"HTTP {resp.status_code}"
            hint = (
                " (the refresh token was revoked or expired: consent again)"
                if body.get("error") == "invalid_grant"
                else ""
            )
            raise SourceUnavailable(f"{self.source}: token refresh refused: {str(reason)[:200]}{hint}")
        new_refresh = body.get("refresh_token")
        if new_refresh and new_refresh != refresh_token:
            configured = self.config.refresh_token.get_secret_value()  # type: ignore[union-attr]
            self.state.set_cursor(
                self.source,
                CURSOR,
                json.dumps({"from": _fingerprint(configured), "refresh_token": new_refresh}),
            )
            log.info("event=oauth_refresh_token_rotated source=%s", self.source)
        expires_in = float(body.get("expires_in") or 3600)
        log.info("event=oauth_token_refreshed source=%s expires_in=%d", self.source, expires_in)
        return _Cached(token=str(body["access_token"]), expires_at=self._now() + expires_in)
