"""Invoice understanding benchmark.  Run:  python tests/benchmarks/bench_extract.py [--only a,b,c,d]

(a) zugferd-dev, e-invoice XML reader vs expected.json (target 100%)
(b) zugferd-dev, text layer only (the XML ignored), per-field accuracy (target >= 90% over the
    first five fields)
(c) sroie-dev, key fields from the OCR output (date and total exact >= 90%, company >= 70%);
    skipped, with a message, when the OCR core is not available
(d) time of the text-layer path (read + analyze) over zugferd-dev with the embedded XML removed,
    per document and per page from the process's CPU time, against the rule-based extractor
    alone; the same with the XML; a check that no OCR model was loaded
(e) inputs as real mailboxes deliver them, each through `extract` (a whole .eml or a file): an
    Outlook winmail.dat, a ZIP, an iPhone HEIC photo, FatturaPA plain and signed (.xml.p7m), a
    text layer with CJK compatibility ideographs, an IBAN glued to the next word, a date range and
    a spaced comma, Polish/Portuguese/Czech month names, Indian digit grouping, a statement of
    account, an invoice2data template folder; per case and per field: expected values read

zugferd-dev and sroie-dev are training data of the shipped field scorer: (b) and (c) measure fit,
not generalization. The held-out figures (leave-one-source-out, unseen layouts) are printed by
`python -m inbox_ocr.training.train` and kept in inbox_ocr/understand/models/REPORT.md.

--ocr-cache DIR keeps (c)'s OCR output (one JSON Document per image hash) so that a change to the
understanding code can be re-scored without OCRing 150 images again.

Datasets are read from ../shared/datasets relative to the repository root.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import statistics
import sys
import time
import unicodedata
from decimal import Decimal, InvalidOperation
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
DATASETS = ROOT.parent / "shared" / "datasets"
ZUGFERD = DATASETS / "zugferd-dev"
SROIE = DATASETS / "sroie-dev"

from inbox_ocr.kernel import heap  # noqa: E402
from inbox_ocr.kernel.models import Document  # noqa: E402
from inbox_ocr.read import read_document  # noqa: E402
from inbox_ocr.understand import analyze  # noqa: E402
from inbox_ocr.understand.caches import forget  # noqa: E402


def _read(path: Path, content_type: str = "application/pdf", **kwargs) -> Document:  # type: ignore[no-untyped-def]
    data = path.read_bytes()
    return read_document(
        data, filename=path.name, content_type=content_type, sha256=hashlib.sha256(data).hexdigest(), **kwargs
    )


def _norm_text(value: str | None) -> str:
    return " ".join((value or "").split()).casefold()


def _same_amount(a: object, b: object) -> bool:
    try:
        return a is not None and b is not None and Decimal(str(a)) == Decimal(str(b))
    except InvalidOperation:
        return False


def _table(title: str, rows: list[tuple[str, int, int, int]]) -> None:
    print(f"\n{title}")
    print(f"  {'field':<18} {'correct':>7} {'scored':>7} {'missing':>8} {'accuracy':>9}")
    for name, ok, n, missing in rows:
        print(f"  {name:<18} {ok:>7} {n:>7} {missing:>8} {100 * ok / n if n else 0:>8.1f}%")


# --------------------------------------------------------------------------- (a)


def bench_xml(expected: dict[str, dict]) -> None:
    fields = [
        "invoice_number",
        "issue_date",
        "currency",
        "grand_total",
        "tax_total",
        "tax_basis_total",
        "due_payable",
        "seller_name",
        "seller_vat_id",
        "buyer_name",
        "type_code",
    ]
    stats = {f: [0, 0, 0] for f in fields}
    notes = []
    for name, exp in expected.items():
        doc = _read(ZUGFERD / name)
        x = doc.einvoice
        got = (
            {}
            if x is None
            else {
                "invoice_number": x.invoice_number,
                "issue_date": x.invoice_date.strftime("%Y%m%d") if x.invoice_date else None,
                "currency": x.currency,
                "grand_total": x.total,
                "tax_total": x.tax,
                "tax_basis_total": x.subtotal,
                "due_payable": x.amount_due,
                "seller_name": x.vendor_name,
                "seller_vat_id": x.vendor_vat_id,
                "buyer_name": x.customer_name,
                "type_code": x.type_code,
            }
        )
        for f in fields:
            want, have = exp.get(f), got.get(f)
            if want is None:
                if have is not None:
                    notes.append(f"  {name[:60]}: {f} not in expected.json, reader gives {have!s}")
                continue
            stats[f][1] += 1
            ok = str(have) == str(want) if f.endswith(("total", "payable")) else have == want
            stats[f][0] += ok
            stats[f][2] += have is None
            if not ok:
                notes.append(f"  {name[:60]}: {f} expected {want!r} got {have!r}")
    rows = [(f, *stats[f]) for f in fields]
    _table(f"(a) zugferd-dev, e-invoice XML reader vs expected.json ({len(expected)} files; exact string match)", rows)
    ok = sum(r[1] for r in rows)
    n = sum(r[2] for r in rows)
    print(f"  {'ALL':<18} {ok:>7} {n:>7} {'':>8} {100 * ok / n:>8.1f}%")
    for line in notes:
        print(line)


# --------------------------------------------------------------------------- (b)


def bench_text(expected: dict[str, dict]) -> None:
    fields = [
        "invoice_number",
        "invoice_date",
        "currency",
        "total",
        "vendor_vat_id",
        "vendor_name",
        "tax",
        "subtotal",
        "amount_due",
    ]
    stats = {f: [0, 0, 0] for f in fields}
    misses = []
    for name, exp in expected.items():
        doc = _read(ZUGFERD / name)
        doc = doc.model_copy(update={"einvoice": None, "einvoice_format": None, "reading": "text_layer"})
        f = analyze(doc).fields
        want = {
            "invoice_number": exp["invoice_number"],
            "invoice_date": exp["issue_date"],
            "currency": exp["currency"],
            "total": exp["grand_total"],
            "vendor_vat_id": exp["seller_vat_id"],
            "vendor_name": exp["seller_name"],
            "tax": exp["tax_total"],
            "subtotal": exp["tax_basis_total"],
            "amount_due": exp["due_payable"],
        }
        have = {
            "invoice_number": f.invoice_number,
            "invoice_date": f.invoice_date.strftime("%Y%m%d") if f.invoice_date else None,
            "currency": f.currency,
            "total": f.total,
            "vendor_vat_id": f.vendor_vat_id,
            "vendor_name": f.vendor_name,
            "tax": f.tax,
            "subtotal": f.subtotal,
            "amount_due": f.amount_due,
        }
        for key in fields:
            if want[key] is None:
                continue
            stats[key][1] += 1
            if key in ("total", "tax", "subtotal", "amount_due"):
                ok = _same_amount(have[key], want[key])
            elif key == "vendor_name":
                ok = _norm_text(have[key]) == _norm_text(want[key])
            else:
                ok = have[key] == want[key]
            stats[key][0] += ok
            stats[key][2] += have[key] is None
            if not ok:
                misses.append(
                    f"  {name[:58]:<58} {key:<15} expected {str(want[key])[:40]!r} got {str(have[key])[:40]!r}"
                )
    rows = [(k, *stats[k]) for k in fields]
    _table(f"(b) zugferd-dev, text layer only, XML ignored ({len(expected)} files)", rows)
    first5 = rows[:5]
    ok, n = sum(r[1] for r in first5), sum(r[2] for r in first5)
    print(f"  {'FIRST FIVE':<18} {ok:>7} {n:>7} {'':>8} {100 * ok / n:>8.1f}%   (target >= 90%)")
    print("  vendor_name is compared after collapsing whitespace and case.")
    print("  misses:")
    for line in misses:
        print(line)


# --------------------------------------------------------------------------- (c)


def _ocr_available() -> tuple[bool, str]:
    sample = next(iter(sorted((SROIE / "img").glob("*.jpg"))), None)
    if sample is None:
        return False, "no sroie-dev images"
    try:
        from inbox_ocr.kernel.settings import OcrSettings

        settings = OcrSettings(enabled=True)  # type: ignore[call-arg]
    except Exception as exc:  # the settings may not know `enabled` yet
        return False, f"OCR settings unavailable: {exc}"
    doc = _read(sample, "image/jpeg", ocr=settings)
    if doc.reading != "ocr":
        return False, f"read_document on a JPEG gives reading={doc.reading!r} ({doc.error or '; '.join(doc.warnings)})"
    return True, ""


def _compact_date(printed: str):  # type: ignore[no-untyped-def]
    """Ground truth written as 20180304."""
    from datetime import datetime

    try:
        return datetime.strptime(printed.strip(), "%Y%m%d").date()
    except ValueError:
        return None


def _ocr_cached(img: Path, settings, cache: Path | None) -> Document:  # type: ignore[no-untyped-def]
    """OCR one image, or reuse the Document saved by an earlier run (keyed by the image's hash)."""
    if cache is None:
        return _read(img, "image/jpeg", ocr=settings)
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / (hashlib.sha256(img.read_bytes()).hexdigest() + ".json")
    if path.exists():
        return Document.model_validate_json(path.read_text())
    doc = _read(img, "image/jpeg", ocr=settings)
    path.write_text(doc.model_dump_json())
    return doc


def bench_sroie(cache: Path | None = None) -> None:
    if not SROIE.is_dir():
        print("\n(c) sroie-dev: SKIPPED, dataset folder missing")
        return
    ok, why = _ocr_available()
    if not ok:
        print(f"\n(c) sroie-dev: SKIPPED because OCR is unavailable: {why}")
        return
    from inbox_ocr.kernel.settings import OcrSettings
    from inbox_ocr.understand.normalize import Conventions, parse_amount, parse_date

    settings = OcrSettings(enabled=True)  # type: ignore[call-arg]
    stats = {"date": [0, 0, 0], "total": [0, 0, 0], "company": [0, 0, 0]}
    misses = []
    for img in sorted((SROIE / "img").glob("*.jpg")):
        key_path = SROIE / "key" / (img.stem + ".json")
        if not key_path.exists():
            continue
        key = json.loads(key_path.read_text())
        doc = _ocr_cached(img, settings, cache)
        f = analyze(doc).fields
        want_date = parse_date(key.get("date", ""), Conventions(day_first=True)) or _compact_date(key.get("date", ""))
        want_total = parse_amount(key.get("total", ""), Conventions(decimal_separator="."))
        checks = {
            "date": (want_date, f.invoice_date, want_date is not None and f.invoice_date == want_date),
            "total": (want_total, f.total, want_total is not None and _same_amount(f.total, want_total)),
            "company": (key.get("company"), f.vendor_name, _company_match(f.vendor_name, key.get("company"))),
        }
        for name, (want, have, good) in checks.items():
            if want is None:
                continue
            stats[name][1] += 1
            stats[name][0] += good
            stats[name][2] += have is None
            if not good:
                misses.append(f"  {img.name:<10} {name:<8} expected {str(want)[:40]!r} got {str(have)[:40]!r}")
    _table(
        "(c) sroie-dev, key fields from OCR output (date, total exact; company normalized)",
        [(k, *v) for k, v in stats.items()],
    )
    for line in misses[:40]:
        print(line)


def _company_match(have: str | None, want: str | None) -> bool:
    def norm(s: str | None) -> str:
        s = unicodedata.normalize("NFKC", s or "").casefold()
        return re.sub(r"[^\w]+", "", s)

    return bool(have) and norm(have) == norm(want)


# --------------------------------------------------------------------------- (d)


def _without_xml(data: bytes) -> bytes:
    """The PDF with its embedded files removed: a text-layer invoice like any other."""
    from inbox_ocr.read.mupdf import pymupdf

    with pymupdf.open(stream=data, filetype="pdf") as pdf:
        for name in list(pdf.embfile_names()):
            pdf.embfile_del(name)
        return pdf.tobytes(garbage=3, deflate=True)


def bench_throughput(rounds: int = 5) -> None:
    """CPU time of this process (time.process_time) gives docs/s per core even on a busy machine;
    wall-clock figures are printed next to it for reference.

    The zugferd-dev PDFs are timed twice: as they arrive (their XML states most fields, and the
    learned scorer does not choose what the XML states) and with their embedded XML removed, the
    path of every PDF invoice without XML. On the latter, read + analyze with and without the
    scorer is timed document by document, back to back, so that the ratio between the two holds
    while the machine's speed drifts.

    Every document is timed on first sight: what understanding keeps from text to text (a cell's
    dates and amounts, the label index) is forgotten before each one (caches.forget, untimed).
    Without that, rounds after the first found every cell of the same 32 files worked out already,
    which a daemon never sees (README, "A fifth round": the code of 2026-12-01 took almost twice
    the instructions on first sight that it took on a repeat)."""
    files = sorted(ZUGFERD.glob("*.pdf"))
    blobs = [(p.name, p.read_bytes()) for p in files]
    plain = [(name, _without_xml(data)) for name, data in blobs]
    read_cpu, full_cpu, full_wall, rule_cpu, learned_cpu = [], [], [], [], []

    def read(name: str, data: bytes) -> Document:
        return read_document(data, filename=name, content_type="application/pdf", sha256="-")

    assert all(read(name, data).einvoice is None for name, data in plain), "an XML is left in a PDF"
    analyze(read(*plain[0]))  # loads the scorer's model once, untimed
    heap.settle()  # as the daemon and its reader worker do once they have started
    for _ in range(rounds):
        rule = learned = reading = 0.0
        for name, data in plain:
            forget()
            cpu = time.process_time()
            doc = read(name, data)
            after_read = time.process_time()
            analyze(doc, learned=False)
            rule_end = time.process_time()
            forget()
            mid = time.process_time()
            analyze(read(name, data))
            reading += after_read - cpu
            rule, learned = rule + rule_end - cpu, learned + time.process_time() - mid
        read_cpu.append(reading)
        rule_cpu.append(rule)
        learned_cpu.append(learned)
        total_cpu = total_wall = 0.0
        for name, data in blobs:
            forget()
            cpu, wall = time.process_time(), time.perf_counter()
            analyze(read(name, data))
            total_cpu, total_wall = total_cpu + time.process_time() - cpu, total_wall + time.perf_counter() - wall
        full_cpu.append(total_cpu)
        full_wall.append(total_wall)
    n = len(blobs)
    pages = sum(len(read(name, data).pages) for name, data in plain)
    t, r, w = statistics.median(full_cpu), statistics.median(read_cpu), statistics.median(full_wall)
    a, rule = statistics.median(learned_cpu), statistics.median(rule_cpu)
    ratio = statistics.median(x / y for x, y in zip(learned_cpu, rule_cpu, strict=True))
    ours = sorted(m for m in sys.modules if m.startswith("inbox_ocr.read.ocr"))
    engine_module = sys.modules.get("inbox_ocr.read.ocr.engine")
    engines = len(getattr(engine_module, "_ENGINES", {})) if engine_module else 0
    print(f"\n(d) time of the text-layer path over zugferd-dev ({n} PDFs, median of {rounds} rounds, one process, "
          "CPU time, heap settled after start-up as in the daemon, each document on first sight: caches forgotten)")
    print(f"  without their XML (a text-layer invoice): read {1000 * r / n:.1f} ms/doc, "
          f"analyze {1000 * (a - r) / n:.1f} ms/doc")
    print(f"    read + analyze: {1000 * a / n:5.1f} ms/doc = {n / a:5.1f} docs/s per core   target < 20 ms; "
          f"{ratio:.2f}x read + rule-based analyze ({1000 * rule / n:.1f} ms/doc; median ratio)")
    print(f"                    {pages / a:5.1f} pages/s per core ({pages} pages)   target >= 100; "
          f"rule-based analyze alone {pages / rule:.1f} pages/s")
    print(f"  as they arrive, with their XML (the XML states most fields, the scorer skips them): read + analyze "
          f"{1000 * t / n:.1f} ms/doc = {n / t:.1f} docs/s per core")
    print(f"  wall clock     : {n / w:7.1f} docs/s with XML (machine load average {os.getloadavg()[0]:.1f})")
    print(f"  OCR engines created (models loaded): {engines}")
    print(f"  OCR core modules imported: {len(ours)} ({', '.join(m.rsplit('.', 1)[-1] for m in ours) or 'none'})")
    print(f"  onnxruntime imported: {'onnxruntime' in sys.modules} (a module only; no model is loaded); "
          f"pymupdf's layout add-on imported: {sys.modules.get('pymupdf.layout') is not None}")


# --------------------------------------------------------------------------- (e)


def _input_cases() -> list[tuple[str, str, bytes, list[dict[str, object]]]]:
    """(case, file name, bytes, the fields expected of each document it holds). Every document is
    generated here with values chosen for this benchmark; none is a test fixture."""
    import base64
    import dataclasses
    import io
    import zipfile

    from inbox_ocr.app import samples
    from inbox_ocr.app.samples import SampleDoc, SampleMessage, build_message, render_pdf
    from tests.unit.test_zip_attachments import winmail
    from tests.unit.understand.test_fatturapa import SIMPLIFIED, ordinary, sign

    def mail(name: str, *attachments: tuple[str, str, bytes]) -> bytes:
        return build_message(SampleMessage(name=name, subject=f"{name} invoice", sender="billing@vendor.example",
                                           body="Please find attached.", attachments=attachments))

    def doc(number: str, header: tuple[tuple[str, str], ...] = (), totals: tuple[tuple[str, str], ...] = (),
            footer: tuple[str, ...] = (), vendor: tuple[str, ...] = ("Nordlicht Handel GmbH", "Hafenstr. 3",
                                                                       "20457 Hamburg"),
            title: str = "Rechnung") -> bytes:
        return render_pdf(SampleDoc(title=title, vendor=vendor, header=header, totals=totals, footer=footer,
                                    lines=(("Beratung", "1", "100,00", "100,00"),)))

    en = [samples.render_pdf(samples.invoice_doc(number=f"WM-{i}", total=t, net=n, tax=x))
          for i, (t, n, x) in enumerate([("600.00", "500.00", "100.00"), ("96.00", "80.00", "16.00")], 1)]
    en_expected = [{"invoice_number": "WM-1", "total": Decimal("600.00"), "invoice_date": "2026-11-02"},
                   {"invoice_number": "WM-2", "total": Decimal("96.00"), "invoice_date": "2026-11-02"}]
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        for i, pdf in enumerate(en, 1):
            z.writestr(f"scans/WM-{i}.pdf", pdf)
    cases: list[tuple[str, str, bytes, list[dict[str, object]]]] = [
        ("winmail.dat with two PDFs", "tnef.eml",
         mail("tnef", ("winmail.dat", "application/ms-tnef", winmail([("a.pdf", en[0]), ("b.pdf", en[1])]))),
         en_expected),
        ("ZIP of two PDFs", "zip.eml", mail("zip", ("scans.zip", "application/zip", archive.getvalue())),
         en_expected),
        ("FatturaPA .xml", "IT01234567890_FPR01.xml", ordinary(),
         [{"invoice_number": "FPR 118/24", "total": Decimal("161.80"), "invoice_date": "2024-03-15",
           "vendor_vat_id": "IT01234567890"}]),
        ("FatturaPA simplified, signed .xml.p7m in a mail", "p7m.eml",
         mail("p7m", ("IT05556667778_S0031.xml.p7m", "application/octet-stream",
                      base64.encodebytes(sign(SIMPLIFIED.encode())))),
         [{"invoice_number": "S-31", "total": Decimal("183.00"), "invoice_date": "2024-05-02",
           "vendor_vat_id": "IT05556667778"}]),
        ("IBAN glued to BIC", "iban.pdf",
         doc("R-77", header=(("Rechnungsnr.:", "R-77"), ("Datum:", "14.02.2025")),
             totals=(("Gesamtbetrag:", "119,00 EUR"),),
             footer=("IBAN: ES9121000418450200051332BIC: CAIXESBBXXX",)),
         [{"invoice_number": "R-77", "iban": "ES9121000418450200051332", "total": Decimal("119.00")}]),
        ("date range and a spaced comma", "range.pdf",
         render_pdf(dataclasses.replace(samples.invoice_doc(number="SVC-2014-8"), header=(
             ("Invoice No.:", "SVC-2014-8"), ("Invoice Date:", "August 3 , 2014"),
             ("Service period:", "July 1 - July 31, 2014")))),
         [{"invoice_number": "SVC-2014-8", "invoice_date": "2014-08-03", "service_period_start": "2014-07-01",
           "service_period_end": "2014-07-31"}]),
        ("Polish month name", "pl.pdf",
         doc("FV/2024/03/17", header=(("Faktura VAT nr", "FV/2024/03/17"), ("Data wystawienia:", "5 marca 2024")),
             totals=(("Do zapłaty:", "1 230,00 PLN"),), vendor=("Handel Wisła Sp. z o.o.", "ul. Długa 5",
                                                               "00-238 Warszawa"), title="Faktura"),
         [{"invoice_date": "2024-03-05", "total": Decimal("1230.00"), "currency": "PLN"}]),
        ("Portuguese month name", "pt.pdf",
         doc("FT 2024/118", header=(("Fatura n.º", "FT 2024/118"), ("Data:", "15 de março de 2024")),
             totals=(("Total:", "246,00 €"),), vendor=("Lusa Comércio Lda", "Rua Augusta 10", "1100-053 Lisboa"),
             title="Fatura"),
         [{"invoice_date": "2024-03-15", "total": Decimal("246.00")}]),
        ("Czech month name", "cz.pdf",
         doc("2024-0412", header=(("Faktura č.", "2024-0412"), ("Datum vystavení:", "3. května 2024")),
             totals=(("Celkem k úhradě:", "12 100,00 Kč"),), vendor=("Vltava Obchod s.r.o.", "Národní 1",
                                                                     "110 00 Praha"), title="Faktura"),
         [{"invoice_date": "2024-05-03", "total": Decimal("12100.00"), "currency": "CZK"}]),
        ("Indian digit grouping", "in.pdf",
         render_pdf(SampleDoc(title="TAX INVOICE", vendor=("Ganga Traders Pvt Ltd", "MG Road", "Bengaluru 560001"),
                              header=(("Invoice No.:", "GT/24-25/0917"), ("Invoice Date:", "12/09/2024")),
                              lines=(("Steel rods", "100", "1,046.24", "1,04,624.00"),),
                              totals=(("Taxable value:", "1,04,624.00"), ("IGST 18%:", "18,832.32"),
                                      ("Grand Total:", "INR 1,23,456.32")))),  # the sample fonts have no ₹
         [{"invoice_number": "GT/24-25/0917", "total": Decimal("123456.32"), "subtotal": Decimal("104624.00"),
           "currency": "INR"}]),
        ("statement of account", "statement.pdf",
         render_pdf(SampleDoc(title="Statement of Account", vendor=("Harbour Stationers Ltd", "1 Quay St",
                                                                    "Cork"),
                              header=(("Statement date:", "31/10/2026"), ("Account:", "C-1042")),
                              lines=(("Invoice INV-881 of 02/10/2026", "", "", "120.00"),
                                     ("Invoice INV-902 of 16/10/2026", "", "", "80.00")),
                              totals=(("Balance due:", "€200.00"),))),
         [{"doc_type": "statement"}]),
    ]
    try:
        import pillow_heif  # noqa: F401

        from tests.unit.ocr.test_heic import heic_photo

        cases.append(("iPhone HEIC photo (OCR)", "heic.eml", mail("heic", ("IMG_0001.HEIC", "application/octet-stream",
                                                                          heic_photo())),
                      [{"invoice_number": "HEIC-2026-9", "total": Decimal("1234.56"), "doc_type": "invoice"}]))
    except ImportError:
        print("  (pillow-heif missing: the HEIC case is left out)")
    return cases


def _cjk_case() -> tuple[list[object], list[dict[str, object]]]:
    """A Chinese e-invoice text layer that writes 年 as U+F98E and digits full width, read as a text layer is."""
    from inbox_ocr.kernel.models import Document as Doc
    from inbox_ocr.read.text_layer import page_from_words
    from tests.unit.understand.test_unicode_text_layer import words

    page = page_from_words(1, 600, 800, words("增值税电子普通发票", "发票号码: 24442000000123456789",
                                              "开票日期: 2024\uf98e11月20日", "价税合计（小写） ￥２，２６０．００"))
    return ([Doc(filename="cjk.pdf", content_type="application/pdf", sha256="0", reading="text_layer",
                 pages=(page,))],
            [{"invoice_date": "2024-11-20", "total": Decimal("2260.00")}])


def _template_case() -> tuple[bytes, list[dict[str, object]]]:
    from inbox_ocr.app.samples import SampleDoc, render_pdf

    pdf = render_pdf(SampleDoc(title="INVOICE", vendor=("Northwind Hosting Inc.", "Account # NW-4471"),
                               header=(("Invoice #", "NWH-31877"), ("Invoice date:", "09/30/2026")),
                               totals=(("Subtotal", "$250.00"), ("Total due", "$270.63"))))
    return pdf, [{"invoice_number": "NWH-31877", "invoice_date": "2026-09-30", "total": Decimal("270.63"),
                  "currency": "USD"}]


def bench_inputs() -> None:
    from inbox_ocr.app.api import extract_bytes
    from inbox_ocr.app.config import parse_config
    from inbox_ocr.understand import load_templates

    def value(result: object, name: str) -> object:
        if name == "doc_type":
            return result.classification.doc_type  # type: ignore[attr-defined]
        got = getattr(result.fields, name)  # type: ignore[attr-defined]
        return got.isoformat() if hasattr(got, "isoformat") else got

    per_field: dict[str, list[int]] = {}
    rows = []

    def score(case: str, results: list[object], expected: list[dict[str, object]], seconds: float) -> None:
        hits = total = 0
        missed = []
        for i, want in enumerate(expected):
            for name, wanted in want.items():
                got = value(results[i], name) if i < len(results) else None
                per_field.setdefault(name, [0, 0])
                per_field[name][0] += got == wanted
                per_field[name][1] += 1
                hits, total = hits + (got == wanted), total + 1
                if got != wanted:
                    missed.append(f"{name} {got!s} (printed: {wanted!s})")
        rows.append((case, len(results), len(expected), hits, total, seconds, missed))

    config = parse_config({"sources": [], "state_dir": "/tmp/inbox-ocr-bench", "limits": {"isolate_documents": False}})
    for case, filename, data, expected in _input_cases():
        started = time.perf_counter()
        results = [r for r in extract_bytes(data, filename, config=config) if r.document.reading != "unreadable"]
        score(case, results, expected, time.perf_counter() - started)
    docs, expected = _cjk_case()
    started = time.perf_counter()
    score("CJK compatibility ideographs", [analyze(d) for d in docs], expected, time.perf_counter() - started)
    pdf, expected = _template_case()
    templates = load_templates(ROOT / "tests" / "unit" / "understand" / "invoice2data_templates")
    started = time.perf_counter()
    doc = _read_bytes(pdf, "northwind.pdf")
    score("invoice2data template folder", [analyze(doc, None, templates)], expected, time.perf_counter() - started)

    print("\n(e) inputs as real mailboxes deliver them (generated here), through `extract`")
    print(f"  {'case':<48} {'docs':>9} {'fields':>9} {'seconds':>8}")
    for case, found, want, hits, total, seconds, missed in rows:
        print(f"  {case:<48} {found:>4} / {want:<2} {hits:>4} / {total:<2} {seconds:>8.2f}")
        for miss in missed:
            print(f"      missed: {miss}")
    _table("  per field over the cases", [(name, ok, n, 0) for name, (ok, n) in sorted(per_field.items())])
    hits = sum(ok for ok, _ in per_field.values())
    print(f"  all fields: {hits} / {sum(n for _, n in per_field.values())}")


def _read_bytes(data: bytes, name: str) -> Document:
    return read_document(data, filename=name, content_type="application/pdf", sha256=hashlib.sha256(data).hexdigest())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="a,b,c,d,e", help="comma-separated parts to run")
    parser.add_argument(
        "--ocr-cache", type=Path, default=None, help="folder to keep (c)'s OCR output in, to re-score without re-OCR"
    )
    args = parser.parse_args()
    parts = set(args.only.split(","))
    if not ZUGFERD.is_dir():
        print(f"zugferd-dev not found at {ZUGFERD}; (a), (b), (d) skipped")
        parts -= {"a", "b", "d"}
    else:
        expected = json.loads((ZUGFERD / "expected.json").read_text())
    if "d" in parts:
        bench_throughput()  # first, so that no OCR import by (c) can hide in its figure
    if "a" in parts:
        bench_xml(expected)
    if "b" in parts:
        bench_text(expected)
    if "c" in parts:
        bench_sroie(args.ocr_cache)
    if "e" in parts:
        bench_inputs()


if __name__ == "__main__":
    main()
