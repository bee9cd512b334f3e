"""Generic invoice field extraction from positioned text (PDF text layer or OCR), no template.

Every field is found the same way: labels in seven languages (labels.py) are located in the page
cells (layout.py), the texts next to each label are parsed as the field's type, and the candidate
with the best label weight x position trust wins. Money fields are then chosen together so that
net + tax = gross where the document allows it. Fields no label points at fall back to patterns
(IBAN, VAT ids) or layout (the vendor is the company at the top or in the footer).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from inbox_ocr.models import Document
from inbox_ocr.understand import labels as L
from inbox_ocr.understand.layout import (
    Candidate,
    Cell,
    Cells,
    LabelHit,
    compile_labels,
    find_labels,
    page_cells,
    row_of,
    value_candidates,
)
from inbox_ocr.understand.lines import extract_line_items
from inbox_ocr.understand.normalize import (
    IBAN_CANDIDATE,
    PERCENT,
    VAT_ID,
    Conventions,
    all_amounts,
    currencies_in,
    find_dates,
    parse_percent,
)

LABELS = compile_labels(L.FIELD_LABELS)
_SELLER_HEADING = re.compile(rf"^\W*(?:{L.SELLER_WORDS})(?:\s*[/&,]\s*\w+)*\W*$", re.IGNORECASE)
_BUYER_HEADING = re.compile(rf"^\W*(?:{L.BUYER_WORDS})(?:\s*[/&,]\s*\w+)*\W*$", re.IGNORECASE)
_BUYER_WORD = re.compile(rf"(?:{L.BUYER_WORDS})", re.IGNORECASE)
_LEGAL_FORM = re.compile(rf"(?<![^\W_])(?:{L.LEGAL_FORMS})(?![^\W\d_])", re.IGNORECASE)
_YOUR = re.compile(r"(?<![^\W_])(?:ihre?|your|votre|vostra|su|uw)(?![^\W\d_])", re.IGNORECASE)
_OTHER_TAX_ID = re.compile(r"(?<![A-Z0-9])([0-9A-Z]{15,20})(?![A-Z0-9])")
_COMPANY_WORD = re.compile(rf"(?<![^\W_])(?:{L.COMPANY_WORDS})(?![^\W\d_])", re.IGNORECASE)
# "Company Reg No. 75495-W", "(CO. NO. JM0195368-D)": a registration number, not part of the name
_REG_TAIL = re.compile(
    r"\s*\(?(?<![^\W_])(?:company|co\.?|business|roc|reg)(?:\s*reg(?:istration|\.)?)?\s*(?:no|number|id)\b.*$",
    re.IGNORECASE,
)
_PREPAID = re.compile(
    r"anzahlung|vorauszahlung|abschlag|bereits\s*(?:bezahlt|gezahlt|beglichen)|prepaid|prepayment|deposit|paid\s*amount|"
    r"acompte|déjà\s*(?:payé|réglé)|anticipo|pagato|aanbetaling|vooruitbetaling|预付",
    re.IGNORECASE,
)
_DOC_TITLE = re.compile(r"invoice|receipt|rechnung|facture|factura|fattura|factuur|quittung|bill\b", re.IGNORECASE)
_CURRENCY_LABEL = re.compile(
    r"(?:währung|currency|devise|moneda|divisa|valuta|币种|(?:beträge|amounts|montants|importes|importi|bedragen)\s+(?:in|en))\W*$",
    re.IGNORECASE,
)
_ID_TOKEN = re.compile(r"^[#(]*([A-Za-z0-9][A-Za-z0-9\-/._]*[A-Za-z0-9]|\d)[).,:;]*$")
_NOT_NAME = re.compile(
    r"@|www\.|https?:|\.com\b|tel\b|fax\b|phone|telefon|iban|\bbic\b|page|seite|\+\d|\breg(?:istration)?\b|\bgst\b|\bno\s*[.:]",
    re.IGNORECASE,
)
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

    def set(self, name: str, value: Any, confidence: float) -> None:
        if value is None or value == () or value == "":
            return
        self.values[name] = value
        self.confidence[name] = round(max(0.0, min(confidence, 1.0)), 3)


@dataclass
class _Context:
    cells: Cells
    hits: list[LabelHit]
    conventions: Conventions
    by_field: dict[str, list[LabelHit]]
    page_heights: dict[int, float] = field(default_factory=dict)

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


def extract_fields(document: Document) -> Extraction:
    """Extract InvoiceFields values, with a confidence per field, from a document's positioned text."""
    pages = document.pages[:MAX_PAGES]
    cells = Cells(c for p in pages for c in page_cells(p))
    text = "\n".join(p.text for p in pages)
    out = Extraction()
    if not cells:
        return out
    currency, currency_conf = _currency(cells, text)
    conventions = Conventions.detect(text, currency)
    out.conventions = conventions
    hits = find_labels(cells, LABELS)
    by_field: dict[str, list[LabelHit]] = {}
    for hit in hits:
        name = _refine(hit)
        by_field.setdefault(name, []).append(hit)
        if name == "subtotal" and _NET_TOTAL.match(hit.cell.text, hit.cell.spans[hit.start][0]):
            by_field.setdefault("total_net_qualified", []).append(hit)  # "NET TOTAL": gross on some receipts
    ctx = _Context(cells, hits, conventions, by_field, {p.number: p.height for p in pages})

    out.set("currency", currency, currency_conf)
    _best(out, "invoice_number", ctx, _parse_id)
    _best(out, "invoice_date", ctx, lambda t: _parse_date(t, conventions))
    _best(out, "due_date", ctx, lambda t: _parse_date(t, conventions))
    if "invoice_date" not in out.values:
        first = _first_date(cells, conventions)
        if first:
            out.set("invoice_date", first, 0.35)
    _service_period(out, ctx)
    _money(out, ctx)
    _best(out, "po_number", ctx, _parse_id)
    _best(out, "payment_terms", ctx, _parse_text, allow_below=True)
    _best(out, "payment_reference", ctx, _parse_id)
    _best(out, "vendor_tax_number", ctx, _parse_tax_number, field_name="tax_number")
    _vat_ids(out, ctx)
    _bank(out, ctx)
    _parties(out, ctx)
    _tax_rates(out, ctx)
    items = extract_line_items(cells, conventions)
    if items:
        out.set("line_items", items, 0.6)
    return out


