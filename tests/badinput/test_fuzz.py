"""Hypothesis fuzzing, bounded in time: the MIME parser and the inbound webhook payload parsers.

The MIME parser must return a ParsedMessage or raise MalformedMessage, for any bytes. The webhook
request handler must answer 2xx or a clear 4xx for any payload (a 500 would make a provider retry
the same payload forever), and whatever it stores must parse.

Examples per test: INBOX_OCR_FUZZ_EXAMPLES (default 150; the soak uses more).
"""

from __future__ import annotations

import base64
import json
import os
import re
import time
from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.webhook_in import WebhookSourceConfig
from connectors.webhook_in.http import Endpoint, _handle
from connectors.webhook_in.providers import InboundRequest, WebhookError, get_provider
from connectors.webhook_in.providers.fetch import AttachmentFetcher
from connectors.webhook_in.spool import Spool
from inbox_ocr.app.samples import invoice_doc, render_pdf
from inbox_ocr.kernel.errors import MalformedMessage
from inbox_ocr.kernel.models import ParsedMessage
from inbox_ocr.mime.parse import parse_message

EXAMPLES = int(os.environ.get("INBOX_OCR_FUZZ_EXAMPLES", "150"))
# no deadline: an example's time says nothing about correctness, and CI machines are busy (one
# example waiting 5 s for an fsync failed a run)
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=False,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
PROVIDERS = ("postmark", "mailgun", "sendgrid", "mime", "front", "zendesk", "helpscout")
PDF_B64 = base64.b64encode(render_pdf(invoice_doc(number="FUZZ-1"))).decode()


def _seed_message() -> bytes:
    msg = EmailMessage()
    msg["From"] = "Vendor <billing@vendor.example>"
    msg["To"] = "ap@company.example"
    msg["Subject"] = "Invoice FUZZ-1"
    msg["Message-ID"] = "<fuzz-1@vendor.example>"
    msg.set_content("Invoice attached.")
    msg.add_attachment(base64.b64decode(PDF_B64), maintype="application", subtype="pdf", filename="fuzz.pdf")
    return msg.as_bytes()


SEED = _seed_message()

# --------------------------------------------------------------------------- MIME


@st.composite
def mangled_mime(draw: st.DrawFn) -> bytes:
    """A real message with bytes cut, repeated, swapped or replaced, and MIME tokens spliced in."""
    data = bytearray(SEED)
    tokens = [b"\r\n--", b"boundary=", b"Content-Type: multipart/mixed;", b"Content-Transfer-Encoding: base64",
              b"charset=\"x-unknown\"", b"=?utf-8?B?", b"?=", b"message/rfc822", b"filename*=", b"\x00", b"\xff",
              b"\r\n\r\n", b"Content-Disposition: attachment; filename=\"../../x\""]
    for _ in range(draw(st.integers(1, 8))):
        op = draw(st.sampled_from(["cut", "insert", "replace", "dup"]))
        at = draw(st.integers(0, len(data)))
        if op == "cut":
            del data[at:at + draw(st.integers(1, 2000))]
        elif op == "insert":
            data[at:at] = draw(st.sampled_from(tokens) | st.binary(max_size=40))
        elif op == "replace":
            data[at:at + 1] = draw(st.binary(min_size=1, max_size=1))
        else:
            data[at:at] = bytes(data[at:at + draw(st.integers(1, 500))]) * draw(st.integers(1, 20))
    return bytes(data)


@FUZZ
@given(raw=mangled_mime() | st.binary(max_size=3000))
def test_mime_parser_returns_a_message_or_a_clear_malformed_error(raw: bytes) -> None:
    started = time.monotonic()
    try:
        parsed = parse_message(raw)
    except MalformedMessage as exc:
        assert str(exc)
        return
    assert isinstance(parsed, ParsedMessage)
    for att in parsed.attachments:  # names are safe whatever the input said
        assert "/" not in att.filename and "\\" not in att.filename and not any(ord(c) < 32 for c in att.filename)
    assert time.monotonic() - started < 5


# --------------------------------------------------------------------------- webhook providers


