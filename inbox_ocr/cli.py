"""`inbox-ocr` commands: extract, process --dry-run, check-config, ledger, outbox, demo, run."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from inbox_ocr.errors import ConfigError, InboxOcrError
from inbox_ocr.settings import Config, load_config

if TYPE_CHECKING:
    from inbox_ocr.pipeline import Context

CONFIG_OPTION = click.option(
    "--config", "-c", "config_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
    envvar="INBOX_OCR_CONFIG", help="YAML config file (or $INBOX_OCR_CONFIG)",
)


def _load(path: Path) -> Config:
    try:
        return load_config(path)
    except ConfigError as exc:
        raise click.ClickException(f"config error: {exc}") from None


@click.group()
@click.version_option(package_name="inbox-ocr")
def main() -> None:
    """Read invoices arriving by mail and route the messages by rules."""


# --------------------------------------------------------------------------- check-config


@main.command("check-config")
@click.argument("file", type=click.Path(path_type=Path))
def check_config(file: Path) -> None:
    """Validate a config file; every problem is named by file and key path."""
    config = _load(file)
    from connectors.webhook_out import PayloadTemplate

    for name, hook in config.webhooks.items():  # a template with a syntax error fails here, not at 3 a.m.
        if hook.template:
            try:
                PayloadTemplate(name, hook.template, hook.template_vars, hook.content_type)
            except ConfigError as exc:
                raise click.ClickException(f"{file}: " + "; ".join(exc.problems)) from exc
    click.echo(f"{file}: OK — {len(config.sources)} source(s), {len(config.rules)} rule(s), "
               f"{len(config.webhooks)} webhook(s)")
    for source in config.sources:
        if source.type == "webhook":
            click.echo(f"  {source.name}: {source.provider} webhooks to POST "
                       f"http://{config.http.host}:{config.http.port}{source.url_path}")


# --------------------------------------------------------------------------- extract


def _standalone_config() -> Config:
    """The default OCR, limits and understanding settings, for reading files without a config.
    (A Config needs a source; this one is never opened.)"""
    return Config.model_validate({"sources": [{"name": "files", "type": "maildir", "path": "."}]})


def _documents_of_file(path: Path, ctx: Context, text_only: bool = False) -> list[dict[str, Any]]:
    """Read a PDF, image, XML or .eml file and analyze every document in it."""
    import hashlib

    from inbox_ocr.extract import parse_message
    from inbox_ocr.mime_decode import content_type_for, detect_type
    from inbox_ocr.pipeline import analyze_attachments, without_einvoice
    from inbox_ocr.read import read_document
    from inbox_ocr.understand import analyze

    data = path.read_bytes()
    limits = ctx.config.limits
    if path.suffix.lower() == ".eml":
        message = parse_message(data, limits)
        out = [d.summary() for d in analyze_attachments(message, ctx, ignore_einvoice=text_only)]
        out += [{"attachment": err.filename, "part": err.part, "error": err.error} for err in message.errors]
        return out
    kind = content_type_for(detect_type(data, "application/octet-stream"), "application/octet-stream", path.name)
    doc = read_document(data, filename=path.name, content_type=kind, sha256=hashlib.sha256(data).hexdigest(),
                        ocr=ctx.config.ocr, max_pages=limits.max_pdf_pages)
    if text_only:
        doc = without_einvoice(doc)
    return [analyze(doc, None, ctx.templates).summary()]


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="one JSON line per document")
@click.option("--config", "-c", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="use this config's OCR, limits and templates")
@click.option("--text-only", is_flag=True, help="ignore embedded e-invoice XML: read PDFs by their text layer only")
def extract(files: tuple[Path, ...], as_json: bool, config_path: Path | None, text_only: bool) -> None:
    """Classify documents and extract invoice fields from PDF, image, XML or .eml files."""
    from inbox_ocr.pipeline import Context

    # templates (and, on first use, the OCR models) are loaded once for all the files
    ctx = Context.load(_load(config_path) if config_path else _standalone_config())
    failed = 0
    for path in files:
        try:
            results = _documents_of_file(path, ctx, text_only)
        except InboxOcrError as exc:
            results = [{"attachment": None, "error": str(exc)}]
        for result in results:
            failed += bool(result.get("error"))
            line = {"file": str(path), **result}
            if as_json:
                click.echo(json.dumps(line, ensure_ascii=False))
            else:
                _print_document(line)
    if failed and not as_json:
        click.echo(f"{failed} document(s) could not be read", err=True)


def _print_document(d: dict[str, Any]) -> None:
    name = d["file"] + (f" / {d['attachment']}" if d.get("attachment") else "")
    if "doc_type" not in d:
        click.echo(f"{name}: ERROR {d.get('error')}")
        return
    click.echo(f"{name}: {d['doc_type']} ({d['doc_type_confidence']:.2f}) from {d['source']}")
    for key, value in d.get("fields", {}).items():
        click.echo(f"  {key}: {value}")
    for warning in d.get("warnings", []):
        click.echo(f"  warning: {warning}")
    if d.get("error"):
        click.echo(f"  error: {d['error']}")


# --------------------------------------------------------------------------- process


@main.command()
@CONFIG_OPTION
@click.option("--dry-run", is_flag=True, help="show the decision without touching any source, ledger or webhook")
@click.option("--source", "source_name", default=None, help="pretend the message came from this source")
@click.argument("message", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def process(config_path: Path, dry_run: bool, source_name: str | None, message: Path) -> None:
    """Show which rule matches a message file, why, and which actions would run."""
    from inbox_ocr.models import RawMessage
    from inbox_ocr.pipeline import Context, process_message

    if not dry_run:
        raise click.UsageError("only --dry-run is supported: to process mail for real, put it in a source")
    config = _load(config_path)
    source = source_name or config.sources[0].name
    raw = RawMessage(source=source, key=str(message), raw=message.read_bytes())
    try:
        outcome = process_message(raw, Context.load(config))
    except InboxOcrError as exc:
        click.echo(f"{message}: would be QUARANTINED: {exc}")
        return
    msg = outcome.message
    click.echo(f"message: {msg.subject!r} from {msg.sender or '?'} ({len(msg.attachments)} attachment(s))")
    for err in msg.errors:
        click.echo(f"  part {err.part} {err.filename or ''}: ERROR {err.error}")
    for doc in outcome.documents:
        s = doc.summary()
        click.echo(f"  document {s['attachment']}: {s['doc_type']} ({s['doc_type_confidence']:.2f}), "
                   f"source {s['source']}, fields {json.dumps(s['fields'], ensure_ascii=False)}"
                   + (f", error: {s['error']}" if s.get("error") else ""))
    click.echo("rules:")
    for line in outcome.decision.explanation:
        click.echo(f"  {line}")
    decided = outcome.decision.rule or "(default)"
    click.echo(f"decision: {decided} -> {', '.join(str(a) for a in outcome.decision.actions) or 'no actions'}")


# --------------------------------------------------------------------------- ledger / outbox


def _ledger(config_path: Path):  # type: ignore[no-untyped-def]
    from inbox_ocr.ledger import Ledger

    config = _load(config_path)
    path = config.state_dir / "ledger.sqlite3"
    if not path.exists():
        raise click.ClickException(f"no ledger at {path} yet (the daemon creates it on its first run)")
    return Ledger(path)


@main.group(invoke_without_command=True)
@CONFIG_OPTION
@click.option("--status", type=click.Choice(["done", "failed", "quarantined"]), help="only messages with this status")
@click.option("--limit", default=20, show_default=True)
@click.pass_context
def ledger(ctx: click.Context, config_path: Path, status: str | None, limit: int) -> None:
    """Recent messages (and `ledger show ID` for one message's audit trail)."""
    ctx.obj = config_path
    if ctx.invoked_subcommand:
        return
    led = _ledger(config_path)
    counts = led.counts()
    click.echo("  ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "empty ledger")
    for r in led.recent(limit, status):
        acked = "acked" if r.acked_at else "NOT ACKED"
        click.echo(f"{r.id:>6}  {r.updated_at}  {r.status:<11} {acked:<9}  {r.source}:{r.key[:40]}  "
                   f"{(r.subject or '')[:50]!r}  rule={r.rule or '-'}" + (f"  error={r.error}" if r.error else ""))


@ledger.command("show")
@click.argument("row_id", type=int)
@click.pass_obj
def ledger_show(config_path: Path, row_id: int) -> None:
    """One message: outcome, documents and audit trail."""
    led = _ledger(config_path)
    r = led.message(row_id)
    if r is None:
        raise click.ClickException(f"no message {row_id} in the ledger")
    click.echo(f"message {r.id}: {r.source}:{r.key}\n  subject: {r.subject!r}\n  from: {r.sender}\n"
               f"  status: {r.status} (attempts {r.attempts}), acked: {r.acked_at or 'no'}\n"
               f"  rule: {r.rule or '(default)'}\n  actions: {r.actions}")
    if r.error:
        click.echo(f"  error: {r.error}")
    for d in r.documents:
        click.echo(f"  document {d.get('attachment')}: {d.get('doc_type')} {json.dumps(d.get('fields'))}")
    click.echo("audit trail:")
    for at, event, detail in led.audit_trail(r.id):
        click.echo(f"  {at}  {event:<16} {detail}")


@main.group()
def outbox() -> None:
    """Webhook deliveries: list them, retry dead letters."""


@outbox.command("list")
@CONFIG_OPTION
@click.option("--dead", is_flag=True, help="only dead letters")
@click.option("--limit", default=50, show_default=True)
def outbox_list(config_path: Path, dead: bool, limit: int) -> None:
    led = _ledger(config_path)
    rows = led.outbox("dead" if dead else None, limit)
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
    led = _ledger(config_path)
    if not led.requeue(delivery_id):
        raise click.ClickException(f"delivery {delivery_id} is not dead or pending (or does not exist)")
    if not now:
        click.echo(f"delivery {delivery_id} queued; the daemon delivers it on its next outbox pass")
        return
    from inbox_ocr.outbox import Outbox
    from run_daemon import build_sinks

    config = _load(config_path)
    report = Outbox(led, build_sinks(config), config.webhooks).deliver_due()
    row = led.delivery(delivery_id)
    assert row is not None
    click.echo(f"delivery {delivery_id}: {row.status} ({row.receipt or row.last_error or ''}); "
               f"{report.delivered} delivered in this pass")


@outbox.command("show")
@CONFIG_OPTION
@click.argument("delivery_id", type=int)
@click.option("--rendered", is_flag=True, help="the body as the webhook's template renders it now")
def outbox_show(config_path: Path, delivery_id: int, rendered: bool) -> None:
    """One delivery: status, last error and payload (stored, or rendered to check a template)."""
    led = _ledger(config_path)
    row = led.delivery(delivery_id)
    if row is None:
        raise click.ClickException(f"no delivery {delivery_id}")
    click.echo(f"delivery {row.id} -> {row.webhook}: {row.status}, attempts {row.attempts}, key {row.idempotency_key}"
               + (f"\n  last error: {row.last_error}" if row.last_error else "")
               + (f"\n  receipt: {row.receipt}" if row.receipt else ""))
    body = row.payload
    if rendered:
        from connectors.webhook_out import PayloadTemplate
        from inbox_ocr.errors import DeliveryRejected

        hook = _load(config_path).webhooks.get(row.webhook)
        if hook is None:
            raise click.ClickException(f"no webhook named {row.webhook!r} in the config")
        if hook.template:
            try:
                body = PayloadTemplate(row.webhook, hook.template, hook.template_vars, hook.content_type).render(body)
            except DeliveryRejected as exc:
                raise click.ClickException(str(exc)) from exc
    try:
        click.echo(json.dumps(json.loads(body), indent=2, ensure_ascii=False))
    except ValueError:
        click.echo(body.decode("utf-8", "replace"))


# --------------------------------------------------------------------------- demo / run

DEMO_MARKER = ".inbox-ocr-demo"


@main.group()
def demo() -> None:
    """The bundled demo: a Maildir of generated sample messages."""


@demo.command("seed")
@click.option("--dir", "folder", default=Path("demo"), show_default=True, type=click.Path(path_type=Path))
def demo_seed(folder: Path) -> None:
    """(Re)create DIR/Maildir with the sample messages and clear DIR's state and webhook drop folder."""
    from inbox_ocr.samples import demo_messages, write_maildir

    if folder.exists() and any(folder.iterdir()) and not (folder / DEMO_MARKER).exists():
        raise click.ClickException(f"{folder} exists and was not made by `demo seed`; refusing to touch it")
    for sub in ("Maildir", "var", "webhooks"):
        shutil.rmtree(folder / sub, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / DEMO_MARKER).write_text("made by `inbox-ocr demo seed`; safe to delete\n")
    paths = write_maildir(folder / "Maildir", demo_messages())
    click.echo(f"demo: {len(paths)} messages in {folder / 'Maildir' / 'new'}")


@main.command()
@CONFIG_OPTION
@click.option("--source", "source_name", required=True, help="name of the source to work through")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="only mail received on or after this day (YYYY-MM-DD; IMAP sources)")
def backfill(config_path: Path, source_name: str, since: Any) -> None:
    """Work through the mail already in a source, with a progress bar and a closing summary."""
    from inbox_ocr.backfill import backfill as run_backfill
    from inbox_ocr.backfill import print_summary

    config = _load(config_path)
    try:
        result = run_backfill(config, source_name, since.date() if since else None)
    except InboxOcrError as exc:
        raise click.ClickException(str(exc)) from None
    print_summary(result)
    if result.interrupted:
        sys.exit(130)


@main.command()
@CONFIG_OPTION
@click.option("--once", is_flag=True, help="one pass over every source, then exit")
def run(config_path: Path, once: bool) -> None:
    """Run the daemon (same as run_daemon.py)."""
    from run_daemon import main as daemon_main

    args = ["--config", str(config_path)] + (["--once"] if once else [])
    sys.exit(daemon_main(args))


from inbox_ocr.read.ocr.command import ocr_command  # noqa: E402  (loads ONNX Runtime only when run)

main.add_command(ocr_command)

if __name__ == "__main__":
    main()