_NET_MARKER = re.compile(
    r"(?<![^\W_])(?:netto|net|excl?\.?|exkl\.?|excluding|ohne|ht|hors\s*taxes?|sin\s*iva|imponibile|before\s*tax)(?![^\W\d_])",
    re.IGNORECASE,
)
_GROSS_MARKER = re.compile(
    r"(?<![^\W_])(?:brutto|gross|incl?\.?|inkl\.?|including|ttc|con\s*iva|ivato)(?![^\W\d_])", re.IGNORECASE
)


_PAYMENT = re.compile(
    r"(?<![^\W_])(?:cash|change|tendered|paid|bayar|tunai|card|visa|master\w*|bezahlt|gegeben|rückgeld|espèces|rendu|efectivo|cambio|contanti|resto)(?![^\W\d_])",
    re.IGNORECASE,
)
_NET_TOTAL = re.compile(r"net\s*total", re.IGNORECASE)
_COUNT = re.compile(
    r"^\W*(?:qty|quantity|items?|pcs|menge|stück|anzahl|articles?|artículos|articoli|aantal|"
    r"savings?|saved|discounts?|rabatt|remise|descuento|sconto|korting)\b",
    re.IGNORECASE,
)


def _refine(hit: LabelHit) -> str:
    """'Rechnungssumme Netto', 'Total (excl. VAT)' are subtotals; 'Cash total', 'Total qty' no totals."""
    if hit.field != "total":
        return hit.field
    if _PAYMENT.search(hit.cell.text):
        return "payment"
    after = " ".join(w.text for w in hit.cell.words[hit.end : hit.end + 3])
    if _COUNT.match(after):
        return "count"
    before = " ".join(w.text for w in hit.cell.words[max(hit.start - 1, 0) : hit.start])
    if _NET_MARKER.search(after) and not _GROSS_MARKER.search(after):
        return "subtotal"
    if _NET_MARKER.fullmatch(before.strip()) and not _GROSS_MARKER.search(after):
        return "total_net_qualified"
    return hit.field


# --------------------------------------------------------------------------- value parsers


def _parse_id(text: str) -> str | None:
    for raw in text.split()[:4]:
        m = _ID_TOKEN.match(raw)
        if not m:
            continue
        token = m.group(1)
        if not any(ch.isdigit() for ch in token) or "," in token:
            continue
        if re.fullmatch(r"\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{4}-\d{2}-\d{2}", token):
            continue  # a date, not a number
        if re.fullmatch(r"\d", token):
            continue
        return token
    return None


def _parse_date(text: str, conventions: Conventions) -> date | None:
    dates = find_dates(text, conventions)
    return dates[0][0] if dates else None


