"""Routing inside a helpdesk, over real HTTP on loopback: each helpdesk's calls against a stand-in
that implements its documented endpoints (tests/helpdesk_server.py), the outbox's retries and rate
limits, and the whole way through the daemon from a signed Front webhook to the calls in Front."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from connectors.helpdesk.api import marker
from connectors.webhook_in import spool_dir
from inbox_ocr.app.config import Config, parse_config
from inbox_ocr.app.daemon import Daemon
from inbox_ocr.app.wiring import build_outbox, build_sinks
from inbox_ocr.kernel.errors import DeliveryFailed, DeliveryRejected
from inbox_ocr.kernel.models import HelpdeskCall, MessageStatus, RawMessage
from inbox_ocr.orchestration.ledger import Ledger, MessageIdentity, Outcome, ledger_path
from inbox_ocr.orchestration.outbox import helpdesk_deliveries
from tests.helpdesk_server import TOKEN, ZENDESK_USER, Failure, FakeHelpdesk
from tests.integration.dovecot import _write_certificates
from tests.integration.test_webhook_in import _tls, front_event
from tests.integration.webhook_fixtures import FileServer, front_headers, make_pdf, wait_for
from tests.outbound_payloads import Row

pytestmark = pytest.mark.integration

SECRET = "whsec-helpdesk-0123456789"
CONVERSATION = {"front": "cnv_1", "zendesk": "4711", "helpscout": "321"}
PLACE = {"front": "AP Team", "zendesk": "Accounts Payable", "helpscout": "Accounts Payable"}


@pytest.fixture(params=["front", "zendesk", "helpscout"])
def helpdesk(request: pytest.FixtureRequest) -> Iterator[FakeHelpdesk]:
    fake = FakeHelpdesk(request.param).start()
    yield fake
    fake.stop()


def source_config(fake: FakeHelpdesk, tmp_path: Path, **extra: Any) -> Config:
    source = {"name": "desk", "type": "webhook", "provider": fake.kind, "secret": SECRET, "api_token": TOKEN,
              "api_url": fake.api_url, **extra}
    if fake.kind == "zendesk":
        source["api_user"] = ZENDESK_USER
    return parse_config({"state_dir": str(tmp_path / "var"), "ocr": {"enabled": False}, "sources": [source]})


def rows(calls: list[HelpdeskCall], key: str = "zendesk:4711/1") -> list[Row]:
    raw = RawMessage(source="desk", key=key, raw=b"Subject: x\r\n\r\nx")
    return [Row(i + 1, d.webhook, d.idempotency_key, d.payload)
            for i, d in enumerate(helpdesk_deliveries(raw, "helpdesk:desk", calls))]


def test_each_change_is_made_in_the_helpdesk_once(helpdesk: FakeHelpdesk, tmp_path: Path) -> None:
    sink = build_sinks(source_config(helpdesk, tmp_path))["helpdesk:desk"]
    conv = CONVERSATION[helpdesk.kind]
    calls = [HelpdeskCall(op="move", conversation=conv, arg=PLACE[helpdesk.kind]),
             HelpdeskCall(op="tag", conversation=conv, arg="Invoices"),
             HelpdeskCall(op="assign", conversation=conv, arg="anna@example.com"),
             HelpdeskCall(op="comment", conversation=conv, arg="Invoice 4711, total 99.00 EUR"),
             HelpdeskCall(op="done", conversation=conv)]
    for row in rows(calls):
        sink.deliver(row)
    state = helpdesk.conversations[conv]
    assert state.tags == ["Invoices"]
    assert helpdesk.places[state.place or ""] == PLACE[helpdesk.kind]
    assert state.assignee is not None and str(state.assignee) == str(helpdesk.people[0]["id"])
    assert len(state.comments) == 1 and state.comments[0].startswith("Invoice 4711, total 99.00 EUR")
    assert state.status == {"front": "archived", "zendesk": "solved", "helpscout": "closed"}[helpdesk.kind]
    before = helpdesk.writes()
    receipts = [sink.deliver(row) for row in rows(calls)]  # the outbox redelivers rows after a crash
    assert state.tags == ["Invoices"] and len(state.comments) == 1
    assert "comment already on" in receipts[3]
    assert not any(path.endswith(("/comments", "/notes")) for _, path in helpdesk.writes()[len(before):])


def test_an_unknown_name_is_a_dead_letter_naming_what_exists(helpdesk: FakeHelpdesk, tmp_path: Path) -> None:
    sink = build_sinks(source_config(helpdesk, tmp_path))["helpdesk:desk"]
    [row] = rows([HelpdeskCall(op="move", conversation=CONVERSATION[helpdesk.kind], arg="Nowhere")])
    with pytest.raises(DeliveryRejected) as caught:
        sink.deliver(row)
    assert "'Nowhere'" in str(caught.value) and "support" in str(caught.value)
    assert helpdesk.writes() == []


def test_a_rate_limit_is_retried_no_sooner_than_asked(helpdesk: FakeHelpdesk, tmp_path: Path) -> None:
    config = source_config(helpdesk, tmp_path)
    header = "X-RateLimit-Retry-After" if helpdesk.kind == "helpscout" else "Retry-After"
    conv = CONVERSATION[helpdesk.kind]
    helpdesk.failures.append(Failure(None, "", 429, {header: "120"}))
    ledger = Ledger(ledger_path(tmp_path))
    raw = RawMessage(source="desk", key="k1", raw=b"Subject: x\r\n\r\nx")
    ledger.messages.record_outcome(Outcome(
        identity=MessageIdentity(source="desk", key="k1", message_id=None, content_hash=raw.content_hash,
                                 subject="x", sender="y"),
        status=MessageStatus.DONE,
        deliveries=helpdesk_deliveries(raw, "helpdesk:desk", [HelpdeskCall(op="tag", conversation=conv, arg="Paid")]),
    ))
    now = [time.time() + 1]
    outbox = build_outbox(config, ledger)
    outbox.clock, outbox.jitter = (lambda: now[0]), (lambda: 0.0)
    first = outbox.deliver_due()
    assert first.retrying == 1 and "429" in first.errors[0]
    now[0] += 60  # the outbox's own backoff (30 s) has passed, the helpdesk's 120 s have not
    assert outbox.deliver_due().delivered == 0
    now[0] += 61
    assert outbox.deliver_due().delivered == 1
    assert helpdesk.conversations[conv].tags == ["Paid"]
    ledger.close()


def test_a_comment_whose_answer_was_lost_is_not_posted_again(helpdesk: FakeHelpdesk, tmp_path: Path) -> None:
    sink = build_sinks(source_config(helpdesk, tmp_path))["helpdesk:desk"]
    conv = CONVERSATION[helpdesk.kind]
    [row] = rows([HelpdeskCall(op="comment", conversation=conv, arg="Total 99.00 EUR")])
    write = {"front": ("POST", "/conversations"), "zendesk": ("PUT", "/api/v2/tickets"),
             "helpscout": ("POST", "/v2/conversations")}[helpdesk.kind]
    helpdesk.failures.append(Failure(write[0], write[1], 502, after=True))
    with pytest.raises(DeliveryFailed):
        sink.deliver(row)
    assert len(helpdesk.conversations[conv].comments) == 1  # made, but the answer said otherwise
    assert "already" in sink.deliver(row)
    assert helpdesk.conversations[conv].comments == [f"Total 99.00 EUR\n\n{marker(row.idempotency_key)}"]


def test_a_wrong_token_is_a_dead_letter(helpdesk: FakeHelpdesk, tmp_path: Path) -> None:
    config = source_config(helpdesk, tmp_path, api_token="wrong-token")
    sink = build_sinks(config)["helpdesk:desk"]
    [row] = rows([HelpdeskCall(op="tag", conversation=CONVERSATION[helpdesk.kind], arg="Paid")])
    with pytest.raises(DeliveryRejected, match="401"):
        sink.deliver(row)


# --------------------------------------------------------------------------- the daemon, end to end


@pytest.fixture
def front() -> Iterator[FakeHelpdesk]:
    fake = FakeHelpdesk("front").start()
    yield fake
    fake.stop()


@pytest.fixture
def files(tmp_path: Path) -> Iterator[tuple[FileServer, Path]]:
    (tmp_path / "tls").mkdir()
    certificates = _write_certificates(tmp_path / "tls")
    server = FileServer(tls=_tls(certificates)).start()
    server.files["/att/invoice.pdf"] = (make_pdf("INVOICE 4711  Total EUR 99.00"), "application/pdf")
    yield server, certificates[0]
    server.stop()


def test_a_front_message_is_routed_inside_front(tmp_path: Path, front: FakeHelpdesk,
                                                files: tuple[FileServer, Path]) -> None:
    server, ca = files
    config = parse_config({
        "state_dir": str(tmp_path / "var"),
        "http": {"host": "127.0.0.1", "port": 0},
        "ocr": {"enabled": False},
        "sources": [{"name": "front", "type": "webhook", "provider": "front", "secret": SECRET, "api_token": TOKEN,
                     "api_url": front.api_url, "allowed_hosts": [f"127.0.0.1:{server.port}"], "ca_file": str(ca)}],
        "rules": [{"name": "invoices", "when": {"doc_type": "invoice"},
                   "then": [{"move": "AP Team"}, {"keyword": "Invoices"}, {"assign": "anna@example.com"},
                            {"comment": "Invoice {invoice_number}: {total} {currency}"}, "flag"]}],
    })
    daemon = Daemon(config)
    thread = threading.Thread(target=daemon.run_forever, daemon=True)
    thread.start()
    try:
        assert wait_for(lambda: daemon.http_server is not None)
        body = front_event("msg_1", server.url("/att/invoice.pdf"))
        answer = requests.post(f"{daemon.http_server.url}/hooks/front", data=body,
                               headers=front_headers(SECRET, body), timeout=10)
        assert answer.status_code == 200, answer.text
        assert wait_for(lambda: front.conversations.get("cnv_1") and front.conversations["cnv_1"].comments), \
            f"no comment reached Front; calls: {[(c.method, c.path) for c in front.calls]}"
        assert wait_for(lambda: not any((spool_dir(config.state_dir, "front") / "new").iterdir()))
    finally:
        daemon.request_stop()
        thread.join(30)
    assert not thread.is_alive()
    state = front.conversations["cnv_1"]
    assert (state.place, state.tags, state.assignee) == ("inb_1", ["Invoices"], "tea_1")
    [comment] = state.comments
    assert comment.startswith("Invoice 4711: 99.00 EUR\n\n[inbox-ocr:")
    assert front.writes() == [("PATCH", "/conversations/cnv_1"), ("POST", "/conversations/cnv_1/tags"),
                              ("PUT", "/conversations/cnv_1/assignee"), ("POST", "/conversations/cnv_1/comments")]
    ledger = Ledger(ledger_path(config.state_dir))
    delivered = sorted(ledger.deliveries.recent(), key=lambda d: d.id)
    ledger.close()
    assert [json.loads(d.payload)["op"] for d in delivered] == ["move", "tag", "assign", "comment"]
    assert all(d.status == "delivered" for d in delivered)


def test_check_config_online_names_what_the_helpdesk_does_not_have(tmp_path: Path, front: FakeHelpdesk) -> None:
    from click.testing import CliRunner

    from inbox_ocr.app.cli import main

    def check(then: list[Any]) -> Any:
        config = tmp_path / "c.yaml"
        config.write_text(json.dumps({
            "sources": [{"name": "front", "type": "webhook", "provider": "front", "secret": SECRET,
                         "api_token": TOKEN, "api_url": front.api_url},
                        {"name": "mail", "type": "maildir", "path": str(tmp_path / "Maildir")}],
            "rules": [{"name": "front", "when": {"source": "front"}, "then": then},
                      {"name": "mail only", "when": {"source": "mail"}, "then": [{"move": "Invoices/Approval"}]}],
        }))
        return CliRunner().invoke(main, ["check-config", "--online", str(config)])

    good = check([{"move": "AP Team"}, {"keyword": "Invoices"}, {"assign": "Anna Ap"}])
    assert good.exit_code == 0, good.output
    assert "front: 3 name(s) looked up in front" in good.output
    bad = check([{"move": "AP Team"}, {"keyword": "Nope"}, {"assign": "nobody@example.com"}])
    assert bad.exit_code != 0
    assert "no Front tag named 'Nope'" in bad.output and "no Front teammate named 'nobody@example.com'" in bad.output
    assert "Invoices/Approval" not in bad.output  # a rule for another source is not asked about
