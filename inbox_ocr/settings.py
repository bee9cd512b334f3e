"""The config file: its schema, ${ENV} secrets, and loading with errors that name the key path.

The config is validated once, at the edge (`load_config`); below that, code sees these models only.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from inbox_ocr.errors import ConfigError
from inbox_ocr.models import DOC_TYPES, Action, DocType

# --------------------------------------------------------------------------- value types

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}


def _parse_duration(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        m = _DURATION.match(value)
        if not m:
            raise ValueError(f"not a duration: {value!r} (write e.g. 30s, 5m, 1h)")
        return float(m.group(1)) * _UNITS[m.group(2)]
    return value


Duration = Annotated[float, BeforeValidator(_parse_duration), Field(gt=0)]

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|k|m|g)?\s*$", re.I)
_SIZE_UNITS = {None: 1, "b": 1, "k": 1024, "kb": 1024, "m": 1024**2, "mb": 1024**2, "g": 1024**3, "gb": 1024**3}


def _parse_size(value: Any) -> Any:
    if isinstance(value, str):
        m = _SIZE.match(value)
        if not m:
            raise ValueError(f"not a size: {value!r} (write e.g. 25MB)")
        unit = m.group(2).lower() if m.group(2) else None
        return int(float(m.group(1)) * _SIZE_UNITS[unit])
    return value


ByteSize = Annotated[int, BeforeValidator(_parse_size), Field(gt=0)]


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str | int | float | Decimal | dict) else value


class Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TextPattern(Strict):
    """A string condition: a bare string is a case-insensitive glob; `{regex: ...}` is a regex."""

    glob: str | None = None
    regex: re.Pattern[str] | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, str):
            return {"glob": value}
        if isinstance(value, dict) and "regex" in value and isinstance(value["regex"], str):
            try:
                return {**value, "regex": re.compile(value["regex"], re.IGNORECASE)}
            except re.error as exc:
                raise ValueError(f"bad regex {value['regex']!r}: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> TextPattern:
        if (self.glob is None) == (self.regex is None):
            raise ValueError("write a glob string or {regex: ...}")
        return self

    def __str__(self) -> str:
        return f"glob {self.glob!r}" if self.glob is not None else f"regex {self.regex.pattern!r}"  # type: ignore[union-attr]


Patterns = Annotated[list[TextPattern], BeforeValidator(_one_or_many)]

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


# --------------------------------------------------------------------------- rules

FIELD_NAMES = (
    "invoice_number", "invoice_date", "due_date", "total", "subtotal", "tax", "currency",
    "vendor_name", "vendor_vat_id", "iban", "po_number", "customer_name", "bic",
)


class RuleWhen(Strict):
    """All given conditions must hold. Document conditions (doc_type .. missing) must all hold
    for one and the same document of the message."""

    source: Patterns | None = None
    sender: Patterns | None = None
    recipients: Patterns | None = None
    subject: Patterns | None = None
    has_attachment: bool | None = None
    attachment_name: Patterns | None = None
    doc_type: Annotated[list[DocType], BeforeValidator(_one_or_many)] | None = None
    min_confidence: float | None = Field(default=None, ge=0, le=1)
    total_gt: Decimal | None = None
    total_lt: Decimal | None = None
    currency: Annotated[list[str], BeforeValidator(_one_or_many)] | None = None
    vendor: Patterns | None = None
    missing: Annotated[list[str], BeforeValidator(_one_or_many)] | None = None

    @field_validator("currency")
    @classmethod
    def _iso_currency(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        for code in value:
            if not re.fullmatch(r"[A-Z]{3}", code):
                raise ValueError(f"{code!r} is not an ISO 4217 code such as EUR")
        return value

    @field_validator("missing")
    @classmethod
    def _known_fields(cls, value: list[str] | None) -> list[str] | None:
        for name in value or []:
            if name not in FIELD_NAMES:
                raise ValueError(f"unknown field {name!r}; known: {', '.join(FIELD_NAMES)}")
        return value


class Rule(Strict):
    name: str
    enabled: bool = True
    when: RuleWhen = RuleWhen()
    then: list[Action] = Field(min_length=1)
    stop: bool = False


# --------------------------------------------------------------------------- stages


class OcrSettings(Strict):
    enabled: bool = True
    dpi: int = Field(default=200, ge=72, le=600)
    max_pages: int = Field(default=20, ge=1)
    max_pixels: int = Field(default=40_000_000, ge=1_000_000)
    det_model: Path | None = Field(default=None, description="DB text detector ONNX; default: bundled")
    rec_model: Path | None = Field(default=None, description="CTC line recognizer ONNX; default: bundled")
    rec_dict: Path | None = Field(default=None, description="character list, one per line; default: model metadata")
    threads: int | None = Field(default=None, ge=1, description="ONNX Runtime intra-op threads; default: cores")
    det_max_side: int = Field(default=960, ge=256, le=4096, description="long side of the text detector's input")
    rec_batch_size: int = Field(default=8, ge=1, le=64, description="line crops per recognizer call")
    min_line_confidence: float = Field(default=0.5, ge=0, le=1, description="drop recognized lines below this")
    detect_orientation: bool = Field(default=True, description="turn pages scanned at 90/180/270 degrees")
    alphabet: Literal["latin", "all"] = Field(
        default="latin", description="characters the recognizer may output: European Latin script, or all"
    )
    rec_min_width: int = Field(default=64, ge=32, le=1024, description="narrowest recognizer input (pixels)")


class UnderstandingSettings(Strict):
    templates_dir: Path | None = Field(default=None, description="folder of invoice2data YAML templates")


class Limits(Strict):
    max_message_bytes: ByteSize = 50 * 1024**2
    max_attachment_bytes: ByteSize = 25 * 1024**2
    max_attachments: int = Field(default=50, ge=1)
    max_pdf_pages: int = Field(default=200, ge=1)
    max_attempts: int = Field(default=5, ge=1, description="transient failures before a message is quarantined")
    document_seconds: Duration = Field(default=120.0, description="reading one document (text layer, OCR) is "
                                       "stopped after this long and becomes a per-document error")
    document_memory: ByteSize | None = Field(default=3 * 1024**3, description="address-space limit of the "
                                             "process that reads documents (none: no limit)")
    isolate_documents: bool = Field(default=True, description="read documents in a worker process that is "
                                    "killed at the time limit (the daemon; CLI commands read in-process)")


class HttpSettings(Strict):
    """The daemon's HTTP server; it starts only when a webhook source is configured."""

    host: str = "127.0.0.1"
    port: int = Field(default=8025, ge=0, lt=65536, description="0: any free port")
    max_connections: int = Field(default=200, ge=1, description="beyond this, requests get 503 and the "
                                 "provider retries (bounds memory: each may carry max_body_bytes)")
    tls_cert: Path | None = Field(default=None, description="PEM certificate (chain) to serve HTTPS yourself; "
                                  "usually a reverse proxy terminates TLS instead")
    tls_key: Path | None = Field(default=None, description="PEM private key of tls_cert")
    enabled: bool = Field(default=False, description="serve /healthz, /readyz and /metrics even without "
                          "webhook sources (with them the server always runs)")

    @model_validator(mode="after")
    def _tls_pair(self) -> HttpSettings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("give both tls_cert and tls_key, or neither")
        return self


