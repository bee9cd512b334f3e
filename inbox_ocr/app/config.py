"""The config file: its schema assembled from its parts, ${ENV} secrets, and loading with errors
that name the key path.

The parts live beside what reads them: stage settings in kernel/settings.py, each connector's
schema beside the connector (connectors/*/config.py, connectors/maildir.py), rules and actions
in routing/. The config is validated once, at the edge (`load_config`); below that, code sees
these models only.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qsl, unquote, urlsplit

import yaml
from pydantic import BaseModel, Field, SecretStr, ValidationError, model_validator

from connectors.imap import ImapSourceConfig
from connectors.maildir import MaildirSourceConfig
from connectors.webhook_in import WebhookSourceConfig
from connectors.webhook_out import WebhookConfig
from inbox_ocr.kernel.config_types import ByteSize, Duration, Strict
from inbox_ocr.kernel.errors import ConfigError
from inbox_ocr.kernel.settings import Limits, LogSettings, OcrSettings, UnderstandingSettings
from routing import Action, Rule

SourceConfig = Annotated[MaildirSourceConfig | ImapSourceConfig | WebhookSourceConfig, Field(discriminator="type")]
"""One source; `type` picks the connector (app/wiring.py builds it)."""

# --------------------------------------------------------------------------- the whole config


class LedgerSettings(Strict):
    """Where messages, outcomes and the outbox are kept."""

    url: str | None = Field(default=None, description="postgresql://user:password@host/database to share the "
                            "ledger between processes and machines; default: SQLite in state_dir")

    @model_validator(mode="after")
    def _postgres(self) -> LedgerSettings:
        if self.url is not None and not self.url.startswith(("postgresql://", "postgres://")):
            raise ValueError("ledger.url: a postgresql:// URL (the default SQLite ledger lives in state_dir and "
                             "needs no url)")
        return self


class QueueSettings(Strict):
    """The work queue: with a broker, the daemon schedules (reads the sources, stores each new
    message in the ledger and sends its key to the broker) and `inbox-ocr worker` processes."""

    broker_url: str | None = Field(default=None, description="redis://host:6379/0 (Celery on Redis); without "
                                   "it the daemon processes every message itself")
    name: str = Field(default="inbox-ocr", description="the broker's queue name")
    visibility_timeout: Duration = Field(default=3600.0, description="a task a worker took and did not "
                                         "acknowledge (it died) goes to another worker after this; longer than "
                                         "limits.message_seconds")
    resend_after: Duration = Field(default=3600.0, description="a stored message no worker claimed for this long "
                                   "has its key sent again (the broker lost it)")

    @model_validator(mode="after")
    def _redis(self) -> QueueSettings:
        if self.broker_url is not None and not self.broker_url.startswith(("redis://", "rediss://")):
            raise ValueError("queue.broker_url: a redis:// or rediss:// URL (Celery on Redis)")
        return self


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
    api_tokens: list[SecretStr] = Field(default_factory=list, description="bearer tokens of programs that may "
                                        "use the REST API (/ocr, /api/extract); without any the API is not served")
    max_upload_bytes: ByteSize = Field(default=25 * 1024**2, description="largest file the REST API and the "
                                       "web UI accept")
    ocr_batch_pages: int = Field(default=4, ge=1, le=32, description="pages of concurrent /ocr requests read in "
                                 "one batch (1: each page alone, its lines exactly as `inbox-ocr ocr` reads them)")
    users: dict[str, SecretStr] = Field(default_factory=dict, description="people who may log in to the web UI: "
                                        "name -> bcrypt hash (`inbox-ocr hash-password`); without any (and "
                                        "without users_file) the web UI is not served")
    users_file: Path | None = Field(default=None, description="more users, one `name:bcrypt-hash` line each "
                                    "(the format of `htpasswd -B`); read when the server starts")
    session_secret: SecretStr | None = Field(default=None, description="signs the web UI's session cookies; "
                                             "default: a random key kept in state_dir/session.key")
    session_hours: float = Field(default=8, gt=0, description="a login lasts this long")

    @model_validator(mode="after")
    def _tls_pair(self) -> HttpSettings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("give both tls_cert and tls_key, or neither")
        for name, hashed in self.users.items():
            if not BCRYPT_HASH.match(hashed.get_secret_value()):
                raise ValueError(f"users.{name}: not a bcrypt hash ($2b$...); make one with `inbox-ocr "
                                 f"hash-password` (never put the password itself here)")
        if not (self.users or self.users_file or self.api_tokens) and not is_loopback(self.host):
            raise ValueError(f"host {self.host} is reachable from other machines, and no users or api_tokens are "
                             f"configured: add http.users (or users_file) for the web UI, or api_tokens, or "
                             f"serve on 127.0.0.1 behind a proxy that authenticates")
        return self

    @property
    def serves_ui(self) -> bool:
        return bool(self.users or self.users_file)


BCRYPT_HASH = re.compile(r"^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$")


def is_loopback(host: str) -> bool:
    """Whether `host` (as http.host writes it) only listens on this machine."""
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name other than localhost: it may resolve to anything


class ReviewSettings(Strict):
    """The review queue of the web UI: messages a rule's `review` action holds."""

    reject: list[Action] = Field(default_factory=list, description="actions applied to a message a reviewer "
                                 "rejects (for example a move to a folder and a keyword); none: it stays where it is")

    @model_validator(mode="after")
    def _no_review(self) -> ReviewSettings:
        if any(a.kind == "review" for a in self.reject):
            raise ValueError("review.reject cannot hold the message for review again")
        return self


