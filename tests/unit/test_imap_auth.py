"""XOAUTH2 tokens: the refresh-token flow (Google, Microsoft with rotation) and token commands.

The token endpoint is played by `responses`; no network."""

from __future__ import annotations

import json
import sys
from urllib.parse import parse_qs

import pytest
import requests
import responses

from connectors.imap import ImapOAuthConfig
from connectors.imap.auth import CURSOR, DeviceLoginFailed, TokenProvider
from connectors.memory import MemoryState
from inbox_ocr.kernel.errors import SourceUnavailable

MS_URL = "https://login.microsoftonline.com/contoso.example/oauth2/v2.0/token"
GOOGLE_URL = "https://oauth2.googleapis.com/token"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def form(call: responses.Call) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(call.request.body).items()}


def microsoft(**extra: object) -> ImapOAuthConfig:
    return ImapOAuthConfig.model_validate(
        {
            "provider": "microsoft",
            "tenant": "contoso.example",
            "client_id": "app-123",
            "refresh_token": "rt-from-config",
            **extra,
        }
    )


@responses.activate
def test_microsoft_rotated_refresh_tokens_are_kept_and_used_next_time():
    responses.post(MS_URL, json={"access_token": "at-1", "expires_in": 3600, "refresh_token": "rt-2"})
    responses.post(MS_URL, json={"access_token": "at-2", "expires_in": 3600, "refresh_token": "rt-3"})
    state, clock = MemoryState(), Clock()
    tokens = TokenProvider("outlook", microsoft(), state, now=clock)

    assert tokens.access_token() == "at-1"
    sent = form(responses.calls[0])
    assert sent["grant_type"] == "refresh_token" and sent["refresh_token"] == "rt-from-config"
    assert sent["client_id"] == "app-123" and "IMAP.AccessAsUser.All" in sent["scope"]
    assert json.loads(state.get_cursor("outlook", CURSOR) or "{}")["refresh_token"] == "rt-2"

    clock.now += 1000
    assert tokens.access_token() == "at-1"  # still valid: no request
    assert len(responses.calls) == 1

    # After a daemon restart (a new provider, the same ledger) the rotated token is the one sent.
    clock.now += 3000
    again = TokenProvider("outlook", microsoft(), state, now=clock)
    assert again.access_token() == "at-2"
    assert form(responses.calls[1])["refresh_token"] == "rt-2"
    assert json.loads(state.get_cursor("outlook", CURSOR) or "{}")["refresh_token"] == "rt-3"


@responses.activate
def test_a_new_refresh_token_in_the_config_wins_over_the_stored_one():
    responses.post(MS_URL, json={"access_token": "at", "expires_in": 3600})
    state = MemoryState()
    state.set_cursor(
        "outlook", CURSOR, json.dumps({"from": "fingerprint-of-an-older-token", "refresh_token": "rt-stale"})
    )
    TokenProvider("outlook", microsoft(refresh_token="rt-after-reconsent"), state).access_token()
    assert form(responses.calls[0])["refresh_token"] == "rt-after-reconsent"


@responses.activate
def test_google_sends_no_scope_and_keeps_its_refresh_token():
    responses.post(GOOGLE_URL, json={"access_token": "ya29.x", "expires_in": 3599, "token_type": "Bearer"})
    state = MemoryState()
    config = ImapOAuthConfig.model_validate(
        {"provider": "google", "client_id": "cid", "client_secret": "cs", "refresh_token": "1//rt"}
    )
    assert TokenProvider("gmail", config, state).access_token() == "ya29.x"
    sent = form(responses.calls[0])
    assert "scope" not in sent and sent["client_secret"] == "cs"
    assert state.get_cursor("gmail", CURSOR) is None


@responses.activate
def test_a_revoked_refresh_token_says_to_consent_again_without_showing_tokens():
    responses.post(
        MS_URL,
        status=400,
        json={"error": "invalid_grant", "error_description": "AADSTS70008: The refresh token has expired"},
    )
    with pytest.raises(SourceUnavailable, match="consent again") as info:
        TokenProvider("outlook", microsoft(), MemoryState()).access_token()
    assert "rt-from-config" not in str(info.value)


@responses.activate
def test_an_unreachable_token_endpoint_is_transient():
    responses.post(MS_URL, body=requests.ConnectionError("connection refused"))
    with pytest.raises(SourceUnavailable, match="unreachable"):
        TokenProvider("outlook", microsoft(), MemoryState()).access_token()


def test_token_command_output_is_the_token_and_its_failure_hides_stdout():
    ok = ImapOAuthConfig(token_command=f"{sys.executable} -c \"print('at-from-command')\"")
    assert TokenProvider("x", ok, MemoryState()).access_token() == "at-from-command"

    bad = ImapOAuthConfig(
        token_command=f"{sys.executable} -c \"import sys; print('half-a-token'); "
        f"sys.stderr.write('not logged in'); sys.exit(3)\""
    )
    with pytest.raises(SourceUnavailable, match="exited with 3.*not logged in") as info:
        TokenProvider("x", bad, MemoryState()).access_token()
    assert "half-a-token" not in str(info.value)


