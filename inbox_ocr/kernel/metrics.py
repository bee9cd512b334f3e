"""Prometheus metrics (prometheus-client) and the daemon's readiness, served on its HTTP server.

Counters are module-level objects in one registry of our own (not the global default one, so that
tests and several daemons in one process do not collide on names) and are updated where things
happen: the runner (messages, documents, reading time, rule hits), the outbox (deliveries and
failures), the IMAP session (reconnects). The outbox depth is read from the ledger at scrape time.
The HTTP side (`/metrics`, `/readyz`, `/healthz`) is served by `inbox_ocr/app/http.py`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from prometheus_client import (
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

REGISTRY = CollectorRegistry(auto_describe=True)
# the client's default process and platform metrics: process_cpu_seconds_total,
# process_resident_memory_bytes, process_open_fds, process_start_time_seconds, python_info
REGISTRY.register(PROCESS_COLLECTOR)
REGISTRY.register(PLATFORM_COLLECTOR)
BUILD = Info("inbox_ocr_build", "The running program: version and Python", registry=REGISTRY)

MESSAGES = Counter("inbox_ocr_messages", "Messages handled, by source and outcome "
                   "(done, quarantined, failed, duplicate, acked-again)", ["source", "status"], registry=REGISTRY)
DOCUMENTS = Counter("inbox_ocr_documents", "Documents read, by document type and how they were read",
                    ["doc_type", "read_source"], registry=REGISTRY)
DOCUMENT_ERRORS = Counter("inbox_ocr_document_errors", "Documents that could not be read "
                          "(corrupt, encrypted, over a limit, stopped at the time limit)", ["reason"],
                          registry=REGISTRY)
READ_SECONDS = Histogram("inbox_ocr_read_seconds", "Time to read one document, by how it was read",
                         ["read_source"], buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
                         registry=REGISTRY)
OCR_PAGES = Counter("inbox_ocr_ocr_pages", "Pages read by OCR", registry=REGISTRY)
OCR_SECONDS = Counter("inbox_ocr_ocr_seconds", "Seconds spent reading documents that needed OCR",
                      registry=REGISTRY)
RULE_HITS = Counter("inbox_ocr_rule_hits", "Routing decisions by the rule that decided ((default): none matched)",
                    ["rule"], registry=REGISTRY)
DELIVERIES = Counter("inbox_ocr_webhook_deliveries", "Webhook delivery attempts by webhook and result "
                     "(delivered, retry, dead)", ["webhook", "result"], registry=REGISTRY)
IMAP_RECONNECTS = Counter("inbox_ocr_imap_reconnects", "IMAP connections reopened after a drop", ["source"],
                          registry=REGISTRY)
SOURCE_ERRORS = Counter("inbox_ocr_source_errors", "Passes that ended because a source was unavailable",
                        ["source"], registry=REGISTRY)
LEDGER_ERRORS = Counter("inbox_ocr_ledger_errors", "Ledger writes that failed (disk full, locked, I/O error)",
                        registry=REGISTRY)
LAST_PASS = Gauge("inbox_ocr_last_pass_timestamp_seconds", "When a pass over the source last finished",
                  ["source"], registry=REGISTRY)
BACKLOG = Gauge("inbox_ocr_source_backlog_messages", "Messages waiting in the source after its last pass",
                ["source"], registry=REGISTRY)
QUEUE_STORED = Gauge("inbox_ocr_queue_stored_messages", "Messages stored in the ledger for a worker (work queue)",
                     registry=REGISTRY)
QUEUE_OLDEST = Gauge("inbox_ocr_queue_oldest_seconds", "Age of the oldest message waiting for a worker",
                     registry=REGISTRY)
QUEUE_DEPTH = Gauge("inbox_ocr_queue_depth_tasks", "Tasks waiting in the broker's queue", registry=REGISTRY)
WORKERS = Gauge("inbox_ocr_workers", "Workers that answered the last inspection", registry=REGISTRY)
WORKER_TASKS = Gauge("inbox_ocr_worker_tasks", "Tasks a worker has processed since it started",
                     ["worker"], registry=REGISTRY)
DELIVERY_LATENCY = Histogram("inbox_ocr_webhook_delivery_latency_seconds", "From the message's commit to the "
                             "webhook's 2xx, retries included", ["webhook"],
                             buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600),
                             registry=REGISTRY)


def set_build_info(version: str) -> None:
    import platform

    BUILD.info({"version": version, "python": platform.python_version()})


def error_reason(error: str) -> str:
    """A short, low-cardinality label for a document error message."""
    text = error.lower()
    for needle, reason in (("time limit", "time_limit"), ("encrypted", "encrypted"), ("password", "encrypted"),
                           ("pixels", "pixels"), ("decompression", "pixels"), ("pages", "pages"),
                           ("bytes", "bytes"), ("memory", "memory"), ("process died", "worker_died")):
        if needle in text:
            return reason
    return "unreadable"


class Readiness:
    """What /readyz and the outbox-depth gauge ask: set up by the daemon, read by the HTTP server."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.started = False
        self.source_errors: dict[str, str] = {}
        self.ledger_error: str | None = None
        self.counts: Callable[[], dict[str, int]] | None = None

    def source_ok(self, name: str) -> None:
        with self._lock:
            self.source_errors.pop(name, None)
        LAST_PASS.labels(name).set(time.time())

    def source_failed(self, name: str, error: str) -> None:
        with self._lock:
            self.source_errors[name] = error
        SOURCE_ERRORS.labels(name).inc()

    def check(self) -> tuple[bool, dict[str, Any]]:
        """(ready, details). Not ready: not started yet, the ledger cannot be read, a source failing."""
        problems: dict[str, Any] = {}
        if not self.started:
            problems["daemon"] = "starting"
        with self._lock:
            if self.source_errors:
                problems["sources"] = dict(self.source_errors)
            ledger_error = self.ledger_error
        if ledger_error:
            problems["ledger"] = ledger_error
        if self.counts is not None:
            try:
                self.counts()
            except Exception as exc:  # the probe must answer, whatever the ledger does
                problems["ledger"] = str(exc)
        return not problems, problems


READINESS = Readiness()


class _OutboxDepth:
    """Outbox rows by status, read from the ledger at scrape time (never stale after a restart)."""

    def collect(self) -> Any:
        family = GaugeMetricFamily("inbox_ocr_outbox_depth", "Webhook deliveries in the outbox by status "
                                   "(pending, delivered, dead)", labels=["status"])
        family_messages = GaugeMetricFamily("inbox_ocr_ledger_messages", "Messages in the ledger by status",
                                            labels=["status"])
        counts: dict[str, int] = {}
        if READINESS.counts is not None:
            try:
                counts = READINESS.counts()
            except Exception:  # a scrape must not fail because the ledger is busy
                counts = {}
        for status in ("pending", "delivered", "dead"):
            family.add_metric([status], counts.get(f"outbox_{status}", 0))
        for status in ("done", "failed", "quarantined"):
            family_messages.add_metric([status], counts.get(f"messages_{status}", 0))
        yield family
        yield family_messages

    def describe(self) -> Any:
        return []


REGISTRY.register(_OutboxDepth())


def render() -> tuple[bytes, str]:
    """The /metrics body and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
