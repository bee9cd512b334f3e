"""The reader worker: a document past its time limit is stopped, one past its memory limit or one
that crashes the reader costs only that document, and the next document is read as usual."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from inbox_ocr.app.samples import invoice_doc, render_pdf
from inbox_ocr.kernel.settings import Limits, OcrSettings
from inbox_ocr.read.sandbox import SandboxedReader

ROOT = Path(__file__).resolve().parents[2]
PDF = render_pdf(invoice_doc(number="SANDBOX-7"))


@pytest.fixture
def reader(monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxedReader]:
    monkeypatch.chdir(ROOT)  # the worker imports tests.badinput.hostile_reader from here
    r = SandboxedReader(Limits(document_seconds=3, document_memory="1GB", max_pdf_pages=10),
                        OcrSettings(enabled=False), target="tests.badinput.hostile_reader:read")
    yield r
    r.close()


def _read(reader: SandboxedReader, name: str, data: bytes = PDF):  # type: ignore[no-untyped-def]
    return reader.read(data, filename=name, content_type="application/pdf", sha256=hashlib.sha256(data).hexdigest(),
                       part="2")


def test_a_document_past_its_time_limit_is_stopped_and_the_next_one_is_read(reader: SandboxedReader) -> None:
    assert "SANDBOX-7" in _read(reader, "warm-up.pdf").text  # the worker is up, models loaded
    first_pid = reader.worker_pid
    started = time.monotonic()
    doc = _read(reader, "loops-forever.pdf")
    took = time.monotonic() - started
    assert doc.reading == "unreadable"
    assert doc.error == "reading stopped after 3 s (limits.document_seconds)"
    assert 2.5 < took < 15
    assert reader.kills == 1
    after = _read(reader, "next.pdf")
    assert after.error is None and "SANDBOX-7" in after.text
    assert reader.worker_pid != first_pid  # a fresh worker


def test_memory_past_the_limit_and_a_crashing_reader_cost_only_that_document(reader: SandboxedReader) -> None:
    hog = _read(reader, "eats-memory.pdf")
    assert hog.reading == "unreadable" and "limits.document_memory" in (hog.error or "")
    crash = _read(reader, "segfaults.pdf")
    assert crash.reading == "unreadable" and "reader process died" in (crash.error or "")
    assert "exit code -11" in (crash.error or "")
    fine = _read(reader, "after-the-crash.pdf")
    assert fine.error is None and fine.filename == "after-the-crash.pdf" and "SANDBOX-7" in fine.text


def test_a_killed_daemon_leaves_no_reader_behind(tmp_path: Path) -> None:
    """kill -9 of the daemon: its reader worker sees the socket close and exits by itself."""
    script = tmp_path / "owner.py"
    script.write_text(
        "import hashlib, sys, time\n"
        "from inbox_ocr.read.sandbox import SandboxedReader\n"
        "from inbox_ocr.kernel.settings import Limits, OcrSettings\n"
        "r = SandboxedReader(Limits(), OcrSettings(enabled=False))\n"
        "data = b'not a pdf'\n"
        "r.read(data, filename='x.pdf', content_type='application/pdf', sha256='0', part='1')\n"
        "print(r.worker_pid, flush=True)\n"
        "time.sleep(600)\n")
    owner = subprocess.Popen([sys.executable, str(script)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert owner.stdout is not None
    worker = int(owner.stdout.readline())
    assert Path(f"/proc/{worker}").exists()
    owner.kill()
    owner.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _alive(worker):
        time.sleep(0.1)
    assert not _alive(worker), "the reader worker outlived its daemon"


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "zombie" not in status


RSS_PROBE = """
import hashlib, resource, sys
from inbox_ocr.kernel.settings import Limits, OcrSettings
from inbox_ocr.read.sandbox import SandboxedReader
from inbox_ocr.understand import analyze

data = open(sys.argv[1], "rb").read()
reader = SandboxedReader(Limits(), OcrSettings(enabled=False))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
doc = reader.read(data, filename="dense.pdf", content_type="application/pdf",
                  sha256=hashlib.sha256(data).hexdigest(), part="2")
result = analyze(doc)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
reader.close()
print(len(doc.pages), (after - before) // 1024, "; ".join(doc.warnings))
"""


def test_a_dense_120_page_pdf_does_not_swell_the_daemon(tmp_path: Path) -> None:
    """What a document carries back from the worker is bounded (limits.max_document_words): the
    daemon's peak RSS grows by less than 200 MB reading 120 dense pages (about 300 MB before)."""
    import random

    import pymupdf

    rng = random.Random(1)
    words = ["invoice", "total", "amount", "net", "tax", "order", "delivery", "customer", "number", "date",
             "payment", "terms"]
    pdf = pymupdf.open()
    for _ in range(120):
        page = pdf.new_page(width=595, height=842)
        for y in range(20, 830, 6):
            page.insert_text((10, y), " ".join(rng.choice(words) + str(rng.randint(0, 999)) for _ in range(16)),
                             fontsize=5)
    path = tmp_path / "dense.pdf"
    pdf.save(path)
    done = subprocess.run([sys.executable, "-c", RSS_PROBE, str(path)], capture_output=True, text=True, timeout=300,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    pages, grown_mb, warnings = done.stdout.strip().split(" ", 2)
    assert int(pages) < 120 and "limits.max_document_words" in warnings
    assert int(grown_mb) < 200, f"the daemon grew by {grown_mb} MB"