def test_config_needs_one_way_to_get_tokens():
    with pytest.raises(ValueError, match="give token_command, refresh_token, or grant: device_code"):
        ImapOAuthConfig.model_validate({"provider": "google", "client_id": "c"})
    with pytest.raises(ValueError, match="needs client_id"):
        ImapOAuthConfig.model_validate({"provider": "google", "refresh_token": "r"})
    with pytest.raises(ValueError, match="Google does not allow the IMAP scope in the device flow"):
        ImapOAuthConfig.model_validate({"provider": "google", "client_id": "c", "grant": "device_code"})
    with pytest.raises(ValueError, match="client_credentials needs client_secret"):
        ImapOAuthConfig.model_validate({"provider": "microsoft", "client_id": "c", "grant": "client_credentials"})
    with pytest.raises(ValueError, match="Google has no client-credentials grant"):
        ImapOAuthConfig.model_validate({"provider": "google", "client_id": "c", "client_secret": "s",
                                        "grant": "client_credentials"})
    with pytest.raises(ValueError, match="grant device_code gets its tokens itself: remove refresh_token"):
        ImapOAuthConfig.model_validate({"provider": "microsoft", "client_id": "c", "grant": "device_code",
                                        "refresh_token": "r"})
    with pytest.raises(ValueError, match="no refresh_token or grant with it"):
        ImapOAuthConfig.model_validate({"token_command": "x", "grant": "client_credentials"})


# ---------------------------------------------------------------------------- app-only and device code

DEVICE_URL = "https://login.microsoftonline.com/contoso.example/oauth2/v2.0/devicecode"


def device(**extra: object) -> ImapOAuthConfig:
    return ImapOAuthConfig.model_validate(
        {"provider": "microsoft", "tenant": "contoso.example", "client_id": "app-123", "grant": "device_code", **extra})


@responses.activate
def test_client_credentials_ask_for_an_app_only_token_with_the_default_scope():
    responses.post(MS_URL, json={"access_token": "at-app", "expires_in": 3599, "token_type": "Bearer"})
    config = ImapOAuthConfig.model_validate({"provider": "microsoft", "tenant": "contoso.example",
                                             "client_id": "app-123", "client_secret": "s3cret",
                                             "grant": "client_credentials"})
    state = MemoryState()
    assert TokenProvider("shared", config, state).access_token() == "at-app"
    assert form(responses.calls[0]) == {"grant_type": "client_credentials", "client_id": "app-123",
                                        "client_secret": "s3cret", "scope": "https://outlook.office365.com/.default"}
    assert state.get_cursor("shared", CURSOR) is None  # no refresh token in this grant


@responses.activate
def test_device_login_polls_through_pending_and_slow_down_and_keeps_the_refresh_token():
    responses.post(DEVICE_URL, json={"device_code": "dc-1", "user_code": "ABCD-EFGH", "expires_in": 900, "interval": 5,
                                     "verification_uri": "https://microsoft.com/devicelogin",
                                     "message": "To sign in, use a web browser..."})
    responses.post(MS_URL, status=400, json={"error": "authorization_pending"})
    responses.post(MS_URL, status=400, json={"error": "slow_down"})
    responses.post(MS_URL, status=400, json={"error": "authorization_pending"})
    responses.post(MS_URL, json={"access_token": "at-1", "refresh_token": "rt-device", "expires_in": 3600})
    responses.post(MS_URL, json={"access_token": "at-2", "refresh_token": "rt-next", "expires_in": 3600})
    state, clock, waits, shown = MemoryState(), Clock(), [], []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock.now += seconds

    tokens = TokenProvider("outlook", device(), state, now=clock)
    tokens.device_login(shown.append, sleep)
    assert shown == ["To sign in, open https://microsoft.com/devicelogin and enter the code ABCD-EFGH"]
    assert waits == [5, 5, 10, 10]  # slow_down adds 5 s for the rest of the polls (RFC 8628 3.5)
    assert form(responses.calls[0]) == {"client_id": "app-123",
                                        "scope": "https://outlook.office.com/IMAP.AccessAsUser.All offline_access"}
    assert form(responses.calls[1]) == {"grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                                        "device_code": "dc-1", "client_id": "app-123"}
    assert json.loads(state.get_cursor("outlook", CURSOR) or "{}") == {"from": "device_code",
                                                                       "refresh_token": "rt-device"}
    # a daemon started later: the stored refresh token, rotated as usual
    later = TokenProvider("outlook", device(), state, now=clock)
    assert later.access_token() == "at-2"
    assert form(responses.calls[-1])["refresh_token"] == "rt-device"
    assert json.loads(state.get_cursor("outlook", CURSOR) or "{}")["refresh_token"] == "rt-next"


@pytest.mark.parametrize(("answer", "message"), [
    ({"error": "access_denied"}, "the sign-in was declined"),
    ({"error": "expired_token"}, "the code expired"),
    ({"error": "invalid_client", "error_description": "AADSTS7000218: client_secret required"},
     "invalid_client: AADSTS7000218"),
])
@responses.activate
def test_device_login_failures_say_why(answer, message):
    responses.post(DEVICE_URL, json={"device_code": "dc", "user_code": "U", "verification_uri": "https://x/device"})
    responses.post(MS_URL, status=400, json=answer)
    state = MemoryState()
    with pytest.raises(DeviceLoginFailed, match=message):
        TokenProvider("outlook", device(), state).device_login(lambda _: None, lambda _: None)
    assert state.get_cursor("outlook", CURSOR) is None


@responses.activate
def test_device_login_gives_up_when_the_code_expires_and_a_daemon_not_signed_in_says_what_to_run():
    responses.post(DEVICE_URL, json={"device_code": "dc", "user_code": "U", "verification_uri": "https://x/device",
                                     "expires_in": 12, "interval": 5})
    responses.post(MS_URL, status=400, json={"error": "authorization_pending"})
    clock = Clock()

    def sleep(seconds: float) -> None:
        clock.now += seconds

    with pytest.raises(DeviceLoginFailed, match="expired before the sign-in"):
        TokenProvider("outlook", device(), MemoryState(), now=clock).device_login(lambda _: None, sleep)
    with pytest.raises(SourceUnavailable, match="not signed in yet: run `inbox-ocr auth login --source outlook`"):
        TokenProvider("outlook", device(), MemoryState()).access_token()
