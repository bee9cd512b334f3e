"""Config of a webhook source (`type: webhook`): mail pushed to the daemon's HTTP server."""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator

from connectors.httpguard import HostRule
from inbox_ocr.kernel.config_types import ByteSize, Duration
from inbox_ocr.kernel.settings import SourceSettings

ProviderName = Literal["postmark", "mailgun", "sendgrid", "mime", "front", "zendesk", "helpscout"]


class WebhookSourceConfig(SourceSettings):
    """Mail pushed to the daemon's HTTP server by an inbound-mail service or a helpdesk
    (connectors/webhook_in/); stored in a spool under state_dir before the provider gets its 2xx."""

    type: Literal["webhook"]
    provider: ProviderName
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
    api_url: str | None = Field(default=None, description="helpdesk REST API the rules' actions are made in "
                                "(front: https://api2.frontapp.com, helpscout: https://api.helpscout.net/v2 by "
                                "default; zendesk: https://<subdomain>.zendesk.com/api/v2); https, or http to "
                                "a loopback address")
    allowed_hosts: list[str] = Field(default_factory=list, description="hosts attachment URLs may be fetched "
                                     "from over https: 'host' (port 443), 'host:port', '*.example.com' "
                                     "(subdomains); a name must resolve to public addresses, an IP address "
                                     "entry allows that address; empty: none")
    ca_file: Path | None = Field(default=None, description="PEM bundle of the CAs to trust for attachment "
                                 "URLs (a self-hosted helpdesk with a private CA); default: the system's")
    max_body_bytes: ByteSize = 25 * 1024**2
    max_fetch_bytes: ByteSize = Field(default=25 * 1024**2, description="per attachment fetched by URL")
    fetch_timeout: Duration = 20.0
    replay_window: Duration = Field(default=300.0, description="refuse signatures older (or newer) than this")
    keep_processed: bool = Field(default=False, description="keep handled messages in the spool (cur/) "
                                 "instead of deleting them")
    allow_unsigned: bool = Field(default=False, description="accept requests without any signature check "
                                 "(only behind a proxy that authenticates)")

    @field_validator("allowed_hosts")
    @classmethod
    def _host_entries(cls, entries: list[str]) -> list[str]:
        for entry in entries:
            HostRule.parse(entry)  # raises ValueError naming the entry
        return entries

    @field_validator("api_url")
    @classmethod
    def _api_url(cls, url: str | None) -> str | None:
        if url is None:
            return None
        parts = urlsplit(url)
        loopback = parts.hostname in ("localhost", "127.0.0.1", "::1")
        if parts.scheme != "https" and not (parts.scheme == "http" and loopback) or not parts.hostname:
            raise ValueError(f"api_url {url!r}: https://host/... (http only to a loopback address)")
        if parts.username or parts.password or parts.query or parts.fragment:
            raise ValueError(f"api_url {url!r}: no credentials, query or fragment (the token is api_token)")
        return url.rstrip("/")

    @property
    def acts_in_helpdesk(self) -> bool:
        """Whether the rules' mailbox actions are made in the helpdesk (connectors/helpdesk): a
        helpdesk with an api_token (Zendesk: and its api_url, which names the account)."""
        if self.provider not in ("front", "zendesk", "helpscout") or self.api_token is None:
            return False
        return self.api_url is not None or self.provider != "zendesk"

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
