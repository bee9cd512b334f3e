"""What the commands share: the config option and loading a config with a readable error."""

from __future__ import annotations

from pathlib import Path

import click

from inbox_ocr.app import exits
from inbox_ocr.app.config import Config, load_config, secret_values
from inbox_ocr.kernel import secrets
from inbox_ocr.kernel.errors import ConfigError

CONFIG_OPTION = click.option(
    "--config", "-c", "config_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
    envvar="INBOX_OCR_CONFIG", help="YAML config file (or $INBOX_OCR_CONFIG)",
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
