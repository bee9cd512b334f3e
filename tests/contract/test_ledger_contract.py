"""The ledger's contract, run over both databases it supports: SQLite in a temporary directory and
PostgreSQL on a server the tests start on loopback (skipped, saying why, without the binaries)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from inbox_ocr.kernel.errors import TransientError
from inbox_ocr.kernel.models import MailboxChanges, MessageStatus, RoutingDecision
from inbox_ocr.orchestration.ledger import (
    Decision,
    DeliveryStatus,
    HeldReview,
    Ledger,
    MessageIdentity,
    NewDelivery,
    Outcome,
    ReviewConflict,
)


@pytest.fixture(params=["sqlite", "postgresql"])
def where(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "ledger.sqlite3")
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def ledger(where: str) -> Iterator[Ledger]:
    led = Ledger(where)
    yield led
    led.close()


def who(key: str, message_id: str | None = None, content: str = "h1", source: str = "box") -> MessageIdentity:
    return MessageIdentity(source=source, key=key, message_id=message_id, content_hash=content,
                           subject=f"Invoice {key}", sender="billing@vendor.example")


def invoice_doc(number: str, total: str = "100.00") -> dict:
    return {"filename": "a.pdf", "fields": {"vendor_vat_id": "DE136695976", "invoice_number": number, "total": total}}


def done(key: str, *deliveries: NewDelivery, documents: tuple[dict, ...] = (), **identity: object) -> Outcome:
    return Outcome(identity=who(key, **identity), status=MessageStatus.DONE, rule="invoices",  # type: ignore[arg-type]
                   actions=("move: Invoices", "webhook: erp"), mailbox=MailboxChanges(move_to="Invoices"),
                   documents=documents, deliveries=deliveries, audit=(("routed", "rule invoices"),))


def delivery(key: str, payload: bytes = b'{"n": 1}') -> NewDelivery:
    return NewDelivery(webhook="erp", idempotency_key=key, payload=payload)


def test_an_outcome_is_stored_once_per_key_and_its_retry_counts_attempts(ledger: Ledger) -> None:
    first = ledger.messages.record_outcome(done("k1", delivery("idem-1"), message_id="<a@x>"))
    again = ledger.messages.record_outcome(done("k1", delivery("idem-1"), message_id="<a@x>"))
    assert first == again
    record = ledger.messages.get("box", "k1")
    assert record is not None and record.status == MessageStatus.DONE and record.attempts == 2
    assert record.actions == ["move: Invoices", "webhook: erp"] and record.mailbox.move_to == "Invoices"
    assert [d.idempotency_key for d in ledger.deliveries.of_message(first)] == ["idem-1"]  # not twice
    assert ledger.messages.by_id(first) == record


def test_handled_keys_need_the_ack_and_keep_to_the_prefix(ledger: Ledger) -> None:
    a = ledger.messages.record_outcome(done("INBOX/7/1"))
    ledger.messages.record_outcome(done("INBOX/7/2"))
    ledger.messages.record_outcome(done("Scans/7/1"))
    assert ledger.handled_keys("box", "INBOX/") == set()
    assert ledger.messages.unacked("box") == [(a, "INBOX/7/1"), (a + 1, "INBOX/7/2"), (a + 2, "Scans/7/1")]
    ledger.messages.mark_acked(a, "moved")
    assert ledger.handled_keys("box", "INBOX/") == {"INBOX/7/1"}
    assert ledger.handled_keys("box", "INBOX/7/1") == {"INBOX/7/1"}
    assert ledger.handled_keys("other", "") == set()
    assert [e.event for e in ledger.audit.of(a)] == ["routed", "acked"]


def test_the_same_message_under_a_new_key_is_known(ledger: Ledger) -> None:
    ledger.messages.record_outcome(done("old", message_id="<m@x>", content="c1"))
    assert ledger.is_known("box", "<m@x>", "c1")
    assert not ledger.is_known("box", "<m@x>", "c2") and not ledger.is_known("other", "<m@x>", "c1")
    ledger.messages.record_outcome(done("no-id", content="c3"))
    assert ledger.is_known("box", None, "c3")


def test_failures_count_attempts_then_an_outcome_replaces_them(ledger: Ledger) -> None:
    assert ledger.messages.record_failure(who("k"), "IMAP timeout") == 1
    assert ledger.messages.record_failure(who("k"), "IMAP timeout") == 2
    record = ledger.messages.get("box", "k")
    assert record is not None and record.status == MessageStatus.FAILED and record.error == "IMAP timeout"
    ledger.messages.record_outcome(done("k"))
    record = ledger.messages.get("box", "k")
    assert record is not None and record.status == MessageStatus.DONE and record.attempts == 3


def test_search_is_case_insensitive_over_subject_sender_and_fields(ledger: Ledger) -> None:
    ledger.messages.record_outcome(done("k1", documents=(invoice_doc("RE-4711"),)))
    ledger.messages.record_outcome(done("k2", documents=(invoice_doc("RE-9"),)))
    assert [r.key for r in ledger.messages.search("re-4711")] == ["k1"]
    assert {r.key for r in ledger.messages.search("INVOICE k")} == {"k1", "k2"}
    assert ledger.messages.search("100%_") == []  # LIKE's wildcards are taken literally
    assert [r.key for r in ledger.messages.search("", MessageStatus.DONE, limit=1)] in (["k1"], ["k2"])


def test_deliveries_retry_die_and_are_requeued(ledger: Ledger) -> None:
    message = ledger.messages.record_outcome(done("k", delivery("i1"), delivery("i2", b"\x00\xffbinary")))
    now = time.time() + 1
    due = ledger.deliveries.due(now)
    assert [d.idempotency_key for d in due] == ["i1", "i2"] and due[1].payload == b"\x00\xffbinary"
    ledger.deliveries.failed(due[0].id, "HTTP 503", now + 60)
    ledger.deliveries.succeeded(due[1].id, "HTTP 200")
    assert [d.idempotency_key for d in ledger.deliveries.due(now)] == []
    assert [d.idempotency_key for d in ledger.deliveries.due(now + 61)] == ["i1"]
    ledger.deliveries.failed(due[0].id, "HTTP 410 gone", None)
    dead = ledger.deliveries.get(due[0].id)
    assert dead is not None and dead.status == DeliveryStatus.DEAD and dead.attempts == 2
    assert ledger.deliveries.requeue(due[0].id) and not ledger.deliveries.requeue(due[1].id)
    assert ledger.counts() == {"messages_done": 1, "outbox_pending": 1, "outbox_delivered": 1}
    events = [e.event for e in ledger.audit.of(message)]
    assert events == ["routed", "delivery_failed", "delivered", "dead_letter"]


def test_a_held_message_is_decided_once(ledger: Ledger) -> None:
    held = RoutingDecision(rule="unsure", actions=("move: Invoices",), mailbox=MailboxChanges(move_to="Invoices"),
                           review="low confidence")
    outcome = Outcome(identity=who("h"), status=MessageStatus.HELD, rule="unsure", documents=(invoice_doc("7"),),
                      review=HeldReview(reason="low confidence", held=held, raw=b"From: a\r\n\r\nbody"))
    message = ledger.messages.record_outcome(outcome)
    assert ledger.handled_keys("box") == {"h"}  # held: not fetched again while it waits
    assert ledger.reviews.count_pending() == 1 and ledger.reviews.pending()[0].raw == b"From: a\r\n\r\nbody"
    decision = Decision(status="approved", reviewer="anna", decision=held, documents=(invoice_doc("8"),),
                        deliveries=(delivery("approved-1"),), audit=(("approved", "by anna"),))
    ledger.reviews.decide(message, decision)
    with pytest.raises(ReviewConflict, match="was approved by anna"):
        ledger.reviews.decide(message, decision)
    record = ledger.messages.by_id(message)
    assert record is not None and record.status == MessageStatus.DONE
    assert record.documents[0]["fields"]["invoice_number"] == "8"  # as corrected
    assert [d.idempotency_key for d in ledger.deliveries.of_message(message)] == ["approved-1"]


def test_an_invoice_seen_before_is_found_across_messages(ledger: Ledger) -> None:
    first = ledger.messages.record_outcome(done("first", documents=(invoice_doc("R-1/2024", "1190.00"),)))
    ledger.messages.record_outcome(done("second", documents=(invoice_doc("R 1 2024", "1190"),)))
    earlier = ledger.invoices.first_seen(invoice_doc("R-1-2024", "1190.00")["fields"], "box", "second")
    assert earlier is not None and (earlier.message, earlier.key) == (first, "first")
    assert ledger.invoices.first_seen(invoice_doc("R-1-2024", "1190.00")["fields"], "box", "first") is not None
    assert ledger.invoices.first_seen(invoice_doc("R-2", "1190.00")["fields"], "box", "x") is None


def test_cursors_keep_the_last_value(ledger: Ledger) -> None:
    assert ledger.get_cursor("box", "uidvalidity") is None
    ledger.set_cursor("box", "uidvalidity", "7")
    ledger.set_cursor("box", "uidvalidity", "8")
    assert ledger.get_cursor("box", "uidvalidity") == "8" and ledger.get_cursor("other", "uidvalidity") is None


def test_a_second_ledger_on_the_same_database_sees_the_first_ones_commits(where: str, ledger: Ledger) -> None:
    ledger.messages.record_outcome(done("k"))
    other = Ledger(where)
    try:
        assert other.messages.get("box", "k") is not None
    finally:
        other.close()


def test_two_senders_claim_each_delivery_once(postgres_url: str) -> None:
    """Senders in several processes (here: two connections, in threads) claim due rows of a shared
    ledger; every row goes to exactly one of them, and a claimed row is not due again until its
    lease runs out. (An SQLite ledger has one daemon, the state directory's lock: nothing to share.)"""
    where = postgres_url
    ledger = Ledger(where)
    for m in range(20):
        ledger.messages.record_outcome(done(f"k{m}", *(delivery(f"i{m}-{d}") for d in range(5))))
    now = time.time() + 1
    claimed: dict[str, list[int]] = {"a": [], "b": []}
    ledgers = {"a": Ledger(where), "b": Ledger(where)}
    start = threading.Barrier(2)

    def sender(name: str) -> None:
        start.wait()
        while batch := ledgers[name].deliveries.claim(now, 3, 600):
            claimed[name] += [row.id for row in batch]

    threads = [threading.Thread(target=sender, args=(n,)) for n in ledgers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for led in ledgers.values():
        led.close()
    every = claimed["a"] + claimed["b"]
    assert len(every) == 100 and len(set(every)) == 100
    assert ledger.deliveries.due(now) == [] and len(ledger.deliveries.due(now + 601)) == 100
    ledger.close()


def test_a_ledger_of_a_newer_schema_is_refused(where: str, ledger: Ledger) -> None:
    from inbox_ocr.orchestration.ledger.db import VERSION

    if ledger.shared:
        with ledger.db.transaction() as db:
            db.execute("UPDATE schema_version SET version = ?", (VERSION + 1,))
    else:
        ledger.db.query(f"PRAGMA user_version = {VERSION + 1}")
    ledger.close()
    with pytest.raises(TransientError, match=f"schema version {VERSION + 1}, newer than this program's"):
        Ledger(where)
