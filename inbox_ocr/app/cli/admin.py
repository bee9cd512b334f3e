"""`inbox-ocr run`, `backfill`, `check-config` and `demo seed`."""

from __future__ import annotations

import shutil
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from inbox_ocr.app import exits
from inbox_ocr.app.cli.common import (
    CONFIG_OPTION,
    JSON_OPTION,
    ConfigProblem,
    echo_json,
    guard_output,
    jsonable,
    load,
)
from inbox_ocr.kernel.errors import ConfigError, InboxOcrError

if TYPE_CHECKING:
    from inbox_ocr.app.config import Config


@click.command()
@CONFIG_OPTION
@click.option("--once", is_flag=True, help="one pass over every source, then exit")
@click.option("--json", "as_json", is_flag=True, help="with --once: the pass's summary as one JSON document")
@click.option("--standby", is_flag=True, help="when another daemon holds the state (or the shared ledger), wait "
              "and take over when it stops, instead of exiting")
def run(config_path: Path, once: bool, as_json: bool, standby: bool) -> None:
    """Run the daemon (run_daemon.py is the same command)."""
    from inbox_ocr.app.config import load_config, secret_values
    from inbox_ocr.app.daemon import run as run_daemon
    from inbox_ocr.kernel import logs

    try:
        config = load_config(config_path)
    except ConfigError as exc:
        click.echo(f"config error: {exc}", err=True)
        sys.exit(exits.CONFIG)
    guard_output(config)  # the --once summary is printed, not logged
    logs.setup(config.log.level, config.log.format, secret_values(config))

    def reload_config() -> Config:  # SIGHUP: the same file again; a ConfigError keeps the running one
        fresh = load_config(config_path)
        guard_output(fresh)
        logs.setup(fresh.log.level, fresh.log.format, secret_values(fresh))
        return fresh

    from inbox_ocr.app.daemon import print_message, print_summary, print_totals

    if as_json:
        sys.exit(run_daemon(config, once, reload_config,
                            summary=lambda reports, delivery: echo_json({"messages": reports, "webhooks": delivery})))
    if once and sys.stdout.isatty():  # a line per message as it is handled, then the totals
        sys.exit(run_daemon(config, once, reload_config, summary=print_totals, on_message=print_message))
    sys.exit(run_daemon(config, once, reload_config, summary=print_summary, standby=standby))


@click.command()
@CONFIG_OPTION
@click.option("--concurrency", "-n", type=click.IntRange(1, 64), default=None,
              help="worker processes (default: one per CPU core)")
def worker(config_path: Path, concurrency: int | None) -> None:
    """Process messages the daemon queued (queue.broker_url): read, OCR, understand, route, commit."""
    import os

    from inbox_ocr.app.config import load_config, secret_values
    from inbox_ocr.app.queue import run_worker
    from inbox_ocr.kernel import logs

    try:
        config = load_config(config_path)
    except ConfigError as exc:
        click.echo(f"config error: {exc}", err=True)
        sys.exit(exits.CONFIG)
    if not config.queue.broker_url:
        click.echo("config error: queue.broker_url is not set: without a work queue the daemon processes every "
                   "message itself", err=True)
        sys.exit(exits.CONFIG)
    guard_output(config)
    logs.setup(config.log.level, config.log.format, secret_values(config))
    run_worker(config, concurrency or os.cpu_count() or 1)


@click.command()
@CONFIG_OPTION
def serve(config_path: Path) -> None:
    """Run only the HTTP side: the REST API (with http.api_tokens), /healthz, /readyz, /metrics and
    the webhook sources' endpoints (what they spool waits for `inbox-ocr run`); no mailbox is polled."""
    import signal
    import threading

    from inbox_ocr.app.config import secret_values
    from inbox_ocr.app.wiring import Wiring
    from inbox_ocr.kernel import logs, systemd
    from inbox_ocr.kernel.metrics import READINESS

    config = load(config_path)
    logs.setup(config.log.level, config.log.format, secret_values(config))
    if not config.http.api_tokens:
        click.echo("note: no http.api_tokens configured: the REST API is not served", err=True)
    stop = threading.Event()
    try:
        wiring = Wiring(config)
        server = wiring.start_http(always=True)
    except ConfigError as exc:
        raise ConfigProblem(f"config error: {exc}") from None
    except (InboxOcrError, OSError) as exc:
        click.echo(f"cannot start: {exc}", err=True)
        sys.exit(exits.UNAVAILABLE)
    assert server is not None
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    READINESS.started = True
    click.echo(f"serving on {server.url} (Ctrl-C stops)", err=True)
    systemd.notify("READY=1", f"STATUS=serving on {server.url}")
    try:
        while not stop.wait(0.5):
            pass
    finally:
        systemd.notify("STOPPING=1")
        wiring.close()


