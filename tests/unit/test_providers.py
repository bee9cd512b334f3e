"""Provider modules without HTTP: payload edge cases, header injection, the allowed-hosts rule,
config validation and the spool's dedupe. (Signatures over real HTTP: tests/integration.)"""

from __future__ import annotations

import base64
import json
import time
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.webhook_in import WebhookSourceConfig
from connectors.webhook_in.providers import Inbound, InboundRequest, ProviderContext, Reply, WebhookError, get_provider
from connectors.webhook_in.providers.common import build_message
from connectors.webhook_in.providers.fetch import AttachmentFetcher
from connectors.webhook_in.spool import Spool
from inbox_ocr.app.config import parse_config
from inbox_ocr.kernel.errors import ConfigError
from inbox_ocr.mime.parse import parse_message


def config(provider: str, **extra: Any) -> WebhookSourceConfig:
    return WebhookSourceConfig.model_validate(
        {"type": "webhook", "name": "t", "provider": provider, "allow_unsigned": True, **extra}
    )


def normalize(
    provider: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    **extra: Any,
) -> Inbound | Reply:
    cfg = config(provider, **extra)
    raw = json.dumps(body).encode() if body is not None else b""
    request = InboundRequest({k.lower(): v for k, v in (headers or {}).items()}, raw, "application/json", form or {})
    ctx = ProviderContext(cfg, time.time, lambda token: False, AttachmentFetcher(cfg))
    return get_provider(provider).normalize(request, ctx)


# --------------------------------------------------------------------------- message building


@settings(max_examples=60, deadline=None)
@given(subject=st.text(max_size=80), name=st.text(max_size=40))
def test_provider_fields_never_inject_headers(subject: str, name: str) -> None:
    raw = build_message(
        sender=f"{name} <a@example.com>", to=["b@example.com"], subject=subject + "\r\nBcc: x@evil", text="hi"
    )
    msg = message_from_bytes(raw, policy=policy.default)
    assert msg["Bcc"] is None
    assert parse_message(raw).recipients == ("b@example.com",)


def test_original_body_headers_are_not_copied_onto_the_rebuilt_body() -> None:
    raw = build_message(
        sender="a@example.com",
        text="plain",
        headers=[("Content-Type", "text/html"), ("Message-ID", "<x@y>"), ("X-Spam", "no")],
    )
    msg = message_from_bytes(raw, policy=policy.default)
    assert msg.get_content_type() == "text/plain" and msg["Message-ID"] == "<x@y>" and msg["X-Spam"] == "no"


def test_iso_and_rfc_dates_become_rfc_5322() -> None:
    for value in ("2026-11-21T10:00:00Z", "Sat, 21 Nov 2026 10:00:00 +0000"):
        raw = build_message(sender="a@example.com", date=value, text="x")
        assert parse_message(raw).date is not None and parse_message(raw).date.year == 2026


# --------------------------------------------------------------------------- payload edge cases


def test_postmark_raw_email_is_used_verbatim() -> None:
    raw = b"From: a@example.com\nSubject: hi\nMessage-ID: <r@x>\n\nbody\n"
    result = normalize("postmark", {"MessageID": "pm-9", "RawEmail": raw.decode()})
    assert isinstance(result, Inbound) and result.raw == raw and result.provider_id == "postmark:pm-9"


def test_postmark_bad_base64_attachment_is_a_422() -> None:
    with pytest.raises(WebhookError) as exc:
        normalize(
            "postmark",
            {"MessageID": "pm-1", "From": "a@example.com", "Attachments": [{"Name": "x.pdf", "Content": 12}]},
        )
    assert exc.value.status == 422 and "Attachments[0]" in exc.value.reason


def test_postmark_empty_object_is_refused() -> None:
    with pytest.raises(WebhookError, match="not a Postmark inbound payload"):
        normalize("postmark", {"MessageID": "x"})


def test_front_ignores_outbound_and_refuses_previews() -> None:
    event = {
        "type": "outbound_sent",
        "payload": {"target": {"_meta": {"type": "message"}, "data": {"id": "msg_1", "is_inbound": False}}},
    }
    assert isinstance(normalize("front", event), Reply)
    preview = {"payload": {"target": {"_meta": {"type": "message"}, "data": {"id": "msg_2", "is_inbound": True}}}}
    with pytest.raises(WebhookError, match="preview"):
        normalize("front", preview)
    tag = {"type": "tag_added", "payload": {"target": {"_meta": {"type": "tag"}, "data": {"id": "tag_1"}}}}
    assert isinstance(normalize("front", tag), Reply)


