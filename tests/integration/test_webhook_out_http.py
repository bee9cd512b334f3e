"""Outbound webhooks against a real receiver on loopback that fails for a while, then recovers:
every action is accepted exactly once (by Idempotency-Key), the circuit breaker keeps the failing
target from being hammered, and what arrives is the rendered template, signed over its bytes."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import pytest

from connectors.webhook_out import Breakers, WebhookConfig, make_sink
from inbox_ocr.kernel.models import MessageStatus
from inbox_ocr.orchestration.ledger import Ledger, MessageIdentity, Outcome
from inbox_ocr.orchestration.outbox import Outbox
from tests.http_receiver import Receiver
from tests.outbound_payloads import invoice_deliveries

pytestmark = pytest.mark.integration


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def test_failing_receiver_recovers_and_gets_each_action_once(tmp_path: Path, receiver: Receiver) -> None:
    receiver.fail_first = 6
    deliveries = invoice_deliveries(4)
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    for i, d in enumerate(deliveries):
        ledger.messages.record_outcome(Outcome(
            identity=MessageIdentity("inbox", f"k{i}", f"<m{i}@x>", f"h{i}", "Invoice", "billing@acme.example"),
            status=MessageStatus.DONE, rule="invoices", deliveries=(d,),
        ))
    config = WebhookConfig.model_validate({
        "url": receiver.url, "template": "erp_invoice", "template_vars": {"company_code": "1000"},
        "auth": {"type": "hmac", "secret": "test-secret-123"},  # the receiver checks X-Signature
        "backoff": "10s", "max_attempts": 12, "jitter": 0, "breaker_failures": 3, "breaker_cooldown": "30s",
    })
    clock = Clock()
    outbox = Outbox(ledger, {"erp": make_sink("erp", config, Breakers(clock))}, {"erp": config}, clock=clock)
    delivered = 0
    for _ in range(600):  # 50 simulated minutes in 5 s steps
        delivered += outbox.deliver_due().delivered
        if delivered == len(deliveries):
            break
        clock.now += 5
    assert delivered == len(deliveries)

    keys = {d.idempotency_key for d in deliveries}
    assert set(receiver.accepted) == keys
    answered_2xx = receiver.requests[6:]  # the receiver refused the first six with 503
    assert Counter(r.headers["idempotency-key"] for r in answered_2xx) == {k: 1 for k in keys}
    assert receiver.bad_signatures == 0
    attempts = sum(row.attempts for row in ledger.deliveries.recent())
    # while the target failed, the breaker let through 3 requests, then one trial per cooldown
    assert len(receiver.requests) == 10 and attempts > len(receiver.requests)
    for received in receiver.accepted.values():
        document = json.loads(received.body)
        assert document["grossAmount"] == "1234.56" and document["companyCode"] == "1000"
        assert document["externalId"] == received.headers["idempotency-key"]
    assert {row.status for row in ledger.deliveries.recent()} == {"delivered"}