@click.command()
@CONFIG_OPTION
@click.option("--source", "source_name", required=True, help="name of the source to work through")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="only mail received on or after this day (YYYY-MM-DD; IMAP sources)")
@JSON_OPTION
def backfill(config_path: Path, source_name: str, since: datetime | None, as_json: bool) -> None:
    """Work through the mail already in a source, with a progress bar and a closing summary."""
    from rich.console import Console

    from inbox_ocr.app.backfill import backfill as run_backfill
    from inbox_ocr.app.backfill import print_summary

    config = load(config_path)
    try:  # the progress bar goes to stderr, and only when that is a terminal and no JSON is asked for
        result = run_backfill(config, source_name, since.date() if since else None,
                              console=Console(stderr=True, quiet=as_json))
    except ConfigError as exc:
        raise ConfigProblem(str(exc)) from None
    except InboxOcrError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(exits.UNAVAILABLE)
    if as_json:
        echo_json({**jsonable(result), "handled": result.handled})
    else:
        print_summary(result)
    if result.interrupted:
        sys.exit(exits.INTERRUPTED)
    from inbox_ocr.kernel.models import HandlingResult

    failed = result.statuses[HandlingResult.FAILED] + result.statuses[HandlingResult.QUARANTINED]
    if failed or (result.delivery is not None and result.delivery.dead):
        sys.exit(exits.ITEMS)


@click.command("check-config")
@click.argument("file", type=click.Path(path_type=Path), required=False)
@click.option("--config", "-c", "config_path", type=click.Path(path_type=Path), envvar="INBOX_OCR_CONFIG",
              help="the config file, as for the other commands (or FILE, or $INBOX_OCR_CONFIG)")
@click.option("--online", is_flag=True, help="also ask each helpdesk source's API whether the inboxes, groups, "
              "mailboxes, people and (Front) tags the rules name exist")
@JSON_OPTION
def check_config(file: Path | None, config_path: Path | None, online: bool, as_json: bool) -> None:
    """Validate a config file; every problem is named by file and key path."""
    file = file or config_path
    if file is None:
        raise click.UsageError("give the config file: check-config FILE, -c FILE or $INBOX_OCR_CONFIG")
    try:
        config = _checked(file, online, quiet=as_json)
    except ConfigError as exc:
        if not as_json:
            raise ConfigProblem(f"config error: {exc}") from None
        echo_json({"file": str(file), "ok": False, "problems": exc.problems})
        sys.exit(exits.CONFIG)
    endpoints = {s.name: f"http://{config.http.host}:{config.http.port}{s.url_path}"
                 for s in config.sources if s.type == "webhook"}
    if as_json:
        echo_json({"file": str(file), "ok": True, "sources": [s.name for s in config.sources],
                   "rules": [r.name for r in config.rules], "webhooks": sorted(config.webhooks),
                   "endpoints": endpoints})
        return
    click.echo(f"{file}: OK — {len(config.sources)} source(s), {len(config.rules)} rule(s), "
               f"{len(config.webhooks)} webhook(s)")
    for source in config.sources:
        if source.type == "webhook":
            click.echo(f"  {source.name}: {source.provider} webhooks to POST {endpoints[source.name]}")


