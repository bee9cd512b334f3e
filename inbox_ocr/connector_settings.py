"""Config schema of the connectors: sources (Maildir, IMAP, webhook) and outbound webhooks.

Re-exported by inbox_ocr.settings, where the whole config is assembled and loaded."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from inbox_ocr.config_types import ByteSize, Duration, Strict

# --------------------------------------------------------------------------- sources


class _SourceBase(Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    enabled: bool = True
    poll_every: Duration = 60.0
    quarantine_folder: str = "Quarantine"
    batch_size: int = Field(default=100, gt=0)


class MaildirSourceConfig(_SourceBase):
    type: Literal["maildir"]
    path: Path
    create: bool = Field(default=False, description="create the Maildir when missing")


class ImapOAuthConfig(Strict):
    """XOAUTH2: an access token printed by `token_command`, or the refresh-token flow."""

    token_command: str | None = Field(default=None, description="command printing an access token, e.g. "
                                      "`gcloud auth print-access-token`; run for every new connection")
    command_timeout: Duration = 30.0
    provider: Literal["google", "microsoft"] | None = None
    token_url: str | None = Field(default=None, description="token endpoint; default: the provider's")
    tenant: str = Field(default="common", description="Microsoft Entra tenant id or domain")
    client_id: str | None = None
    client_secret: SecretStr | None = None
    refresh_token: SecretStr | None = Field(default=None, description="the first refresh token; rotated ones "
                                            "are kept in the ledger")
    scope: str | None = Field(default=None, description="default: Microsoft's IMAP scope; none for Google")
    http_timeout: Duration = 20.0

    @model_validator(mode="after")
    def _one_way(self) -> ImapOAuthConfig:
        if (self.token_command is None) == (self.refresh_token is None):
            raise ValueError("give either token_command or refresh_token (with client_id and provider or token_url)")
        if self.refresh_token is not None:
            if not self.client_id:
                raise ValueError("the refresh-token flow needs client_id")
            if self.provider is None and self.token_url is None:
                raise ValueError("the refresh-token flow needs provider (google, microsoft) or token_url")
        return self


class ImapSourceConfig(_SourceBase):
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
    idle_renew: Duration = Field(default=1500.0, le=1740.0, description="re-issue IDLE this often (RFC 2177: < 29m)")
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


WEBHOOK_PROVIDERS = ("postmark", "mailgun", "sendgrid", "mime", "front", "zendesk", "helpscout")


class WebhookSourceConfig(_SourceBase):
    """Mail pushed to the daemon's HTTP server by an inbound-mail service or a helpdesk
    (connectors/webhook_in.py); stored in a spool under state_dir before the provider gets its 2xx."""

    type: Literal["webhook"]
    provider: Literal["postmark", "mailgun", "sendgrid", "mime", "front", "zendesk", "helpscout"]
    mode: Literal["idle", "poll"] = Field(default="idle", description="idle: process each message as soon as it "
                                          "is spooled; poll: every poll_every")
    path: str | None = Field(default=None, pattern=r"^/[A-Za-z0-9/_.-]*$",
                             description="URL path on the http server; default /hooks/<name>")
    secret: SecretStr | None = Field(default=None, description="signing key (Mailgun, Front, Zendesk, Help Scout, "
                                     "mime) or the Basic-auth password (Postmark, SendGrid without a policy)")
    username: str | None = Field(default=None, description="Basic-auth user name (Postmark, SendGrid)")
    public_key: str | None = Field(default=None, description="SendGrid security policy: base64 ECDSA public key")
    api_token: SecretStr | None = Field(default=None, description="token for attachment URLs (Front, Zendesk, "
                                        "Help Scout, Mailgun stored messages)")
    api_user: str | None = Field(default=None, description="with api_token: HTTP Basic user (Mailgun: api; "
                                 "Zendesk: agent@example.com/token); without it the token is sent as Bearer")
    allowed_hosts: list[str] = Field(default_factory=list, description="hosts attachment URLs may be fetched "
                                     "from; '*.example.com' matches subdomains; empty: none")
    max_body_bytes: ByteSize = 25 * 1024**2
    max_fetch_bytes: ByteSize = Field(default=25 * 1024**2, description="per attachment fetched by URL")
    fetch_timeout: Duration = 20.0
    replay_window: Duration = Field(default=300.0, description="refuse signatures older (or newer) than this")
    keep_processed: bool = Field(default=False, description="keep handled messages in the spool (cur/) "
                                 "instead of deleting them")
    allow_unsigned: bool = Field(default=False, description="accept requests without any signature check "
                                 "(only behind a proxy that authenticates)")

    @model_validator(mode="after")
    def _verification(self) -> WebhookSourceConfig:
        if self.allow_unsigned:
            return self
        if self.provider == "sendgrid" and self.public_key is None and self.secret is None:
            raise ValueError("sendgrid needs public_key (signed security policy) or username+secret (Basic auth)")
        if self.provider != "sendgrid" and self.secret is None:
            raise ValueError(f"{self.provider} needs a secret (use ${{ENV_VAR}}), or allow_unsigned: true")
        if self.provider in ("postmark", "sendgrid") and self.secret is not None and not self.username:
            raise ValueError(f"{self.provider} checks HTTP Basic auth: give username and secret")
        return self

    @property
    def url_path(self) -> str:
        return self.path or f"/hooks/{self.name}"


SourceConfig = Annotated[MaildirSourceConfig | ImapSourceConfig | WebhookSourceConfig, Field(discriminator="type")]

# --------------------------------------------------------------------------- webhooks


class WebhookAuth(Strict):
    """How a webhook target authenticates us: a bearer token, HTTP Basic, or an HMAC-SHA256
    signature of the body (`sha256=<hex>` in `header`)."""

    type: Literal["bearer", "basic", "hmac"]
    token: SecretStr | None = None
    username: str | None = None
    password: SecretStr | None = None
    secret: SecretStr | None = None
    header: str = Field(default="X-Signature", pattern=r"^[A-Za-z0-9-]+$")

    @model_validator(mode="after")
    def _complete(self) -> WebhookAuth:
        needs = {"bearer": ("token",), "basic": ("username", "password"), "hmac": ("secret",)}[self.type]
        missing = [n for n in needs if getattr(self, n) is None]
        if missing:
            raise ValueError(f"auth type {self.type} needs {' and '.join(missing)}")
        return self


class WebhookConfig(Strict):
    url: str = Field(description="http(s)://... or file:///dir (a drop folder an ERP imports from)")
    secret: SecretStr | None = Field(default=None, description="HMAC-SHA256 key for the X-Signature header")
    headers: dict[str, str] = Field(default_factory=dict)
    timeout: Duration = 10.0
    max_attempts: int = Field(default=8, ge=1)
    backoff: Duration = Field(default=30.0, description="first retry delay; doubles each attempt")
    max_backoff: Duration = 3600.0
    jitter: float = Field(default=0.25, ge=0, le=1, description="up to this fraction added to each retry delay")
    auth: WebhookAuth | None = None
    template: str | None = Field(default=None, description="payload template: a shipped one (generic, jira, "
                                 "zendesk, freshdesk, erp_invoice) or a path to a Jinja2 file")
    template_vars: dict[str, str] = Field(default_factory=dict, description="values the template reads as "
                                          "vars.NAME (e.g. project_key for jira)")
    content_type: str = "application/json"
    breaker_failures: int = Field(default=5, ge=1, description="failures in a row that open the circuit "
                                  "for the target host")
    breaker_cooldown: Duration = Field(default=60.0, description="how long an open circuit sends nothing")

    @field_validator("url")
    @classmethod
    def _scheme(cls, value: str) -> str:
        if not re.match(r"^(https?|file)://", value):
            raise ValueError("url must start with http://, https:// or file://")
        return value