def _parse_text(text: str) -> str | None:
    text = text.strip(" :;-")
    # a single word under a heading is usually the next table header, not a sentence of terms
    return text if len(text.split()) >= 2 and any(ch.isalpha() for ch in text) else None


def _parse_tax_number(text: str) -> str | None:
    m = re.search(r"\d[\d/ ]{5,}\d", text)
    return m.group(0).strip() if m else None


def _amount_in(text: str, conventions: Conventions) -> tuple[Decimal, bool] | None:
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


def _scored(ctx: _Context, name: str, parse, allow_below: bool = True, max_below: int = 2):  # type: ignore[no-untyped-def]
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
    return results


def _best(
    out: Extraction, name: str, ctx: _Context, parse, allow_below: bool = True, field_name: str | None = None
) -> None:  # type: ignore[no-untyped-def]
    results = _scored(ctx, field_name or name, parse, allow_below)
    if results:
        score, value, _, _ = results[0]
        out.set(name, value, 0.5 + 0.45 * score)


def _first_date(cells: list[Cell], conventions: Conventions) -> date | None:
    for cell in cells:
        if cell.page != cells[0].page:
            break
        dates = find_dates(cell.text, conventions)
        if dates:
            return dates[0][0]
    return None


def _service_period(out: Extraction, ctx: _Context) -> None:
    for score, dates, _, _ in _scored(ctx, "service_period", lambda t: find_dates(t, ctx.conventions) or None):
        start, end = dates[0][0], dates[-1][0]
        if end < start:
            start, end = end, start
        out.set("service_period_start", start, 0.5 + 0.4 * score)
        out.set("service_period_end", end, 0.5 + 0.4 * score)
        return


# --------------------------------------------------------------------------- money


def _pool(ctx: _Context, name: str) -> list[tuple[float, Decimal, LabelHit]]:
    """Best score per distinct amount for one money field."""

    def parse(text: str) -> tuple[Decimal, bool, int] | None:
        got = _amount_in(text, ctx.conventions)
        return None if got is None else (got[0], got[1], len(all_amounts(PERCENT.sub(" ", text), ctx.conventions)))

    seen: dict[Decimal, tuple[float, LabelHit]] = {}
    for score, (value, decimals, count), hit, cand in _scored(ctx, name, parse, max_below=4):
        if (
            cand.where != "same"
            and cand.cell is not None
            and any(_PAYMENT.search(c.text) for c in row_of(cand.cell, ctx.cells))
        ):
            continue  # "CASH 50.00" under "Total": what was handed over, not what was due
        score *= 1.0 if decimals else 0.6
        if cand.where in ("same", "right"):
            count = max(count, _amount_cells_right_of(hit, ctx))
        if count > 1:
            score *= 0.6  # a row of several amounts (a tax breakdown) is a weaker witness
        if value == 0:
            score *= 0.3  # a zero total is rare; "Total 0.00" is usually a discount line misread
        if name == "total" and _GROSS_MARKER.search(hit.cell.text):
            score *= 1.2  # "Total after adj. incl. GST" names the gross outright
        if value not in seen or seen[value][0] < score:
            seen[value] = (score, hit)
    return sorted(((sc, v, h) for v, (sc, h) in seen.items()), key=lambda p: -p[0])[:8]


def _amount_cells_right_of(hit: LabelHit, ctx: _Context) -> int:
    """How many amounts the label's row prints after it (a tax summary row prints net and tax)."""
    x = hit.box[2]
    count = 0
    for cell in row_of(hit.cell, ctx.cells):
        text = cell.text[hit.char_end :] if cell is hit.cell else (cell.text if cell.box[0] >= x - 1 else "")
        count += len(all_amounts(PERCENT.sub(" ", text), ctx.conventions))
    return count


def _breakdown_pairs(ctx: _Context, part: str) -> list[tuple[float, Decimal, LabelHit]]:
    """A total row printing two amounts ("TOTAL : 16.98 1.02") is net and tax of a tax summary."""
    out = []
    for hit in ctx.by_field.get("total", ()):
        x = hit.box[2]
        texts = [
            cell.text[hit.char_end :] if cell is hit.cell else cell.text
            for cell in row_of(hit.cell, ctx.cells)
            if cell is hit.cell or cell.box[0] >= x - 1
        ]
        amounts = [a for a, _, _ in all_amounts(PERCENT.sub(" ", "  ".join(texts)), ctx.conventions)]
        if len(amounts) == 2 and amounts[0] > 0 and 0 <= amounts[1] <= amounts[0] * Decimal("0.3"):
            out.append((0.3, amounts[0] if part == "net" else amounts[1], hit))
    return out


