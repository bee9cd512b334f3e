"""The work queue: Celery on Redis (`queue.broker_url`), used as it is.

    daemon (scheduler)   reads the sources, stores each new message in the ledger
                         (orchestration/ledger/queue.py) and sends `inbox_ocr.process(source, key)`
    inbox-ocr worker     a Celery worker: claims the stored message, reads, OCRs, understands and
                         routes it, commits the outcome and its outbox rows to the ledger
    daemon, next pass    fetches the committed message again and acknowledges it on its source

Tasks are acknowledged late (after the commit: `task_acks_late`), one at a time per worker process
(`worker_prefetch_multiplier=1`), and given back when a worker process dies (`task_reject_on_worker_lost`);
a task a worker took and never acknowledged (the whole worker killed) goes to another after the
broker's visibility timeout, which is longer than a message may take. A redelivered task finds the
message committed (nothing to do) or not (it is processed; the ledger's unique keys and the outbox's
idempotency keys make the redo harmless). Mailbox actions stay with the scheduler, the one process
holding the source connections (IMAP sessions, IDLE): a worker needs no mail credentials, and an
acknowledgement is applied by whoever can apply it at once.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from celery import Celery

    from inbox_ocr.app.config import Config
    from inbox_ocr.orchestration.runner import Runner

log = logging.getLogger("inbox_ocr.queue")

TASK = "inbox_ocr.process"


def celery_app(config: Config) -> Celery:
    """A Celery app on the configured broker, with the settings that make redelivery safe."""
    from celery import Celery

    app = Celery("inbox_ocr", broker=config.queue.broker_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue=config.queue.name,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": int(config.queue.visibility_timeout)},
        worker_hijack_root_logger=False,
        worker_send_task_events=True,
        task_send_sent_event=False,
        worker_cancel_long_running_tasks_on_connection_loss=False,
    )
    return app


class Dispatcher:
    """The scheduler's end: sends a stored message's key to the workers."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.app = celery_app(config)

    def __call__(self, source: str, key: str) -> None:
        self.app.send_task(TASK, args=[source, key], queue=self.config.queue.name)

    def depth(self) -> int | None:
        """Tasks waiting in the broker's queue (Redis: the list's length); None when it cannot be read."""
        try:
            with self.app.connection_for_write() as conn:
                return int(conn.default_channel.client.llen(self.config.queue.name))
        except Exception as exc:  # the broker is away: a metric is not worth an error
            log.debug("event=queue_depth_unknown error=%r", exc)
            return None

    def workers(self, timeout: float = 1.0) -> dict[str, dict[str, Any]]:
        """The workers that answer now: name -> Celery's stats (processed tasks, pool, uptime)."""
        try:
            return dict(self.app.control.inspect(timeout=timeout).stats() or {})
        except Exception as exc:
            log.debug("event=workers_unknown error=%r", exc)
            return {}

    def close(self) -> None:
        self.app.close()


class _WorkerState(threading.local):
    runner: Runner | None = None


def run_worker(config: Config, concurrency: int, extra: list[str] | None = None) -> None:
    """Run a Celery worker for this config (blocks until it is stopped: SIGTERM finishes the tasks
    in hand). Each worker process builds its own reader, processor and ledger connection."""
    from celery.signals import worker_process_shutdown

    app = celery_app(config)
    # a claim outlasts a message's time limit and ends before the broker gives the task to another
    # worker (so a deferred task's countdown stays within the visibility timeout, as Redis needs)
    lease = (config.limits.message_seconds + config.queue.visibility_timeout) / 2
    state = _WorkerState()

    def runner() -> Runner:
        if state.runner is None:
            from inbox_ocr.app.wiring import build_processor, build_reader, include_documents, open_ledger
            from inbox_ocr.orchestration.runner import Runner

            ledger = open_ledger(config)
            processor = build_processor(config, build_reader(config), ledger.invoices)
            state.runner = Runner(processor, ledger, config.limits.max_attempts,
                                  include_documents=include_documents(config))
            log.info("event=worker_process_ready pid=%d ledger=%s", os.getpid(), ledger.where)
        return state.runner

    @app.task(name=TASK, bind=True, max_retries=None)  # type: ignore[untyped-decorator]
    def process(task: Any, source: str, key: str) -> str:
        from inbox_ocr.orchestration.runner import Busy

        try:
            report = runner().work(source, key, lease, f"{task.request.hostname} pid {os.getpid()}")
        except Busy as busy:  # redelivered while a claim runs: come back when it ends
            log.info("event=task_deferred source=%s key=%s reason=%s", source, key, busy)
            raise task.retry(countdown=max(busy.until - time.time(), 0.0) + 1.0) from None
        if report is None:
            log.info("event=task_skipped source=%s key=%s reason=done already or claimed by another worker",
                     source, key)
            return "skipped"
        log.info("event=task_done source=%s key=%s status=%s rule=%s worker=%s", source, key,
                 report.status.value, report.rule, task.request.hostname)
        return report.status.value

    @worker_process_shutdown.connect  # type: ignore[untyped-decorator]
    def _close(**_: Any) -> None:
        if state.runner is not None:
            state.runner.processor.reader.close()
            state.runner.ledger.close()

    name = f"inbox-ocr-{os.getpid()}@{socket.gethostname()}"
    app.worker_main(["worker", "--concurrency", str(concurrency), "--hostname", name, "--queues",
                     config.queue.name, "--without-gossip", "--without-mingle", "--loglevel",
                     config.log.level, *(extra or [])])