def test_zendesk_needs_ticket_and_comment_ids() -> None:
    with pytest.raises(WebhookError) as exc:
        normalize("zendesk", {"ticket": {"id": "1"}})
    assert exc.value.status == 422


def test_helpscout_conversation_without_customer_thread_is_refused() -> None:
    body = {"id": 5, "_embedded": {"threads": [{"id": 1, "type": "note", "body": "internal"}]}}
    with pytest.raises(WebhookError, match="no customer thread"):
        normalize("helpscout", body, headers={"X-HelpScout-Event": "convo.created"})


def test_mailgun_without_sender_or_mime_is_refused() -> None:
    with pytest.raises(WebhookError, match="not a Mailgun route payload"):
        normalize("mailgun", form={"subject": "x"})


def test_mailgun_message_headers_must_be_json() -> None:
    with pytest.raises(WebhookError, match="message-headers"):
        normalize("mailgun", form={"from": "a@example.com", "message-headers": "[oops"})


# --------------------------------------------------------------------------- allowed hosts


# A resolver stub: what each name resolves to (no DNS in tests).
ADDRESSES = {
    "acme.zendesk.com": ["104.16.51.111"],
    "api2.frontapp.com": ["34.120.12.7", "2600:1901:0:1::7"],
    "rebind.zendesk.com": ["34.120.12.8", "127.0.0.1"],  # one public, one loopback address
    "intranet.zendesk.com": ["10.1.2.3"],
    "meta.zendesk.com": ["169.254.169.254"],  # link-local: a cloud metadata service
    "mapped.zendesk.com": ["::ffff:192.168.1.1"],
    "files.example.com": ["93.184.216.34"],
}


def stub_resolver(host: str, port: int) -> list[str]:
    return ADDRESSES[host]


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://acme.zendesk.com/attachments/1", True),
        ("https://zendesk.com/attachments/1", False),  # only subdomains match *.zendesk.com
        ("https://acme.zendesk.com.evil.net/a", False),
        ("https://api2.frontapp.com/download/fil_1", True),
        ("https://api2.frontapp.com:443/download/fil_1", True),
        ("https://api2.frontapp.com:8443/download/fil_1", False),  # an entry without a port means 443
        ("https://files.example.com:8443/a.pdf", True),  # ... and an entry with one, that port
        ("https://files.example.com/a.pdf", False),
        ("http://api2.frontapp.com/download/fil_1", False),  # the token never goes over plain HTTP
        ("https://user:pw@api2.frontapp.com/download/x", False),  # credentials in a URL are refused
        ("https://api2.frontapp.com:8443\\@acme.zendesk.com/x", False),  # connects to frontapp:8443
        ("ftp://api2.frontapp.com/x", False),
        ("file:///etc/passwd", False),
        ("https://rebind.zendesk.com/a", False),  # any non-public address refuses the name
        ("https://intranet.zendesk.com/a", False),
        ("https://meta.zendesk.com/latest", False),
        ("https://mapped.zendesk.com/a", False),
        ("https://127.0.0.1:9443/a", True),  # an address listed explicitly is allowed as listed
        ("https://127.0.0.1/a", False),
        ("https://[::1]:9443/a", False),
    ],
)
def test_attachment_hosts(url: str, allowed: bool) -> None:
    fetcher = AttachmentFetcher(
        config("front", allowed_hosts=["*.zendesk.com", "api2.frontapp.com", "files.example.com:8443",
                                       "127.0.0.1:9443"]),
        resolve=stub_resolver,
    )
    assert fetcher.host_allowed(url) is allowed


@pytest.mark.parametrize("entry", ["host:99999", "http://files.example.com", "a b", "*.10.0.0.1", "*"])
def test_allowed_hosts_entries_are_checked_with_the_config(entry: str) -> None:
    with pytest.raises(ConfigError, match="allowed_hosts entry"):
        parse_config({"sources": [{"name": "f", "type": "webhook", "provider": "front", "secret": "s",
                                   "allowed_hosts": [entry]}]})


def test_disallowed_attachment_url_is_left_out_with_a_note() -> None:
    fetcher = AttachmentFetcher(config("front", allowed_hosts=[]))
    attachments, notes = fetcher.fetch_all([("https://files.example.com/a.pdf", "a.pdf", "application/pdf")])
    assert attachments == [] and "not in allowed_hosts" in notes[0]


# --------------------------------------------------------------------------- config


