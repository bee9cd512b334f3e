"""The dev documents of ../shared/datasets with their truth, grouped by where they come from.

    zugferd-dev   text layer of hybrid e-invoices; truth from their XML (expected.json); grouped by
                  the producer of the sample (XML-Rechnung, Intarsys, FNFE, Mustang, ...)
    invoices-dev  invoice PDFs from six public repositories; grouped by repository
    sroie-dev     scanned receipts read by our OCR; one source, five folds for cross-validation

Every sample's truth uses the canonical forms of `compare`: ISO dates, decimal strings, compact
VAT ids. A field the document does not show is None and is not scored.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from inbox_ocr.kernel.models import Document
from inbox_ocr.kernel.settings import OcrSettings
from inbox_ocr.read import read_document

ROOT = Path(__file__).resolve().parents[2]
DATASETS = Path(os.environ.get("INBOX_OCR_DATASETS", ROOT.parent / "shared" / "datasets"))
def cache_dir(kind: str) -> Path:
    """Where training caches read documents and features ($INBOX_OCR_CACHE, else ~/.cache/inbox-ocr)."""
    return Path(os.environ.get("INBOX_OCR_CACHE", Path.home() / ".cache" / "inbox-ocr")) / kind

FIELDS = ("invoice_number", "invoice_date", "currency", "total", "subtotal", "tax", "vendor_vat_id",
          "vendor_name", "customer_vat_id", "due_date")
AMOUNTS = ("total", "subtotal", "tax")
DATES = ("invoice_date", "due_date")


@dataclass(frozen=True)
class Sample:
    source: str  # zugferd | invoices | sroie | synth
    group: str  # the unit of leave-one-out: a producer, a repository, a fold, a layout family
    name: str
    truth: dict[str, str | None]
    path: Path | None = None
    reading: str = "text"  # text | ocr
    data: bytes | None = field(default=None, repr=False)  # synthetic documents carry their bytes
    synth: tuple[int, str] | None = None  # (seed, family) of a synthetic document not generated yet

    def generated(self) -> Sample:
        """A synthetic sample with its bytes and truth (generated from its seed); others as they are."""
        if self.synth is None or self.data is not None:
            return self
        from inbox_ocr.training.synth import generate, render_image

        seed, family = self.synth
        invoice = generate(seed, family=family)
        data = invoice.pdf if self.reading == "text" else render_image(invoice.pdf, dpi=150, degrade=seed)
        return Sample(self.source, self.group, self.name, dict(invoice.truth), None, self.reading, data, self.synth)

    def document(self) -> Document:
        """The document as the product reads it (cached on disk: OCR takes a second a page)."""
        raw = self.data if self.data is not None else self.path.read_bytes()  # type: ignore[union-attr]
        key = hashlib.sha256(raw).hexdigest()[:32] + f".{self.reading}.json"
        cached = cache_dir("documents") / key
        if cached.exists():
            return Document.model_validate_json(cached.read_text())
        if self.reading == "ocr":
            kind = "image/png" if raw[:4] == b"\x89PNG" else "image/jpeg"
            doc = read_document(raw, filename=self.name, content_type=kind, sha256=key, ocr=OcrSettings())
        else:
            doc = read_document(raw, filename=self.name, content_type="application/pdf", sha256=key,
                                ocr=OcrSettings())
            doc = doc.model_copy(update={"einvoice": None, "einvoice_format": None, "reading": "text_layer"})
        cached.parent.mkdir(parents=True, exist_ok=True)
        cached.write_text(doc.model_dump_json())
        return doc


# --------------------------------------------------------------------------- comparing values


def canonical(name: str, value: Any) -> str | None:
    """A field value (from the extractor or a truth file) in the form `compare` uses."""
    if value is None or value == "":
        return None
    if name in AMOUNTS:
        try:
            return str(Decimal(str(value)).quantize(Decimal("0.01")))
        except InvalidOperation:
            return None
    if name in DATES:
        if isinstance(value, date):
            return value.isoformat()
        text = str(value).strip()
        for fmt in ("%Y-%m-%d", "%Y%m%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"):
            try:
                return datetime.strptime(text, fmt).date().isoformat()
            except ValueError:
                continue
        return None
    if name in ("vendor_vat_id", "customer_vat_id"):
        return re.sub(r"[\s.\-]", "", str(value)).upper()
    if name == "invoice_number":
        return re.sub(r"\s+", "", str(value))
    if name == "vendor_name":
        folded = unicodedata.normalize("NFKC", str(value)).casefold()
        return re.sub(r"[^\w]+", "", folded)
    return str(value).strip()


def compare(name: str, predicted: Any, truth: str | None) -> bool:
    return truth is not None and canonical(name, predicted) == canonical(name, truth)


# --------------------------------------------------------------------------- the dev sets


def _zugferd_group(name: str) -> str:
    parts = name.split("__")
    if name.startswith("XML-Rechnung"):
        return "zugferd:xml-rechnung"
    if parts[0].startswith("ZUGFeRD") and len(parts) > 2:
        return f"zugferd:{parts[2].lower()}"
    return f"zugferd:{parts[0].split()[0].lower()}"


def zugferd() -> Iterator[Sample]:
    folder = DATASETS / "zugferd-dev"
    if not folder.is_dir():
        return
    expected = json.loads((folder / "expected.json").read_text())
    for name, exp in sorted(expected.items()):
        truth = {
            "invoice_number": exp.get("invoice_number"),
            "invoice_date": canonical("invoice_date", exp.get("issue_date")),
            "currency": exp.get("currency"),
            "total": canonical("total", exp.get("grand_total")),
            "subtotal": canonical("subtotal", exp.get("tax_basis_total")),
            "tax": canonical("tax", exp.get("tax_total")),
            "vendor_vat_id": canonical("vendor_vat_id", exp.get("seller_vat_id")),
            "vendor_name": exp.get("seller_name"),
        }
        yield Sample("zugferd", _zugferd_group(name), name, truth, folder / name)


def invoices() -> Iterator[Sample]:
    folder = DATASETS / "invoices-dev"
    if not folder.is_dir():
        return
    expected = json.loads((folder / "expected.json").read_text())
    for name, exp in sorted(expected.items()):
        printed = exp.get("printed") or {}
        value = {**exp, **printed}  # what the page shows is what a reader of the page can find
        truth = {
            "invoice_number": value.get("invoice_number"),
            "invoice_date": canonical("invoice_date", value.get("invoice_date")),
            "currency": value.get("currency"),
            "total": canonical("total", value.get("total")),
            "tax": canonical("tax", value.get("tax")),
            "vendor_vat_id": canonical("vendor_vat_id", value.get("vendor_vat_id")),
            "vendor_name": value.get("vendor_name"),
        }
        repo = "/".join(name.split("__")[:2])
        yield Sample("invoices", f"invoices:{repo}", name, truth, folder / name)


def _sroie_date(printed: str) -> str | None:
    from inbox_ocr.understand.normalize import Conventions, parse_date

    day = parse_date(printed or "", Conventions(day_first=True))
    if day is None:
        try:
            day = datetime.strptime(printed.strip(), "%Y%m%d").date()
        except ValueError:
            return None
    return day.isoformat()


def _sroie_total(printed: str) -> str | None:
    from inbox_ocr.understand.normalize import Conventions, parse_amount

    return canonical("total", parse_amount(printed or "", Conventions(decimal_separator=".")))


def sroie(folds: int = 5) -> Iterator[Sample]:
    folder = DATASETS / "sroie-dev"
    if not folder.is_dir():
        return
    for i, img in enumerate(sorted((folder / "img").glob("*.jpg"))):
        key_path = folder / "key" / f"{img.stem}.json"
        if not key_path.exists():
            continue
        key = json.loads(key_path.read_text())
        truth = {
            "invoice_date": _sroie_date(key.get("date", "")),
            "total": _sroie_total(key.get("total", "")),
            "vendor_name": key.get("company"),
        }
        yield Sample("sroie", f"sroie:fold{i % folds}", img.name, truth, img, reading="ocr")


def synthetic(count: int, seed: int = 0, families: list[str] | None = None, reading: str = "text") -> list[Sample]:
    """`count` synthetic documents, the families taken in turn (generated when featurized)."""
    from inbox_ocr.training.synth import families as all_families

    names = families or all_families()
    out = []
    for i in range(count):
        family = names[i % len(names)]
        out.append(Sample("synth", f"synth:{family}", f"synth-{reading}-{seed + i}", {}, reading=reading,
                          synth=(seed + i, family)))
    return out


def dev_samples() -> list[Sample]:
    """Every dev document there is (none when ../shared/datasets is missing)."""
    return [*zugferd(), *invoices(), *sroie()]
