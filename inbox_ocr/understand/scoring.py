"""Shared by the field extractors: the per-document context, label refinement, value parsers and
the scoring of a label's candidate values (label weight x position trust x distance x priors)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from inbox_ocr.understand import labels as L
from inbox_ocr.understand.caches import on_forget
from inbox_ocr.understand.context_labels import CONTEXT_LABELS
from inbox_ocr.understand.label_match import LabelHit, compile_labels
from inbox_ocr.understand.layout import Cell, same_row
from inbox_ocr.understand.nearby import Cells, value_candidates
from inbox_ocr.understand.normalize import (
    PERCENT,
    Conventions,
    all_amounts,
    find_dates,
)
from inbox_ocr.understand.patterns import LETTER_OR_DIGIT, fold, literal_first

# the field labels (table 0: what the rule-based extractor reads) and the context labels (table 1:
# order, customer, page, phone ... numbers, read by the scorer's features), found in one search
LABELS = compile_labels(L.FIELD_LABELS, CONTEXT_LABELS)
FIELD_TABLE, CONTEXT_TABLE = 0, 1
on_forget(LABELS.forget)
_ID_TOKEN = re.compile(r"^[#(]*([A-Za-z0-9][A-Za-z0-9\-/._]*[A-Za-z0-9]|\d)[).,:;]*$")
CENT = Decimal("0.01")
WHERE_TRUST = {"same": 1.0, "right": 0.92, "below": 0.75}
_HEADER_FIELDS = {"invoice_number", "invoice_date", "due_date"}
MAX_PAGES = 4


@dataclass
class Extraction:
    values: dict[str, Any] = field(default_factory=dict)
    confidence: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    conventions: Conventions = field(default_factory=Conventions)
    calibrated: set[str] = field(default_factory=set)  # fields whose confidence is the scorer's calibrated one
    cells: list[Cell] = field(default_factory=list)  # what the values were read from (for their positions)

    def set(self, name: str, value: Any, confidence: float) -> None:
        if value is None or value == () or value == "":
            return
        self.values[name] = value
        self.confidence[name] = round(max(0.0, min(confidence, 1.0)), 3)


@dataclass
class DocumentContext:
    cells: Cells
    hits: list[LabelHit]  # of the field labels
    conventions: Conventions
    by_field: dict[str, list[LabelHit]]
    page_heights: dict[int, float] = field(default_factory=dict)
    party_headings: list[tuple[Cell, str]] | None = None  # parties.py fills it on first use
    memo: dict[tuple[Any, ...], Any] = field(default_factory=dict)  # results asked for more than once
    context_hits: list[LabelHit] = field(default_factory=list)  # of the context labels (the scorer's)

    def parse_date(self, text: str) -> date | None:
        """`date_value` in this document's conventions (one function per document, so that the
        scored candidates of a date field are worked out once)."""
        return date_value(text, self.conventions)

    def prior(self, name: str, hit: LabelHit) -> float:
        """Where documents put their header fields: top of page one, next to the number."""
        if name not in _HEADER_FIELDS:
            return 1.0
        if hit.cell.page > 1:
            return 0.8
        factor = 1.0
        height = self.page_heights.get(hit.cell.page) or 0
        if height and hit.cell.box[1] < 0.45 * height:
            factor *= 1.25
        if name != "invoice_number" and any(
            other.field == "invoice_number" and abs(other.cell.box[1] - hit.cell.box[1]) < hit.cell.height
            for other in self.by_field.get("invoice_number", ())
        ):
            factor *= 1.4  # "Invoice no. 4711 dated 05.03.2018"
        return factor


_NET_MARKER = re.compile(
    r"(?<![^\W_])(?:netto|net|excl?\.?|exkl\.?|excluding|ohne|ht|hors\s*taxes?|sin\s*iva|imponibile|before\s*tax)(?![^\W\d_])",
    re.IGNORECASE,
)
GROSS_MARKER = re.compile(
    r"(?<![^\W_])(?:brutto|gross|incl?\.?|inkl\.?|including|ttc|con\s*iva|ivato)(?![^\W\d_])", re.IGNORECASE
)


# payment words, not after a letter or digit: searched in fold()ed text (patterns.py), see is_payment
_PAYMENT_WORDS = (r"cash|change|tendered|paid|bayar|tunai|card|visa|master\w*|bezahlt|gegeben|rückgeld|espèces|rendu|"
                  r"efectivo|cambio|contanti|resto")
PAYMENT = re.compile(rf"(?:{literal_first(_PAYMENT_WORDS, LETTER_OR_DIGIT)})(?![^\W\d_])")


def is_payment(text: str) -> bool:
    """`text` holds a payment word ("Cash", "Change", "Bezahlt"): a line of what was handed over."""
    return PAYMENT.search(fold(text)) is not None


NET_TOTAL = re.compile(r"net\s*total", re.IGNORECASE)
_COUNT = re.compile(
    r"^\W*(?:qty|quantity|items?|pcs|menge|stück|anzahl|articles?|artículos|articoli|aantal|"
    r"savings?|saved|discounts?|rabatt|remise|descuento|sconto|korting)\b",
    re.IGNORECASE,
)


def refined_label(hit: LabelHit) -> str:
    """'Rechnungssumme Netto', 'Total (excl. VAT)' are subtotals; 'Cash total', 'Total qty' no totals."""
    if hit.field != "total":
        return hit.field
    if is_payment(hit.cell.text):
        return "payment"
    after = " ".join(w.text for w in hit.cell.words[hit.end : hit.end + 3])
    if _COUNT.match(after):
        return "count"
    before = " ".join(w.text for w in hit.cell.words[max(hit.start - 1, 0) : hit.start])
    if _NET_MARKER.search(after) and not GROSS_MARKER.search(after):
        return "subtotal"
    if _NET_MARKER.fullmatch(before.strip()) and not GROSS_MARKER.search(after):
        return "total_net_qualified"
    return hit.field


# --------------------------------------------------------------------------- value parsers


def identifier_value(text: str) -> str | None:
    for raw in text.split()[:4]:
        m = _ID_TOKEN.match(raw)
        if not m:
            continue
        token = m.group(1)
        if not any(map(str.isdigit, token)) or "," in token:
            continue
        if re.fullmatch(r"\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{4}-\d{2}-\d{2}", token):
            continue  # a date, not a number
        if re.fullmatch(r"\d", token):
            continue
        return token
    return None


def date_value(text: str, conventions: Conventions) -> date | None:
    dates = find_dates(text, conventions)
    return dates[0][0] if dates else None


def text_value(text: str) -> str | None:
    text = text.strip(" :;-")
    # a single word under a heading is usually the next table header, not a sentence of terms
    return text if len(text.split()) >= 2 and any(map(str.isalpha, text)) else None


def tax_number_value(text: str) -> str | None:
    m = re.search(r"\d[\d/ ]{5,}\d", text)
    return m.group(0).strip() if m else None


def amount_in(text: str, conventions: Conventions) -> tuple[Decimal, bool] | None:
    """The first money amount in text, skipping percentages and dates; (value, has_decimals)."""
    cleaned = PERCENT.sub(" ", text)
    for _, s, e in find_dates(cleaned, conventions):
        cleaned = cleaned[:s] + " " * (e - s) + cleaned[e:]
    amounts = all_amounts(cleaned, conventions)
    if not amounts:
        return None
    value, s, e = amounts[0]
    return value, bool(re.search(r"[.,]\d{1,2}-?$", cleaned[s:e].strip()))


# --------------------------------------------------------------------------- generic best-candidate


def scored_candidates(ctx: DocumentContext, name: str, parse, allow_below: bool = True, max_below: int = 2):  # type: ignore[no-untyped-def]
    """Every value `parse` finds near a label of `name`, best score first. Worked out once per
    document and arguments: the rule-based extraction and the scorer's features both ask (the
    same `parse` function object gives the same values)."""
    func = getattr(parse, "__func__", parse)  # the key holds no bound method or closure: no cycle back to ctx
    key = ("scored", name, func, allow_below, max_below)
    memo = getattr(parse, "__self__", ctx) is ctx and getattr(func, "__closure__", None) is None
    cached = ctx.memo.get(key) if memo else None
    if cached is not None:
        return cached
    results = []
    for hit in ctx.by_field.get(name, ()):
        for rank, cand in enumerate(value_candidates(hit, ctx.cells, max_below=max_below)):
            if cand.where == "below" and not allow_below:
                continue
            value = parse(cand.text)
            if value is None:
                continue
            score = hit.weight * WHERE_TRUST[cand.where] * (0.97 ** min(cand.distance, 20)) * (0.95**rank)
            score *= ctx.prior(name, hit)
            results.append((score, value, hit, cand))
    results.sort(key=lambda r: -r[0])
    if memo:
        ctx.memo[key] = results
    return results


def best_candidate(
    out: Extraction, name: str, ctx: DocumentContext, parse, allow_below: bool = True, field_name: str | None = None
) -> None:  # type: ignore[no-untyped-def]
    results = scored_candidates(ctx, field_name or name, parse, allow_below)
    if results:
        score, value, _, _ = results[0]
        out.set(name, value, 0.5 + 0.45 * score)


def cells_left_of(cell: Cell, cells: list[Cell]) -> list[Cell]:
    """Cells of `cell`'s row (overlapping by half the lower height) that end before it starts."""
    return [c for c in cells if c.page == cell.page and c.box[2] <= cell.box[0] + 1 and same_row(cell, c)]

