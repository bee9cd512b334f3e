"""The web UI in a real headless browser (Debian's chromium driven by Playwright, no download),
against a real daemon (`inbox-ocr run`) over a Maildir, with a real webhook receiver.

A reviewer who is not logged in is sent to the login page; after logging in she uploads a scan
and sees its line boxes, opens the held invoice from the review queue, corrects the invoice
number (this vendor prints it as "Voucher", and the generic extractor takes the contract number)
and the total, and approves: the message moves to its folder, the webhook receives the corrected
values, and a vendor template is learned, so the vendor's next invoice is read right. A form
posted without its CSRF token is refused. Screenshots go to tests/artifacts/screenshots (git-ignored).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pymupdf
import pytest
import requests

from inbox_ocr.app import samples
from inbox_ocr.app.web.auth import hash_password
from tests.http_receiver import Receiver
from tests.integration.dovecot import free_port

PROGRAM = Path(sys.executable).parent / "inbox-ocr"
SHOTS = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
CHROMIUM = next((p for p in (os.environ.get("CHROMIUM"), shutil.which("chromium"), shutil.which("chromium-browser"))
                 if p), None)
PASSWORD = "correct horse battery staple"

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (Debian: apt-get install chromium)")


@dataclass
class Daemon:
    base: str
    maildir: Path
    receiver: Receiver
    log: Path
    templates: Path


def voucher_message(voucher: str, total: str, net: str, tax: str) -> samples.SampleMessage:
    """An invoice of a vendor that prints its invoice number as 'Voucher', under a contract number."""
    doc = dataclasses.replace(samples.invoice_doc(total=total, net=net, tax=tax),
                              header=(("Contract:", "C-2026-55"), ("Voucher:", voucher), ("Date:", "02/11/2026"),
                                      ("VAT ID:", "GB123456789")))
    return samples.SampleMessage(
        name=voucher, subject=f"Invoice {voucher}", sender="Acme Billing <billing@acme-supplies.example>",
        body="Please find our invoice attached.",
        attachments=((f"{voucher}.pdf", "application/pdf", samples.render_pdf(doc)),))


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    folder = tmp_path_factory.mktemp("web")
    maildir = folder / "Maildir"
    samples.write_maildir(maildir, [voucher_message("V-117", "18,600.00", "15,500.00", "3,100.00")])
    templates = folder / "templates"
    templates.mkdir()
    receiver = Receiver().start()
    port = free_port()
    config = folder / "config.yaml"
    config.write_text(json.dumps({
        "state_dir": str(folder / "var"),
        "sources": [{"name": "inbox", "type": "maildir", "path": str(maildir), "poll_every": 2}],
        "webhooks": {"erp": {"url": receiver.url}},
        "rules": [{"name": "large invoices", "when": {"doc_type": "invoice", "total_gt": 10000},
                   "then": [{"review": "over 10,000"}, {"move": "Invoices"}, {"webhook": "erp"}]}],
        "review": {"reject": [{"move": "Rejected"}]},
        "http": {"port": port, "users": {"alice": hash_password(PASSWORD, rounds=4)}},
        "limits": {"isolate_documents": False},
        "understanding": {"templates_dir": str(templates)},
    }))
    log = folder / "daemon.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([str(PROGRAM), "run", "-c", str(config)], stdout=out, stderr=out, cwd=folder)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(lambda: _get(f"{base}/healthz") == 200, proc, log, "the daemon's HTTP server")
        yield Daemon(base, maildir, receiver, log, templates)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        receiver.stop()
    assert PASSWORD not in log.read_text()


def _get(url: str) -> int | None:
    try:
        return requests.get(url, timeout=5, allow_redirects=False).status_code
    except requests.ConnectionError:
        return None


def _wait(ready, proc: subprocess.Popen[bytes] | None, log: Path, what: str, seconds: float = 120) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not ready():
        assert proc is None or proc.poll() is None, log.read_text()
        assert time.monotonic() < deadline, f"{what} not there after {seconds} s:\n{log.read_text()[-3000:]}"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def scan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pdf = pymupdf.open(stream=samples.render_pdf(samples.invoice_doc(number="SCAN-2026-7")), filetype="pdf")
    path = tmp_path_factory.mktemp("scan") / "scan.png"
    pdf[0].get_pixmap(dpi=120).save(path)
    return path


def _login(page, base: str, target: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}{target}")
    assert "/login" in page.url  # no session: sent to the login page
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "wrong password")
    page.click("button[type=submit]")
    assert page.locator("p.error").inner_text() == "Wrong name or password."
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}{target}")


def test_a_reviewer_uploads_a_scan_then_corrects_and_approves_a_held_invoice(daemon: Daemon, browser, scan: Path,  # type: ignore[no-untyped-def]
                                                                              ) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    _login(page, daemon.base, "/try")

    # try it: the scan's lines drawn over it, the fields read from it
    page.set_input_files("input[type=file]", str(scan))
    page.click("button.primary")
    page.wait_for_selector("#result", timeout=120_000)
    assert page.locator("polygon.line").count() >= 10
    assert page.locator("td.value[data-field=invoice_number]").inner_text() == "SCAN-2026-7"
    assert page.locator("rect.field[data-field=invoice_number]").count() == 1
    page.screenshot(path=str(SHOTS / "try-it.png"))

    # the review queue: the held invoice, why it is held
    _wait(lambda: page.goto(f"{daemon.base}/review") and page.locator("#queue tbody tr").count() == 1, None,
          daemon.log, "the held message in the queue")
    row = page.locator("#queue tbody tr").first
    assert "over 10,000" in row.inner_text() and "18600.00" in row.inner_text()
    row.locator("a").click()
    page.wait_for_selector("input[name='f-0-total']")
    assert page.locator("input[name='f-0-total']").input_value() == "18600.00"
    assert page.locator("input[name='f-0-invoice_number']").input_value() == "C-2026-55"  # the contract number
    assert page.locator("rect.field[data-field=total]").count() == 1
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(SHOTS / "review.png"))

    # a value that is not an amount is refused, beside its field, and nothing is decided
    page.fill("input[name='f-0-total']", "eighteen thousand")
    page.click("button[value=approve]")
    assert "valid decimal" in page.locator(".field.invalid .error").inner_text()
    assert daemon.receiver.requests == []

    page.fill("input[name='f-0-invoice_number']", "V-117")
    page.fill("input[name='f-0-total']", "18,700.00")
    page.click("button[value=approve]")
    page.wait_for_url(f"{daemon.base}/review")
    flash = page.locator(".flash").inner_text()
    assert "approved" in flash and "acme-office-supplies-ltd.yml now reads invoice_number" in flash

    # the daemon acknowledges it on the source and sends the corrected payload
    moved = daemon.maildir / ".Invoices" / "cur"
    _wait(lambda: moved.is_dir() and len(list(moved.iterdir())) == 1, None, daemon.log, "the move to Invoices")
    _wait(lambda: len(daemon.receiver.requests) == 1, None, daemon.log, "the webhook")
    payload = daemon.receiver.requests[0].json()
    assert payload["documents"][0]["fields"]["total"] == "18700.00"
    assert payload["documents"][0]["fields"]["invoice_number"] == "V-117"
    assert payload["review"] == {"decision": "approved", "by": "alice", "corrected": ["invoice_number", "total"]}
    assert list((daemon.maildir / "new").iterdir()) == [] and list((daemon.maildir / "cur").iterdir()) == []

    # the audit trail names who corrected what
    page.goto(f"{daemon.base}/messages?q=V-117")
    page.locator("table.list a").first.click()
    trail = page.locator("table.trail").inner_text()
    assert "by alice: V-117.pdf total: 18600.00 -> 18700.00" in trail and "approved" in trail
    # the total she typed is printed nowhere on the page: it is not learned, and the trail says so
    assert ("by alice: acme-office-supplies-ltd.yml reads invoice_number (not learned: total: not printed "
            "after or under a label)") in trail

    # the vendor's next invoice: read right by the learned template, without a correction
    second = samples.build_message(voucher_message("V-118", "19,000.00", "15,833.33", "3,166.67"))
    (daemon.maildir / "tmp" / "1793000100.M1P1.second").write_bytes(second)
    (daemon.maildir / "tmp" / "1793000100.M1P1.second").rename(daemon.maildir / "new" / "1793000100.M1P1.second")
    _wait(lambda: page.goto(f"{daemon.base}/review") and page.locator("#queue tbody tr").count() == 1, None,
          daemon.log, "the second invoice in the queue")
    page.locator("#queue tbody tr a").first.click()
    page.wait_for_selector("input[name='f-0-invoice_number']")
    assert page.locator("input[name='f-0-invoice_number']").input_value() == "V-118"
    assert page.locator("input[name='f-0-total']").input_value() == "19000.00"
    page.close()


def test_a_form_posted_without_its_csrf_token_is_refused(daemon: Daemon, browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    _login(page, daemon.base, "/outbox")
    # the session cookie goes along (same browser context), the token does not
    answer = page.request.post(f"{daemon.base}/outbox/1/retry", form={"other": "x"})
    assert answer.status == 403 and "CSRF" in answer.text()
    answer = page.request.post(f"{daemon.base}/review/1", form={"decision": "reject", "csrf": "forged"})
    assert answer.status == 403
    # a client without the session cookie is sent to log in
    assert requests.post(f"{daemon.base}/review/1", data={"decision": "reject"}, timeout=10,
                         allow_redirects=False).headers["location"].startswith("/login")
    page.close()


def test_try_it_reads_an_e_invoice_xml_without_a_page_to_show(daemon: Daemon, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """An upload with no page (an e-invoice's XML) is read and shown without an image, not refused."""
    from tests.unit.understand.test_einvoice import CII

    sample = tmp_path / "invoice.xml"
    sample.write_text(CII, encoding="utf-8")
    page = browser.new_page()
    _login(page, daemon.base, "/try")
    page.set_input_files("input[type=file]", str(sample))
    page.click("button.primary")
    page.wait_for_selector("#result", timeout=120_000)
    result = page.locator("#result").inner_text()
    assert "No page image for this file (read as einvoice_xml)" in result and "invoice" in result
    page.close()
