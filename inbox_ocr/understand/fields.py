"""Generic invoice field extraction from positioned text (PDF text layer or OCR), no template.

Every field is found the same way: labels in seven languages (labels.py) are located in the page
cells (layout.py, label_match.py), the texts next to each label are parsed as the field's type, and the candidate
with the best label weight x position trust wins. Money fields are then chosen together so that
net + tax = gross where the document allows it. Fields no label points at fall back to patterns
(IBAN, VAT ids) or layout (the vendor is the company at the top or in the footer).

    fields.py    extract_fields(): the order of extraction, dates, numbers, bank, currency, rates
    scoring.py   the per-document context and the scoring of label candidates
    money.py     total / subtotal / tax / amount due, chosen together
    parties.py   vendor and customer names, VAT and tax ids, vendor address
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from inbox_ocr.kernel.models import Document
from inbox_ocr.understand.currency import currencies_in
from inbox_ocr.understand.label_match import LabelHit, find_labels
from inbox_ocr.understand.layout import Cell, page_cells
from inbox_ocr.understand.lines import extract_line_items
from inbox_ocr.understand.money import (
    extract_money,
)
from inbox_ocr.understand.nearby import Candidate, Cells, value_candidates
from inbox_ocr.understand.normalize import (
    IBAN_CANDIDATE,
    PERCENT,
    Conventions,
    find_dates,
    parse_percent,
)
from inbox_ocr.understand.parties import (
    extract_parties,
    extract_vat_ids,
    has_legal_form,
)
from inbox_ocr.understand.patterns import fold
from inbox_ocr.understand.scoring import (
    LABELS,
    MAX_PAGES,
    NET_TOTAL,
    DocumentContext,
    Extraction,
    best_candidate,
    identifier_value,
    refined_label,
    scored_candidates,
    tax_number_value,
    text_value,
)


@dataclass
class RuleResult:
    """The rule-based extraction of one document and what it was computed from."""

    out: Extraction
    ctx: DocumentContext | None
    page_sizes: dict[int, tuple[float, float]]
    currency: str | None


def extract_fields(document: Document, learned: bool = True, stated: Collection[str] = ()) -> Extraction:
    """Extract InvoiceFields values, with a confidence per field, from a document's positioned text.

    The rule-based extraction runs first; with `learned` (the default) the shipped scorer then
    chooses the fields it was trained for among all candidates (scorer.py) and gives them
    calibrated confidences, but not the `stated` ones (an e-invoice's XML states them exactly).
    Without a shipped model the rule-based values stand."""
    rule = rule_extraction(document)
    if learned and rule.ctx is not None:
        from inbox_ocr.understand.scorer import get_scorer

        scorer = get_scorer()
        if scorer is not None:
            scorer.apply(rule, skip=stated)
    return rule.out


def rule_extraction(document: Document) -> RuleResult:
    """Labels, positions and hand-written priors: the rule-based values (and the context they came from)."""
    pages = document.pages[:MAX_PAGES]
    cells = Cells(c for p in pages for c in page_cells(p))
    text = "\n".join(p.text for p in pages)
    out = Extraction(cells=cells)
    sizes = {p.number: (p.width, p.height) for p in pages}
    if not cells:
        return RuleResult(out, None, sizes, None)
    currency, currency_conf = _currency(cells, text)
    conventions = Conventions.detect(text, currency)
    out.conventions = conventions
    hits, context_hits = find_labels(cells, LABELS)
    by_field: dict[str, list[LabelHit]] = {}
    for hit in hits:
        name = refined_label(hit)
        by_field.setdefault(name, []).append(hit)
        if name == "subtotal" and NET_TOTAL.match(hit.cell.text, hit.cell.spans[hit.start][0]):
            by_field.setdefault("total_net_qualified", []).append(hit)  # "NET TOTAL": gross on some receipts
    ctx = DocumentContext(cells, hits, conventions, by_field, {p.number: p.height for p in pages},
                          context_hits=context_hits)

    out.set("currency", currency, currency_conf)
    best_candidate(out, "invoice_number", ctx, identifier_value)
    best_candidate(out, "invoice_date", ctx, ctx.parse_date)
    best_candidate(out, "due_date", ctx, ctx.parse_date)
    if "invoice_date" not in out.values:
        first = _first_date(cells, conventions)
        if first:
            out.set("invoice_date", first, 0.35)
    _service_period(out, ctx)
    extract_money(out, ctx)
    best_candidate(out, "po_number", ctx, identifier_value)
    best_candidate(out, "payment_terms", ctx, text_value, allow_below=True)
    best_candidate(out, "payment_reference", ctx, identifier_value)
    best_candidate(out, "vendor_tax_number", ctx, tax_number_value, field_name="tax_number")
    extract_vat_ids(out, ctx)
    _bank(out, ctx)
    extract_parties(out, ctx)
    _tax_rates(out, ctx)
    items = extract_line_items(cells, conventions)
    if items:
        out.set("line_items", items, 0.6)
    return RuleResult(out, ctx, sizes, currency)


def _first_date(cells: list[Cell], conventions: Conventions) -> date | None:
    for cell in cells:
        if cell.page != cells[0].page:
            break
        dates = find_dates(cell.text, conventions)
        if dates:
            return dates[0][0]
    return None


def _service_period(out: Extraction, ctx: DocumentContext) -> None:
    def dates_in(text: str) -> list[tuple[date, int, int]] | None:
        return find_dates(text, ctx.conventions) or None

    for score, dates, _, _ in scored_candidates(ctx, "service_period", dates_in):
        start, end = dates[0][0], dates[-1][0]
        if end < start:
            start, end = end, start
        out.set("service_period_start", start, 0.5 + 0.4 * score)
        out.set("service_period_end", end, 0.5 + 0.4 * score)
        return


# --------------------------------------------------------------------------- money


def _tax_rates(out: Extraction, ctx: DocumentContext) -> None:
    rates: list[Decimal] = []
    for name in ("tax", "tax_rate_label"):
        for hit in ctx.by_field.get(name, ()):
            for cand in value_candidates(hit, ctx.cells, max_below=4):
                for m in PERCENT.finditer(cand.text if cand.where != "same" else hit.cell.text):
                    rate = parse_percent(m.group(0))
                    if rate is not None and rate == rate.to_integral():
                        rate = Decimal(int(rate))
                    if rate is not None and 0 <= rate <= 30 and rate not in rates:
                        rates.append(rate)
    if rates:
        out.set("tax_rates", tuple(sorted(rates)), 0.7)


# --------------------------------------------------------------------------- parties


def _valid_iban(raw: str, iban_type: type) -> str | None:
    """`raw` as a valid IBAN, or its longest prefix that is one: a word printed right after it
    ("ES91...1332BIC", "AT61...3201BANKAUSTRIA") is glued on by the text layer."""
    for end in range(len(raw), 14, -1):
        try:
            return str(iban_type(raw[:end]).compact)
        except Exception:  # schwifty raises several types for invalid IBANs
            if end == len(raw) and raw[-1].isdigit() and not any(c.isalpha() for c in raw[4:]):
                return None  # digits only after the check digits: nothing glued on, a real typo
    return None


def _bank(out: Extraction, ctx: DocumentContext) -> None:
    from schwifty import BIC, IBAN

    fallback = None
    for cell in ctx.cells:
        if not cell.has_digit:  # an IBAN has digits
            continue
        for m in IBAN_CANDIDATE.finditer(cell.text.upper()):
            raw = m.group(1).replace(" ", "")
            iban = _valid_iban(raw, IBAN)
            if iban is not None:
                out.set("iban", iban, 0.97)
                break
            fallback = fallback or raw
        if "iban" in out.values:
            break
    if "iban" not in out.values and fallback and ctx.by_field.get("iban_label"):
        out.set("iban", fallback, 0.3)
        out.warnings.append(f"IBAN {fallback} fails its checksum")

    def parse_bic(text: str) -> str | None:
        for token in text.upper().split()[:3]:
            token = token.strip(":,.;")
            try:
                return str(BIC(token))
            except Exception:  # not a BIC
                continue
        return None

    best_candidate(out, "bic", ctx, parse_bic, allow_below=False)


# searched in fold()ed text (patterns.py); every alternative begins with its first letter
_CURRENCY_LABEL = re.compile(
    r"(?:währung|currency|devise|moneda|divisa|valuta|币种|beträge\s+(?:in|en)|amounts\s+(?:in|en)|montants\s+(?:in|en)"
    r"|importes\s+(?:in|en)|importi\s+(?:in|en)|bedragen\s+(?:in|en))\W*$"
)


_HAN = re.compile(r"[\u4e00-\u9fff]")
_KANA = re.compile(r"[\u3040-\u30ff]")


def _currency(cells: list[Cell], text: str) -> tuple[str | None, float]:
    code, confidence = _currency_of_cells(cells, text)
    # "¥" is the yuan on a Chinese page: Han characters without Japanese kana, and no 円 / JPY
    if code == "JPY" and _HAN.search(text) and not _KANA.search(text) and "円" not in text and "JPY" not in text:
        return "CNY", confidence
    return code, confidence


def _currency_of_cells(cells: list[Cell], text: str) -> tuple[str | None, float]:
    for i, cell in enumerate(cells):
        if _CURRENCY_LABEL.search(fold(cell.text)):
            for other in cells[i : i + 3]:
                codes = currencies_in(other.text)
                if codes:
                    return codes[0], 0.95
    # a code counts next to an amount: "SDN BHD" is a company, not Bahraini dinars
    codes = [code for cell in cells if cell.has_digit for code in currencies_in(cell.text)]
    if not codes:
        loose = [code for cell in cells if not has_legal_form(cell.text) for code in currencies_in(cell.text)]
        return (loose[0], 0.5) if loose else (None, 0.0)
    counts: dict[str, int] = {}
    for code in codes:
        counts[code] = counts.get(code, 0) + 1
    best = max(counts, key=lambda c: (counts[c], -codes.index(c)))
    return best, 0.9 if len(counts) == 1 else 0.7


__all__ = ["Candidate", "Extraction", "RuleResult", "extract_fields", "rule_extraction"]