class Config(Strict):
    state_dir: Path = Field(default_factory=lambda: default_state_dir(), description="ledger, spools, outbox; default: "
                            "$STATE_DIRECTORY (systemd), else $XDG_DATA_HOME/inbox-ocr (~/.local/share/inbox-ocr)")
    ledger: LedgerSettings = LedgerSettings()
    queue: QueueSettings = QueueSettings()
    sources: list[SourceConfig] = Field(default_factory=list, description="where mail comes from; a config "
                                        "without any serves only the HTTP side (`inbox-ocr serve`)")
    webhooks: dict[str, WebhookConfig] = Field(default_factory=dict)
    rules: list[Rule] = Field(default_factory=list)
    default: list[Action] = Field(default_factory=list, description="actions when no rule matches")
    review: ReviewSettings = ReviewSettings()
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
    def _queue(self) -> Config:
        if self.queue.broker_url and self.queue.visibility_timeout <= self.limits.message_seconds:
            raise _KeyPathError(("queue", "visibility_timeout"),
                                f"must be longer than limits.message_seconds ({self.limits.message_seconds:.0f} s): "
                                "a task still being worked on would go to a second worker")
        return self

    @model_validator(mode="after")
    def _references(self) -> Config:
        names = [s.name for s in self.sources]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"source names must be unique: {', '.join(dupes)}")
        reserved = sorted(n for n in self.webhooks if n.startswith("helpdesk:"))
        if reserved:
            raise ValueError(f"webhook names starting with 'helpdesk:' are the helpdesk sources' own: "
                             f"{', '.join(reserved)}")
        paths = [s.url_path for s in self.sources if isinstance(s, WebhookSourceConfig)]
        if len(paths) != len(set(paths)):
            raise ValueError(f"webhook source paths must be unique: {', '.join(sorted(paths))}")
        places: list[tuple[tuple[str | int, ...], list[Any]]] = [(("default",), self.default),
                                                                  (("review", "reject"), self.review.reject)]
        places[:0] = [(("rules", i, "then"), rule.then) for i, rule in enumerate(self.rules)]
        for where, actions in places:
            for j, action in enumerate(actions):
                if action.is_webhook and action.arg not in self.webhooks:
                    raise _KeyPathError(
                        (*where, j, "webhook"),
                        f"no webhook named {action.arg!r} (defined: {', '.join(self.webhooks) or 'none'})",
                    )
        return self

    def source(self, name: str) -> SourceConfig:
        for s in self.sources:
            if s.name == name:
                return s
        raise KeyError(name)