def _checked(file: Path, online: bool, quiet: bool) -> Config:
    """The config, its templates compiled and (online) its helpdesk names looked up; ConfigError
    names every problem."""
    from connectors.webhook_out import PayloadTemplate
    from inbox_ocr.app.config import load_config

    config = load_config(file)
    guard_output(config)
    problems = _helpdesk_names(config, quiet) if online else []
    if config.understanding.templates_dir is not None:  # skipped at run time with a warning; named here
        from inbox_ocr.understand import load_templates

        skipped = load_templates(config.understanding.templates_dir).problems
        problems.extend(f"understanding.templates_dir: {p}" for p in skipped)
    if config.http.users_file is not None:  # read at server start; a typo there must fail here first
        from inbox_ocr.app.web.auth import load_users

        try:
            load_users(config)
        except ConfigError as exc:
            problems.extend(f"http.users_file {exc.file}: {p}" for p in exc.problems)
    if any(a.kind == "review" for rule in config.rules for a in rule.then) and not config.http.serves_ui:
        problems.append("a rule holds messages for review, but no http.users are configured: nobody could "
                        "open the review queue (add http.users or users_file)")
    for name, hook in config.webhooks.items():  # a template with a syntax error fails here, not at 3 a.m.
        if hook.template:
            try:
                PayloadTemplate(name, hook.template, hook.template_vars, hook.content_type)
            except ConfigError as exc:
                problems.extend(exc.problems)
    if problems:
        raise ConfigError(str(file), problems)
    return config


def _helpdesk_names(config: Config, quiet: bool = False) -> list[str]:
    """The names the rules that can apply to a helpdesk source use and its API does not know."""
    from connectors.helpdesk import helpdesk_for
    from connectors.webhook_in import WebhookSourceConfig
    from inbox_ocr.kernel.errors import DeliveryFailed, DeliveryRejected
    from inbox_ocr.kernel.models import ParsedMessage
    from routing.conditions import CONDITIONS, RoutingInput

    source_check = next(c for c in CONDITIONS if c.name == "source")
    problems = []
    for cfg in config.sources:
        if not isinstance(cfg, WebhookSourceConfig) or not cfg.acts_in_helpdesk:
            continue
        desk = helpdesk_for(cfg)
        here = RoutingInput(source=cfg.name, message=ParsedMessage())
        actions = [a for rule in config.rules if rule.enabled
                   and (rule.when.source is None or source_check.check(rule.when.source, here)[0]) for a in rule.then]
        seen = set()
        for action in [*actions, *config.default]:
            op = {"move": "move", "assign": "assign", "keyword": "tag"}.get(action.kind)
            if op is None or action.arg is None or (op, action.arg) in seen:
                continue
            seen.add((op, action.arg))
            try:
                desk.check(op, action.arg)
            except DeliveryRejected as exc:
                problems.append(f"source {cfg.name}: {exc}")
            except DeliveryFailed as exc:
                problems.append(f"source {cfg.name}: cannot ask {cfg.provider}: {exc}")
        if not quiet:
            click.echo(f"  {cfg.name}: {len(seen)} name(s) looked up in {cfg.provider}")
    return problems


@click.command("hash-password")
@click.option("--rounds", default=12, show_default=True, type=click.IntRange(4, 16), help="bcrypt cost")
def hash_password(rounds: int) -> None:
    """Print a bcrypt hash of a password (asked for, or read from stdin) for http.users."""
    from inbox_ocr.app.web.auth import hash_password as make_hash

    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise click.UsageError("the password is empty")
    try:
        click.echo(make_hash(password, rounds))
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None


@click.group("config")
def config_group() -> None:
    """About the config file itself."""


@config_group.command("schema")
def config_schema() -> None:
    """Print the JSON Schema of the config file (point your editor's YAML support at it)."""
    import json

    from inbox_ocr.app.config import config_json_schema

    click.echo(json.dumps(config_json_schema(), indent=1, ensure_ascii=False))


DEMO_MARKER = ".inbox-ocr-demo"


@click.group()
def demo() -> None:
    """The bundled demo: a Maildir of generated sample messages."""


@demo.command("seed")
@click.option("--dir", "folder", default=Path("demo"), show_default=True, type=click.Path(path_type=Path))
def demo_seed(folder: Path) -> None:
    """(Re)create DIR/Maildir with the sample messages and clear DIR's state and webhook drop folder."""
    from inbox_ocr.app.samples import demo_messages, write_maildir

    if folder.exists() and any(folder.iterdir()) and not (folder / DEMO_MARKER).exists():
        raise click.ClickException(f"{folder} exists and was not made by `demo seed`; refusing to touch it")
    for sub in ("Maildir", "var", "webhooks"):
        shutil.rmtree(folder / sub, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / DEMO_MARKER).write_text("made by `inbox-ocr demo seed`; safe to delete\n")
    paths = write_maildir(folder / "Maildir", demo_messages())
    click.echo(f"demo: {len(paths)} messages in {folder / 'Maildir' / 'new'}")
