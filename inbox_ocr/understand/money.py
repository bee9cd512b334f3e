"""Money fields chosen together: total, subtotal and tax so that net + tax = gross (within a cent,
allowing a printed cash rounding), the amount due, and the fallbacks receipts need."""

from __future__ import annotations

import re
from decimal import Decimal

from inbox_ocr.understand.label_match import LabelHit
from inbox_ocr.understand.nearby import row_of
from inbox_ocr.understand.normalize import (
    PERCENT,
    all_amounts,
)
from inbox_ocr.understand.patterns import fold
from inbox_ocr.understand.scoring import (
    CENT,
    GROSS_MARKER,
    DocumentContext,
    Extraction,
    amount_in,
    is_payment,
    scored_candidates,
)

_PREPAID = re.compile(
    r"anzahlung|vorauszahlung|abschlag|bereits\s*(?:bezahlt|gezahlt|beglichen)|prepaid|prepayment|deposit|paid\s*amount|"
    r"acompte|déjà\s*(?:payé|réglé)|anticipo|pagato|aanbetaling|vooruitbetaling|预付",
)  # searched in fold()ed text (patterns.py)


def amount_pool(ctx: DocumentContext, name: str) -> list[tuple[float, Decimal, LabelHit]]:
    """Best score per distinct amount for one money field (worked out once per document)."""
    key = ("amount_pool", name)
    if key not in ctx.memo:
        ctx.memo[key] = _amount_pool(ctx, name)
    return list(ctx.memo[key])


def _amount_pool(ctx: DocumentContext, name: str) -> list[tuple[float, Decimal, LabelHit]]:

    def parse(text: str) -> tuple[Decimal, bool, int] | None:
        got = amount_in(text, ctx.conventions)
        return None if got is None else (got[0], got[1], len(all_amounts(PERCENT.sub(" ", text), ctx.conventions)))

    seen: dict[Decimal, tuple[float, LabelHit]] = {}
    for score, (value, decimals, count), hit, cand in scored_candidates(ctx, name, parse, max_below=4):
        if (
            cand.where != "same"
            and cand.cell is not None
            and any(is_payment(c.text) for c in row_of(cand.cell, ctx.cells))
        ):
            continue  # "CASH 50.00" under "Total": what was handed over, not what was due
        score *= 1.0 if decimals else 0.6
        if cand.where in ("same", "right"):
            count = max(count, _amount_cells_right_of(hit, ctx))
        if count > 1:
            score *= 0.6  # a row of several amounts (a tax breakdown) is a weaker witness
        if value == 0:
            score *= 0.3  # a zero total is rare; "Total 0.00" is usually a discount line misread
        if name == "total" and GROSS_MARKER.search(hit.cell.text):
            score *= 1.2  # "Total after adj. incl. GST" names the gross outright
        if value not in seen or seen[value][0] < score:
            seen[value] = (score, hit)
    return sorted(((sc, v, h) for v, (sc, h) in seen.items()), key=lambda p: -p[0])[:8]


def _amount_cells_right_of(hit: LabelHit, ctx: DocumentContext) -> int:
    """How many amounts the label's row prints after it (a tax summary row prints net and tax)."""
    x = hit.box[2]
    count = 0
    for cell in row_of(hit.cell, ctx.cells):
        text = cell.text[hit.char_end :] if cell is hit.cell else (cell.text if cell.box[0] >= x - 1 else "")
        count += len(all_amounts(PERCENT.sub(" ", text), ctx.conventions))
    return count


def _breakdown_pairs(ctx: DocumentContext, part: str) -> list[tuple[float, Decimal, LabelHit]]:
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
    ctx: DocumentContext,
    subs: list[tuple[float, Decimal, LabelHit]],
    taxes: list[tuple[float, Decimal, LabelHit]],
    roundings: tuple[Decimal, ...],
) -> Decimal | None:
    """No labelled gross adds up: net + tax (+ rounding), if that sum is printed somewhere (a cash line)."""
    if not subs or not taxes or taxes[0][1] <= 0 or subs[0][1] <= 0:
        return None
    printed = {a for cell in ctx.cells if cell.has_digit
               for a, _, _ in all_amounts(PERCENT.sub(" ", cell.text), ctx.conventions)}
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


def extract_money(out: Extraction, ctx: DocumentContext) -> None:
    """Choose total, subtotal and tax together: the best-scored triple that adds up wins."""
    totals, subs, taxes = amount_pool(ctx, "total"), amount_pool(ctx, "subtotal"), amount_pool(ctx, "tax")
    if not totals:
        totals = amount_pool(ctx, "amount_due")  # "Amount due" is the gross when nothing else claims to be
    if not totals:
        totals = amount_pool(ctx, "total_net_qualified")  # "NET TOTAL" when nothing else claims to be the total
    roundings = tuple(
        value
        for _, (value, _), _, _ in scored_candidates(
            ctx, "rounding", lambda t: amount_in(t, ctx.conventions), allow_below=False
        )
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
        for ts, t, _ in amount_pool(ctx, "total_net_qualified"):
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


def _amount_due(out: Extraction, ctx: DocumentContext) -> None:
    """What is left to pay ("Zahlbetrag", "Solde à payer"); after a prepayment it differs from the
    gross. A document that mentions no prepayment owes its total."""
    pool = amount_pool(ctx, "amount_due")
    if pool:
        out.set("amount_due", pool[0][1], 0.5 + 0.45 * min(pool[0][0], 1.0))
    elif "total" in out.values and not any(_PREPAID.search(fold(c.text)) for c in ctx.cells):
        out.set("amount_due", out.values["total"], min(out.confidence.get("total", 0.5), 0.6))


def _apply_rounding(out: Extraction, ctx: DocumentContext, totals: list[tuple[float, Decimal, LabelHit]]) -> None:
    """Cash rounding printed after the total changes what is paid ("Rounding adj. -0.01")."""
    total = out.values.get("total")
    if total is None:
        return
    total_hit = next((h for _, v, h in totals if v == total), None)
    for _score, (value, _), hit, _ in scored_candidates(
        ctx, "rounding", lambda t: amount_in(t, ctx.conventions), allow_below=False
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


def _total_fallback(out: Extraction, ctx: DocumentContext) -> None:
    """No total label: the largest amount with decimals on the last page (not a cash line)."""
    last_page = ctx.cells[-1].page
    best = None
    for cell in ctx.cells:
        if cell.page != last_page or is_payment(cell.text):
            continue
        got = amount_in(cell.text, ctx.conventions)
        if got and got[1] and (best is None or got[0] > best):
            best = got[0]
    if best is not None:
        out.set("total", best, 0.3)
