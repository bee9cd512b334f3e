"""The REST API over real HTTP: `inbox-ocr serve` on loopback, every endpoint, every kind of bad
input, tokens, and concurrent requests sharing one loaded model."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pymupdf
import pytest
import requests

from inbox_ocr.app.samples import SampleMessage, build_message, invoice_doc, render_pdf
from tests.integration.dovecot import free_port

TOKEN = "api-token-for-tests-1"
PROGRAM = Path(sys.executable).parent / "inbox-ocr"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("serve")
    port = free_port()
    config = folder / "config.yaml"
    config.write_text(f"state_dir: {folder / 'var'}\n"  # no sources: `serve` needs none
                      f"http: {{host: 127.0.0.1, port: {port}, api_tokens: ['${{API_TOKEN}}'], "
                      "max_upload_bytes: 600KB}\n")
    log = (folder / "serve.log").open("wb")
    proc = subprocess.Popen([str(PROGRAM), "serve", "-c", str(config)], stdout=log, stderr=log, cwd=folder,
                            env={**os.environ, "API_TOKEN": TOKEN})
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if requests.get(f"{base}/ocr/health", headers=_auth(), timeout=5).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline and proc.poll() is None, (folder / "serve.log").read_text()
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        log.close()
    text = (folder / "serve.log").read_text()
    assert TOKEN not in text


def _auth(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def scan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An invoice page as a PNG (OCR), small enough to keep the test quick."""
    pdf = pymupdf.open(stream=render_pdf(invoice_doc(number="API-4711")), filetype="pdf")
    pixmap = pdf[0].get_pixmap(dpi=110, clip=pymupdf.Rect(0, 0, 595, 320))
    path = tmp_path_factory.mktemp("scan") / "scan.png"
    pixmap.save(path)
    return path


def test_health_names_the_models_and_every_route_wants_a_token(server: str) -> None:
    health = requests.get(f"{server}/ocr/health", headers=_auth(), timeout=10)
    assert health.status_code == 200 and set(health.json()["models"]) == {"detector", "recognizer", "direction"}
    for method, path in (("GET", "/ocr/health"), ("POST", "/ocr"), ("POST", "/ocr/predict"), ("POST", "/api/extract")):
        for headers in ({}, _auth("wrong-token"), {"Authorization": TOKEN}):
            answer = requests.request(method, f"{server}{path}", headers=headers, timeout=10)
            assert answer.status_code == 401, (path, headers)
            assert answer.json()["success"] is False and "Bearer" in answer.json()["error"]
    assert requests.get(f"{server}/healthz", timeout=10).status_code == 200  # the probes stay open


def test_the_openapi_description_names_every_route_and_its_errors(server: str) -> None:
    spec = requests.get(f"{server}/api/openapi.json", timeout=10).json()  # open, like /healthz
    assert spec["openapi"].startswith("3.1") and spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert set(spec["paths"]) == {"/ocr/health", "/ocr", "/ocr/predict", "/api/extract"}
    assert {"200", "401", "413", "415", "422"} <= set(spec["paths"]["/ocr"]["post"]["responses"])
    served = {route: requests.request(method.upper(), f"{server}{route}", headers=_auth(), timeout=10).status_code
              for route, item in spec["paths"].items() for method in item}
    assert all(status != 404 and status != 405 for status in served.values()), served


def test_ocr_and_predict_give_the_lines_of_the_cli(server: str, scan: Path) -> None:
    with scan.open("rb") as f:
        answer = requests.post(f"{server}/ocr", headers=_auth(), files={"file": ("scan.png", f, "image/png")},
                               timeout=120)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["success"] is True and body["processing_time_ms"] > 0
    page = body["pages"][0]
    assert page["width"] > 0 and all(len(line["box"]) == 4 for line in page["lines"])
    assert "API-4711" in body["text"].replace(" ", "")
    cli = subprocess.run([str(PROGRAM), "ocr", "--json", str(scan)], capture_output=True, text=True, timeout=300)
    assert cli.returncode == 0, cli.stderr
    assert [line["text"] for line in json.loads(cli.stdout)["pages"][0]["lines"]] == [line["text"]
                                                                                   for line in page["lines"]]
    predicted = requests.post(f"{server}/ocr/predict", headers=_auth(), timeout=120,
                              json={"image": base64.b64encode(scan.read_bytes()).decode(), "filename": "scan.png"})
    assert predicted.status_code == 200 and predicted.json()["text"] == body["text"]


def test_extract_reads_a_pdf_and_a_message(server: str) -> None:
    pdf = render_pdf(invoice_doc(number="API-0815"))
    answer = requests.post(f"{server}/api/extract", headers=_auth(), files={"file": ("inv.pdf", pdf)}, timeout=120)
    assert answer.status_code == 200, answer.text
    document = answer.json()["documents"][0]
    assert document["doc_type"] == "invoice" and document["fields"]["invoice_number"] == "API-0815"
    assert document["fields"]["total"] == "1234.56" and 0 < document["field_confidence"]["total"] <= 1
    eml = build_message(SampleMessage("api-m", "Invoice", "billing@acme.example", "attached",
                                      (("a.pdf", "application/pdf", pdf),)))
    mail = requests.post(f"{server}/api/extract", headers=_auth(), files={"file": ("mail.eml", eml)}, timeout=120)
    assert mail.status_code == 200 and mail.json()["documents"][0]["attachment"] == "a.pdf"


def test_bad_input_gets_a_clear_4xx(server: str, scan: Path) -> None:
    def post(path: str, **kwargs: object) -> requests.Response:
        headers = {**_auth(), **kwargs.pop("headers", {})}  # type: ignore[dict-item]
        return requests.post(f"{server}{path}", headers=headers, timeout=60, **kwargs)  # type: ignore[arg-type]

    cases = [
        (post("/ocr"), 400, "no file"),
        (post("/ocr", files={"other": ("x.png", scan.read_bytes())}), 400, "no file"),
        (post("/ocr", files={"file": ("notes.txt", b"just some text")}), 415, "not an image"),
        (post("/ocr", files={"file": ("big.png", b"\x89PNG" + b"0" * 700_000)}), 413, "at most"),
        (post("/ocr", files={"file": ("broken.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 300)}), 422, "cannot be read"),
        (post("/ocr", files={"file": ("broken.pdf", b"%PDF-1.7\n garbage")}), 422, "cannot be read"),
        (post("/ocr/predict", json={"image": "***not base64***"}), 400, "not base64"),
        (post("/ocr/predict", json={"picture": "x"}), 400, '"image"'),
        (post("/ocr/predict", data=b"{not json", headers={"Content-Type": "application/json"}), 400, "not JSON"),
        (post("/api/extract", files={"file": ("broken.pdf", b"%PDF-1.7\n garbage")}), 422, "cannot be read"),
        (post("/api/extract", files={"file": ("empty.pdf", b"")}), 400, "empty"),
    ]
    for answer, status, words in cases:
        assert answer.status_code == status, (words, answer.status_code, answer.text)
        assert answer.json()["success"] is False and words in answer.json()["error"], answer.text
        assert "Traceback" not in answer.text


def test_concurrent_requests_share_one_model_and_agree(server: str, scan: Path) -> None:
    data = scan.read_bytes()

    def one(_: int) -> tuple[int, str]:
        answer = requests.post(f"{server}/ocr", headers=_auth(), files={"file": ("scan.png", data)}, timeout=300)
        return answer.status_code, answer.json().get("text", "")

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(one, range(4)))
    assert [status for status, _ in results] == [200] * 4
    assert len({text for _, text in results}) == 1
