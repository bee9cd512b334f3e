"""Outbox delivery to a real HTTP receiver on loopback: retries with backoff, one accepted delivery,
dead letters re-driven from the CLI."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path

from click.testing import CliRunner

from inbox_ocr.app.cli import main
from inbox_ocr.app.config import parse_config
from inbox_ocr.app.wiring import build_sinks
from inbox_ocr.kernel.models import MessageStatus
from inbox_ocr.orchestration.ledger import Ledger, MessageIdentity, NewDelivery, Outcome
from inbox_ocr.orchestration.outbox import Outbox
from tests.http_receiver import Receiver


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def setup(tmp_path: Path, url: str, max_attempts: int = 5):  # type: ignore[no-untyped-def]
    cfg_file = tmp_path / "config.yaml"
    cfg_file.write_text(
        f"state_dir: {tmp_path / 'var'}\nsources:\n  - {{name: m, type: maildir, path: {tmp_path / 'M'}}}\n"
        f"webhooks:\n  erp: {{url: '{url}', secret: test-secret-123, backoff: 10s, max_attempts: {max_attempts}}}\n"
    )
    config = parse_config(__import__("yaml").safe_load(cfg_file.read_text()))
    ledger = Ledger(tmp_path / "var" / "ledger.sqlite3")
    ledger.messages.record_outcome(Outcome(
        identity=MessageIdentity("m", "k1", "<a@b>", "h", "s", "x"), status=MessageStatus.DONE, rule="r",
        deliveries=(NewDelivery("erp", "key-1", json.dumps({"total": "12.50"}).encode()),),
    ))
    return cfg_file, config, ledger


def test_refused_then_accepted_exactly_once(tmp_path: Path, receiver: Receiver) -> None:
    receiver.fail_first = 2
    _, config, ledger = setup(tmp_path, receiver.url)
    clock = Clock()
    outbox = Outbox(ledger, build_sinks(config), config.webhooks, clock=clock, jitter=lambda: 0.0)
    assert outbox.deliver_due().retrying == 1
    assert outbox.deliver_due().retrying == 0  # not due yet: backoff 10 s
    clock.now += 10
    assert outbox.deliver_due().retrying == 1
    clock.now += 15
    assert outbox.deliver_due().delivered == 0  # second backoff is 20 s
    clock.now += 5
    assert outbox.deliver_due().delivered == 1
    clock.now += 1000
    assert outbox.deliver_due().delivered == 0
    assert len(receiver.requests) == 3
    assert {r.headers["idempotency-key"] for r in receiver.requests} == {"key-1"}
    assert len(receiver.accepted) == 1 and receiver.bad_signatures == 0
    body = receiver.accepted["key-1"].body
    assert receiver.accepted["key-1"].headers["x-signature"] == "sha256=" + hmac.new(
        b"test-secret-123", body, hashlib.sha256).hexdigest()
    (row,) = ledger.deliveries.recent()
    assert row.status == "delivered" and row.attempts == 3 and row.receipt == "HTTP 201"


def test_dead_letter_listed_and_retried_from_cli(tmp_path: Path, receiver: Receiver) -> None:
    receiver.fail_first = 100
    cfg_file, config, ledger = setup(tmp_path, receiver.url, max_attempts=2)
    clock = Clock()
    outbox = Outbox(ledger, build_sinks(config), config.webhooks, clock=clock, jitter=lambda: 0.0)
    outbox.deliver_due()
    clock.now += 100
    assert outbox.deliver_due().dead == 1
    runner = CliRunner()
    listed = runner.invoke(main, ["outbox", "list", "--dead", "--config", str(cfg_file)])
    assert listed.exit_code == 0 and "dead" in listed.output and "HTTP 503" in listed.output
    receiver.fail_first = 0
    retried = runner.invoke(main, ["outbox", "retry", "1", "--config", str(cfg_file)])
    assert retried.exit_code == 0, retried.output
    assert "delivered" in retried.output
    assert len(receiver.accepted) == 1
    again = runner.invoke(main, ["outbox", "retry", "1", "--config", str(cfg_file)])
    assert again.exit_code != 0  # a delivered row is not re-sent


def test_client_error_is_a_dead_letter_at_once(tmp_path: Path, receiver: Receiver) -> None:
    receiver.status = 422
    _, config, ledger = setup(tmp_path, receiver.url)
    report = Outbox(ledger, build_sinks(config), config.webhooks).deliver_due()
    assert report.dead == 1
    (row,) = ledger.deliveries.recent()
    assert row.status == "dead" and "HTTP 422" in (row.last_error or "")


def test_unreachable_target_is_retried(tmp_path: Path) -> None:
    _, config, ledger = setup(tmp_path, "http://127.0.0.1:1/hook")
    report = Outbox(ledger, build_sinks(config), config.webhooks).deliver_due()
    assert report.retrying == 1
    (row,) = ledger.deliveries.recent()
    assert row.status == "pending" and "ConnectionError" in (row.last_error or "")
