"""What the commands share: the config option and loading a config with a readable error."""

from __future__ import annotations

from pathlib import Path

import click

from inbox_ocr.app.config import Config, load_config
from inbox_ocr.kernel.errors import ConfigError

CONFIG_OPTION = click.option(
    "--config", "-c", "config_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
    envvar="INBOX_OCR_CONFIG", help="YAML config file (or $INBOX_OCR_CONFIG)",
)


def load(path: Path) -> Config:
    try:
        return load_config(path)
    except ConfigError as exc:
        raise click.ClickException(f"config error: {exc}") from None


def standalone_config() -> Config:
    """The default OCR, limits and understanding settings, for reading files without a config.
    (A Config needs a source; this one is never opened.)"""
    return Config.model_validate({"sources": [{"name": "files", "type": "maildir", "path": "."}]})