def _derived_total(
    ctx: _Context,
    subs: list[tuple[float, Decimal, LabelHit]],
    taxes: list[tuple[float, Decimal, LabelHit]],
    roundings: tuple[Decimal, ...],
) -> Decimal | None:
    """No labelled gross adds up: net + tax (+ rounding), if that sum is printed somewhere (a cash line)."""
    if not subs or not taxes or taxes[0][1] <= 0 or subs[0][1] <= 0:
        return None
    printed = {a for cell in ctx.cells for a, _, _ in all_amounts(PERCENT.sub(" ", cell.text), ctx.conventions)}
    for r in (Decimal(0), *roundings):
        value = subs[0][1] + taxes[0][1] + r
        if value in printed and _plausible(value, subs[0][1], taxes[0][1], roundings):
            return value
    return None


def _has_cents(value: Decimal) -> bool:
    exponent = value.as_tuple().exponent
    return isinstance(exponent, int) and exponent < 0


def _plausible(t: Decimal, s: Decimal, x: Decimal, roundings: tuple[Decimal, ...] = ()) -> bool:
    """Net + tax (+ cash rounding) = gross, with tax a plausible share of net (VAT rates < 30%)."""
    if t == 0 or all(abs(s + x + r - t) > CENT for r in (Decimal(0), *roundings)):
        return False
    sign = 1 if t > 0 else -1
    s, x = s * sign, x * sign
    return s > 0 and 0 <= x <= s * Decimal("0.3") + CENT


def _money(out: Extraction, ctx: _Context) -> None:
    """Choose total, subtotal and tax together: the best-scored triple that adds up wins."""
    totals, subs, taxes = _pool(ctx, "total"), _pool(ctx, "subtotal"), _pool(ctx, "tax")
    if not totals:
        totals = _pool(ctx, "amount_due")  # "Amount due" is the gross when nothing else claims to be
    if not totals:
        totals = _pool(ctx, "total_net_qualified")  # "NET TOTAL" when nothing else claims to be the total
    roundings = tuple(
        value
        for _, (value, _), _, _ in _scored(ctx, "rounding", lambda t: _amount_in(t, ctx.conventions), allow_below=False)
        if 0 < abs(value) < Decimal("0.10")
    )
    subs, taxes = subs + _breakdown_pairs(ctx, "net"), taxes + _breakdown_pairs(ctx, "tax")
    if any(_has_cents(t) for _, t, _ in totals):
        # money printed with cents: a bare "68" is more likely a misread "6%" than a total
        totals = [p for p in totals if _has_cents(p[1])]
    consistent: list[tuple[float, Decimal, Decimal, Decimal]] = []
    for ts, t, _ in totals:
        for ss, s, _ in subs:
            for xs, x, _ in taxes:
                if _plausible(t, s, x, roundings):
                    consistent.append((ts + ss + xs, t, s, x))
    if not consistent:
        # "Total 20.00 / GST 1.20 / Net total 21.20": on some receipts the net-qualified line is the gross
        for ts, t, _ in _pool(ctx, "total_net_qualified"):
            for ss, s, _ in totals:
                for xs, x, _ in taxes:
                    if _plausible(t, s, x, roundings):
                        consistent.append((ts + ss + xs, t, s, x))
    if consistent:
        # Per-rate rows add up too; the document's sum row is the largest of the well-scored ones.
        top = max(c[0] for c in consistent)
        _, t, s, x = max((c for c in consistent if c[0] >= 0.6 * top), key=lambda c: (abs(c[1]), c[0]))
        out.set("total", t, 0.97)
        out.set("subtotal", s, 0.95)
        out.set("tax", x, 0.95)
    elif (derived := _derived_total(ctx, subs, taxes, roundings)) is not None:
        out.set("total", derived, 0.7)
        out.set("subtotal", subs[0][1], 0.7)
        out.set("tax", taxes[0][1], 0.7)
    else:
        if totals:
            out.set("total", totals[0][1], 0.45 + 0.4 * min(totals[0][0], 1.0))
        if subs:
            out.set("subtotal", subs[0][1], 0.4 + 0.4 * min(subs[0][0], 1.0))
        if taxes:
            out.set("tax", taxes[0][1], 0.4 + 0.4 * min(taxes[0][0], 1.0))
        if not totals and subs and taxes and _plausible(subs[0][1] + taxes[0][1], subs[0][1], taxes[0][1]):
            derived = subs[0][1] + taxes[0][1]
            out.set("total", derived, 0.5)
        elif not totals and subs:
            out.set("total", subs[0][1], 0.35)  # tax-inclusive receipts print only a subtotal
    _apply_rounding(out, ctx, totals)
    if "total" not in out.values:
        _total_fallback(out, ctx)
    _amount_due(out, ctx)


