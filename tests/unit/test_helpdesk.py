"""Helpdesk routing, piece by piece: the assign and comment actions, how changes become calls, and
each API client against `responses` (the real HTTP runs are tests/integration/test_helpdesk.py)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
import requests
import responses
from click.testing import CliRunner

from connectors.helpdesk.api import ApiClient, bearer, marker
from connectors.helpdesk.services import Front, HelpScout, Zendesk, check_id
from connectors.helpdesk.source import calls_for, conversation_of
from inbox_ocr.app.cli import main
from inbox_ocr.app.config import parse_config
from inbox_ocr.kernel.errors import ConfigError, DeliveryFailed, DeliveryRejected
from inbox_ocr.kernel.models import HelpdeskCall, MailboxChanges, RawMessage
from routing.engine import decide
from tests.unit.test_rules import make_doc, make_input

BASE = {"sources": [{"name": "desk", "type": "webhook", "provider": "front", "secret": "s" * 16, "api_token": "t"}]}


def rules(*then: object) -> list:  # type: ignore[type-arg]
    return parse_config({**BASE, "rules": [{"name": "r", "then": list(then)}]}).rules


def test_assign_and_comment_become_changes_with_the_invoice_values_in_the_comment() -> None:
    config_rules = rules({"assign": "anna@example.com"}, {"comment": "Invoice {invoice_number} over {total} {currency}"
                                                                     " from {vendor}, due {due_date}"})
    inp = make_input(make_doc("a.pdf", "invoice", invoice_number="4711", total=Decimal("99.00"), currency="EUR"))
    decision = decide(inp, config_rules)
    assert decision.mailbox == MailboxChanges(assign_to="anna@example.com",
                                              comments=("Invoice 4711 over 99.00 EUR from -, due -",))
    assert decision.actions[0] == "assign: anna@example.com"
    assert decision.actions[1].startswith("comment: Invoice {invoice_number} over {total} {currency}")


@pytest.mark.parametrize(("template", "error"), [
    ("Total {amount}", "unknown field(s) amount"),
    ("Total {total.real}", "unknown field(s) total.real"),
    ("Total {total", "expected '}'"),
])
def test_a_comment_template_with_an_unknown_field_is_a_config_error(template: str, error: str) -> None:
    with pytest.raises(ConfigError, match=error.replace("(", r"\(").replace(")", r"\)")):
        rules({"comment": template})


def test_one_assignee_the_first_rule_wins() -> None:
    config = parse_config({**BASE, "rules": [{"name": "a", "then": [{"assign": "anna"}]},
                                             {"name": "b", "then": [{"assign": "bob"}]}]})
    decision = decide(make_input(), config.rules)
    assert decision.mailbox.assign_to == "anna" and any("first one wins" in x for x in decision.explanation)


def test_changes_become_calls_in_order_and_what_an_api_lacks_is_named() -> None:
    changes = MailboxChanges(move_to="AP", keywords=("a", "b"), mark_seen=True, flag=True, assign_to="anna",
                             comments=("hello",))
    calls, skipped = calls_for("front", "cnv_1", changes)
    assert [(c.op, c.arg) for c in calls] == [("move", "AP"), ("tag", "a"), ("tag", "b"), ("assign", "anna"),
                                              ("comment", "hello"), ("done", None)]
    assert skipped == ["flag"]
    calls, skipped = calls_for("zendesk", "42", changes)
    assert [c.op for c in calls][-1] == "flag" and skipped == []


def test_the_conversation_comes_from_the_providers_header_or_the_key() -> None:
    head = b"X-Inbox-Ocr-Conversation: cnv_9\r\nSubject: x\r\n\r\nb"
    with_header = RawMessage(source="f", key="front:msg_1", raw=head)
    assert conversation_of(with_header) == "cnv_9"
    old = RawMessage(source="z", key="zendesk:4711/99", raw=b"Subject: x\r\n\r\nb")
    assert conversation_of(old) == "4711"
    assert conversation_of(RawMessage(source="f", key="front:msg_2", raw=b"Subject: x\r\n\r\nb")) is None


@pytest.mark.parametrize("bad", ["", "../admin", "cnv 1", "1?x=y"])
def test_a_conversation_id_that_is_not_an_id_never_reaches_a_url(bad: str) -> None:
    with pytest.raises(DeliveryRejected):
        check_id(bad)


def test_api_url_is_https_or_loopback_http() -> None:
    source = {**BASE["sources"][0], "api_url": "http://helpdesk.example/api"}
    with pytest.raises(ConfigError, match="https"):
        parse_config({"sources": [source]})
    source["api_url"] = "https://user:pw@helpdesk.example/api"
    with pytest.raises(ConfigError, match="no credentials"):
        parse_config({"sources": [source]})
    source["api_url"] = "http://127.0.0.1:8080/api/"
    assert parse_config({"sources": [source]}).sources[0].api_url == "http://127.0.0.1:8080/api"  # type: ignore[union-attr]


def test_webhook_names_starting_with_helpdesk_are_reserved() -> None:
    with pytest.raises(ConfigError, match="helpdesk:"):
        parse_config({**BASE, "webhooks": {"helpdesk:desk": {"url": "http://127.0.0.1:9/"}}})


# --------------------------------------------------------------------------- the API clients


def client(base: str) -> ApiClient:
    return ApiClient(base, bearer("tok"), session=requests.Session())


@responses.activate
def test_front_follows_pagination_to_find_a_tag_and_adds_it_by_id() -> None:
    responses.get("https://api2.frontapp.com/tags", json={"_results": [{"id": "tag_1", "name": "Paid"}],
                  "_pagination": {"next": "https://api2.frontapp.com/tags?page_token=2"}})
    responses.get("https://api2.frontapp.com/tags?page_token=2", json={"_results": [{"id": "tag_2",
                  "name": "Invoices"}], "_pagination": {"next": None}})
    add = responses.post("https://api2.frontapp.com/conversations/cnv_1/tags", status=204)
    assert Front(client("https://api2.frontapp.com")).tag("cnv_1", "invoices") == "tagged 'invoices'"
    assert json.loads(add.calls[0].request.body) == {"tag_ids": ["tag_2"]}
    assert add.calls[0].request.headers["Authorization"] == "Bearer tok"


@responses.activate
def test_a_pagination_link_to_another_host_is_not_followed_with_the_token() -> None:
    responses.get("https://api2.frontapp.com/inboxes", json={"_results": [],
                  "_pagination": {"next": "https://evil.example/inboxes?page=2"}})
    with pytest.raises(DeliveryRejected, match="not under the configured api_url"):
        Front(client("https://api2.frontapp.com")).move("cnv_1", "AP")


@responses.activate
def test_zendesk_comment_is_an_internal_note_and_a_429_waits_as_asked() -> None:
    base = "https://acme.zendesk.com/api/v2"
    responses.get(f"{base}/tickets/42/comments", json={"comments": [], "next_page": None})
    responses.put(f"{base}/tickets/42", status=429, headers={"Retry-After": "37"})
    desk = Zendesk(client(base))
    call = HelpdeskCall(op="comment", conversation="42", arg="Total 99.00")
    with pytest.raises(DeliveryFailed) as caught:
        desk.perform(call, "k" * 32)
    assert caught.value.retry_after == 37.0
    responses.put(f"{base}/tickets/42", json={"ticket": {"id": 42}})
    assert desk.perform(call, "k" * 32) == "internal note added"
    sent = json.loads(responses.calls[-1].request.body)
    assert sent == {"ticket": {"comment": {"body": f"Total 99.00\n\n{marker('k' * 32)}", "public": False}}}


@responses.activate
def test_helpscout_keeps_the_conversations_tags_when_adding_one() -> None:
    base = "https://api.helpscout.net/v2"
    responses.get(f"{base}/conversations/7", json={"id": 7, "tags": [{"id": 1, "tag": "vip"}]})
    put = responses.put(f"{base}/conversations/7/tags", status=204)
    assert HelpScout(client(base)).tag("7", "Invoices") == "tagged 'Invoices'"
    assert json.loads(put.calls[0].request.body) == {"tags": ["vip", "Invoices"]}


@responses.activate
def test_helpscout_rate_limit_header_and_a_server_error_are_retried_a_bad_request_is_not() -> None:
    base = "https://api.helpscout.net/v2"
    responses.patch(f"{base}/conversations/7", status=429, headers={"X-RateLimit-Retry-After": "12"})
    desk = HelpScout(client(base))
    with pytest.raises(DeliveryFailed) as caught:
        desk.done("7")
    assert caught.value.retry_after == 12.0
    responses.patch(f"{base}/conversations/7", status=503)
    with pytest.raises(DeliveryFailed):
        desk.done("7")
    responses.patch(f"{base}/conversations/7", status=400, json={"message": "bad"})
    with pytest.raises(DeliveryRejected, match="HTTP 400"):
        desk.done("7")


def test_dry_run_shows_the_api_calls_a_helpdesk_message_would_cause(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text(json.dumps({**BASE, "ocr": {"enabled": False},
                                  "default": [{"keyword": "Invoices"}, {"comment": "Subject: {subject}"}, "flag"]}))
    message = tmp_path / "m.eml"
    message.write_bytes(b"X-Inbox-Ocr-Conversation: cnv_7\r\nSubject: Invoice 1\r\nFrom: a@b.example\r\n\r\nhello\r\n")
    result = CliRunner().invoke(main, ["process", "--dry-run", "-c", str(config), "--source", "desk", str(message)])
    assert result.exit_code == 0, result.output
    assert "front API calls (source desk):" in result.output
    assert "tag 'Invoices' on cnv_7" in result.output and "comment 'Subject: Invoice 1' on cnv_7" in result.output
    assert "flag: not made (front's API has no flag)" in result.output
