"""The one place where config becomes objects and the scheduler starts.

    python run_daemon.py --config config/demo.yaml --once     # one pass over every source, then exit
    python run_daemon.py --config /etc/inbox-ocr/config.yaml  # run until SIGTERM

Poll-mode sources run as APScheduler interval jobs; sources in IDLE mode (those with a
`wait_for_mail` method and `mode: idle`) run in a loop of their own. SIGTERM and Ctrl-C let the
message in hand finish, then the daemon exits cleanly.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from connectors.base import Sink, Source, SourceState
from inbox_ocr import logs
from inbox_ocr.errors import ConfigError, InboxOcrError, SourceUnavailable, TransientError
from inbox_ocr.ledger import Ledger
from inbox_ocr.metrics import LEDGER_ERRORS, READINESS
from inbox_ocr.outbox import DeliveryReport, Outbox
from inbox_ocr.pipeline import Context, MessageReport, Pipeline
from inbox_ocr.settings import Config, load_config, secret_values

log = logging.getLogger("inbox_ocr.daemon")

OUTBOX_EVERY = 5.0  # seconds between outbox passes while running


def build_source(config: Any, state: SourceState) -> Source:
    """Source factory by `type`; connectors are imported only when configured."""
    if config.type == "maildir":
        from connectors.maildir import MaildirSource

        return MaildirSource(config, state)
    if config.type == "imap":
        from connectors.imap import ImapSource

        return ImapSource(config, state)
    if config.type == "webhook":
        from connectors.webhook_in import WebhookSource

        # the spool lives in state_dir, next to the ledger
        return WebhookSource(config, state, Path(getattr(state, "path", "var/ledger.sqlite3")).parent)
    raise ConfigError("<config>", [f"sources: type {config.type!r} is not supported by this build"])


def build_sinks(config: Config) -> dict[str, Sink]:
    from connectors.webhook_out import make_sink

    return {name: make_sink(name, cfg) for name, cfg in config.webhooks.items()}


class Daemon:
    def __init__(self, config: Config, source_factory: Callable[[Any, SourceState], Source] = build_source) -> None:
        self.config = config
        self.stop = threading.Event()
        config.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        # the ledger holds mail metadata and webhook payloads: only the daemon's user may read it
        # (mkdir's mode is filtered by the umask and ignored for an existing directory)
        os.chmod(config.state_dir, 0o700)
        self.ledger = Ledger(config.state_dir / "ledger.sqlite3")
        self.reader: Any = None
        if config.limits.isolate_documents:
            from inbox_ocr.read.sandbox import DocumentReader

            self.reader = DocumentReader(config.limits, (config.log.level, config.log.format, secret_values(config)))
        self.pipeline = Pipeline(Context.load(config, self.reader), self.ledger, self.stop)
        self.ledger_error: str | None = None
        READINESS.counts = self.ledger.counts
        self.outbox = Outbox(self.ledger, build_sinks(config), config.webhooks)
        self.sources = [source_factory(s, self.ledger) for s in config.sources if s.enabled]
        self.http_server: Any = None

    # ------------------------------------------------------------------ one pass

    def drain(self, source: Source) -> list[MessageReport]:
        """Pass over a source batch after batch while full batches come back and make progress;
        what is left (a failed message, an ack that did not go through) waits for the next pass."""
        reports: list[MessageReport] = []
        size = self.config.source(source.name).batch_size
        while not self.stop.is_set():
            try:
                batch = self.pipeline.run_source(source)
            except SourceUnavailable as exc:
                log.warning("event=source_unavailable source=%s error=%s", source.name, exc)
                READINESS.source_failed(source.name, str(exc))
                break
            except TransientError as exc:  # the ledger cannot be written (disk full, I/O error)
                self._ledger_failed(exc)
                break
            READINESS.source_ok(source.name)
            self.ledger_error = READINESS.ledger_error = None
            reports.extend(batch)
            if len(batch) < size or not any(r.acked for r in batch):
                break
        return reports

    def _ledger_failed(self, exc: Exception) -> None:
        """Stop the pass: nothing is acknowledged without its ledger row, so the mail waits, untouched."""
        self.ledger_error = READINESS.ledger_error = str(exc)
        LEDGER_ERRORS.inc()
        log.error("event=ledger_unavailable state_dir=%s error=%s action=pass stopped; messages stay in their "
                  "source until the ledger can be written", self.config.state_dir, exc)

    def run_once(self) -> tuple[list[MessageReport], DeliveryReport]:
        reports: list[MessageReport] = []
        for source in self.sources:
            reports.extend(self.drain(source))
        try:
            return reports, self.outbox.deliver_due()
        except TransientError as exc:
            self._ledger_failed(exc)
            return reports, DeliveryReport(errors=[str(exc)])

    # ------------------------------------------------------------------ forever

    def run_forever(self) -> None:
        from apscheduler.schedulers.background import BackgroundScheduler

        scheduler = BackgroundScheduler(job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30})
        threads: list[threading.Thread] = []
        for source in self.sources:
            cfg = self.config.source(source.name)
            if getattr(cfg, "mode", "poll") == "idle" and hasattr(source, "wait_for_mail"):
                t = threading.Thread(target=self._idle_loop, args=(source, cfg.poll_every), name=f"idle-{source.name}")
                threads.append(t)
            else:
                scheduler.add_job(self.drain, "interval", args=[source], seconds=cfg.poll_every,
                                  id=f"source-{source.name}", next_run_time=_now())
        scheduler.add_job(self._deliver, "interval", seconds=OUTBOX_EVERY, id="outbox", next_run_time=_now())
        from connectors.webhook_in import start_server

        # only when webhook sources are configured; it answers providers after spooling, the jobs process
        http = self.http_server = start_server(self.config)
        scheduler.start()
        READINESS.started = True
        for t in threads:
            t.start()
        log.info("event=started sources=%s", ",".join(s.name for s in self.sources))
        self.stop.wait()
        log.info("event=stopping")
        if http is not None:
            http.stop()
        scheduler.shutdown(wait=True)
        for t in threads:
            t.join()
        self.close()
        log.info("event=stopped")

    def _deliver(self) -> None:
        try:
            self.outbox.deliver_due()
        except TransientError as exc:
            self._ledger_failed(exc)
        except InboxOcrError as exc:
            log.warning("event=outbox_failed error=%s", exc)

    def _idle_loop(self, source: Source, poll_every: float) -> None:
        backoff = 1.0
        while not self.stop.is_set():
            self.drain(source)
            try:
                source.wait_for_mail(min(poll_every, 60.0), stop=self.stop)  # type: ignore[attr-defined]
                backoff = 1.0
            except SourceUnavailable as exc:
                log.warning("event=idle_failed source=%s error=%s retry_in=%.0fs", source.name, exc, backoff)
                self.stop.wait(backoff)
                backoff = min(backoff * 2, 60.0)

    def request_stop(self, *_: object) -> None:
        self.stop.set()

    def close(self) -> None:
        for source in self.sources:
            try:
                source.close()
            except Exception as exc:  # closing must never hide the real exit reason
                log.warning("event=close_failed source=%s error=%r", source.name, exc)
        if self.reader is not None:
            self.reader.close()
        READINESS.started = False
        self.ledger.close()


def _now() -> Any:
    from datetime import datetime

    return datetime.now().astimezone()


def print_summary(reports: list[MessageReport], delivery: DeliveryReport) -> None:
    """What happened to each message, in a form a person reads at a glance."""
    print(f"{len(reports)} message(s) handled")
    for r in reports:
        actions = ", ".join(r.actions) or "no actions"
        print(f"- [{r.status}] {r.subject or '(no subject)'!r} from {r.source}")
        print(f"    rule: {r.rule or '(default)'} -> {actions}")
        for line in r.documents:
            print(f"    document {line}")
        if r.error:
            print(f"    ! {r.error}")
    print(f"webhooks: {delivery.delivered} delivered, {delivery.retrying} to retry, {delivery.dead} dead")
    for line in delivery.receipts + delivery.errors:
        print(f"    {line}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="inbox-ocr daemon")
    parser.add_argument("--config", required=True, type=Path, help="YAML config file")
    parser.add_argument("--once", action="store_true", help="one pass over every source, then exit")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    logs.setup(config.log.level, config.log.format, secret_values(config))
    try:
        daemon = Daemon(config)
    except InboxOcrError as exc:
        print(f"cannot start: {exc}", file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, daemon.request_stop)
    signal.signal(signal.SIGINT, daemon.request_stop)
    if args.once:
        started = time.monotonic()
        reports, delivery = daemon.run_once()
        print_summary(reports, delivery)
        log.info("event=pass_done messages=%d seconds=%.2f", len(reports), time.monotonic() - started)
        daemon.close()
        if daemon.ledger_error:
            print(f"error: the ledger in {config.state_dir} cannot be written: {daemon.ledger_error}", file=sys.stderr)
            return 1
        return 0
    daemon.run_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