def _amount_due(out: Extraction, ctx: _Context) -> None:
    """What is left to pay ("Zahlbetrag", "Solde à payer"); after a prepayment it differs from the
    gross. A document that mentions no prepayment owes its total."""
    pool = _pool(ctx, "amount_due")
    if pool:
        out.set("amount_due", pool[0][1], 0.5 + 0.45 * min(pool[0][0], 1.0))
    elif "total" in out.values and not any(_PREPAID.search(c.text) for c in ctx.cells):
        out.set("amount_due", out.values["total"], min(out.confidence.get("total", 0.5), 0.6))


def _apply_rounding(out: Extraction, ctx: _Context, totals: list[tuple[float, Decimal, LabelHit]]) -> None:
    """Cash rounding printed after the total changes what is paid ("Rounding adj. -0.01")."""
    total = out.values.get("total")
    if total is None:
        return
    total_hit = next((h for _, v, h in totals if v == total), None)
    for _score, (value, _), hit, _ in _scored(
        ctx, "rounding", lambda t: _amount_in(t, ctx.conventions), allow_below=False
    ):
        if value == 0 or abs(value) >= Decimal("0.10"):
            continue
        if total_hit is not None and hit.cell.page == total_hit.cell.page and hit.cell.box[1] > total_hit.cell.box[1]:
            rounded = total + value
            if any(v == rounded for _, v, _ in totals):
                out.set("total", rounded, out.confidence.get("total", 0.5))
            else:
                out.set("total", rounded, min(out.confidence.get("total", 0.5), 0.7))
        return


def _total_fallback(out: Extraction, ctx: _Context) -> None:
    """No total label: the largest amount with decimals on the last page (not a cash line)."""
    last_page = ctx.cells[-1].page
    best = None
    for cell in ctx.cells:
        if cell.page != last_page or _PAYMENT.search(cell.text):
            continue
        got = _amount_in(cell.text, ctx.conventions)
        if got and got[1] and (best is None or got[0] > best):
            best = got[0]
    if best is not None:
        out.set("total", best, 0.3)


def _tax_rates(out: Extraction, ctx: _Context) -> None:
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


def _party_of(cell: Cell, ctx: _Context) -> str | None:
    """'seller' or 'buyer' from the nearest party heading above in the same column."""
    best: tuple[float, str] | None = None
    for other in ctx.cells:
        if other.page != cell.page or other.box[1] > cell.box[1] + 1 or len(other.words) > 4:
            continue
        if not (other.box[0] - cell.height * 2 <= cell.box[0] <= other.box[2] + cell.height * 2):
            continue
        if _SELLER_HEADING.match(other.text):
            kind = "seller"
        elif _BUYER_HEADING.match(other.text):
            kind = "buyer"
        else:
            continue
        distance = cell.box[1] - other.box[1]
        if best is None or distance < best[0]:
            best = (distance, kind)
    return best[1] if best else None


def _vat_ids(out: Extraction, ctx: _Context) -> None:
    from stdnum.cn import uscc as cn_uscc
    from stdnum.eu import vat as eu_vat

    vendor: list[tuple[float, str]] = []
    customer: list[tuple[float, str]] = []
    for cell in ctx.cells:
        for m in VAT_ID.finditer(cell.text.upper()):
            value = re.sub(r"[\s.\-]", "", m.group(1))
            prefix = cell.text[: m.start()]
            row = " ".join(c.text for c in _left_of(cell, ctx.cells))
            labelled = bool(re.search(r"ust|vat|tva|iva|btw|nif|cif|steuer|税", prefix + row, re.IGNORECASE))
            is_buyer = bool(_BUYER_WORD.search(prefix + " " + row) or _YOUR.search(prefix + " " + row))
            party = "buyer" if is_buyer else _party_of(cell, ctx)
            score = (0.9 if labelled else 0.6) * (1.0 if eu_vat.is_valid(value) else 0.8)
            (customer if party == "buyer" else vendor).append((score, value))
    found = {v for _, v in vendor + customer}
    for hit in ctx.by_field.get("vat_id", ()):
        # tax ids outside the EU pattern (Chinese USCC, ...): trust the label
        for cand in value_candidates(hit, ctx.cells, max_below=0):
            other = _OTHER_TAX_ID.search(cand.text.upper())
            if not other or other.group(1) in found or not any(ch.isdigit() for ch in other.group(1)):
                continue
            value = other.group(1)
            valid = len(value) == 18 and cn_uscc.is_valid(value)
            party = "buyer" if _YOUR.search(hit.cell.text) else _party_of(hit.cell, ctx)
            (customer if party == "buyer" else vendor).append((0.85 if valid else 0.55, value))
            found.add(value)
            break
    vendor.sort(key=lambda v: -v[0])
    customer.sort(key=lambda v: -v[0])
    if vendor:
        out.set("vendor_vat_id", vendor[0][1], vendor[0][0])
    cust = [c for c in customer if not vendor or c[1] != vendor[0][1]]
    if cust:
        out.set("customer_vat_id", cust[0][1], cust[0][0])


