"""`inbox-ocr` commands. Each module holds a few; every object they need is built by app/wiring.py.

    documents.py   extract, process --dry-run
    ocr.py         ocr
    state.py       ledger, outbox, status
    admin.py       run, worker, serve, backfill, check-config, config schema, demo seed, hash-password
    auth.py        auth login (OAuth device-code sign-in of an IMAP source)
"""

from __future__ import annotations

import click

from inbox_ocr.app.cli.admin import backfill, check_config, config_group, demo, hash_password, run, serve, worker
from inbox_ocr.app.cli.auth import auth
from inbox_ocr.app.cli.documents import extract, process
from inbox_ocr.app.cli.ocr import ocr_command
from inbox_ocr.app.cli.state import ledger, outbox, status


@click.group()
@click.version_option(package_name="inbox-ocr")
def main() -> None:
    """Read invoices arriving by mail and route the messages by rules."""


for command in (check_config, config_group, extract, process, ledger, outbox, demo, backfill, run, serve,
                ocr_command, hash_password, auth, status, worker):
    main.add_command(command)

if __name__ == "__main__":
    main()
