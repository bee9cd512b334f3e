"""`inbox-ocr auth login --source NAME`: sign an IMAP source in by OAuth's device-code grant.

Getting the first refresh token is where Microsoft 365 users get stuck: this prints a URL and a
code, waits while someone signs in with them (on any device, with MFA as the tenant requires), and
keeps the refresh token in the ledger, where the daemon finds it at its next connection (it rotates
it from then on). App-only access (`grant: client_credentials`) needs no sign-in.
"""

from __future__ import annotations

from pathlib import Path

import click

from inbox_ocr.app import exits
from inbox_ocr.app.cli.common import CONFIG_OPTION, load
from inbox_ocr.kernel.errors import SourceUnavailable


class AuthFailed(click.ClickException):
    exit_code = exits.UNAVAILABLE


@click.group()
def auth() -> None:
    """OAuth sign-in for IMAP sources (Microsoft 365 and other XOAUTH2 servers)."""


@auth.command("login")
@CONFIG_OPTION
@click.option("--source", "source_name", required=True, help="the IMAP source to sign in (oauth.grant: device_code)")
@click.option("--check/--no-check", default=True, show_default=True,
              help="log in to the IMAP server with the new token afterwards")
def login(config_path: Path, source_name: str, check: bool) -> None:
    """Sign a source in: open the URL shown, enter the code, sign in as the mailbox's user."""
    from connectors.imap import ImapSource, ImapSourceConfig
    from connectors.imap.auth import DeviceLoginFailed, TokenProvider
    from inbox_ocr.app.wiring import open_ledger

    config = load(config_path)
    source = next((s for s in config.sources if s.name == source_name), None)
    if not isinstance(source, ImapSourceConfig):
        names = [s.name for s in config.sources if isinstance(s, ImapSourceConfig) and s.oauth
                 and s.oauth.flow == "device_code"]
        raise click.UsageError(f"no IMAP source named {source_name!r} in {config_path}; sources that sign in "
                               f"this way: {', '.join(names) or 'none (set oauth.grant: device_code)'}")
    if source.oauth is None or source.oauth.flow != "device_code":
        flow = source.oauth.flow if source.oauth else f"auth: {source.auth}"
        raise click.UsageError(f"source {source_name!r} does not sign in by device code ({flow}); set "
                               "auth: xoauth2 and oauth.grant: device_code")
    ledger = open_ledger(config)
    try:
        TokenProvider(source.name, source.oauth, ledger).device_login(lambda text: click.echo(text, err=True))
    except DeviceLoginFailed as exc:
        raise AuthFailed(str(exc)) from None
    except SourceUnavailable as exc:
        raise AuthFailed(str(exc)) from None
    click.echo(f"{source.name}: signed in; the refresh token is kept in the ledger ({config.state_dir})")
    if not check:
        return
    imap = ImapSource(source, ledger)
    try:
        waiting = imap.pending_count()
    except SourceUnavailable as exc:
        raise AuthFailed(f"signed in, but the IMAP login as {source.username} failed: {exc}") from None
    finally:
        imap.close()
    click.echo(f"{source.name}: IMAP login as {source.username} works; {waiting} message(s) waiting in "
               f"{', '.join(source.folders)}")