def _left_of(cell: Cell, cells: list[Cell]) -> list[Cell]:
    h = cell.height
    return [
        c
        for c in cells
        if c.page == cell.page
        and c.box[2] <= cell.box[0] + 1
        and min(cell.box[3], c.box[3]) - max(cell.box[1], c.box[1]) >= 0.5 * min(h, c.height)
    ]


def _bank(out: Extraction, ctx: _Context) -> None:
    from schwifty import BIC, IBAN

    fallback = None
    for cell in ctx.cells:
        for m in IBAN_CANDIDATE.finditer(cell.text.upper()):
            raw = m.group(1).replace(" ", "")
            try:
                out.set("iban", str(IBAN(raw).compact), 0.97)
                break
            except Exception:  # schwifty raises several types for invalid IBANs
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

    _best(out, "bic", ctx, parse_bic, allow_below=False)


def _looks_like_name(text: str) -> bool:
    letters = sum(ch.isalpha() for ch in text)
    digits = sum(ch.isdigit() for ch in text)
    if letters < 2 or digits > letters * 0.5 or len(text) > 80 or _NOT_NAME.search(text):
        return False
    return not any(hit_text_is_label(text))


def hit_text_is_label(text: str) -> list[str]:
    """The labels that make up all of `text` (a cell that is only a label is no value)."""
    text = text.strip()
    if not text:
        return []
    full = len(text.rstrip(" :")) - 1
    out = []
    for index in LABELS.at(text[0]):
        m = LABELS.each[index][1].match(text)
        if m and m.end() >= full:
            out.append(m.group(0))
    return out


def _key_like(cell: Cell, ctx: _Context) -> bool:
    """A cell that is the key of a key: value pair ("Nummer" followed by ": 4711")."""
    if cell.text.rstrip().endswith(":"):
        return True
    right = [c for c in _row_right(cell, ctx.cells)]
    return bool(right) and right[0].text.lstrip().startswith(":")


def _row_right(cell: Cell, cells: list[Cell]) -> list[Cell]:
    h = cell.height
    row = [
        c
        for c in cells
        if c.page == cell.page
        and c.box[0] >= cell.box[2] - 1
        and min(cell.box[3], c.box[3]) - max(cell.box[1], c.box[1]) >= 0.5 * min(h, c.height)
    ]
    return sorted(row, key=lambda c: c.box[0])


def _name_from(hit: LabelHit, ctx: _Context, below: int = 4, heading: bool = False) -> tuple[str, Cell] | None:
    candidates = value_candidates(hit, ctx.cells, max_below=below)
    if heading:  # under a party heading the name is below it; a far cell to the right is another column
        candidates = [c for c in candidates if c.where != "right" or c.distance < 4]
        candidates.sort(key=lambda c: {"same": 0, "below": 1, "right": 2}[c.where])
    names = []
    for cand in candidates:
        if cand.cell is None or (cand.where != "same" and _key_like(cand.cell, ctx)):
            continue
        text = _strip_name(cand.text)
        if _looks_like_name(text):
            names.append((text, cand.cell))
    if not names:
        return None
    # "GLN ...", "Herrn", a contact person: prefer the first line that names a company
    for name, cell in names[:3]:
        if _LEGAL_FORM.search(name):
            return name, cell
    return names[0]


