"""Config of an outbound webhook (`webhooks: NAME: ...`): where, how to authenticate, retries."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from inbox_ocr.kernel.config_types import ByteSize, Duration, Strict
from inbox_ocr.kernel.settings import DeliveryPolicy


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


class PaperlessSettings(Strict):
    """Upload the documents to paperless-ngx (`POST /api/documents/post_document/`) instead of
    posting JSON: the webhook's url is paperless's base URL."""

    token: SecretStr = Field(description="API token (paperless: My Profile); sent as Authorization: Token ...")
    tags: list[str] = Field(default_factory=list, description="tags to add (created in paperless when missing)")
    document_type: str | None = Field(default=None, description="document type name (created when missing)")
    custom_fields: dict[str, str] = Field(default_factory=dict, description="extracted field -> name of a "
                                          "paperless custom field that exists, e.g. {invoice_number: Invoice number}")


class WebhookConfig(DeliveryPolicy):
    """One outbound webhook; the retry settings (max_attempts, backoff, max_backoff, jitter) come
    from DeliveryPolicy, which the outbox reads."""

    url: str = Field(description="http(s)://... or file:///dir (a drop folder an ERP imports from)")
    secret: SecretStr | None = Field(default=None, description="HMAC-SHA256 key for the X-Signature header")
    headers: dict[str, str] = Field(default_factory=dict)
    timeout: Duration = 10.0
    auth: WebhookAuth | None = None
    template: str | None = Field(default=None, description="payload template: a shipped one (generic, jira, "
                                 "zendesk, freshdesk, erp_invoice) or a path to a Jinja2 file")
    template_vars: dict[str, str] = Field(default_factory=dict, description="values the template reads as "
                                          "vars.NAME (e.g. project_key for jira)")
    content_type: str = "application/json"
    paperless: PaperlessSettings | None = Field(default=None, description="a paperless-ngx sink: the documents are "
                                                "uploaded with title, correspondent, created date, custom fields")
    include_document: bool = Field(default=False, description="send each document's file in the payload "
                                   "(documents[].content_base64), so the receiver gets the PDF, not only its name")
    include_document_max_bytes: ByteSize = Field(default=10 * 1024**2, description="a larger file is left out "
                                                 "(documents[].content_omitted says why)")
    breaker_failures: int = Field(default=5, ge=1, description="failures in a row that open the circuit "
                                  "for the target host")
    breaker_cooldown: Duration = Field(default=60.0, description="how long an open circuit sends nothing")

    @field_validator("url")
    @classmethod
    def _scheme(cls, value: str) -> str:
        if not re.match(r"^(https?|file)://", value):
            raise ValueError("url must start with http://, https:// or file://")
        return value

    @model_validator(mode="after")
    def _paperless_over_http(self) -> WebhookConfig:
        if self.paperless is not None and not self.url.startswith(("http://", "https://")):
            raise ValueError("a paperless webhook's url is paperless's http(s) base URL")
        return self
