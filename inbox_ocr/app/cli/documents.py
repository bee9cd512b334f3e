"""`inbox-ocr extract` (documents in, type and fields out) and `inbox-ocr process --dry-run`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from inbox_ocr.app import exits
from inbox_ocr.app.cli.common import CONFIG_OPTION, JSON_OPTION, echo_json, load, standalone_config
from inbox_ocr.kernel.errors import InboxOcrError
from inbox_ocr.kernel.models import HelpdeskCall, MessageOutcome, RawMessage

if TYPE_CHECKING:
    from inbox_ocr.app.config import Config
    from inbox_ocr.orchestration.pipeline import Processor


def _documents_of_file(path: Path, processor: Processor, text_only: bool = False) -> list[dict[str, Any]]:
    """Read a PDF, image, XML or .eml file and analyze every document in it."""
    from inbox_ocr.app.api import documents_of

    documents, errors = documents_of(path.read_bytes(), path.name, processor, text_only)
    return [d.summary() for d in documents] + [{"attachment": e.filename, "part": e.part, "error": e.error}
                                               for e in errors]


NO_SANDBOX_OPTION = click.option(
    "--no-sandbox", is_flag=True,
    help="read in this process, without the time and memory limits of limits.document_seconds and "
         "document_memory (faster for files you trust; the daemon always uses them)",
)


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="one JSON line per document")
@click.option("--config", "-c", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="use this config's OCR, limits and templates")
@click.option("--text-only", is_flag=True, help="ignore embedded e-invoice XML: read PDFs by their text layer only")
@NO_SANDBOX_OPTION
def extract(
    files: tuple[Path, ...], as_json: bool, config_path: Path | None, text_only: bool, no_sandbox: bool
) -> None:
    """Classify documents and extract invoice fields from PDF, image, XML or .eml files. Files are
    read in a worker process under the daemon's time and memory limits (see --no-sandbox)."""
    from inbox_ocr.app.wiring import build_processor, build_reader

    config = load(config_path) if config_path else standalone_config()
    # templates (and, on first use, the OCR models) are loaded once for all the files
    reader = build_reader(config, isolated=False if no_sandbox else None)  # None: limits.isolate_documents
    processor = build_processor(config, reader)
    failed = 0
    show = not as_json and sys.stderr.isatty()  # "[2/40] file.pdf ..." while a file is read (OCR takes a while)
    try:
        for number, path in enumerate(files, 1):
            if show:
                click.echo(f"\r[{number}/{len(files)}] {path} ...", err=True, nl=False)
            try:
                results = _documents_of_file(path, processor, text_only)
            except InboxOcrError as exc:
                results = [{"attachment": None, "error": str(exc)}]
            if show:
                click.echo("\r\033[K", err=True, nl=False)
            for result in results:
                failed += bool(result.get("error"))
                line = {"file": str(path), **result}
                if as_json:
                    click.echo(json.dumps(line, ensure_ascii=False))
                else:
                    _print_document(line)
    finally:
        reader.close()
    if failed:
        if not as_json:
            click.echo(f"{failed} document(s) could not be read", err=True)
        sys.exit(exits.ITEMS)


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


@click.command()
@CONFIG_OPTION
@click.option("--dry-run", is_flag=True, help="show the decision without touching any source, ledger or webhook")
@click.option("--source", "source_name", default=None, help="pretend the message came from this source")
@click.argument("message", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@NO_SANDBOX_OPTION
@JSON_OPTION
def process(config_path: Path, dry_run: bool, source_name: str | None, message: Path, no_sandbox: bool,
            as_json: bool) -> None:
    """Show which rule matches a message file, why, and which actions would run."""
    from inbox_ocr.app.wiring import build_processor, build_reader
    from inbox_ocr.orchestration.pipeline import process_message

    if not dry_run:
        raise click.UsageError("only --dry-run is supported: to process mail for real, put it in a source")
    config = load(config_path)
    source = source_name or config.sources[0].name
    raw = RawMessage(source=source, key=str(message), raw=message.read_bytes())
    reader = build_reader(config, isolated=False if no_sandbox else None)  # None: limits.isolate_documents
    try:
        outcome = process_message(raw, build_processor(config, reader))
    except InboxOcrError as exc:
        if as_json:
            echo_json({"message": str(message), "quarantined": True, "error": str(exc)})
        else:
            click.echo(f"{message}: would be QUARANTINED: {exc}")
        sys.exit(exits.ITEMS)
    finally:
        reader.close()
    msg = outcome.message
    if as_json:
        echo_json({"message": {"file": str(message), "subject": msg.subject, "sender": msg.sender,
                               "attachments": len(msg.attachments), "part_errors": msg.errors,
                               "skipped": outcome.skipped},
                   "quarantined": False, "documents": [doc.summary() for doc in outcome.documents],
                   "rules": outcome.decision.explanation, "rule": outcome.decision.rule,
                   "actions": outcome.decision.actions,
                   "api_calls": [c.describe() for c in _api_calls(config, source, raw, outcome)[0]]})
        return
    click.echo(f"message: {msg.subject!r} from {msg.sender or '?'} ({len(msg.attachments)} attachment(s))")
    for err in msg.errors:
        click.echo(f"  part {err.part} {err.filename or ''}: ERROR {err.error}")
    for part in outcome.skipped:
        click.echo(f"  part {part.part} {part.filename or ''}: {part.error}")
    for doc in outcome.documents:
        s = doc.summary()
        click.echo(f"  document {s['attachment']}: {s['doc_type']} ({s['doc_type_confidence']:.2f}), "
                   f"source {s['source']}, fields {json.dumps(s['fields'], ensure_ascii=False)}"
                   + (f", error: {s['error']}" if s.get("error") else ""))
    click.echo("rules:")
    for line in outcome.decision.explanation:
        click.echo(f"  {line}")
    decided = outcome.decision.rule or "(default)"
    click.echo(f"decision: {decided} -> {', '.join(outcome.decision.actions) or 'no actions'}")
    calls, skipped, provider = _api_calls(config, source, raw, outcome)
    if provider is not None:
        click.echo(f"{provider} API calls (source {source}):" if calls or skipped else
                   f"{provider} API calls (source {source}): none")
        for call in calls:
            click.echo(f"  {call.describe()}")
        for op in skipped:
            click.echo(f"  {op}: not made ({provider}'s API has no {op})")


def _api_calls(config: Config, source: str, raw: RawMessage,
               outcome: MessageOutcome) -> tuple[list[HelpdeskCall], list[str], str | None]:
    """The helpdesk API calls the decision would make on a helpdesk source (calls, operations the
    helpdesk has no API for, provider); nothing on other sources."""
    from connectors.webhook_in import WebhookSourceConfig

    source_config = next((s for s in config.sources if s.name == source), None)
    if not isinstance(source_config, WebhookSourceConfig) or not source_config.acts_in_helpdesk:
        return [], [], None
    from connectors.helpdesk.source import calls_for, conversation_of

    conversation = conversation_of(raw) or "<conversation>"
    calls, skipped = calls_for(source_config.provider, conversation, outcome.decision.mailbox)
    return calls, skipped, source_config.provider
