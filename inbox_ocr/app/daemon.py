"""The daemon: passes over every source, the outbox, and the scheduler that repeats them.

    inbox-ocr run -c config/demo.yaml --once     # one pass over every source, then exit
    inbox-ocr run -c /etc/inbox-ocr/config.yaml  # run until SIGTERM (run_daemon.py is the same)

Poll-mode sources run as APScheduler interval jobs; sources in IDLE mode (those that implement
`WaitsForMail` and have `mode: idle`) run in a loop of their own. SIGTERM and Ctrl-C let the
message in hand finish, then the daemon exits cleanly. SIGHUP reads the config file again: a
config that does not load is refused (logged) and the running daemon keeps its own; a good one
replaces the daemon's parts once the message in hand is finished. Under systemd the daemon reports
READY, RELOADING, STOPPING and watchdog pings (kernel/systemd.py).
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime

from inbox_ocr.app import exits
from inbox_ocr.app.config import Config
from inbox_ocr.app.http import HttpServer
from inbox_ocr.app.statelock import StateLocked
from inbox_ocr.app.wiring import SourceFactory, Wiring
from inbox_ocr.kernel import heap, metrics, systemd
from inbox_ocr.kernel.errors import ConfigError, InboxOcrError, SourceUnavailable, TransientError
from inbox_ocr.kernel.metrics import LEDGER_ERRORS, READINESS
from inbox_ocr.kernel.models import HandlingResult
from inbox_ocr.kernel.ports import CountsPending, Source, WaitsForMail
from inbox_ocr.orchestration.outbox import DeliveryReport
from inbox_ocr.orchestration.runner import MessageReport

log = logging.getLogger("inbox_ocr.daemon")

OUTBOX_EVERY = 5.0  # seconds between outbox passes while running
SETTLE_EVERY = 2.0  # with the work queue: how soon what workers committed is acknowledged


class Daemon:
    def __init__(self, config: Config, factories: dict[str, SourceFactory] | None = None) -> None:
        if not config.sources:
            raise ConfigError("<config>", ["sources: none configured (a config without sources is only for "
                                           "`inbox-ocr serve`)"])
        self.config = config
        self.stop = threading.Event()
        self.wiring = Wiring(config, factories=factories, exclusive="run")
        self.ledger = self.wiring.ledger
        self.outbox = self.wiring.outbox
        self.sources = self.wiring.sources
        self.runner = self.wiring.runner(self.stop)
        self.ledger_error: str | None = None
        self.source_errors: dict[str, str] = {}  # sources that could not be reached in the last pass
        self._draining = {s.name: threading.Lock() for s in self.sources}  # one pass per source at a time
        self.reload_config: Callable[[], Config] | None = None  # reads the config file again (SIGHUP)
        self.next_config: Config | None = None  # set when a reload was accepted: run_forever returns
        self._reload_asked = threading.Event()

    @property
    def http_server(self) -> HttpServer | None:
        return self.wiring.http_server

    # ------------------------------------------------------------------ one pass

    def drain(self, source: Source) -> list[MessageReport]:
        """Pass over a source batch after batch while full batches come back and make progress;
        what is left (a failed message, an ack that did not go through) waits for the next pass."""
        reports: list[MessageReport] = []
        lock = self._draining.get(source.name) or threading.Lock()
        if not lock.acquire(blocking=False):  # a pass over this source is under way: it does the work
            return reports
        try:
            return self._drain(source, reports)
        finally:
            lock.release()

    def _drain(self, source: Source, reports: list[MessageReport]) -> list[MessageReport]:
        size = self.config.source(source.name).batch_size
        if not self._still_the_daemon():
            return reports
        while not self.stop.is_set():
            try:
                batch = self.runner.run_source(source, limit=size)
            except SourceUnavailable as exc:
                log.warning("event=source_unavailable source=%s error=%s", source.name, exc)
                READINESS.source_failed(source.name, str(exc))
                self.source_errors[source.name] = str(exc)
                break
            except TransientError as exc:  # the ledger cannot be written (disk full, I/O error)
                self._ledger_failed(exc)
                break
            READINESS.source_ok(source.name)
            self.source_errors.pop(source.name, None)
            self.ledger_error = READINESS.ledger_error = None
            reports.extend(batch)
            if len(batch) < size or not any(r.acked for r in batch):
                break
        if isinstance(source, CountsPending) and source.name not in self.source_errors:
            try:
                metrics.BACKLOG.labels(source.name).set(source.pending_count())
            except (InboxOcrError, OSError) as exc:  # the next pass tells whether the source is gone
                log.debug("event=backlog_unknown source=%s error=%s", source.name, exc)
        return reports

    def _still_the_daemon(self) -> bool:
        """On a shared ledger: whether this daemon still holds its lock (app/statelock.py). One that
        lost it to another daemon (while the database restarted) stops; an unreachable database
        skips the pass."""
        lock = self.wiring.ledger_lock
        if lock is None:
            return True
        try:
            lock.check()
        except StateLocked as exc:
            log.error("event=ledger_lock_lost error=%s action=stopping", exc)
            self.stop.set()
            return False
        except TransientError as exc:
            self._ledger_failed(exc)
            return False
        return True

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
            if getattr(cfg, "mode", "poll") == "idle" and isinstance(source, WaitsForMail):
                t = threading.Thread(target=self._idle_loop, args=(source, cfg.poll_every), name=f"idle-{source.name}")
                threads.append(t)
            else:
                scheduler.add_job(self.drain, "interval", args=[source], seconds=cfg.poll_every,
                                  id=f"source-{source.name}", next_run_time=_now())
        scheduler.add_job(self._deliver, "interval", seconds=OUTBOX_EVERY, id="outbox", next_run_time=_now())
        if self.wiring.dispatcher is not None:  # the work queue: acknowledge what workers committed, soon
            idle = {t.name.removeprefix("idle-") for t in threads}
            scheduler.add_job(self._settle, "interval", args=[[s for s in self.sources if s.name not in idle]],
                              seconds=SETTLE_EVERY, id="settle")
            scheduler.add_job(self._queue_upkeep, "interval", seconds=max(min(self.config.queue.resend_after / 4,
                                                                                 60.0), 5.0), id="queue",
                              next_run_time=_now())

        def poll_now() -> None:  # a reviewer decided: acknowledge the message and send its webhooks soon
            for job in scheduler.get_jobs():
                if job.id.startswith("source-") or job.id == "outbox":
                    job.modify(next_run_time=_now())
        self.wiring.on_review = poll_now
        if (every := systemd.watchdog_interval()) is not None:
            scheduler.add_job(systemd.notify, "interval", args=["WATCHDOG=1"], seconds=every, id="watchdog")
        # it answers webhook providers after spooling; the jobs above process what was spooled
        self.wiring.start_http()
        scheduler.start()
        READINESS.started = True
        for t in threads:
            t.start()
        http = self.wiring.http_server
        log.info("event=started sources=%s rules=%d http=%s", ",".join(s.name for s in self.sources),
                 len(self.config.rules), http.url if http is not None else "off")
        systemd.notify("READY=1", f"STATUS=watching {len(self.sources)} source(s)")
        while not self.stop.wait(0.5):
            if self._reload_asked.is_set() and self._reload():
                break
        if self.next_config is None:
            systemd.notify("STOPPING=1")
        log.info("event=stopping reason=%s", "reload" if self.next_config is not None else "signal")
        if self.wiring.http_server is not None:
            self.wiring.http_server.stop()
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

    def _settle(self, sources: list[Source]) -> None:
        """With the work queue: a pass over each polled source whose workers committed messages that
        are not acknowledged yet (the pass acknowledges them)."""
        for source in sources:
            try:
                waiting = self.ledger.messages.unacked(source.name)
            except TransientError as exc:
                self._ledger_failed(exc)
                return
            if waiting:
                self.drain(source)

    def _queue_upkeep(self) -> None:
        """With the work queue: send again the keys the broker lost; the queue's depth and workers
        for /metrics."""
        assert self.wiring.dispatcher is not None
        try:
            self.runner.resend_stale(self.config.queue.resend_after)
            stored, oldest = self.ledger.queue.depth()
        except TransientError as exc:
            self._ledger_failed(exc)
            return
        except Exception as exc:  # the broker is away: the messages wait in the ledger
            log.warning("event=queue_upkeep_failed error=%r", exc)
            return
        metrics.QUEUE_STORED.set(stored)
        metrics.QUEUE_OLDEST.set(max(time.time() - oldest, 0.0) if oldest is not None else 0.0)
        depth = self.wiring.dispatcher.depth()
        if depth is not None:
            metrics.QUEUE_DEPTH.set(depth)
        workers = self.wiring.dispatcher.workers()
        metrics.WORKERS.set(len(workers))
        for name, stats in workers.items():
            done = sum((stats.get("total") or {}).values())
            metrics.WORKER_TASKS.labels(name).set(done)

    def _idle_loop(self, source: Source, poll_every: float) -> None:
        assert isinstance(source, WaitsForMail)
        backoff = 1.0
        while not self.stop.is_set():
            self.drain(source)
            wait = min(poll_every, 60.0)
            if self.wiring.dispatcher is not None and self._waiting_for_workers(source):
                wait = SETTLE_EVERY  # workers are on messages of this source: acknowledge them soon
            try:
                source.wait_for_mail(wait, stop=self.stop)
                backoff = 1.0
            except SourceUnavailable as exc:
                log.warning("event=idle_failed source=%s error=%s retry_in=%.0fs", source.name, exc, backoff)
                self.stop.wait(backoff)
                backoff = min(backoff * 2, 60.0)

    def _waiting_for_workers(self, source: Source) -> bool:
        try:
            return bool(self.ledger.queue.keys(source.name) or self.ledger.messages.unacked(source.name))
        except TransientError:
            return False

    def request_stop(self, *_: object) -> None:
        self.stop.set()

    def request_reload(self, *_: object) -> None:
        self._reload_asked.set()

    def _reload(self) -> bool:
        """Read the config file again; True when it loaded (the daemon then stops, and `run` starts
        one on the new config). A config that does not load changes nothing."""
        self._reload_asked.clear()
        if self.reload_config is None:
            return False
        try:
            self.next_config = self.reload_config()
        except InboxOcrError as exc:
            log.error("event=reload_refused error=%s (the running config is kept)", exc)
            return False
        systemd.reloading()
        log.info("event=reloading")
        self.stop.set()  # the IDLE loops and the runner end after the message in hand, as on SIGTERM
        return True

    def close(self) -> None:
        self.wiring.close()


def _now() -> datetime:
    return datetime.now().astimezone()


def print_message(r: MessageReport) -> None:
    """One message's outcome, in a form a person reads at a glance."""
    actions = ", ".join(r.actions) or "no actions"
    print(f"- [{r.status}] {r.subject or '(no subject)'!r} from {r.source}")
    print(f"    rule: {r.rule or '(default)'} -> {actions}")
    for line in r.documents:
        print(f"    document {line}")
    if r.error:
        print(f"    ! {r.error}")


