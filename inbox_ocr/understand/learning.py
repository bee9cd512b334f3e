"""Vendor templates learned from a reviewer's corrections (invoice2data YAML, templates.py reads them).

When a person corrects fields of one vendor's invoice, the corrected values are looked for in the
text the templates see, and each one found after a label on its line (`Doc. ID: D-88213`) or
under a label on the line above becomes a regex: the label as printed, then the value's shape
(digits and letters generalized: `D-88213` -> `[A-Za-z]+-\\d+`; an amount or a date by their
kind), so the vendor's next invoice, with other values in the same places, is read by it. The
template recognizes the vendor by its VAT id (else its name) as printed. It is kept only for
the fields it reads back exactly from the corrected document; the others are named with why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from inbox_ocr.kernel.models import Document, InvoiceFields
from inbox_ocr.understand.layout import layout_text
from inbox_ocr.understand.normalize import Conventions, all_amounts, find_dates
from inbox_ocr.understand.templates import TEMPLATE_PAGES, _template_from, apply_template

MONEY = {"total", "subtotal", "tax", "amount_due"}
DATES = {"invoice_date", "due_date", "service_period_start", "service_period_end"}
LEARNABLE = MONEY | DATES | {"invoice_number", "po_number", "payment_reference", "customer_name", "vendor_vat_id",
                             "customer_vat_id", "iban", "bic"}


@dataclass
class LearnedTemplate:
    name: str  # file stem
    data: dict[str, Any]  # the YAML mapping
    learned: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # field -> why it was not learned


class NotLearnable(ValueError):
    """Nothing on the document tells this vendor apart, or no corrected field could be learned."""


def learn_template(document: Document, fields: InvoiceFields, corrected: list[str]) -> LearnedTemplate:
    """A template that reads the `corrected` fields of `fields` (the values after review) from
    this vendor's documents. Raises NotLearnable with the reason."""
    text = layout_text(document.pages[:TEMPLATE_PAGES])
    if not text.strip():
        raise NotLearnable("the document has no text to learn from")
    issuer = fields.vendor_name
    if not issuer:
        raise NotLearnable("the vendor's name is not known: correct the Vendor field first")
    keyword = _keyword(text, fields)
    if keyword is None:
        raise NotLearnable("neither the vendor's VAT id nor its name is printed on the document")
    learned: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    conventions = Conventions.detect(text, fields.currency)
    for name in corrected:
        value = getattr(fields, name, None)
        if name not in LEARNABLE:
            skipped[name] = "not a field templates learn"
        elif value in (None, ""):
            skipped[name] = "cleared: nothing to read"
        elif (regex := _regex_for(text, value, conventions)) is None:
            skipped[name] = "not printed after or under a label"
        else:
            learned[name] = {"parser": "regex", "regex": regex}
    data: dict[str, Any] = {"issuer": issuer, "keywords": [keyword], "priority": 10,
                            "fields": learned, "options": {"currency": fields.currency} if fields.currency else {}}
    template = _template_from(data, Path(f"{_slug(issuer)}.yml"))
    result = apply_template(template, text).values
    for name in list(learned):
        if result.get(name) != getattr(fields, name):
            skipped[name] = f"the learned pattern reads {result.get(name)!r} back, not the corrected value"
            del learned[name]
    if not learned:
        raise NotLearnable("no corrected field could be learned: " +
                           "; ".join(f"{k}: {v}" for k, v in skipped.items()) if skipped else "nothing was corrected")
    data["required_fields"] = sorted(learned)  # a learned template reads only what was corrected
    if not data["options"]:
        del data["options"]
    return LearnedTemplate(_slug(issuer), data, sorted(learned), skipped)


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60] or "vendor"


def _keyword(text: str, fields: InvoiceFields) -> str | None:
    """A regex that finds this vendor's documents: its VAT id as printed (spaces allowed), else its name."""
    if fields.vendor_vat_id:
        spaced = r"\s?".join(re.escape(c) for c in fields.vendor_vat_id.replace(" ", ""))
        if re.search(spaced, text):
            return spaced
    if fields.vendor_name and fields.vendor_name in text:
        return re.escape(fields.vendor_name)
    return None


def _regex_for(text: str, value: Any, conventions: Conventions) -> str | None:
    """The regex that captures `value` where the text prints it after (or under) a label."""
    for line_start, line in _lines(text):
        for start, end in _printed(line, value, conventions):
            shape = _shape(line[start:end], value)
            label = _label(line[:start])
            if label:
                return re.escape(label) + r"[\s:.#]*" + f"({shape})"
            above = text[:line_start].rstrip("\n").rsplit("\n", 1)[-1]
            label = _label(above[max(0, start - 2): start + 40], last=False)
            if label:
                return re.escape(label) + r"[^\n]*\n[^\n]*?" + f"({shape})"
    return None


def _label(text: str, last: bool = True) -> str | None:
    """The label in `text`: its last column (first, for the line above), without the colon, when
    it is words (up to 40 characters), not another value."""
    columns = [c for c in re.split(r"\s{2,}", text.strip()) if c]
    if not columns:
        return None
    label = (columns[-1] if last else columns[0]).rstrip(" :.#")
    if not label or len(label) > 40 or not re.match(r"[^\W\d_]", label) or sum(c.isdigit() for c in label) > 2:
        return None
    return label


def _lines(text: str) -> list[tuple[int, str]]:
    out, pos = [], 0
    for line in text.split("\n"):
        out.append((pos, line))
        pos += len(line) + 1
    return out


def _printed(line: str, value: Any, conventions: Conventions) -> list[tuple[int, int]]:
    if isinstance(value, Decimal):
        return [(s, e) for amount, s, e in all_amounts(line, conventions) if abs(amount) == abs(value)]
    if isinstance(value, date):
        return [(s, e) for day, s, e in find_dates(line, conventions) if day == value]
    wanted = str(value)
    spaced = r"[\s.\-/]?".join(re.escape(c) for c in wanted.replace(" ", ""))
    return [m.span() for m in re.finditer(spaced, line, re.IGNORECASE)]


def _shape(printed: str, value: Any) -> str:
    """A regex for values printed like `printed`: runs of digits and letters generalized."""
    if isinstance(value, Decimal):
        return r"-?\d(?:[\d.,']*\d)?"
    out = []
    for run in re.finditer(r"\d+|[^\W\d_]+|\s+|.", printed):
        token = run.group(0)
        if token[0].isdigit():
            out.append(r"\d+")
        elif token[0].isalpha():
            out.append(r"[^\W\d_]+")
        elif token[0].isspace():
            out.append(r"\s?")
        else:
            out.append(re.escape(token))
    return "".join(out)


def save_template(folder: Path, learned: LearnedTemplate) -> Path:
    """Write the template as `folder/<vendor>.yml` (merged into an earlier learned one of the same
    vendor: its other fields stay), atomically, so a running daemon reads it whole on its next document."""
    import os
    import tempfile

    import yaml

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{learned.name}.yml"
    data = dict(learned.data)
    if path.exists():
        earlier = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if isinstance(earlier, dict) and earlier.get("keywords") == data["keywords"]:
            data["fields"] = {**(earlier.get("fields") or {}), **data["fields"]}
            data["required_fields"] = sorted(data["fields"])
    body = ("# learned from a reviewer's corrections (inbox-ocr web UI); edit freely\n"
            + yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    handle, tmp = tempfile.mkstemp(dir=folder, prefix=f".{learned.name}.", suffix=".tmp")
    with os.fdopen(handle, "w", encoding="utf-8") as f:
        f.write(body)
    os.replace(tmp, path)
    return path