def test_webhook_source_config_errors_name_the_key() -> None:
    with pytest.raises(ConfigError, match=r"sources\[0\].*mailgun needs a secret"):
        parse_config({"sources": [{"name": "mg", "type": "webhook", "provider": "mailgun"}]})
    with pytest.raises(ConfigError, match="postmark checks HTTP Basic auth"):
        parse_config({"sources": [{"name": "pm", "type": "webhook", "provider": "postmark", "secret": "s"}]})
    with pytest.raises(ConfigError, match="paths must be unique"):
        parse_config(
            {
                "sources": [
                    {"name": "a", "type": "webhook", "provider": "mime", "secret": "s", "path": "/in"},
                    {"name": "b", "type": "webhook", "provider": "mime", "secret": "s", "path": "/in"},
                ]
            }
        )
    ok = parse_config(
        {
            "sources": [
                {
                    "name": "sg",
                    "type": "webhook",
                    "provider": "sendgrid",
                    "public_key": base64.b64encode(b"k").decode(),
                    "max_body_bytes": "10MB",
                }
            ]
        }
    )
    assert ok.sources[0].url_path == "/hooks/sg" and ok.sources[0].max_body_bytes == 10 * 1024**2


# --------------------------------------------------------------------------- spool


def test_spool_stores_once_per_provider_id_and_survives_a_reopen(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s")
    key, new = spool.store(b"From: a@x\n\nhi\n", "postmark:1")
    assert new and spool.store(b"From: a@x\n\nhi again\n", "postmark:1") == (key, False)
    spool.close()
    reopened = Spool(tmp_path / "s")
    assert reopened.store(b"From: a@x\n\nthird\n", "postmark:1") == (key, False)
    assert [k for k, _ in reopened.pending()] == [key]
    assert not any((tmp_path / "s" / "tmp").iterdir())


def test_tokens_are_one_time(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s")
    assert not spool.token_used("t1")
    spool.use_tokens(["t1"], keep_for=600)
    assert spool.token_used("t1") and not spool.token_used("t2")


def test_rebuilt_message_without_message_id_is_recognised_on_retry() -> None:
    """A Mailgun retry carries a new timestamp, token and signature but the same fields: it must map
    to the same provider id (the rebuilt bytes differ, they carry a fresh Date)."""
    fields = {"from": "a@example.com", "recipient": "ap@example.com", "subject": "Invoice", "body-plain": "x"}
    first = normalize("mailgun", form={**fields, "timestamp": "1", "token": "t1", "signature": "s1"})
    retry = normalize("mailgun", form={**fields, "timestamp": "2", "token": "t2", "signature": "s2"})
    other = normalize("mailgun", form={**fields, "subject": "Invoice 2", "timestamp": "3", "token": "t3"})
    assert isinstance(first, Inbound) and isinstance(retry, Inbound) and isinstance(other, Inbound)
    assert first.provider_id == retry.provider_id != other.provider_id
    assert parse_message(first.raw).message_id == parse_message(retry.raw).message_id


def test_postmark_payload_with_wrong_types_is_a_clear_422() -> None:
    from connectors.webhook_in.providers import WebhookError
    from connectors.webhook_in.providers.postmark import _list

    with pytest.raises(WebhookError) as info:
        _list({"Attachments": True}, "Attachments")
    assert info.value.status == 422 and "Attachments must be a list" in str(info.value)
    assert _list({"Headers": None}, "Headers") == []


@pytest.mark.parametrize(
    ("timestamp", "unit", "status"),
    [
        ("1790000000", "s", None),
        ("1789999000", "s", 403),            # 1,000 s old: outside the 5-minute window
        ("1790000100", "s", None),           # a little clock skew either way is fine
        ("1790000000000", "ms", None),       # Front sends milliseconds
        ("1790000000", "ms", 403),           # seconds taken for milliseconds are 1970: stale
        ("2026-09-21T14:13:20Z", "iso", None),  # Zendesk sends ISO 8601 (= 1790000000)
        ("2026-09-21T13:00:00Z", "iso", 403),
        ("yesterday", "s", 401),
        ("1790000000", "iso", 401),
    ],
)
def test_signed_timestamps_are_parsed_and_checked_in_one_place(timestamp: str, unit: str, status: int | None) -> None:
    from connectors.webhook_in.providers.common import check_fresh

    cfg = config("mime")
    ctx = ProviderContext(cfg, lambda: 1_790_000_000.0, lambda token: False, AttachmentFetcher(cfg))
    if status is None:
        check_fresh(timestamp, ctx, unit)  # type: ignore[arg-type]
        return
    with pytest.raises(WebhookError) as info:
        check_fresh(timestamp, ctx, unit)  # type: ignore[arg-type]
    assert info.value.status == status