def _vocabulary(provider: str) -> list[str]:
    """The keys and field names a provider module looks for, so the fuzzer speaks its language."""
    folder = Path(__file__).resolve().parents[2] / "connectors" / "webhook_in" / "providers"
    text = (folder / f"{provider}.py").read_text() + (folder / "common.py").read_text()
    return sorted(set(re.findall(r"[\"']([A-Za-z][\w-]{1,30})[\"']", text)))


def _values(vocab: list[str]) -> st.SearchStrategy:
    leaves = (st.none() | st.booleans() | st.integers(-2**40, 2**40) | st.text(max_size=40)
              | st.sampled_from(vocab) | st.just(PDF_B64) | st.just(SEED.decode("latin-1"))
              | st.sampled_from(["2026-11-21T10:00:00Z", "Sat, 21 Nov 2026 10:00:00 +0000", "application/pdf",
                                 "a@b.example", "https://attacker.example/x.pdf", "../../etc/passwd"]))
    return st.recursive(leaves, lambda kids: st.lists(kids, max_size=4)
                        | st.dictionaries(st.sampled_from(vocab) | st.text(max_size=8), kids, max_size=6),
                        max_leaves=25)


@st.composite
def provider_requests(draw: st.DrawFn, provider: str) -> InboundRequest:
    vocab = _vocabulary(provider)
    if get_provider(provider).parses_form:
        form = draw(st.dictionaries(st.sampled_from(vocab), st.text(max_size=60) | st.just(SEED.decode("latin-1"))
                                    | st.sampled_from(vocab), max_size=10))
        files = draw(st.dictionaries(st.sampled_from(["attachment-1", "attachment1", "email", "file"]),
                                     st.tuples(st.text(max_size=20), st.sampled_from(["application/pdf", "x/y", ""]),
                                               st.binary(max_size=200) | st.just(SEED)), max_size=3))
        return InboundRequest({"content-type": "multipart/form-data"}, b"", "multipart/form-data", form, files)
    if provider == "mime":
        body = draw(mangled_mime() | st.binary(max_size=500))
        return InboundRequest({"content-type": "message/rfc822"}, body, "message/rfc822")
    value = draw(st.dictionaries(st.sampled_from(vocab), _values(vocab), max_size=10) | _values(vocab))
    body = json.dumps(value).encode() if draw(st.booleans()) else draw(st.binary(max_size=200))
    return InboundRequest({"content-type": "application/json"}, body, "application/json")


@pytest.mark.parametrize("provider", PROVIDERS)
def test_webhook_payload_parsers_answer_2xx_or_a_clear_4xx(provider: str, tmp_path: Path,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    """Through the server's own request handler (signature checks off): a message stored with 200,
    a reply, or a WebhookError with a 4xx; never an unhandled exception (a 500 the provider retries
    forever). Payloads that trip a provider module are counted and printed (they are refused with
    422 by webhook_in's guard, and logged with a traceback)."""
    config = WebhookSourceConfig(name=f"fuzz-{provider}", type="webhook", provider=provider, allow_unsigned=True)
    # no allowed hosts: a URL in a payload is refused, nothing leaves this machine
    endpoint = Endpoint(config, get_provider(provider), Spool(tmp_path / "spool"), AttachmentFetcher(config))
    tripped: dict[str, int] = {}

    @FUZZ
    @given(request=provider_requests(provider))
    def run(request: InboundRequest) -> None:
        try:
            status, body = _handle(endpoint, request, time.time)
        except WebhookError as exc:
            assert 400 <= exc.status < 500 and exc.reason, (exc.status, exc.reason)
            if exc.status == 422 and "could not be read" in exc.reason:
                kind = exc.__cause__.__class__.__name__ if exc.__cause__ else "?"
                tripped[kind] = tripped.get(kind, 0) + 1
            return
        assert 200 <= status < 300
        if "stored" in body:
            stored = endpoint.spool.locate(body["stored"])
            assert stored is not None
            try:
                parse_message(stored.read_bytes())
            except MalformedMessage:
                pytest.fail(f"{provider} stored a message our own parser refuses: {stored.read_bytes()[:300]!r}")

    with caplog.at_level("CRITICAL"):  # the guard's tracebacks would flood the output
        run()
    print(f"\nfuzz {provider}: {EXAMPLES} examples; payloads that tripped the provider module (refused 422): "
          f"{tripped or 'none'}")