def default_state_dir(env: Mapping[str, str] | None = None) -> Path:
    """Where the state goes when the config does not say: systemd's StateDirectory, else the
    user's data directory; never a folder relative to wherever the program was started."""
    env = os.environ if env is None else env
    if env.get("STATE_DIRECTORY"):
        return Path(env["STATE_DIRECTORY"].split(":")[0])
    data = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "inbox-ocr"


class _KeyPathError(ValueError):
    def __init__(self, loc: tuple[str | int, ...], msg: str) -> None:
        super().__init__(msg)
        self.loc = loc


# --------------------------------------------------------------------------- loading

_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_FILE = re.compile(r"\$\{file:([^}]+)\}")


def _expand_env(node: Any, path: str, problems: list[str], env: Mapping[str, str], base: Path) -> Any:
    if isinstance(node, dict):
        return {k: _expand_env(v, f"{path}.{k}" if path else str(k), problems, env, base) for k, v in node.items()}
    if isinstance(node, list):
        return [_expand_env(v, f"{path}[{i}]", problems, env, base) for i, v in enumerate(node)]
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
                return (base / Path(m.group(1)).expanduser()).read_text(encoding="utf-8").rstrip("\r\n")
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


def parse_config(data: Any, file: str = "<config>", env: Mapping[str, str] | None = None,
                 base: Path | None = None) -> Config:
    """Validate config data; `base` is the folder `${file:...}` paths are relative to."""
    if not isinstance(data, dict):
        raise ConfigError(file, ["(top level): expected a mapping of settings"])
    problems: list[str] = []
    # a variable that is not set is one problem among the file's others: all are reported at once
    data = _expand_env(data, "", problems, os.environ if env is None else env, base or Path.cwd())
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            ctx_error = (err.get("ctx") or {}).get("error")
            if isinstance(ctx_error, _KeyPathError):
                problems.append(f"{format_loc(ctx_error.loc, data)}: {ctx_error}")
                continue
            problems.append(f"{format_loc(tuple(err['loc']), data)}: {_in_words(err)}")
        raise ConfigError(file, problems) from None
    if problems:
        raise ConfigError(file, problems)
    return config


def _in_words(err: Any) -> str:
    """A validation error as the user wrote the file: the bad value, and the closest known name."""
    kind, value = err["type"], err.get("input")
    if kind == "extra_forbidden":
        key = str(err["loc"][-1])
        return "unknown key" + _did_you_mean(key, _known_keys())
    if kind == "union_tag_invalid":
        given = value.get("type") if isinstance(value, dict) else None
        expected = [t.strip(" '") for t in str((err.get("ctx") or {}).get("expected_tags", "")).split(",")]
        return f"unknown type {given!r}" + _did_you_mean(str(given), [t for t in expected if t])
    message = str(err["msg"]).removeprefix("Value error, ")
    if kind in ("literal_error", "enum") and isinstance(value, str):
        options = re.findall(r"'([^']*)'", str((err.get("ctx") or {}).get("expected", "")))
        return f"{message} (got {value!r}){_did_you_mean(value, options)}"
    if isinstance(value, str | int | float) and not isinstance(value, bool) and repr(value) not in message:
        return f"{message} (got {value!r})"
    return message


