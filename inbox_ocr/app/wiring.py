"""The one place where the config becomes objects. Every entry point (the daemon, backfill, the CLI
commands) builds what it needs here, so there is one answer to "where is X created".

    open_ledger(config)             the state directory (0700) and its ledger
    build_reader(config, isolated)  the Reader: in a killable worker process, or in this process
    build_processor(config, reader) limits + reader + vendor templates + the rules' Router
    build_sinks(config)             one Sink per configured webhook and per helpdesk source
    Wiring(config)                  all of it for a running daemon: ledger, sources, runner, outbox,
                                    the webhook spools, the HTTP server
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import Any

from connectors.helpdesk import HelpdeskSink, HelpdeskSource, helpdesk_for
from connectors.helpdesk.source import sink_name as helpdesk_sink_name
from connectors.imap import ImapSource, ImapSourceConfig
from connectors.maildir import MaildirSource, MaildirSourceConfig
from connectors.webhook_in import Endpoint, Spool, WebhookSource, WebhookSourceConfig, spool_dir
from connectors.webhook_out import Breakers, make_sink
from inbox_ocr.app.config import Config, SourceConfig, secret_values
from inbox_ocr.app.http import HttpServer, build_app
from inbox_ocr.app.queue import Dispatcher
from inbox_ocr.app.rest import Api
from inbox_ocr.app.statelock import LedgerLock, StateLock
from inbox_ocr.kernel.errors import ConfigError
from inbox_ocr.kernel.metrics import READINESS
from inbox_ocr.kernel.ports import InvoiceHistory, Reader, Sink, Source
from inbox_ocr.kernel.settings import DeliveryPolicy
from inbox_ocr.orchestration.ledger import Ledger, ledger_path
from inbox_ocr.orchestration.outbox import Outbox
from inbox_ocr.orchestration.pipeline import Processor
from inbox_ocr.orchestration.runner import Runner
from inbox_ocr.read import InProcessReader
from inbox_ocr.understand import load_templates
from routing import RuleRouter

log = logging.getLogger("inbox_ocr.app")


def ledger_location(config: Config) -> str:
    """The ledger's URL (`ledger.url`) or its SQLite file in state_dir."""
    return config.ledger.url or str(ledger_path(config.state_dir))


def open_ledger(config: Config) -> Ledger:
    """The ledger: on PostgreSQL when `ledger.url` says so, else in `state_dir`, which is created
    (and kept) private: it holds mail metadata and webhook payloads, so only the daemon's user may
    read it. A folder that already holds other things and no ledger is someone else's
    (`state_dir: /var`): refused, never chmodded."""
    state = config.state_dir
    if not config.ledger.url and state.is_dir() and not ledger_path(state).exists() and any(state.iterdir()):
        raise ConfigError("<config>", [f"state_dir: {state} already holds other files and no ledger; give "
                                       "inbox-ocr a directory of its own (it makes it private, mode 0700)"])
    state.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(state, 0o700)  # mkdir's mode is filtered by the umask and ignored when it exists
    return Ledger(ledger_location(config))


def build_reader(config: Config, isolated: bool | None = None) -> Reader:
    """Documents are read in a worker process under `limits.document_seconds` and `document_memory`
    (the daemon and backfill; `isolated=None` follows `limits.isolate_documents`), or in this
    process (CLI commands that read files given on the command line)."""
    if isolated if isolated is not None else config.limits.isolate_documents:
        from inbox_ocr.read.sandbox import SandboxedReader

        log_setup = (config.log.level, config.log.format, secret_values(config))
        return SandboxedReader(config.limits, config.ocr, log_setup)
    return InProcessReader(config.ocr, config.limits.max_pdf_pages, config.limits.max_document_words)