class LogSettings(Strict):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    format: Literal["text", "json"] = "text"


class Config(Strict):
    state_dir: Path = Path("./var")
    sources: list[SourceConfig] = Field(min_length=1)
    webhooks: dict[str, WebhookConfig] = Field(default_factory=dict)
    rules: list[Rule] = Field(default_factory=list)
    default: list[Action] = Field(default_factory=list, description="actions when no rule matches")
    ocr: OcrSettings = OcrSettings()
    understanding: UnderstandingSettings = UnderstandingSettings()
    limits: Limits = Limits()
    log: LogSettings = LogSettings()
    http: HttpSettings = HttpSettings()

    @model_validator(mode="before")
    @classmethod
    def _empty_sections(cls, data: Any) -> Any:
        # `understanding:` with only comments under it is YAML null: read it as "all defaults"
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not (v is None and k != "sources")}
        return data

    @model_validator(mode="after")
    def _references(self) -> Config:
        names = [s.name for s in self.sources]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"source names must be unique: {', '.join(dupes)}")
        paths = [s.url_path for s in self.sources if isinstance(s, WebhookSourceConfig)]
        if len(paths) != len(set(paths)):
            raise ValueError(f"webhook source paths must be unique: {', '.join(sorted(paths))}")
        for i, rule in enumerate(self.rules):
            for j, action in enumerate(rule.then):
                if action.kind == "webhook" and action.arg not in self.webhooks:
                    raise _KeyPathError(
                        ("rules", i, "then", j, "webhook"),
                        f"no webhook named {action.arg!r} (defined: {', '.join(self.webhooks) or 'none'})",
                    )
        return self

    def source(self, name: str) -> SourceConfig:
        for s in self.sources:
            if s.name == name:
                return s
        raise KeyError(name)


