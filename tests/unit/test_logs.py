"""Log lines: JSON with each event's fields as keys (typed, values with spaces intact), RFC 3339
UTC timestamps with milliseconds, the message in hand on every line, secrets masked; the text
format for people."""

from __future__ import annotations

import json
import logging
import re

import pytest

from inbox_ocr.kernel import logs


@pytest.fixture
def captured(capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    def run(fmt: str) -> list[str]:
        logs.setup("INFO", fmt, ["hunter2-secret"])
        log = logging.getLogger("inbox_ocr.test")
        log.warning("event=quarantined source=%s key=%s reason=%s", "box", "1700000000.M1P2.host",
                    "no such folder here")
        log.info("event=pass_done messages=%d seconds=%.2f", 7, 1.234)
        with logs.message_context("box", "key with space", "<m1@vendor.example>"):
            log.info("event=routed rule=%s password=%s", "invoices", "hunter2-secret")
        log.info("cannot start: %s", "the ledger is locked")
        logging.getLogger().handlers[:] = []
        return capsys.readouterr().err.splitlines()

    return run


def test_json_lines_carry_the_fields_as_keys(captured) -> None:  # type: ignore[no-untyped-def]
    quarantined, done, routed, plain = (json.loads(line) for line in captured("json"))
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", quarantined["ts"])
    assert (quarantined["event"], quarantined["key"], quarantined["reason"]) == (
        "quarantined", "1700000000.M1P2.host", "no such folder here")
    assert done["messages"] == 7 and done["seconds"] == 1.23
    assert (routed["msg_source"], routed["msg_key"], routed["message_id"]) == (
        "box", "key with space", "<m1@vendor.example>")
    assert routed["password"] == "***" and "hunter2" not in json.dumps(routed)
    assert plain["msg"] == "cannot start: the ledger is locked" and "event" not in plain


def test_text_lines_stay_readable(captured) -> None:  # type: ignore[no-untyped-def]
    lines = captured("text")
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=WARNING logger=inbox_ocr.test "
                    r"event=quarantined source=box", lines[0])
    assert lines[2].endswith('msg_source=box msg_key="key with space" message_id=<m1@vendor.example>')
    assert "hunter2" not in "\n".join(lines)