def build_processor(config: Config, reader: Reader | None = None, history: InvoiceHistory | None = None) -> Processor:
    """What `process_message` needs; loads the vendor templates (a broken one is a ConfigError).
    `history`: the ledger's invoices, for duplicate detection (without it none is marked)."""
    return Processor(
        limits=config.limits,
        reader=reader or build_reader(config, isolated=False),
        templates=load_templates(config.understanding.templates_dir),
        router=RuleRouter(config.rules, config.default),
        history=history,
        filters={s.name: s.attachments for s in config.sources},
    )


def include_documents(config: Config) -> dict[str, int]:
    """The webhooks whose payloads carry the documents' files, with the largest file each takes."""
    return {name: hook.include_document_max_bytes for name, hook in config.webhooks.items()
            if hook.include_document or hook.paperless is not None}  # paperless takes the file itself


def build_sinks(config: Config, breakers: Breakers | None = None) -> dict[str, Sink]:
    """One sink per webhook, and one per helpdesk source whose actions are made in the helpdesk."""
    breakers = breakers or Breakers()  # one circuit breaker per target host, shared by its webhooks
    sinks: dict[str, Sink] = {name: make_sink(name, cfg, breakers) for name, cfg in config.webhooks.items()}
    for cfg in _helpdesks(config):
        name = helpdesk_sink_name(cfg.name)
        try:
            sinks[name] = HelpdeskSink(name, helpdesk_for(cfg))
        except ValueError as exc:
            raise ConfigError("<config>", [str(exc)]) from exc
    return sinks


def build_outbox(config: Config, ledger: Ledger) -> Outbox:
    policies: dict[str, DeliveryPolicy] = {helpdesk_sink_name(c.name): DeliveryPolicy() for c in _helpdesks(config)}
    return Outbox(ledger, build_sinks(config), {**config.webhooks, **policies})


def _helpdesks(config: Config) -> list[WebhookSourceConfig]:
    return [s for s in config.sources if isinstance(s, WebhookSourceConfig) and s.acts_in_helpdesk]


SourceFactory = Callable[[Any, Ledger, "Wiring"], Source]


def _maildir(cfg: MaildirSourceConfig, ledger: Ledger, wiring: Wiring) -> Source:
    return MaildirSource(cfg, ledger)


def _imap(cfg: ImapSourceConfig, ledger: Ledger, wiring: Wiring) -> Source:
    return ImapSource(cfg, ledger, max_message_bytes=wiring.config.limits.max_message_bytes)


def _webhook(cfg: WebhookSourceConfig, ledger: Ledger, wiring: Wiring) -> Source:
    if cfg.acts_in_helpdesk:
        return HelpdeskSource(cfg, ledger, wiring.spool(cfg))
    return WebhookSource(cfg, ledger, wiring.spool(cfg))


SOURCE_FACTORIES: dict[str, SourceFactory] = {"maildir": _maildir, "imap": _imap, "webhook": _webhook}
"""Source builders by the config's `type`: a new connector adds its line here."""