class _KeyPathError(ValueError):
    def __init__(self, loc: tuple[str | int, ...], msg: str) -> None:
        super().__init__(msg)
        self.loc = loc


# --------------------------------------------------------------------------- loading

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_FILE = re.compile(r"\$\{file:([^}]+)\}")


def _expand_env(node: Any, path: str, problems: list[str], env: Mapping[str, str]) -> Any:
    if isinstance(node, dict):
        return {k: _expand_env(v, f"{path}.{k}" if path else str(k), problems, env) for k, v in node.items()}
    if isinstance(node, list):
        return [_expand_env(v, f"{path}[{i}]", problems, env) for i, v in enumerate(node)]
    if isinstance(node, str):
        def sub(m: re.Match[str]) -> str:
            value = env.get(m.group(1), m.group(2))
            if value is None:
                problems.append(f"{path}: environment variable {m.group(1)} is not set")
                return ""
            return value

        def read_file(m: re.Match[str]) -> str:
            # a secret mounted as a file (Docker/Kubernetes secrets, systemd credentials)
            try:
                return Path(m.group(1)).expanduser().read_text(encoding="utf-8").rstrip("\r\n")
            except OSError as exc:
                problems.append(f"{path}: cannot read secret file {m.group(1)}: {exc.strerror}")
                return ""

        return _FILE.sub(read_file, _ENV.sub(sub, node))
    return node


def format_loc(loc: tuple[str | int, ...], data: Any) -> str:
    """('rules', 2, 'when', 'total_gt') -> 'rules[2].when.total_gt', dropping union tags."""
    out = ""
    node = data
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
            continue
        if isinstance(node, dict) and part not in node and node.get("type") == part:
            continue  # the tag pydantic adds for a discriminated union
        if part in ("function-before", "function-after", "function-plain") or part.startswith("json-or-python"):
            continue
        out += f".{part}" if out else part
        node = node.get(part) if isinstance(node, dict) else None
    return out or "(top level)"


def parse_config(data: Any, file: str = "<config>", env: Mapping[str, str] | None = None) -> Config:
    if not isinstance(data, dict):
        raise ConfigError(file, ["(top level): expected a mapping of settings"])
    problems: list[str] = []
    data = _expand_env(data, "", problems, os.environ if env is None else env)
    if problems:
        raise ConfigError(file, problems)
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            ctx_error = (err.get("ctx") or {}).get("error")
            if isinstance(ctx_error, _KeyPathError):
                problems.append(f"{format_loc(ctx_error.loc, data)}: {ctx_error}")
                continue
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown key"
            elif err["type"] == "union_tag_invalid":
                msg = f"unknown type {err['input'].get('type')!r}" if isinstance(err["input"], dict) else msg
            problems.append(f"{format_loc(tuple(err['loc']), data)}: {msg}")
        raise ConfigError(file, problems) from None


def load_config(path: str | Path, env: Mapping[str, str] | None = None) -> Config:
    """Read, expand ${ENV} and validate a YAML config file. Relative paths in it are relative to
    the directory the daemon is started from (as the example configs assume)."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(file, [f"cannot read: {exc.strerror}"]) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "?"
        raise ConfigError(file, [f"not valid YAML at {where}: {getattr(exc, 'problem', exc)}"]) from None
    return parse_config(data, file, env)


def secret_values(node: Any) -> list[str]:
    """Every SecretStr value in the config, so that log lines can be masked."""
    out: list[str] = []
    if isinstance(node, SecretStr):
        out.append(node.get_secret_value())
    elif isinstance(node, BaseModel):
        for name in type(node).model_fields:
            out.extend(secret_values(getattr(node, name)))
    elif isinstance(node, dict):
        for value in node.values():
            out.extend(secret_values(value))
    elif isinstance(node, list | tuple):
        for value in node:
            out.extend(secret_values(value))
    return out


__all__ = ["Config", "ConfigError", "Rule", "RuleWhen", "WebhookConfig", "load_config", "parse_config", "DOC_TYPES"]
