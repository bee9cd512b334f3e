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
from connectors.imap.auth import CURSOR, TokenProvider
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
    with pytest.raises(ValueError, match="either token_command or refresh_token"):
        ImapOAuthConfig.model_validate({"provider": "google", "client_id": "c"})
    with pytest.raises(ValueError, match="needs client_id"):
        ImapOAuthConfig.model_validate({"provider": "google", "refresh_token": "r"})