class Wiring:
    """Everything a running daemon (or a backfill) holds, built from the config; `close()` releases
    it in the right order. `factories` replaces source builders by type (tests)."""

    def __init__(self, config: Config, *, isolated: bool | None = None,
                 factories: dict[str, SourceFactory] | None = None, exclusive: str | None = None) -> None:
        """`exclusive` (`run`, `backfill`): take the state directory's lock first (app/statelock.py);
        StateLocked when another daemon or backfill holds it."""
        self.config = config
        self.ledger = open_ledger(config)
        self.lock: StateLock | None = None
        self.ledger_lock: LedgerLock | None = None
        if exclusive is not None:
            try:
                self.lock = StateLock(config.state_dir).acquire(exclusive)
                if config.ledger.url:
                    self.ledger_lock = LedgerLock(config.ledger.url, self.ledger.where).acquire(exclusive)
            except BaseException:
                if self.lock is not None:
                    self.lock.release()
                self.ledger.close()
                raise
        self._spools: dict[str, Spool] = {}
        self.dispatcher: Dispatcher | None = None  # the work queue (app/queue.py), with queue.broker_url
        self.reader: Reader | None = None
        self.sources: list[Source] = []
        self.http_server: HttpServer | None = None
        self.api: Api | None = None
        self.on_review: Callable[[], None] | None = None  # a reviewer decided: the daemon polls its sources now
        try:
            self.reader = build_reader(config, isolated)
            self.processor = build_processor(config, self.reader, self.ledger.invoices)
            self.outbox = build_outbox(config, self.ledger)
            if config.queue.broker_url and exclusive is not None:
                self.dispatcher = Dispatcher(config)
            builders = {**SOURCE_FACTORIES, **(factories or {})}
            self.sources = [builders[s.type](s, self.ledger, self) for s in config.sources if s.enabled]
        except BaseException:
            self.close()
            raise
        READINESS.counts = self.ledger.counts

    def source(self, name: str) -> Source:
        for source in self.sources:
            if source.name == name:
                return source
        raise ConfigError("<config>", [f"no source named {name!r} (configured: "
                                       f"{', '.join(s.name for s in self.config.sources)})"])

    def source_config(self, name: str) -> SourceConfig:
        return self.config.source(name)

    def runner(self, stop: threading.Event | None = None) -> Runner:
        return Runner(self.processor, self.ledger, self.config.limits.max_attempts, stop,
                      include_documents(self.config), dispatch=self.dispatcher)

    def spool(self, cfg: WebhookSourceConfig) -> Spool:
        """The spool of a webhook source, shared by its Source and its HTTP endpoint."""
        spool = self._spools.get(cfg.name)
        if spool is None:
            spool = self._spools[cfg.name] = Spool(spool_dir(self.config.state_dir, cfg.name))
        return spool

    def start_http(self, always: bool = False) -> HttpServer | None:
        """Start the HTTP server when webhook sources are enabled, `http.enabled` is set, API tokens
        or users are configured, or `always` (`inbox-ocr serve`). The REST API (app/rest.py) is
        served when `http.api_tokens` has any, the web UI (app/web) when users are configured; both
        read documents with a reader of their own. Raises ConfigError for a bad users_file."""
        from inbox_ocr.app.web import WebUi
        from inbox_ocr.app.web.auth import load_users
        from routing.engine import decision_of

        hooks = [s for s in self.config.sources if isinstance(s, WebhookSourceConfig) and s.enabled]
        http = self.config.http
        if not (hooks or http.enabled or http.api_tokens or http.serves_ui or always):
            return None
        ui = None
        if http.api_tokens or http.serves_ui:
            config = self.config
            users = load_users(config) if http.serves_ui else {}
            self.api = Api(config, lambda: build_processor(config, build_reader(config)))
            if http.serves_ui:
                ui = WebUi(config, self.ledger, self.api, decision_of(config.review.reject, None), users,
                           on_decision=lambda: self.on_review() if self.on_review is not None else None)
        app = build_app([Endpoint.for_source(h, self.spool(h)) for h in hooks],
                        api=self.api if http.api_tokens else None, ui=ui)
        self.http_server = HttpServer(app, http).start()
        return self.http_server

    def close(self) -> None:
        """Stop the HTTP server, close the sources, the reader, the spools and the ledger, in that order."""
        if self.http_server is not None:
            self.http_server.stop()
            self.http_server = None
        if self.api is not None:
            self.api.close()
        for source in self.sources:
            try:
                source.close()
            except Exception as exc:  # closing must never hide the real exit reason
                log.warning("event=close_failed source=%s error=%r", source.name, exc)
        if self.reader is not None:
            self.reader.close()
        if self.dispatcher is not None:
            self.dispatcher.close()
        for spool in self._spools.values():
            spool.close()
        READINESS.started = False
        self.ledger.close()
        if self.ledger_lock is not None:
            self.ledger_lock.release()
        if self.lock is not None:
            self.lock.release()