def _did_you_mean(given: str, known: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(given, known, n=1, cutoff=0.7)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _known_keys() -> list[str]:
    """Every key name the config file knows, at any depth (for "did you mean")."""
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            names.update(k for k in node.get("properties", {}) if isinstance(k, str))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(Config.model_json_schema())
    return sorted(names)


def load_config(path: str | Path, env: Mapping[str, str] | None = None) -> Config:
    """Read, expand ${ENV} and validate a YAML config file. Relative paths in it are relative to
    the config file's folder, wherever the program is started from."""
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
    base = Path(path).resolve().parent
    return relative_to(parse_config(data, file, env, base), base)


def config_json_schema() -> dict[str, Any]:
    """The JSON Schema of a config file as it is written (durations like `30s`, `{move: Folder}`
    actions, a section left empty), for editors that validate YAML (`inbox-ocr config schema`)."""
    schema = Config.model_json_schema()
    for name, prop in schema["properties"].items():
        if name != "sources":  # a section with only comments under it is null: all defaults
            schema["properties"][name] = {"anyOf": [prop, {"type": "null"}]}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": "inbox-ocr config", **schema}


def relative_to(config: Config, base: Path) -> Config:
    """The config with its relative paths (state_dir, Maildir paths, CA and TLS files, templates,
    models, file:// webhook folders) made absolute against `base`, the config file's folder."""

    def fix(value: Any) -> Any:
        if isinstance(value, Path):
            return value if value.is_absolute() else base / value
        if isinstance(value, WebhookConfig) and value.url.startswith("file://"):
            parts = urlsplit(value.url)
            folder = Path(unquote(parts.netloc + parts.path))
            if not folder.is_absolute():
                value = value.model_copy(update={"url": (base / folder).as_uri()})
        if isinstance(value, BaseModel):
            updates = {name: new for name in type(value).model_fields
                       if (new := fix(old := getattr(value, name))) is not old}
            return value.model_copy(update=updates) if updates else value
        if isinstance(value, list):
            fixed = [fix(v) for v in value]
            return fixed if any(a is not b for a, b in zip(fixed, value, strict=True)) else value
        if isinstance(value, dict):
            items = {k: fix(v) for k, v in value.items()}
            return items if any(items[k] is not value[k] for k in value) else value
        return value

    return fix(config)  # type: ignore[no-any-return]


def secret_values(node: Any) -> list[str]:
    """Every secret of the config, as it is sent, for masking (inbox_ocr/kernel/secrets.py adds
    the URL-encoded and base64 forms): SecretStr values; the `user:password` pairs that HTTP Basic
    and IMAP AUTHENTICATE PLAIN send encoded; the values of webhook `headers` (8 characters or
    more: API keys travel there); and the token-like parts of webhook URLs (Slack, Teams and Zapier
    hooks carry their token in the path or query)."""
    out: list[str] = []
    if isinstance(node, SecretStr):
        out.append(node.get_secret_value())
    elif isinstance(node, BaseModel):
        for name in type(node).model_fields:
            out.extend(secret_values(getattr(node, name)))
        for user_field, secret_field in (("username", "password"), ("api_user", "api_token")):
            user, secret = getattr(node, user_field, None), getattr(node, secret_field, None)
            if isinstance(user, str) and isinstance(secret, SecretStr):
                out += [f"{user}:{secret.get_secret_value()}", f"\0{user}\0{secret.get_secret_value()}"]
        headers = getattr(node, "headers", None)
        if isinstance(headers, dict):
            out += [v for v in headers.values() if isinstance(v, str) and len(v) >= 8]
        url = getattr(node, "url", None)
        if isinstance(url, str) and "://" in url:
            out += url_tokens(url)
    elif isinstance(node, dict):
        for value in node.values():
            out.extend(secret_values(value))
    elif isinstance(node, list | tuple):
        for value in node:
            out.extend(secret_values(value))
    return out


_TOKEN_LIKE = re.compile(r"^(?=.*[0-9])(?=.*[A-Za-z])[A-Za-z0-9._~+/=-]{12,}$")


def url_tokens(url: str) -> list[str]:
    """Path segments and query values of a URL that look like credentials (12+ characters mixing
    letters and digits), and the user info; host and ordinary path words stay readable."""
    parts = urlsplit(url)
    if parts.scheme == "file":  # a drop folder on this machine: its path names no credential
        return []
    out = [seg for seg in parts.path.split("/") if _TOKEN_LIKE.match(unquote(seg))]
    out += [value for _, value in parse_qsl(parts.query) if len(value) >= 8]
    if parts.password:
        out.append(unquote(parts.password))
    return [unquote(t) for t in out]