def print_totals(reports: list[MessageReport], delivery: DeliveryReport, each: bool = False) -> None:
    """How many messages (and, with `each`, what happened to each), then the webhooks."""
    print(f"{len(reports)} message(s) handled")
    for r in reports if each else ():
        print_message(r)
    print(f"webhooks: {delivery.delivered} delivered, {delivery.retrying} to retry, {delivery.dead} dead")
    for line in delivery.receipts + delivery.errors:
        print(f"    {line}")


def print_summary(reports: list[MessageReport], delivery: DeliveryReport) -> None:
    """What happened to each message, then the webhooks (output that is not a terminal)."""
    print_totals(reports, delivery, each=True)


Summary = Callable[[list[MessageReport], DeliveryReport], None]


def run(config: Config, once: bool, reload_config: Callable[[], Config] | None = None,
        summary: Summary = print_summary, on_message: Callable[[MessageReport], None] | None = None,
        standby: bool = False) -> int:
    """The daemon's life: start, one pass or run until a signal, stop. Returns the exit status.
    `reload_config` reads the config file again on SIGHUP; with `once`, `on_message` hears of each
    message as it is handled and `summary` of the whole pass. With `standby`, a daemon whose state
    or ledger another one holds waits and takes over when it is free."""
    try:
        daemon = _start(config, standby and not once)
        if daemon is None:
            return exits.OK  # stopped while standing by
    except ConfigError as exc:
        print(f"cannot start: {exc}", file=sys.stderr)
        return exits.CONFIG
    except InboxOcrError as exc:
        print(f"cannot start: {exc}", file=sys.stderr)
        return exits.UNAVAILABLE
    _signals(daemon, reload_config)
    from inbox_ocr import __version__
    from inbox_ocr.understand.scorer import get_scorer

    metrics.set_build_info(__version__)
    get_scorer()  # the field models load now, not with the first message
    heap.settle()  # a process of its own: what start-up made is kept out of the collector's way
    if once:
        started = time.monotonic()
        daemon.runner.on_report = on_message
        reports, delivery = daemon.run_once()
        summary(reports, delivery)
        log.info("event=pass_done messages=%d seconds=%.2f", len(reports), time.monotonic() - started)
        daemon.close()
        if daemon.ledger_error:
            print(f"error: the ledger in {config.state_dir} cannot be written: {daemon.ledger_error}", file=sys.stderr)
            return exits.UNAVAILABLE
        for name, error in daemon.source_errors.items():
            print(f"error: source {name} is unavailable: {error}", file=sys.stderr)
        if daemon.source_errors:
            return exits.UNAVAILABLE
        failed = [r for r in reports if r.status in (HandlingResult.FAILED, HandlingResult.QUARANTINED)]
        return exits.ITEMS if failed or delivery.dead else exits.OK
    while True:
        daemon.run_forever()
        if daemon.next_config is None:
            return exits.OK
        old, new = daemon.config, daemon.next_config
        try:
            daemon = Daemon(new)
        except InboxOcrError as exc:  # e.g. templates that do not load: back to the running config
            log.error("event=reload_failed error=%s (the previous config is started again)", exc)
            daemon = Daemon(old)
        _signals(daemon, reload_config)
        log.info("event=reloaded sources=%s", ",".join(s.name for s in daemon.sources))


STANDBY_RETRY = 5.0  # seconds between a standby daemon's attempts to take the lock


def _start(config: Config, standby: bool) -> Daemon | None:
    """A started Daemon; standing by (a lock held by another daemon), the wait for it, or None
    when a signal stops the wait."""
    stop = threading.Event()
    waited = False
    while True:
        try:
            daemon = Daemon(config)
        except StateLocked as exc:
            if not standby:
                raise
            if not waited:
                for sig in (signal.SIGTERM, signal.SIGINT):
                    signal.signal(sig, lambda *_: stop.set())
                log.warning("event=standby reason=%s action=taking over when it is free", exc)
                systemd.notify("READY=1", "STATUS=standing by")
                waited = True
            if stop.wait(STANDBY_RETRY):
                return None
            continue
        if waited:
            log.warning("event=took_over state_dir=%s", config.state_dir)
        return daemon


def _signals(daemon: Daemon, reload_config: Callable[[], Config] | None) -> None:
    signal.signal(signal.SIGTERM, daemon.request_stop)
    signal.signal(signal.SIGINT, daemon.request_stop)
    if reload_config is not None:
        daemon.reload_config = reload_config
        signal.signal(signal.SIGHUP, daemon.request_reload)
