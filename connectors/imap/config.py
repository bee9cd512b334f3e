"""Config of an IMAP source (`type: imap`), validated when the config file is loaded."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator

from inbox_ocr.kernel.config_types import Duration, Strict
from inbox_ocr.kernel.settings import SourceSettings


class ImapOAuthConfig(Strict):
    """XOAUTH2: an access token printed by `token_command`, or one of three OAuth grants:
    `refresh_token` (a refresh token given here), `device_code` (signed in once with `inbox-ocr
    auth login --source NAME`; the refresh token is kept in the ledger) or `client_credentials`
    (app-only access to shared mailboxes, Microsoft 365: client id and secret, no user)."""

    token_command: str | None = Field(default=None, description="command printing an access token, e.g. "
                                      "`gcloud auth print-access-token`; run for every new connection")
    command_timeout: Duration = 30.0
    grant: Literal["refresh_token", "device_code", "client_credentials"] | None = Field(
        default=None, description="default: refresh_token when a refresh_token is given")
    provider: Literal["google", "microsoft"] | None = None
    token_url: str | None = Field(default=None, description="token endpoint; default: the provider's")
    device_code_url: str | None = Field(default=None, description="device authorization endpoint (grant "
                                        "device_code); default: Microsoft's")
    tenant: str = Field(default="common", description="Microsoft Entra tenant id or domain")
    client_id: str | None = None
    client_secret: SecretStr | None = None
    refresh_token: SecretStr | None = Field(default=None, description="the first refresh token; rotated ones "
                                            "are kept in the ledger")
    scope: str | None = Field(default=None, description="default: Microsoft's IMAP scope (app-only: "
                              "https://outlook.office365.com/.default); none for Google")
    http_timeout: Duration = 20.0

    @property
    def flow(self) -> str:
        """token_command, refresh_token, device_code or client_credentials."""
        if self.token_command is not None:
            return "token_command"
        return self.grant or "refresh_token"

    @model_validator(mode="after")
    def _one_way(self) -> ImapOAuthConfig:
        if self.token_command is not None:
            if self.refresh_token is not None or self.grant is not None:
                raise ValueError("token_command gives the tokens itself: no refresh_token or grant with it")
            return self
        if self.grant is None and self.refresh_token is None:
            raise ValueError("give token_command, refresh_token, or grant: device_code (then run `inbox-ocr auth "
                             "login`) or grant: client_credentials (app-only, with client_secret)")
        if not self.client_id:
            raise ValueError(f"the {self.flow} grant needs client_id")
        if self.provider is None and self.token_url is None:
            raise ValueError(f"the {self.flow} grant needs provider (google, microsoft) or token_url")
        if self.flow == "refresh_token" and self.refresh_token is None:
            raise ValueError("grant refresh_token needs refresh_token")
        if self.flow != "refresh_token" and self.refresh_token is not None:
            raise ValueError(f"grant {self.flow} gets its tokens itself: remove refresh_token")
        if self.flow == "device_code" and self.device_code_url is None and self.provider != "microsoft":
            raise ValueError("grant device_code needs device_code_url (Google does not allow the IMAP scope in "
                             "the device flow: use refresh_token or token_command)")
        if self.flow == "client_credentials":
            if self.client_secret is None:
                raise ValueError("grant client_credentials needs client_secret")
            if self.provider == "google":
                raise ValueError("Google has no client-credentials grant for Gmail (service accounts sign a JWT): "
                                 "use token_command, e.g. with gcloud")
        return self


class ImapSourceConfig(SourceSettings):
    type: Literal["imap"]
    host: str
    port: int | None = Field(default=None, gt=0, lt=65536, description="default: 993 for ssl, else 143")
    security: Literal["ssl", "starttls", "none"] = "ssl"
    username: str
    auth: Literal["password", "xoauth2"] = "password"
    password: SecretStr | None = None
    oauth: ImapOAuthConfig | None = None
    ca_file: Path | None = Field(default=None, description="PEM bundle of a private CA to trust")
    verify_tls: bool = True
    folders: list[str] = Field(default_factory=lambda: ["INBOX"], min_length=1,
                               description="folder names with '/' between levels, whatever the server uses")
    mode: Literal["poll", "idle"] = "poll"
    max_age: Duration | None = Field(default=None, description="ignore mail older than this (e.g. 30d)")
    idle_connections: int = Field(default=4, ge=1, le=20, description="IMAP connections IDLE may use for this "
                                  "account (one per folder); folders beyond them are polled every poll_every")
    idle_renew: Duration = Field(default=1500.0, le=1740.0, description="re-issue IDLE this often (RFC 2177: < 29m)")
    trash_folder: str | None = Field(default=None, description="where `delete` puts mail; default: the folder "
                                     "the server marks \\Trash (SPECIAL-USE), else 'Trash' if it exists, else the "
                                     "message is only flagged \\Deleted (never expunged)")
    fetch_batch: int = Field(default=25, ge=1, le=500, description="messages per FETCH command")
    timeout: Duration = Field(default=60.0, description="socket timeout for one IMAP command")
    reconnect_attempts: int = Field(default=4, ge=1, description="connection attempts (with backoff) per operation")
    reconnect_backoff: Duration = Field(default=1.0, description="first reconnect delay; grows exponentially, jittered")
    reconnect_max_backoff: Duration = 60.0

    @model_validator(mode="after")
    def _credentials(self) -> ImapSourceConfig:
        if self.auth == "password" and self.password is None:
            raise ValueError("auth: password needs a password (use ${ENV_VAR})")
        if self.auth == "xoauth2" and self.oauth is None:
            raise ValueError("auth: xoauth2 needs an oauth section")
        return self

    @property
    def server_port(self) -> int:
        return self.port or (993 if self.security == "ssl" else 143)
