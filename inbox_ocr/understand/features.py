"""What the scorer knows about a candidate: features that carry across layouts and languages.

    label context   for every label meaning (invoice number, order number, customer number, due
                    date, delivery date, total, subtotal, discount, page, phone, registry ...): how
                    strongly a label of that meaning points at the value from the same cell, from
                    the left on the same row, and from above; the label tables become features
    geometry        page, position, relative text height, where in its cell the value sits
    value           per kind: size and rank of an amount and whether it is the sum of two others
                    (net + tax), order and spacing of dates, shape of an identifier, check digits,
                    party block and country of a tax id
    rule witness    whether the rule-based extractor chose this value, and how it scored it

The feature names are fixed per kind (`FEATURE_NAMES`); the shipped model records the names it was
trained with, and the scorer refuses a model whose names differ.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from itertools import chain

import numpy as np

from inbox_ocr.understand import labels as L
from inbox_ocr.understand.candidates import KINDS, Candidate, Kind, other_separator, tax_id_valid
from inbox_ocr.understand.layout import Cell
from inbox_ocr.understand.names import NAME_FACTS, name_facts
from inbox_ocr.understand.view import GROUP_INDEX, GROUPS, RULE_FIELDS, DocumentView, PageInfo

DIRECTIONS = ("same", "left", "above")  # where a label stands from the value

_COMMON = [
    "page", "y", "x", "x_end", "rel_height", "cell_words", "value_pos", "value_first", "value_last",
    "value_share", "row_cells", "row_position", "label_gap_same", "label_gap_left", "label_gap_above",
    "count_same_value", "n_of_kind", "order_of_kind",
    *(f"is_rule_{f}" for f in RULE_FIELDS),
]
_LABEL_FEATURES = [f"{d}_{g}" for d in DIRECTIONS for g in GROUPS]
_KIND_FEATURES: dict[Kind, list[str]] = {
    "amount": ["log_value", "negative", "has_cents", "other_separator", "rank_desc", "share_of_max", "is_max",
               "amounts_in_row",
               "row_payment_word", "gross_of_pair", "net_of_pair", "tax_of_pair", "currency_mark",
               "larger_below", "on_last_page", "pool_total", "pool_subtotal", "pool_tax", "pool_amount_due"],
    "date": ["days_after_first", "days_before_last", "is_first", "is_last", "has_later_within_120",
             "has_earlier_within_120", "time_in_cell", "spelled_month", "years_before_latest",
             "score_invoice_date", "score_due_date"],
    "id": ["length", "digit_share", "letters", "has_slash", "has_dash", "has_dot", "all_digits",
           "starts_letter", "year_like", "upper_share", "postcode_like", "plus_before", "title_cell",
           "score_invoice_number", "score_po_number"],
    "vat": ["checksum", "uscc", "n_distinct", "order_top_down", "party", "buyer_word_near", "in_footer",
            "country_matches_currency", "same_country_as_iban"],
    "name": [*NAME_FACTS, "height_to_max", "height_rank", "top_rank", "party", "joined", "is_rule_vendor_name",
             "is_rule_customer_name", "near_vendor_vat"],
}
FEATURE_NAMES: dict[Kind, tuple[str, ...]] = {k: tuple(_COMMON + _LABEL_FEATURES + _KIND_FEATURES[k]) for k in KINDS}

_BUYER_WORD = re.compile(rf"(?:{L.BUYER_WORDS})|\b(?:your|ihre?|votre|vostra|uw)\b", re.IGNORECASE)
_TIME = re.compile(r"\b\d{1,2}:\d{2}\b")
_CURRENCY_COUNTRIES = {"EUR": "AT BE CY DE EE EL ES FI FR HR IE IT LT LU LV MT NL PT SI SK XI", "GBP": "GB XI",
                       "CHF": "CH", "CNY": "CN", "CZK": "CZ", "PLN": "PL", "SEK": "SE", "DKK": "DK",
                       "HUF": "HU", "RON": "RO", "BGN": "BG", "NOK": "NO"}






# --------------------------------------------------------------------------- the feature rows


def _matrix(rows: list[list[float]], width: int) -> np.ndarray:
    """float32 [len(rows), width] from rows of numbers, read as one stream (np.fromiter): turning
    nested lists into an array works out the shape and type of every element first."""
    if rows and len(rows[0]) != width:
        raise ValueError(f"feature rows of {len(rows[0])} values, expected {width}")
    return np.fromiter(chain.from_iterable(rows), dtype=np.float32, count=len(rows) * width).reshape(len(rows), width)




def _cell_facts(view: DocumentView, cell: Cell) -> tuple[list[float], np.ndarray, int, int]:
    """What is the same for every candidate of a cell: the common features of the cell (page,
    position, height, words, row, label gap to the left), its labels from the left, the length of
    its text and where the text ends before trailing punctuation."""
    cached = view._cell_facts.get(id(cell))
    if cached is None:
        page = view.pages.get(cell.page) or PageInfo(1000.0, 1000.0, 10.0)
        row = view.row(cell)
        left, left_gap = view.left(cell)
        facts = [
            float(min(cell.page - 1, 3)), cell.box[1] / page.height, cell.box[0] / page.width,
            cell.box[2] / page.width, cell.height / max(page.median_height, 1.0), float(len(cell.words)),
            float(len(row)), float(row.index(cell) if cell in row else 0), left_gap,
        ]
        cached = view._cell_facts[id(cell)] = (facts, left, max(len(cell.text), 1), len(cell.text.rstrip(" .,:;)")))
    return cached


def _amount_block(view: DocumentView, cands: list[Candidate]) -> np.ndarray:
    """The amount features of all candidates at once (pairs and ranks are about the whole set)."""
    values = [Decimal(c.value) for c in cands]  # type: ignore[arg-type]
    cents = np.array([int(v * 100) for v in values], dtype=np.int64)
    positive = {int(c) for c in cents if c > 0}
    distinct = sorted({abs(int(c)) for c in cents}, reverse=True)
    rank = {c: i / max(len(distinct), 1) for i, c in enumerate(distinct)}
    top = max(distinct[0], 1) if distinct else 1
    pages = np.array([c.cell.page for c in cands])
    tops = np.array([c.cell.box[1] for c in cands])
    bottoms = np.array([c.cell.box[3] for c in cands])
    below = (pages[None, :] == pages[:, None]) & (tops[None, :] > bottoms[:, None]) & (cents[None, :] > cents[:, None])
    larger_below = below.sum(axis=1) if len(cands) else np.zeros(0, dtype=np.int64)
    last_page = max(view.pages) if view.pages else 1
    gross_of, net_of, tax_of = _sum_pairs(positive)
    pools = [view.pools.get(name, {}) for name in ("total", "subtotal", "tax", "amount_due")]
    conventions = view.ctx.conventions
    out = []
    for cand, v, key, below_count in zip(cands, values, cents.tolist(), larger_below.tolist(), strict=True):
        size = abs(key)
        digits_in_row, payment, currency = view.row_facts(cand.cell)
        text = cand.text
        out.append([
            math.log10(1 + float(abs(v))), float(v < 0), float(_has_cents(text)),
            float(other_separator(text, conventions)), rank[size], size / top, float(size == top),
            digits_in_row, payment, float(key in gross_of), float(key in net_of), float(key in tax_of), currency,
            float(min(int(below_count), 10)), float(cand.cell.page == last_page), *(pool.get(v, 0.0) for pool in pools),
        ])
    return _matrix(out, len(_KIND_FEATURES["amount"]))


def _sum_pairs(amounts: set[int]) -> tuple[set[int], set[int], set[int]]:
    """Amounts (in cents) printed as gross, net or tax of a net + tax = gross triple on the page,
    with the tax a plausible share of the net (VAT rates stay under 30%)."""
    gross: set[int] = set()
    net: set[int] = set()
    tax: set[int] = set()
    ordered = np.array(sorted(amounts), dtype=np.int64)
    n = len(ordered)
    for lo in range(0, n, 512):  # the tax x = ordered[i] against every net s = ordered[j], j >= i, in blocks
        x = ordered[lo : lo + 512, None]
        later = np.arange(n)[None, :] >= np.arange(lo, lo + len(x))[:, None]
        rows, cols = np.nonzero((x <= ordered[None, :] * 0.3 + 1) & later)
        taxes, nets = ordered[lo + rows], ordered[cols]
        sums = taxes + nets
        at = np.minimum(np.searchsorted(ordered, sums), n - 1)
        found = ordered[at] == sums
        gross.update(sums[found].tolist())
        net.update(nets[found].tolist())
        tax.update(taxes[found].tolist())
    return gross, net, tax


_CENTS = re.compile(r"[.,]\d{2}\s*-?$")
_YEAR = re.compile(r"(?:19|20)\d\d")


def _has_cents(text: str) -> bool:
    return bool(_CENTS.search(text.strip()))


def _date_features(view: DocumentView, cand: Candidate, values: list[date]) -> list[float]:
    d: date = cand.value  # type: ignore[assignment]
    first, last = min(values), max(values)
    later = any(0 < (o - d).days <= 120 for o in values)
    earlier = any(0 < (d - o).days <= 120 for o in values)
    return [
        (d - first).days / 365.0, (last - d).days / 365.0, float(d == first), float(d == last), float(later),
        float(earlier), float(bool(_TIME.search(cand.cell.text))), float(any(map(str.isalpha, cand.text))),
        float(last.year - d.year), view.pools.get("invoice_date", {}).get(d, 0.0),
        view.pools.get("due_date", {}).get(d, 0.0),
    ]


def _id_features(view: DocumentView, cand: Candidate) -> list[float]:
    token: str = cand.value  # type: ignore[assignment]
    digits = sum(map(str.isdigit, token))
    letters = sum(map(str.isalpha, token))
    before = cand.cell.text[: cand.start].rstrip()
    after = cand.cell.text[cand.end :].lstrip()
    postcode = token.isdigit() and len(token) in (4, 5) and bool(after[:1].isupper()) and not before.endswith(":")
    title = any(hit[0] == GROUP_INDEX["doc_title"] for hit in view.hits.get(id(cand.cell), ()))
    return [
        float(len(token)), digits / len(token), float(letters), float("/" in token), float("-" in token),
        float("." in token), float(token.isdigit()), float(token[0].isalpha()),
        float(bool(_YEAR.fullmatch(token))), sum(map(str.isupper, token)) / max(letters, 1),
        float(postcode), float(before.endswith("+")), float(title),
        view.pools.get("invoice_number", {}).get(token, 0.0), view.pools.get("po_number", {}).get(token, 0.0),
    ]


def _vat_features(view: DocumentView, cand: Candidate, values: list[str], order: int, party: int) -> list[float]:
    value: str = cand.value  # type: ignore[assignment]
    country = "CN" if len(value) == 18 and value[:2].isdigit() else value[:2]
    near = cand.cell.text[: cand.start] + " " + " ".join(c.text for c in view.row(cand.cell)[:2])
    page = view.pages.get(cand.cell.page)
    iban = view.rule.values.get("iban")
    return [
        float(tax_id_valid(value)), float(country == "CN"), float(len(set(values))), float(order),
        float(party), float(bool(_BUYER_WORD.search(near))),
        float(bool(page) and cand.cell.box[1] > 0.82 * page.height),  # type: ignore[union-attr]
        float(country in _CURRENCY_COUNTRIES.get(view.currency or "", "").split()),
        float(bool(iban) and str(iban)[:2] == country),
    ]


def _name_block(view: DocumentView, cands: list[Candidate], parties: list[int], joined: list[bool]) -> np.ndarray:
    page_heights: dict[int, list[float]] = {}
    for cell in view.ctx.cells:
        page_heights.setdefault(cell.page, []).append(cell.height)
    ranked = {page: sorted(set(h), reverse=True) for page, h in page_heights.items()}
    vendor, customer = view.rule.values.get("vendor_name"), view.rule.values.get("customer_name")
    vat = view.rule.values.get("vendor_vat_id")
    vat_cells = [c for c in view.ctx.cells if vat and str(vat)[2:6] in c.text.replace(" ", "")] if vat else []
    out = []
    for cand, party, join in zip(cands, parties, joined, strict=True):
        cell = cand.cell
        heights = ranked.get(cell.page, [cell.height])
        rank = next((i for i, h in enumerate(heights) if h <= cell.height + 0.01), len(heights))
        near_vat = any(c.page == cell.page and abs(c.box[0] - cell.box[0]) < 3 * cell.height
                       and 0 <= c.box[1] - cell.box[1] < 12 * cell.height for c in vat_cells)
        out.append([*name_facts(str(cand.value)), cell.height / max(heights[0], 1.0), float(min(rank, 10)),
                    cell.index / max(len(view.ctx.cells), 1), float(party), float(join),
                    float(cand.value == vendor), float(cand.value == customer), float(near_vat)])
    return _matrix(out, len(_KIND_FEATURES["name"]))


def feature_rows(view: DocumentView, kind: Kind, cands: list[Candidate],
                 parties: Iterable[int] | None = None, joined: Iterable[bool] | None = None,
                 only: Sequence[int] | None = None) -> np.ndarray:
    """One row of FEATURE_NAMES[kind] per candidate; with `only` (indices into `cands`), the rows of
    those candidates alone, in that order, each the same as in the rows of all of them (features
    about the whole set, such as how often a value occurs or a candidate's order, count them all)."""
    width = len(FEATURE_NAMES[kind])
    picked: Sequence[int] = range(len(cands)) if only is None else only
    if not picked:
        return np.zeros((0, width), dtype=np.float32)
    values = [c.value for c in cands]
    counts = Counter(values)
    party_list = list(parties) if parties is not None else [0] * len(cands)
    common: list[list[float]] = []
    labels: list[np.ndarray] = []  # per candidate its labels from the same cell, the left and above
    n = len(cands)
    for i in picked:
        cand = cands[i]
        same_labels, same_gap = view.same(cand)
        above_labels, above_gap = view.above(cand)
        facts, left_labels, text_len, body_end = _cell_facts(view, cand.cell)
        start, end = cand.start, cand.end
        # geometry, the value's place in its cell, label distances, the rule witness
        common.append([
            *facts[:6], start / text_len, float(cand.cell.text.find(" ", 0, start) < 0), float(end >= body_end),
            (end - start) / text_len, facts[6], facts[7], same_gap, facts[8], above_gap,
            float(counts[cand.value]), float(n), i / max(n, 1), *view.witness(cand.value),
        ])
        labels += (same_labels, left_labels, above_labels)
    # one concatenation, in the order of _LABEL_FEATURES (direction, then group)
    rows = len(picked)
    blocks = [_matrix(common, len(_COMMON)), np.concatenate(labels).reshape(rows, len(_LABEL_FEATURES))]
    if kind == "amount":  # pairs and ranks are about the whole set
        specific = _amount_block(view, cands)
    elif kind == "date":
        specific = _matrix([_date_features(view, cands[i], values) for i in picked],  # type: ignore[arg-type]
                           len(_KIND_FEATURES["date"]))
    elif kind == "id":
        specific = _matrix([_id_features(view, cands[i]) for i in picked], len(_KIND_FEATURES["id"]))
    elif kind == "name":
        specific = _name_block(view, cands, party_list, list(joined) if joined is not None else [False] * len(cands))
    else:
        ordered = sorted(range(len(cands)), key=lambda i: (cands[i].cell.page, cands[i].cell.box[1]))
        order_of = {i: rank for rank, i in enumerate(ordered)}  # top to bottom
        specific = _matrix([_vat_features(view, cands[i], values, order_of[i], party_list[i])  # type: ignore[arg-type]
                            for i in picked], len(_KIND_FEATURES["vat"]))
    if kind in ("amount", "name") and only is not None:
        specific = specific[list(only)]
    return np.hstack([*blocks, specific]).reshape(rows, width)


__all__ = ["DIRECTIONS", "FEATURE_NAMES", "feature_rows"]
