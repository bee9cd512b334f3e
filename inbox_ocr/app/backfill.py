"""`inbox-ocr backfill`: work through the mail already in a source, with a progress bar and a summary.

One pass over what the source reports as unhandled when the backfill starts (oldest first),
through the same pipeline, ledger and acknowledgements as the daemon; webhooks due afterwards are
delivered at the end. Running it again continues where it stopped: handled mail is in the ledger.
Mail arriving meanwhile is left to the daemon (or the next backfill).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from inbox_ocr.app.config import Config, SourceConfig
from inbox_ocr.app.wiring import Wiring
from inbox_ocr.kernel.errors import ConfigError
from inbox_ocr.kernel.ports import CountsPending, FiltersByDate
from inbox_ocr.orchestration.outbox import DeliveryReport


@dataclass
class BackfillResult:
    source: str
    statuses: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    interrupted: bool = False
    delivery: DeliveryReport | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return sum(self.statuses.values())


def backfill(
    config: Config, source_name: str, since: date | None = None, console: Console | None = None
) -> BackfillResult:
    """Process every unhandled message of one source; raises SourceUnavailable if it cannot be reached."""
    console = console or Console(stderr=True)
    source_config = _source_config(config, source_name)
    # only the one source, read under the same per-document time and memory limits as the daemon
    wiring = Wiring(config.model_copy(update={"sources": [source_config.model_copy(update={"enabled": True})]}),
                    exclusive="backfill")
    result = BackfillResult(source=source_name)
    try:
        source = wiring.source(source_name)
        if since is not None:
            if not isinstance(source, FiltersByDate):
                raise ConfigError("<config>", [f"--since is not supported for {source_config.type} sources"])
            source.set_since(since)
        runner = wiring.runner()
        total = source.pending_count() if isinstance(source, CountsPending) else None
        started = time.monotonic()
        columns = (
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]:.1f} msg/s"),
            TimeRemainingColumn(),
        )
        with Progress(*columns, console=console, transient=False) as progress:
            task = progress.add_task(f"backfill {source_name}", total=total, rate=0.0)
            try:
                for raw in source.fetch():
                    report = runner.handle(source, raw)
                    result.statuses[report.status] += 1
                    if report.error and len(result.errors) < 20:
                        result.errors.append(f"{report.key}: {report.error}")
                    elapsed = time.monotonic() - started
                    progress.update(task, advance=1, rate=result.handled / elapsed if elapsed else 0.0)
            except KeyboardInterrupt:
                result.interrupted = True
        result.seconds = time.monotonic() - started
        result.delivery = wiring.outbox.deliver_due(limit=10_000)
    finally:
        wiring.close()
    return result


def _source_config(config: Config, name: str) -> SourceConfig:
    try:
        return config.source(name)
    except KeyError:
        raise ConfigError(
            "<config>", [f"no source named {name!r} (configured: {', '.join(s.name for s in config.sources)})"]
        ) from None


def print_summary(result: BackfillResult, console: Console | None = None) -> None:
    console = console or Console()
    table = Table(
        title=f"backfill of {result.source}"
        + (" (interrupted: run again to continue)" if result.interrupted else "")
    )
    table.add_column("outcome")
    table.add_column("messages", justify="right")
    for status, count in sorted(result.statuses.items()):
        table.add_row(status, str(count))
    table.add_row("[bold]total", f"[bold]{result.handled}")
    console.print(table)
    rate = result.handled / result.seconds if result.seconds else 0.0
    console.print(f"{result.handled} messages in {result.seconds:.1f} s ({rate:.1f}/s)")
    if result.delivery is not None:
        d = result.delivery
        console.print(f"webhooks: {d.delivered} delivered, {d.retrying} to retry, {d.dead} dead")
    for line in result.errors:
        console.print(f"  ! {line}")
