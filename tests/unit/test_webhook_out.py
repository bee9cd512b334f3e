"""The outbound webhook client: templates (shipped and custom, sandboxed), auth headers, redirects,
the circuit breaker and per-webhook jitter. HTTP is faked with `responses`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest
import responses

from connectors.webhook_out import Breakers, HttpSink, WebhookConfig, make_sink, shipped_templates
from inbox_ocr.kernel.errors import ConfigError, DeliveryFailed, DeliveryRejected
from inbox_ocr.kernel.models import MessageStatus
from inbox_ocr.orchestration.ledger import MessageIdentity, NewDelivery, Outcome
from inbox_ocr.orchestration.outbox import Outbox
from tests.outbound_payloads import Row, invoice_deliveries, payload

URL = "https://erp.example.com/api/documents"


def row(delivery: NewDelivery | None = None, payload_bytes: bytes | None = None) -> Row:
    d = delivery or invoice_deliveries()[0]
    return Row(1, "erp", d.idempotency_key, payload_bytes if payload_bytes is not None else d.payload)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def sink(clock: Clock | None = None, **cfg: Any) -> HttpSink:
    config = WebhookConfig.model_validate({"url": URL, **cfg})
    return HttpSink("erp", config, breakers=Breakers(clock or Clock()))


def rendered(template: str, vars: dict[str, str] | None = None, delivery: Row | None = None) -> Any:
    with responses.RequestsMock() as mock:
        mock.add(responses.POST, URL, status=201)
        sink(template=template, template_vars=vars or {}).deliver(delivery or row())
        return json.loads(mock.calls[0].request.body)


# --------------------------------------------------------------------------- templates


def test_all_five_templates_are_shipped() -> None:
    assert shipped_templates() == ["erp_invoice", "freshdesk", "generic", "jira", "zendesk"]


def test_generic_template_is_the_stored_payload_plus_vars() -> None:
    body = rendered("generic", {"tenant": "acme"})
    assert body == {**payload(invoice_deliveries()[0]), "vars": {"tenant": "acme"}}


def test_erp_invoice_carries_the_extracted_fields_as_decimal_strings() -> None:
    body = rendered("erp_invoice", {"company_code": "1000"})
    assert body["documentType"] == "invoice"
    assert body["companyCode"] == "1000"
    assert body["externalId"] == invoice_deliveries()[0].idempotency_key
    assert (body["invoiceNumber"], body["grossAmount"], body["netAmount"], body["taxAmount"]) == (
        "INV-2026-0042",
        "1234.56",
        "1028.80",
        "205.76",
    )
    assert body["supplier"]["iban"] == "DE89370400440532013000"
    assert [line["amount"] for line in body["lines"]] == ["260.00", "768.80"]


def test_erp_invoice_of_a_message_without_documents_has_nulls_not_errors() -> None:
    bare = {**payload(invoice_deliveries()[0]), "documents": []}
    body = rendered("erp_invoice", delivery=row(payload_bytes=json.dumps(bare).encode()))
    assert body["invoiceNumber"] is None and body["lines"] == [] and body["supplier"]["name"] is None


def test_jira_issue() -> None:
    body = rendered("jira", {"project_key": "AP", "labels": "finance, q4"})
    fields = body["fields"]
    assert fields["project"] == {"key": "AP"} and fields["issuetype"] == {"name": "Task"}
    assert "INV-2026-0042" in fields["summary"] and "1234.56" in fields["summary"]
    assert fields["labels"] == ["inbox-ocr", "invoice", "finance", "q4"]
    assert "billing@acme.example" in fields["description"]


def test_zendesk_ticket_optional_fields() -> None:
    with_group = rendered("zendesk", {"group_id": "360001", "priority": "high"})["ticket"]
    assert with_group["group_id"] == 360001 and with_group["priority"] == "high"
    assert with_group["requester"]["email"] == "billing@acme.example"
    assert with_group["external_id"] == invoice_deliveries()[0].idempotency_key
    plain = rendered("zendesk")["ticket"]
    assert "group_id" not in plain and "priority" not in plain


def test_freshdesk_description_escapes_html_from_the_mail() -> None:
    [hostile] = invoice_deliveries(1, subject="Invoice <script>alert(1)</script>")
    body = rendered("freshdesk", delivery=row(hostile))
    assert "<script>" not in body["description"] and "&lt;script&gt;" in body["description"]
    assert body["email"] == "billing@acme.example" and body["status"] == 2


def test_custom_template_file_and_its_failures(tmp_path: Path) -> None:
    good = tmp_path / "mine.json.j2"
    good.write_text('{"n": {{ fields.invoice_number | tojson }}, "missing": {{ fields.no_such.thing | tojson }}}')
    assert rendered(str(good)) == {"n": "INV-2026-0042", "missing": None}
    broken_json = tmp_path / "broken.json.j2"
    broken_json.write_text('{"n": {{ fields.invoice_number }}}')  # unquoted string
    with pytest.raises(DeliveryRejected, match="invalid JSON"):
        sink(template=str(broken_json)).deliver(row())
    syntax = tmp_path / "syntax.json.j2"
    syntax.write_text("{{ fields.total ")
    with pytest.raises(ConfigError, match="syntax.json.j2 line 1"):
        sink(template=str(syntax))


def test_templates_are_sandboxed(tmp_path: Path) -> None:
    escape = tmp_path / "escape.json.j2"
    escape.write_text('{"x": {{ payload.__class__.__mro__[1].__subclasses__() | length }}}')
    with pytest.raises(DeliveryRejected, match="SecurityError|UndefinedError|template"):
        sink(template=str(escape)).deliver(row())


# --------------------------------------------------------------------------- auth


@responses.activate
def test_bearer_basic_and_hmac_auth_headers() -> None:
    responses.add(responses.POST, URL, status=200)
    sink(auth={"type": "bearer", "token": "tok-1"}).deliver(row())
    sink(auth={"type": "basic", "username": "apikey", "password": "X"}).deliver(row())
    sink(auth={"type": "hmac", "secret": "s3", "header": "X-Hub-Signature-256"}, template="erp_invoice").deliver(row())
    bearer, basic, signed = (c.request for c in responses.calls)
    assert bearer.headers["Authorization"] == "Bearer tok-1"
    assert basic.headers["Authorization"] == "Basic " + base64.b64encode(b"apikey:X").decode()
    want = "sha256=" + hmac.new(b"s3", signed.body, hashlib.sha256).hexdigest()
    assert signed.headers["X-Hub-Signature-256"] == want  # over the rendered bytes actually sent
    assert {r.headers["Idempotency-Key"] for r in (bearer, basic, signed)} == {invoice_deliveries()[0].idempotency_key}


def test_incomplete_auth_is_a_config_error() -> None:
    with pytest.raises(ValueError, match="needs token"):
        WebhookConfig.model_validate({"url": URL, "auth": {"type": "bearer"}})


# --------------------------------------------------------------------------- redirects


@responses.activate
def test_redirect_on_the_same_host_is_followed() -> None:
    responses.add(responses.POST, URL, status=308, headers={"Location": "/api/v2/documents"})
    responses.add(responses.POST, "https://erp.example.com/api/v2/documents", status=201)
    assert sink().deliver(row()) == "HTTP 201"


@pytest.mark.parametrize("status", [302, 307])
@responses.activate
def test_redirect_to_another_host_is_not_followed(status: int) -> None:
    responses.add(responses.POST, URL, status=status, headers={"Location": "https://evil.example.net/collect"})
    responses.add(responses.POST, "https://evil.example.net/collect", status=200)
    with pytest.raises(DeliveryRejected, match="not followed"):
        sink(auth={"type": "bearer", "token": "tok-1"}).deliver(row())
    assert [c.request.url for c in responses.calls] == [URL]


# --------------------------------------------------------------------------- circuit breaker


@responses.activate
def test_circuit_opens_after_failures_in_a_row_and_closes_after_a_good_trial() -> None:
    clock = Clock()
    breakers = Breakers(clock)
    config = WebhookConfig.model_validate({"url": URL, "breaker_failures": 2, "breaker_cooldown": 60})
    other_config = WebhookConfig.model_validate({"url": "https://erp.example.com/api/other", "breaker_failures": 2})
    erp, other = HttpSink("erp", config, breakers=breakers), HttpSink("other", other_config, breakers=breakers)
    responses.add(responses.POST, URL, status=503)
    for _ in range(2):
        with pytest.raises(DeliveryFailed, match="HTTP 503"):
            erp.deliver(row())
    with pytest.raises(DeliveryFailed, match="circuit open"):
        erp.deliver(row())
    with pytest.raises(DeliveryFailed, match="circuit open"):  # same target host, other webhook
        other.deliver(row())
    assert len(responses.calls) == 2
    clock.now += 61
    responses.replace(responses.POST, URL, status=201)
    assert erp.deliver(row()) == "HTTP 201"  # the trial
    assert erp.breaker.state == "closed" and len(responses.calls) == 3


@responses.activate
def test_failed_trial_opens_the_circuit_again() -> None:
    clock = Clock()
    s = sink(clock, breaker_failures=1, breaker_cooldown=30)
    responses.add(responses.POST, URL, status=502)
    with pytest.raises(DeliveryFailed):
        s.deliver(row())
    clock.now += 31
    with pytest.raises(DeliveryFailed, match="HTTP 502"):
        s.deliver(row())
    with pytest.raises(DeliveryFailed, match="circuit open"):
        s.deliver(row())
    assert len(responses.calls) == 2


@responses.activate
def test_client_errors_do_not_open_the_circuit() -> None:
    s = sink(breaker_failures=1)
    responses.add(responses.POST, URL, status=422)
    for _ in range(3):
        with pytest.raises(DeliveryRejected):
            s.deliver(row())
    assert s.breaker.state == "closed" and len(responses.calls) == 3


# --------------------------------------------------------------------------- retry policy


def test_backoff_is_exponential_capped_and_jittered_per_webhook() -> None:
    configs = {
        "calm": WebhookConfig.model_validate({"url": URL, "backoff": "10s", "max_backoff": "60s", "jitter": 0}),
        "spread": WebhookConfig.model_validate({"url": URL, "backoff": "10s", "max_backoff": "60s", "jitter": 0.5}),
    }
    outbox = Outbox(ledger=None, sinks={}, policies=configs, jitter=lambda: 1.0)  # type: ignore[arg-type]
    assert [outbox.backoff("calm", n) for n in (1, 2, 3, 4, 5)] == [10, 20, 40, 60, 60]
    assert [outbox.backoff("spread", n) for n in (1, 2, 4)] == [15, 30, 90]


def test_file_sink_renders_the_template(tmp_path: Path) -> None:
    config = WebhookConfig.model_validate({"url": f"file://{tmp_path}/drop", "template": "erp_invoice"})
    receipt = make_sink("erp", config).deliver(row())
    written = json.loads((tmp_path / "drop" / f"{invoice_deliveries()[0].idempotency_key}.json").read_text())
    assert receipt.startswith("file ") and written["grossAmount"] == "1234.56"


def test_outbox_show_renders_the_template_for_a_stored_delivery(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from inbox_ocr.app.cli import main
    from inbox_ocr.orchestration.ledger import Ledger

    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        f"state_dir: {tmp_path / 'var'}\nsources:\n  - {{name: inbox, type: maildir, path: {tmp_path}}}\n"
        "webhooks:\n  erp: {url: 'https://erp.example.com/x', template: jira, "
        "template_vars: {project_key: AP}}\n"
    )
    ledger = Ledger(tmp_path / "var" / "ledger.sqlite3")
    ledger.messages.record_outcome(Outcome(
        identity=MessageIdentity("inbox", "k0", "<m@x>", "h", "Invoice", "billing@acme.example"),
        status=MessageStatus.DONE, rule="invoices", deliveries=(invoice_deliveries()[0],),
    ))
    ledger.close()
    result = CliRunner().invoke(main, ["outbox", "show", "1", "--rendered", "--config", str(cfg)])
    assert result.exit_code == 0, result.output
    rendered_json = json.loads(result.output.split("\n", 1)[1])
    assert rendered_json["fields"]["project"] == {"key": "AP"}
    stored = CliRunner().invoke(main, ["outbox", "show", "1", "--config", str(cfg)])
    assert json.loads(stored.output.split("\n", 1)[1])["event"] == "message.routed"


def test_check_config_compiles_templates_and_lists_webhook_paths(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from inbox_ocr.app.cli import main

    broken = tmp_path / "broken.json.j2"
    broken.write_text("{{ fields.total ")
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        "sources:\n  - {name: pm, type: webhook, provider: postmark, username: u, secret: s}\n"
        f"webhooks:\n  erp: {{url: 'https://erp.example.com/x', template: {broken}}}\n"
    )
    failed = CliRunner().invoke(main, ["check-config", str(cfg)])
    assert failed.exit_code != 0 and "webhooks.erp.template" in failed.output
    broken.write_text("{}")
    ok = CliRunner().invoke(main, ["check-config", str(cfg)])
    assert ok.exit_code == 0 and "POST http://127.0.0.1:8025/hooks/pm" in ok.output