def _strip_name(text: str) -> str:
    """The company part of a line: "Au bon moulin SARL - 1242 chemin ..." -> "Au bon moulin SARL",
    "AEON CO. (M) BHD (126926-H)" -> "AEON CO. (M) BHD", "Dimiliki: X Sdn Bhd" -> "X Sdn Bhd"."""
    text = _REG_TAIL.sub("", text)
    parts = [p.strip(" ,;:") for p in re.split(r"\s+[-–|●•·]\s+|\s*[●•|]\s*", text)]
    part = next((p for p in parts if _LEGAL_FORM.search(p)), parts[0])
    if ":" in part and _LEGAL_FORM.search(part.split(":", 1)[1]):
        part = part.split(":", 1)[1].strip()
    forms = list(_LEGAL_FORM.finditer(part))
    if forms:
        # the name ends with its last legal form ("GmbH & Co. KG"); what follows is a register
        # number, a label or the next column
        head, tail = part[: forms[-1].end()], part[forms[-1].end() :]
        if re.match(r"^[\s.,]*[(\[]?\s*\d", tail) or ":" in tail or len(tail.split()) > 3:
            part = head + (")" if head.count("(") > head.count(")") else "")
    return part.strip(" ,;:")


def _heading_hit(hit: LabelHit) -> bool:
    """A party label that is a heading ("Verkäufer", "Bill to:") rather than a word in a name."""
    rest = hit.cell.text[hit.char_end :].strip()
    return (
        rest == ""
        or rest.startswith(":")
        or (hit.start == 0 and len(hit.cell.words) <= hit.end + 1 and rest.endswith(":"))
    )


def _continuation_above(cell: Cell, ctx: _Context) -> Cell | None:
    """A line directly above a value, in its column and with no key of its own, continues it."""
    _, cells = ctx.cells.on_page(cell.page)
    for other in cells:
        gap = cell.box[1] - other.box[3]
        if abs(other.box[0] - cell.box[0]) > 2 or not (-0.2 * cell.height <= gap <= 0.8 * cell.height):
            continue
        if _left_of(other, ctx.cells) or not _looks_like_name(other.text):
            return None
        return other
    return None


_POSTCODE = re.compile(r"(?<!\d)\d{4,6}(?!\d)|\b\d{1,4}\s*[a-z]?\b")
_CONTACT = re.compile(r"@|www\.|https?:|tel|fax|phone|telefon|iban|bic|ust|vat|tva|gst|reg\b|\+\d", re.IGNORECASE)


def _vendor_address(ctx: _Context, name: str) -> str | None:
    """The lines under the vendor's name (or after it on a sender line, or beside 'Anschrift:')."""
    for hit in ctx.by_field.get("address", ()):
        if _party_of(hit.cell, ctx) != "seller":
            continue
        for cand in value_candidates(hit, ctx.cells, max_below=0):
            if cand.cell is None or not any(ch.isdigit() for ch in cand.text):
                continue
            lines, cell = [cand.text.strip()], cand.cell
            while (below := _continuation_below(cell, ctx)) is not None and len(lines) < 3:
                lines.append(below.text.strip())
                cell = below
            return ", ".join(lines)
    home = next((c for c in ctx.cells if name in c.text), None)
    if home is None:
        return None
    parts = [p.strip() for p in re.split(r"\s+[-–|●•·]\s+|\s*[●•|]\s*", home.text) if p.strip()]
    if len(parts) > 1 and name in parts[0]:
        rest = [p for p in parts[1:] if not _CONTACT.search(p)]
        if rest and any(ch.isdigit() for ch in " ".join(rest)):
            return ", ".join(rest)
    lines, cell = [], home
    while (below := _continuation_below(cell, ctx, loose=True)) is not None and len(lines) < 3:
        if _CONTACT.search(below.text) or not _POSTCODE.search(below.text):
            break
        lines.append(below.text.strip())
        cell = below
    return ", ".join(lines) if lines else None


def _continuation_below(cell: Cell, ctx: _Context, loose: bool = False) -> Cell | None:
    """The next line of the same block: same left edge, less than a line apart, no key of its own."""
    _, cells = ctx.cells.on_page(cell.page)
    for other in cells:
        gap = other.box[1] - cell.box[3]
        if abs(other.box[0] - cell.box[0]) > (cell.height * 1.5 if loose else 2) or not (
            -0.2 * cell.height <= gap <= 1.0 * cell.height
        ):
            continue
        if other is cell or _left_of(other, ctx.cells) or hit_text_is_label(other.text):
            return None
        return other
    return None


