"""`inbox-ocr` commands. Each module holds a few; every object they need is built by app/wiring.py.

    documents.py   extract, process --dry-run
    ocr.py         ocr
    state.py       ledger, outbox, status
    admin.py       run, worker, serve, backfill, check-config, config schema, demo seed, hash-password
    auth.py        auth login (OAuth device-code sign-in of an IMAP source)

A command's module is imported when that command runs (or when `--help` lists them all), so that
`inbox-ocr ocr` does not pay for the config, the daemon and the web server it never uses.
"""

from __future__ import annotations

import importlib

import click

# command name -> "module:attribute", in the order `--help` lists them
COMMANDS = {
    "auth": "auth:auth",
    "backfill": "admin:backfill",
    "check-config": "admin:check_config",
    "config": "admin:config_group",
    "demo": "admin:demo",
    "extract": "documents:extract",
    "hash-password": "admin:hash_password",
    "ledger": "state:ledger",
    "ocr": "ocr:ocr_command",
    "outbox": "state:outbox",
    "process": "documents:process",
    "run": "admin:run",
    "serve": "admin:serve",
    "status": "state:status",
    "worker": "admin:worker",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, attribute = target.split(":")
        command = getattr(importlib.import_module(f"{__name__}.{module}"), attribute)
        if command.name != cmd_name:  # a renamed command must be renamed here too
            raise RuntimeError(f"{target} is the command {command.name!r}, not {cmd_name!r}")
        return command  # type: ignore[no-any-return]


@click.group(cls=_LazyGroup)
@click.version_option(package_name="inbox-ocr")
def main() -> None:
    """Read invoices arriving by mail and route the messages by rules."""


if __name__ == "__main__":
    main()
