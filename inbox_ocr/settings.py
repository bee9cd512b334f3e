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
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from inbox_ocr.config_types import ByteSize, Duration, Patterns, Strict, TextPattern, one_or_many
from inbox_ocr.connector_settings import (
    ImapOAuthConfig,
    ImapSourceConfig,
    MaildirSourceConfig,
    SourceConfig,
    WebhookAuth,
    WebhookConfig,
    WebhookSourceConfig,
)
from inbox_ocr.errors import ConfigError
from inbox_ocr.models import DOC_TYPES, Action, DocType

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
    doc_type: Annotated[list[DocType], BeforeValidator(one_or_many)] | None = None
    min_confidence: float | None = Field(default=None, ge=0, le=1)
    total_gt: Decimal | None = None
    total_lt: Decimal | None = None
    currency: Annotated[list[str], BeforeValidator(one_or_many)] | None = None
    vendor: Patterns | None = None
    missing: Annotated[list[str], BeforeValidator(one_or_many)] | None = None

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
    rec_space_boost: float = Field(default=10.0, ge=1, le=1000, description="prior on the recognizer's space "
                                   "class: a blank frame is read as a word gap where the space is >= 1/boost as likely")


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


# The connector schemas live in connector_settings.py and the value types in config_types.py;
# they are named here too so that the whole config schema can be imported from one place.
__all__ = [
    "DOC_TYPES", "ByteSize", "Config", "ConfigError", "Duration", "HttpSettings", "ImapOAuthConfig",
    "ImapSourceConfig", "Limits", "LogSettings", "MaildirSourceConfig", "OcrSettings", "Rule", "RuleWhen",
    "SourceConfig", "TextPattern", "UnderstandingSettings", "WebhookAuth", "WebhookConfig", "WebhookSourceConfig",
    "load_config", "parse_config", "secret_values",
]
