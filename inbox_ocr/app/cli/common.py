"""What the commands share: the config option and loading a config with a readable error."""

from __future__ import annotations

import dataclasses
import json
from enum import Enum
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource
from pydantic import BaseModel

from inbox_ocr.app import exits
from inbox_ocr.app.config import Config, load_config, secret_values
from inbox_ocr.kernel import secrets
from inbox_ocr.kernel.errors import ConfigError

SEARCH_ORDER = (Path("inbox-ocr.yaml"), Path("/etc/inbox-ocr/config.yaml"))


def find_config(ctx: click.Context, value: Path | None) -> Path:
    """-c FILE after the command, else -c FILE given to its group (`ledger -c F show 2` and
    `ledger show 2 -c F` alike), else $INBOX_OCR_CONFIG, else the first of SEARCH_ORDER that exists."""
    if value is not None and ctx.get_parameter_source("config_path") is ParameterSource.COMMANDLINE:
        return value
    parent = ctx.parent
    while parent is not None:
        given = parent.params.get("config_path")
        if given is not None and parent.get_parameter_source("config_path") is ParameterSource.COMMANDLINE:
            return Path(given)
        parent = parent.parent
    if value is not None:  # from the environment
        return value
    for candidate in SEARCH_ORDER:
        if candidate.is_file():
            return candidate
    raise click.UsageError("no config file: give -c FILE, set $INBOX_OCR_CONFIG, or put one at "
                           + " or ".join(f"{p}" for p in SEARCH_ORDER), ctx)


_CONFIG_HELP = "YAML config file; default: $INBOX_OCR_CONFIG, else ./inbox-ocr.yaml, else /etc/inbox-ocr/config.yaml"
CONFIG_OPTION = click.option(
    "--config", "-c", "config_path", type=click.Path(dir_okay=False, path_type=Path),
    callback=lambda ctx, _, value: find_config(ctx, value), envvar="INBOX_OCR_CONFIG", help=_CONFIG_HELP,
)
# on a group (`ledger`, `outbox`): taken as it is; its commands resolve it (CONFIG_OPTION)
GROUP_CONFIG_OPTION = click.option(
    "--config", "-c", "config_path", type=click.Path(dir_okay=False, path_type=Path), envvar="INBOX_OCR_CONFIG",
    help=_CONFIG_HELP,
)


class ConfigProblem(click.ClickException):
    """A config that cannot be used: exit status 2 (app/exits.py), like click's usage errors."""

    exit_code = exits.CONFIG


def load(path: Path) -> Config:
    try:
        config = load_config(path)
    except ConfigError as exc:
        raise ConfigProblem(f"config error: {exc}") from None
    guard_output(config)
    return config


def guard_output(config: Config) -> None:
    """From here on, the config's secrets (in every form we send them) are masked in everything
    this process prints: summaries, `ledger show`, `outbox show` and log lines alike."""
    secrets.install(secret_values(config))
    secrets.mask_standard_streams()


def standalone_config() -> Config:
    """The default OCR, limits and understanding settings, for reading files without a config.
    (A Config needs a source; this one is never opened.)"""
    from inbox_ocr.app.api import _defaults

    return _defaults()


JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="print one JSON document (for scripts)")


def jsonable(value: Any) -> Any:
    """Records, reports and models as plain JSON values: dataclasses and pydantic models as objects,
    enums by value, Decimal, dates and paths as strings, bytes as text (or parsed, when JSON)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, bytes):
        text = value.decode("utf-8", "replace")
        try:
            return json.loads(text)
        except ValueError:
            return text
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)  # Decimal, date, datetime, Path


def echo_json(value: Any) -> None:
    click.echo(json.dumps(jsonable(value), ensure_ascii=False, indent=2))