def _parties(out: Extraction, ctx: _Context) -> None:
    vendor = customer = None
    for hit in ctx.by_field.get("name", ()):
        party = _party_of(hit.cell, ctx)
        got = _name_from(hit, ctx, below=0)
        if got and got[1] is not hit.cell and (above := _continuation_above(got[1], ctx)) is not None:
            got = (f"{above.text} {got[0]}", got[1])  # "Name:" beside the last line of a two-line name
        if got and party == "seller" and vendor is None:
            vendor = (got[0], 0.85)
        elif got and party == "buyer" and customer is None:
            customer = (got[0], 0.8)
    for field_name in ("vendor_name", "customer_name"):
        current = vendor if field_name == "vendor_name" else customer
        if current is not None:
            continue
        for hit in ctx.by_field.get(field_name, ()):
            if not _heading_hit(hit):
                continue
            got = _name_from(hit, ctx, heading=True)
            if got:
                current = (got[0], 0.7 * hit.weight + 0.1)
                break
        if field_name == "vendor_name":
            vendor = current
        else:
            customer = current
    if vendor is None:
        vendor = _company_guess(ctx, exclude=customer[0] if customer else None)
    if vendor:
        out.set("vendor_name", vendor[0], vendor[1])
        address = _vendor_address(ctx, vendor[0])
        if address:
            out.set("vendor_address", address, 0.6)
    if customer:
        out.set("customer_name", customer[0], customer[1])


def _company_guess(ctx: _Context, exclude: str | None) -> tuple[str, float] | None:
    """The first company-looking line on page one outside a buyer block, else the top line.

    A line that is little more than a legal form ("SDN BHD", "CO. (M) SDN BHD") ends a name that
    starts on the line above, so the two are joined."""
    first_page = [c for c in ctx.cells if c.page == ctx.cells[0].page]
    for marker, confidence in ((_LEGAL_FORM, 0.6), (_COMPANY_WORD, 0.45)):
        for i, cell in enumerate(first_page):
            if not marker.search(cell.text) or _party_of(cell, ctx) == "buyer":
                continue
            name = _strip_name(cell.text)
            core = _LEGAL_FORM.sub(" ", name)
            if len(re.findall(r"[^\W\d_]{2,}", core)) <= 1 or (i and first_page[i - 1].text.rstrip().endswith("&")):
                above = _line_above(cell, first_page[:i])
                if above is not None:
                    name = f"{above.text.strip()} {name}"
            if i + 1 < len(first_page) and name.endswith("&"):
                name = f"{name} {first_page[i + 1].text.strip()}"
            if sum(ch.isalpha() for ch in _LEGAL_FORM.sub(" ", name)) < 3:
                continue  # a bare "SDN BHD" or "(CO.)" with nothing to join
            if _looks_like_name(name) and name != exclude and not _BUYER_WORD.search(name):
                return name, confidence
    for cell in first_page[:4]:
        name = _strip_name(cell.text)
        # receipts put the shop name first; a lower-case first line is a handwritten note
        if _looks_like_name(name) and name != exclude and not name.islower():
            return name, 0.35
    return None


def _line_above(cell: Cell, before: list[Cell]) -> Cell | None:
    """The cell right above `cell` (same column, less than a line apart) if it can start a name."""
    for other in reversed(before):
        gap = cell.box[1] - other.box[3]
        if gap > 1.0 * cell.height:
            return None
        overlap = min(cell.box[2], other.box[2]) - max(cell.box[0], other.box[0])
        if overlap > 0 and gap > -0.3 * cell.height:
            ok = (
                _looks_like_name(other.text)
                and not any(ch.isdigit() for ch in other.text)
                and not other.text.islower()
                and not _DOC_TITLE.search(other.text)
            )
            return other if ok else None
    return None


# --------------------------------------------------------------------------- currency


def _currency(cells: list[Cell], text: str) -> tuple[str | None, float]:
    for i, cell in enumerate(cells):
        if _CURRENCY_LABEL.search(cell.text):
            for other in cells[i : i + 3]:
                codes = currencies_in(other.text)
                if codes:
                    return codes[0], 0.95
    # a code counts next to an amount: "SDN BHD" is a company, not Bahraini dinars
    codes = [code for cell in cells if any(ch.isdigit() for ch in cell.text) for code in currencies_in(cell.text)]
    if not codes:
        loose = [code for cell in cells if not _LEGAL_FORM.search(cell.text) for code in currencies_in(cell.text)]
        return (loose[0], 0.5) if loose else (None, 0.0)
    counts: dict[str, int] = {}
    for code in codes:
        counts[code] = counts.get(code, 0) + 1
    best = max(counts, key=lambda c: (counts[c], -codes.index(c)))
    return best, 0.9 if len(counts) == 1 else 0.7


__all__ = ["Candidate", "Extraction", "extract_fields"]
