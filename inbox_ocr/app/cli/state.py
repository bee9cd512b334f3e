"""`inbox-ocr ledger` (messages and their audit trails) and `inbox-ocr outbox` (webhook deliveries)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from inbox_ocr.app.cli.common import (
    CONFIG_OPTION,
    GROUP_CONFIG_OPTION,
    JSON_OPTION,
    echo_json,
    find_config,
    jsonable,
    load,
)
from inbox_ocr.kernel.models import MessageStatus
from inbox_ocr.orchestration.ledger import DeliveryStatus, Ledger, ledger_path


def _ledger(config_path: Path) -> Ledger:
    config = load(config_path)
    if config.ledger.url:
        return Ledger(config.ledger.url)
    path = ledger_path(config.state_dir)
    if not path.exists():
        raise click.ClickException(f"no ledger at {path} yet (the daemon creates it on its first run)")
    return Ledger(path)


@click.group(invoke_without_command=True)
@GROUP_CONFIG_OPTION
@click.option("--status", type=click.Choice([s.value for s in MessageStatus]), help="only messages with this status")
@click.option("--limit", default=20, show_default=True)
@JSON_OPTION
@click.pass_context
def ledger(ctx: click.Context, config_path: Path | None, status: str | None, limit: int, as_json: bool) -> None:
    """Recent messages, newest first (and `ledger show ID` for one message's story)."""
    if ctx.invoked_subcommand:
        return
    led = _ledger(find_config(ctx, config_path))
    counts = led.counts()
    rows = led.messages.recent(limit, MessageStatus(status) if status else None)
    if as_json:
        echo_json({"counts": counts, "messages": rows})
        return
    click.echo("  ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "empty ledger")
    if not rows:
        click.echo(f"no {status} messages" if status else "no messages")
    for r in rows:
        acked = "acked" if r.acked_at else "in review" if r.status == MessageStatus.HELD else "NOT ACKED"
        click.echo(f"{r.id:>6}  {r.updated_at}  {r.status:<11} {acked:<9}  {r.source}:{r.key[:40]}")
        click.echo(f"        {(r.subject or '(no subject)')[:70]}  from {r.sender or '?'}")
        click.echo(f"        rule: {r.rule or '(default)'} -> {', '.join(r.actions) or 'no actions'}")
        if r.error:
            click.echo(f"        {_problem_word(r.status)}: {r.error}")


def _problem_word(status: str) -> str:
    """A done message's `error` holds what went wrong in a part (it was handled anyway)."""
    return "warning" if status in (MessageStatus.DONE, MessageStatus.HELD) else "error"


@ledger.command("show")
@click.argument("row_id", type=int)
@CONFIG_OPTION
@JSON_OPTION
def ledger_show(row_id: int, config_path: Path, as_json: bool) -> None:
    """One message: outcome, documents with their fields, and the audit trail."""
    led = _ledger(config_path)
    r = led.messages.by_id(row_id)
    if r is None:
        raise click.ClickException(f"no message {row_id} in the ledger")
    trail = led.audit.of(r.id)
    if as_json:
        echo_json({"message": r, "audit": trail})
        return
    click.echo(f"message {r.id}: {r.source}:{r.key}\n  subject: {r.subject or '(no subject)'}\n"
               f"  from: {r.sender or '?'}\n"
               f"  status: {r.status} (attempts {r.attempts}), acked: {r.acked_at or 'no'}\n"
               f"  rule: {r.rule or '(default)'}\n  actions: {', '.join(r.actions) or 'none'}")
    if r.error:
        click.echo(f"  {_problem_word(r.status)}: {r.error}")
    for d in r.documents:
        confidence = d.get("doc_type_confidence")
        click.echo(f"  document {d.get('attachment') or '(message body)'}: {d.get('doc_type')}"
                   + (f" ({confidence:.2f})" if isinstance(confidence, (int, float)) else "")
                   + (f", read from {d['source']}" if d.get("source") else ""))
        for name, value in (d.get("fields") or {}).items():
            if name == "line_items":
                click.echo(f"      line items: {len(value)}")
                continue
            sure = (d.get("field_confidence") or {}).get(name)
            click.echo(f"      {name}: {value}" + (f"  ({sure:.2f})" if isinstance(sure, (int, float)) else ""))
        for warning in d.get("warnings") or ():
            click.echo(f"      warning: {warning}")
        if d.get("error"):
            click.echo(f"      error: {d['error']}")
    click.echo("audit trail:")
    for entry in trail:
        click.echo(f"  {entry.at}  {entry.event:<16} {entry.detail}")


@click.group()
@GROUP_CONFIG_OPTION
def outbox(config_path: Path | None) -> None:
    """Webhook deliveries: list them, retry dead letters."""


@outbox.command("list")
@CONFIG_OPTION
@click.option("--dead", is_flag=True, help="only dead letters")
@click.option("--limit", default=50, show_default=True)
@JSON_OPTION
def outbox_list(config_path: Path, dead: bool, limit: int, as_json: bool) -> None:
    """Recent deliveries, newest first (payloads: `outbox show ID`)."""
    led = _ledger(config_path)
    rows = led.deliveries.recent(DeliveryStatus.DEAD if dead else None, limit)
    if as_json:
        echo_json([{k: v for k, v in jsonable(row).items() if k != "payload"} for row in rows])
        return
    if not rows:
        click.echo("no deliveries" if not dead else "no dead letters")
    for row in rows:
        click.echo(f"{row.id:>6}  {row.status:<9}  {row.webhook:<12} attempts={row.attempts}  "
                   f"key={row.idempotency_key}  message={row.message}  "
                   + (row.receipt or row.last_error or ""))


@outbox.command("retry")
@CONFIG_OPTION
@click.argument("delivery_id", type=int)
@click.option("--now/--later", default=True, show_default=True, help="deliver at once, or leave it to the daemon")
def outbox_retry(config_path: Path, delivery_id: int, now: bool) -> None:
    """Re-drive a dead letter (with a fresh attempt count)."""
    from inbox_ocr.app.wiring import build_outbox

    led = _ledger(config_path)
    if not led.deliveries.requeue(delivery_id):
        raise click.ClickException(f"delivery {delivery_id} is not dead or pending (or does not exist)")
    if not now:
        click.echo(f"delivery {delivery_id} queued; the daemon delivers it on its next outbox pass")
        return
    report = build_outbox(load(config_path), led).deliver_due()
    row = led.deliveries.get(delivery_id)
    assert row is not None
    click.echo(f"delivery {delivery_id}: {row.status} ({row.receipt or row.last_error or ''}); "
               f"{report.delivered} delivered in this pass")


@outbox.command("show")
@CONFIG_OPTION
@click.argument("delivery_id", type=int)
@click.option("--rendered", is_flag=True, help="the body as the webhook's template renders it now")
@JSON_OPTION
def outbox_show(config_path: Path, delivery_id: int, rendered: bool, as_json: bool) -> None:
    """One delivery: status, last error and payload (stored, or rendered to check a template)."""
    led = _ledger(config_path)
    row = led.deliveries.get(delivery_id)
    if row is None:
        raise click.ClickException(f"no delivery {delivery_id}")
    body = row.payload
    if rendered:
        from connectors.webhook_out import PayloadTemplate
        from inbox_ocr.kernel.errors import DeliveryRejected

        hook = load(config_path).webhooks.get(row.webhook)
        if hook is None:
            raise click.ClickException(f"no webhook named {row.webhook!r} in the config")
        if hook.template:
            try:
                body = PayloadTemplate(row.webhook, hook.template, hook.template_vars, hook.content_type).render(body)
            except DeliveryRejected as exc:
                raise click.ClickException(str(exc)) from exc
    if as_json:
        echo_json({**jsonable(row), "payload": body})
        return
    click.echo(f"delivery {row.id} -> {row.webhook}: {row.status}, attempts {row.attempts}, key {row.idempotency_key}"
               + (f"\n  last error: {row.last_error}" if row.last_error else "")
               + (f"\n  receipt: {row.receipt}" if row.receipt else ""))
    try:
        click.echo(json.dumps(json.loads(body), indent=2, ensure_ascii=False))
    except ValueError:
        click.echo(body.decode("utf-8", "replace"))


@click.command()
@CONFIG_OPTION
@JSON_OPTION
def status(config_path: Path, as_json: bool) -> None:
    """The daemon, the ledger's messages and the outbox at a glance."""
    from inbox_ocr.app.statelock import ledger_holder, state_holder
    from inbox_ocr.kernel.errors import InboxOcrError

    config = load(config_path)
    led = _ledger(config_path)
    try:
        holder = ledger_holder(config.ledger.url) if config.ledger.url else state_holder(config.state_dir)
        waiting, oldest = led.messages.pending()
        due = led.deliveries.due(float("inf"), 1)
        counts, outbox_counts = led.messages.counts(), led.deliveries.counts()
        report: dict[str, object] = {
            "ledger": led.where,
            "daemon": holder,
            "messages": counts,
            "not_settled": waiting,
            "oldest_not_settled": None if oldest is None else {
                "id": oldest.id, "source": oldest.source, "key": oldest.key, "status": oldest.status,
                "since": oldest.updated_at, "error": oldest.error},
            "reviews_waiting": led.reviews.count_pending(),
            "outbox": outbox_counts,
            "oldest_delivery_due": None if not due else {"id": due[0].id, "webhook": due[0].webhook,
                                                          "since": due[0].created_at},
        }
        stored, oldest_stored = led.queue.depth()
        tasks: int | None = None
        workers: dict[str, int] = {}
        if config.queue.broker_url:
            from inbox_ocr.app.queue import Dispatcher

            dispatcher = Dispatcher(config)
            try:
                tasks = dispatcher.depth()
                workers = {name: sum((stats.get("total") or {}).values())
                           for name, stats in dispatcher.workers(timeout=2.0).items()}
            finally:
                dispatcher.close()
            report["queue"] = {"stored": stored, "oldest_stored": oldest_stored, "broker_tasks": tasks,
                               "workers": workers}
        else:
            report["queue"] = None
    except (InboxOcrError, OSError) as exc:
        raise click.ClickException(f"cannot read the state: {exc}") from None
    finally:
        led.close()
    if as_json:
        echo_json(report)
        return
    click.echo(f"ledger    {report['ledger']}")
    click.echo(f"daemon    {'running: ' + holder if holder else 'not running'}")
    click.echo(f"messages  {'  '.join(f'{k}={v}' for k, v in sorted(counts.items())) or 'none yet'}")
    if oldest is not None:
        click.echo(f"          {waiting} not settled; oldest: {oldest.source}:{oldest.key} ({oldest.status} since "
                   f"{oldest.updated_at}{': ' + oldest.error if oldest.error else ''})")
    click.echo(f"reviews   {report['reviews_waiting']} waiting")
    if not config.queue.broker_url:
        click.echo("queue     none (the daemon processes every message itself)")
    else:
        import time

        age = f", oldest stored {time.time() - oldest_stored:.0f} s ago" if oldest_stored is not None else ""
        click.echo(f"queue     {stored} waiting for a worker{age}; broker: "
                   f"{'unreachable' if tasks is None else f'{tasks} task(s)'}")
        click.echo(f"workers   {len(workers)}" + "".join(f"\n          {name}: {done} task(s) done"
                                                       for name, done in sorted(workers.items())))
    oldest_due = f"; oldest due: delivery {due[0].id} to {due[0].webhook}, created {due[0].created_at}" if due else ""
    click.echo(f"outbox    {'  '.join(f'{k}={v}' for k, v in sorted(outbox_counts.items())) or 'empty'}{oldest_due}")
