"""The Sink contract of inbox_ocr/kernel/ports.py, run over every implementation: the in-memory
sink, the file drop folder and HTTP against a real receiver on loopback."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from connectors.memory import MemorySink
from connectors.webhook_out import Breakers, WebhookConfig, make_sink
from inbox_ocr.kernel.errors import DeliveryFailed, DeliveryRejected
from inbox_ocr.kernel.ports import Sink
from inbox_ocr.orchestration.ledger import DeliveryRecord, DeliveryStatus
from tests.http_receiver import Receiver


@dataclass
class Harness:
    sink: Sink
    received: Callable[[str], bytes | None]  # what the target holds for an idempotency key
    refuse_for_now: Callable[[], None]  # the target is down: the next delivery must be retried later
    reject: Callable[[], None]  # the target refuses this payload: the next delivery is a dead letter


def delivery(key: str, payload: dict[str, object] | None = None) -> DeliveryRecord:
    body = json.dumps(payload or {"event": "message.routed", "idempotency_key": key}).encode()
    return DeliveryRecord(id=1, message=1, webhook="erp", idempotency_key=key, payload=body,
                          status=DeliveryStatus.PENDING, attempts=0, next_attempt_at=0.0, last_error=None,
                          receipt=None, created_at="", delivered_at=None)


def memory_harness(tmp_path: Path, receiver: Receiver) -> Harness:
    sink = MemorySink(name="erp")

    def refuse() -> None:
        sink.refuse = "retry"

    def reject() -> None:
        sink.refuse = "reject"

    return Harness(sink, sink.received.get, refuse, reject)


def file_harness(tmp_path: Path, receiver: Receiver) -> Harness:
    drop = tmp_path / "drop"
    config = WebhookConfig.model_validate({"url": f"file://{drop}"})
    holder: dict[str, Sink] = {"sink": make_sink("erp", config)}

    def received(key: str) -> bytes | None:
        path = drop / f"{key}.json"
        return path.read_bytes() if path.exists() else None

    def refuse() -> None:  # the drop folder's place is taken by a file: nothing can be written there
        drop.mkdir(exist_ok=True)
        for child in drop.iterdir():
            child.unlink()
        drop.rmdir()
        drop.write_text("not a folder")

    def reject() -> None:  # a template that renders no JSON: retrying the same template cannot help
        bad = tmp_path / "bad.json.j2"
        bad.write_text("{{ idempotency_key }} is not JSON")
        holder["sink"] = make_sink("erp", WebhookConfig.model_validate({"url": f"file://{drop}",
                                                                       "template": str(bad)}))

    class Current:
        name = "erp"

        def deliver(self, d: DeliveryRecord) -> str:
            return holder["sink"].deliver(d)

    return Harness(Current(), received, refuse, reject)


def http_harness(tmp_path: Path, receiver: Receiver) -> Harness:
    config = WebhookConfig.model_validate({"url": receiver.url, "secret": "test-secret-123", "timeout": "5s"})
    sink = make_sink("erp", config, Breakers())

    def received(key: str) -> bytes | None:
        item = receiver.accepted.get(key)
        return item.body if item else None

    def refuse() -> None:
        receiver.fail_first = 1

    def reject() -> None:
        receiver.status = 422

    return Harness(sink, received, refuse, reject)


@pytest.fixture(params=[memory_harness, file_harness, http_harness], ids=["memory", "file", "http"])
def harness(request: pytest.FixtureRequest, tmp_path: Path, receiver: Receiver) -> Iterator[Harness]:
    yield request.param(tmp_path, receiver)


def test_implements_the_sink_port(harness: Harness) -> None:
    assert isinstance(harness.sink, Sink) and harness.sink.name == "erp"


def test_a_delivery_arrives_with_its_payload_and_gives_a_receipt(harness: Harness) -> None:
    d = delivery("key-1", {"total": "12.50"})
    receipt = harness.sink.deliver(d)
    assert receipt and isinstance(receipt, str)
    assert harness.received("key-1") == d.payload


def test_the_same_key_delivered_twice_is_one_document_at_the_target(harness: Harness) -> None:
    harness.sink.deliver(delivery("key-1"))
    harness.sink.deliver(delivery("key-1"))  # redelivered after a crash before the ledger noted it
    harness.sink.deliver(delivery("key-2"))
    assert harness.received("key-1") == delivery("key-1").payload
    assert harness.received("key-2") == delivery("key-2").payload


def test_a_target_that_is_down_is_a_failure_to_retry(harness: Harness) -> None:
    harness.refuse_for_now()
    with pytest.raises(DeliveryFailed):
        harness.sink.deliver(delivery("key-1"))
    assert harness.received("key-1") is None


def test_a_refused_payload_is_a_rejection(harness: Harness) -> None:
    harness.reject()
    with pytest.raises(DeliveryRejected):
        harness.sink.deliver(delivery("key-1"))
    assert harness.received("key-1") is None
