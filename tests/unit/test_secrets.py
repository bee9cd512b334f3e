"""Masking configured secrets in every form they travel in (inbox_ocr/kernel/secrets.py)."""

from __future__ import annotations

import base64
import io
from urllib.parse import quote

from inbox_ocr.app.config import parse_config, secret_values, url_tokens
from inbox_ocr.kernel.secrets import MaskingStream, Redactor


def test_forms_of_a_secret_are_masked() -> None:
    secret = "p@ss word/42+x"
    redactor = Redactor([secret, "bot:" + secret])
    for shown in (secret, quote(secret, safe=""), base64.b64encode(secret.encode()).decode(),
                  base64.b64encode(f"bot:{secret}".encode()).decode()):
        assert redactor.mask(f"before {shown} after") == "before *** after", shown
    assert Redactor(["abc"]).mask("abc abcd") == "abc abcd"  # too short to mask without garbling text


def test_the_config_names_pairs_headers_and_url_tokens() -> None:
    config = parse_config({
        "sources": [{"name": "m", "type": "maildir", "path": "."}],
        "webhooks": {
            "slack": {"url": "https://hooks.slack.com/services/T0001/B0002/AbCdEf123456GhIjKl"},
            "api": {"url": "https://erp.example.com/api/v2/invoices?key=k3y-0123456789&mode=json",
                    "headers": {"X-Api-Key": "0123456789abcdef", "X-Tenant": "acme"},
                    "auth": {"type": "basic", "username": "bot", "password": "pa55-word"}},
        },
    }, "c.yaml", env={})
    values = set(secret_values(config))
    assert {"AbCdEf123456GhIjKl", "k3y-0123456789", "0123456789abcdef", "pa55-word", "bot:pa55-word"} <= values
    assert not {"acme", "services", "invoices", "hooks.slack.com", "json", "T0001", "B0002"} & values


def test_url_tokens_keep_ordinary_words() -> None:
    assert url_tokens("https://x.example.com/api/v2/webhooks/incoming") == []
    assert url_tokens("https://u:s3cr3t-pw@x.example.com/a") == ["s3cr3t-pw"]
    # a drop folder's path is no credential: masking it made `check-config --json` print *** for it
    assert url_tokens("file:///srv/drop/test_run_ledger0/erp2026") == []
    assert url_tokens("https://hooks.example.com/services/T0001/B0001/XyZ123abc456def") == ["XyZ123abc456def"]


def test_masking_stream_masks_what_is_printed() -> None:
    from inbox_ocr.kernel import secrets

    secrets.install(["printed-Secret-99"])
    try:
        out = io.StringIO()
        stream = MaskingStream(out)
        print("token printed-Secret-99 here", file=stream)  # type: ignore[arg-type]
        assert out.getvalue() == "token *** here\n"
    finally:
        secrets.install([])
