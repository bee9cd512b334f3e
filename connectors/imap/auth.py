"""XOAUTH2 access tokens for the IMAP source: from a command, or by an OAuth grant.

    refresh_token       a refresh token from the config (and its rotated successors)
    device_code         `inbox-ocr auth login` signs a person in once (RFC 8628: a URL and a code to
                        type on any device); the refresh token it gets is kept in the ledger
    client_credentials  app-only: the app's id and secret give an access token for the shared
                        mailboxes an Exchange admin granted it; no user, no refresh token

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
from typing import Any

import requests

from connectors.imap.config import ImapOAuthConfig
from inbox_ocr.kernel import secrets
from inbox_ocr.kernel.errors import PermanentError, SourceUnavailable
from inbox_ocr.kernel.ports import SourceState

log = logging.getLogger(__name__)

TOKEN_URLS = {
    "google": "https://oauth2.googleapis.com/token",
    "microsoft": "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token",
}
DEVICE_CODE_URLS = {"microsoft": "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/devicecode"}
DEFAULT_SCOPES = {
    "google": None,  # Google keeps the scopes of the original grant
    "microsoft": "https://outlook.office.com/IMAP.AccessAsUser.All offline_access",
}
APP_ONLY_SCOPES = {"microsoft": "https://outlook.office365.com/.default"}
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
DEVICE_LOGIN = "device_code"  # the stored refresh token's origin when `auth login` got it
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
        elif self.config.flow == "client_credentials":
            self._cached = self._app_only()
            token = self._cached.token
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

    def _origin(self) -> str:
        """Where the refresh token chain started: the configured token (by fingerprint) or `auth login`."""
        if self.config.refresh_token is None:
            return DEVICE_LOGIN
        return _fingerprint(self.config.refresh_token.get_secret_value())

    def _current_refresh_token(self) -> str:
        stored = self.state.get_cursor(self.source, CURSOR)
        if stored:
            try:
                data = json.loads(stored)
                if data.get("from") == self._origin() and data.get("refresh_token"):
                    return str(data["refresh_token"])
            except ValueError:
                log.warning("event=oauth_cursor_unreadable source=%s", self.source)
        if self.config.refresh_token is None:
            raise SourceUnavailable(f"{self.source}: not signed in yet: run `inbox-ocr auth login --source "
                                    f"{self.source}` (the daemon picks the sign-in up at its next connection)")
        return self.config.refresh_token.get_secret_value()

    def _store_refresh_token(self, token: str) -> None:
        self.state.set_cursor(self.source, CURSOR, json.dumps({"from": self._origin(), "refresh_token": token}))

    def _refresh(self) -> _Cached:
        refresh_token = self._current_refresh_token()
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        body = _post(self.source, self.config, token_url(self.config), form, self.session, "token refresh")
        new_refresh = body.get("refresh_token")
        if new_refresh and new_refresh != refresh_token:
            self._store_refresh_token(str(new_refresh))
            log.info("event=oauth_refresh_token_rotated source=%s", self.source)
        return self._cached_from(body)

    def _app_only(self) -> _Cached:
        form = {"grant_type": "client_credentials"}
        body = _post(self.source, self.config, token_url(self.config), form, self.session, "app-only token")
        return self._cached_from(body)

    def _cached_from(self, body: dict[str, Any]) -> _Cached:
        expires_in = float(body.get("expires_in") or 3600)
        log.info("event=oauth_token_refreshed source=%s grant=%s expires_in=%d", self.source, self.config.flow,
                 expires_in)
        return _Cached(token=str(body["access_token"]), expires_at=self._now() + expires_in)

    # ------------------------------------------------------------------ device-code sign-in

    def device_login(self, show: Callable[[str], None], sleep: Callable[[float], None] = time.sleep) -> None:
        """Sign a person in by the device-code grant (RFC 8628): ask for a code, `show` where to enter
        it, poll the token endpoint until they have, and keep the refresh token in the ledger.
        Raises SourceUnavailable when the endpoint is unreachable, and DeviceLoginFailed when the
        sign-in was refused, expired or gave no refresh token."""
        url = device_code_url(self.config)
        start = _post(self.source, self.config, url, {}, self.session, "device code request")
        missing = [k for k in ("device_code", "user_code") if not start.get(k)]
        verification = start.get("verification_uri") or start.get("verification_url")
        if missing or not verification:
            raise DeviceLoginFailed(f"{self.source}: the device authorization endpoint answered without "
                                    f"{', '.join(missing) or 'verification_uri'}")
        show(f"To sign in, open {verification} and enter the code {start['user_code']}")
        interval = float(start.get("interval") or 5)
        deadline = self._now() + float(start.get("expires_in") or 900)
        form = {"grant_type": DEVICE_GRANT, "device_code": str(start["device_code"])}
        while True:
            sleep(interval)
            if self._now() > deadline:
                raise DeviceLoginFailed(f"{self.source}: the code expired before the sign-in was completed; "
                                        "run the command again")
            body, error = _exchange(self.source, self.config, token_url(self.config), form, self.session)
            if error == "authorization_pending":
                continue
            if error == "slow_down":  # RFC 8628 3.5: wait 5 s longer from now on
                interval += 5
                continue
            if error is not None:
                raise DeviceLoginFailed(f"{self.source}: {_DEVICE_ERRORS.get(error) or _reason(body, error)}")
            if not body.get("refresh_token"):
                raise DeviceLoginFailed(f"{self.source}: signed in, but no refresh token came back (is "
                                        "offline_access in the scope?)")
            self._store_refresh_token(str(body["refresh_token"]))
            self._cached = self._cached_from(body)
            secrets.extend([self._cached.token])
            log.info("event=oauth_device_login source=%s", self.source)
            return


_DEVICE_ERRORS = {"access_denied": "the sign-in was declined",
                  "expired_token": "the code expired before the sign-in was completed; run the command again"}


def _reason(body: dict[str, Any], error: str) -> str:
    """An OAuth error as the endpoint gave it (`error_description`, else `error`): they never carry a token."""
    return f"{error}: {str(body.get('error_description'))[:200]}" if body.get("error_description") else error


class DeviceLoginFailed(PermanentError):
    """The person declined, the code expired, or the provider gave no refresh token."""


def token_url(config: ImapOAuthConfig) -> str:
    if config.token_url:
        return config.token_url
    assert config.provider is not None  # checked by the config schema
    return TOKEN_URLS[config.provider].format(tenant=config.tenant)


def device_code_url(config: ImapOAuthConfig) -> str:
    if config.device_code_url:
        return config.device_code_url
    return DEVICE_CODE_URLS[config.provider or "microsoft"].format(tenant=config.tenant)


def _scope(config: ImapOAuthConfig) -> str | None:
    if config.scope:
        return config.scope
    table = APP_ONLY_SCOPES if config.flow == "client_credentials" else DEFAULT_SCOPES
    return table.get(config.provider or "")


def _form(config: ImapOAuthConfig, form: dict[str, str]) -> dict[str, str]:
    """The grant's own fields plus the client's: id, secret when it has one, scope (not on the
    device-code poll: the code carries it)."""
    full = {**form, "client_id": str(config.client_id)}
    if config.client_secret is not None:
        full["client_secret"] = config.client_secret.get_secret_value()
    if (scope := _scope(config)) and form.get("grant_type") != DEVICE_GRANT:
        full["scope"] = scope
    return full


def _exchange(source: str, config: ImapOAuthConfig, url: str, form: dict[str, str],
              session: requests.Session) -> tuple[dict[str, Any], str | None]:
    """POST a form to an OAuth endpoint: its JSON answer, and its `error` (None on success)."""
    try:
        resp = session.post(url, data=_form(config, form), timeout=config.http_timeout)
    except requests.RequestException as exc:
        raise SourceUnavailable(f"{source}: OAuth endpoint {url} unreachable: {type(exc).__name__}") from exc
    try:
        body = resp.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    if resp.status_code == 200 and ("access_token" in body or "device_code" in body):
        return body, None
    return body, str(body.get("error") or f"HTTP {resp.status_code}")


def _post(source: str, config: ImapOAuthConfig, url: str, form: dict[str, str], session: requests.Session,
          what: str) -> dict[str, Any]:
    body, error = _exchange(source, config, url, form, session)
    if error is None:
        return body
    reason = str(body.get("error_description") or error)[:200]  # OAuth errors never carry a token
    hint = " (the refresh token was revoked or expired: consent again)" if error == "invalid_grant" else ""
    raise SourceUnavailable(f"{source}: {what} refused: {reason}{hint}")
