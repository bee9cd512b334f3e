"""The REST API's page queue: pages of requests that arrive together are read in one batch, each
request gets its own pages back in order, and an engine error reaches the requests of its batch."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from inbox_ocr.app.rest import PageQueue


class SlowEngine:
    """Reads 'pages' (strings) back upper-cased; each batch takes a while, as a real one does."""

    def __init__(self, fail_on: str | None = None, queue: PageQueue | None = None) -> None:
        self.batches: list[list[str]] = []
        self.fail_on = fail_on
        self.busy = threading.Lock()
        self.queue = queue  # the first batch waits until 4 more pages queue up behind it (however slow the machine)

    def read_batch(self, pages: list[str]) -> list[str]:
        assert self.busy.acquire(blocking=False), "two batches at once through one engine"
        try:
            self.batches.append(list(pages))
            deadline = time.monotonic() + 60
            while self.queue is not None and len(self.batches) == 1 and len(self.queue._waiting) < 4:
                assert time.monotonic() < deadline
                time.sleep(0.01)
            time.sleep(0.01)
            if self.fail_on in pages:
                raise RuntimeError(f"cannot read {self.fail_on}")
            return [p.upper() for p in pages]
        finally:
            self.busy.release()


def test_requests_arriving_together_share_batches_and_get_their_own_pages() -> None:
    queue = PageQueue(batch=4)
    engine = SlowEngine(queue=queue)
    requests = [[f"r{i}p{j}" for j in range(1 + i % 2)] for i in range(8)]
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda pages: queue.read(engine, pages), requests))
    assert answers == [[p.upper() for p in pages] for pages in requests]
    assert sorted(p for batch in engine.batches for p in batch) == sorted(p for r in requests for p in r)
    assert max(len(b) for b in engine.batches) == 4  # pages that waited together were read together
    assert all(len(b) <= 4 for b in engine.batches)


def test_one_request_alone_is_read_at_once() -> None:
    engine = SlowEngine()
    assert PageQueue(batch=4).read(engine, ["a", "b"]) == ["A", "B"]
    assert engine.batches == [["a", "b"]]


def test_an_engine_error_reaches_the_request_and_the_queue_goes_on() -> None:
    engine = SlowEngine(fail_on="bad")
    queue = PageQueue(batch=1)
    with pytest.raises(RuntimeError, match="cannot read bad"):
        queue.read(engine, ["bad"])
    assert queue.read(engine, ["good"]) == ["GOOD"]
