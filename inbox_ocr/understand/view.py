"""What the scorer's features need of one document, worked out once (features.py reads it): its
pages, the label hits of both label tables by cell, each cell's labels from the left and from above,
its row's facts, and the rule-based result the witness features compare with."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from inbox_ocr.understand import labels as L
from inbox_ocr.understand.candidates import Candidate
from inbox_ocr.understand.context_labels import CONTEXT_LABELS
from inbox_ocr.understand.layout import Cell
from inbox_ocr.understand.nearby import above_in_column, row_of
from inbox_ocr.understand.scoring import DocumentContext, Extraction, refined_label

GROUPS: tuple[str, ...] = tuple(
    sorted(set(L.FIELD_LABELS) | set(CONTEXT_LABELS) | {"payment", "count", "total_net_qualified"})
)
GROUP_INDEX = {g: i for i, g in enumerate(GROUPS)}

RULE_FIELDS = ("invoice_number", "invoice_date", "due_date", "total", "subtotal", "tax", "amount_due",
               "vendor_vat_id", "customer_vat_id", "po_number", "payment_reference")

_DECAY_SAME, _DECAY_LEFT, _DECAY_ABOVE = 0.85, 0.97, 0.8
# r"[€$£¥]|\b(?:EUR|USD|...|RM)\b" written so that every alternative begins with a literal character
# (the word boundary before a code is a look behind after its first letter): the regex engine then
# skips to the characters that can begin a match instead of trying every position of the text
_CODES = ("EUR", "USD", "GBP", "CHF", "CNY", "RMB", "JPY", "CZK", "PLN", "SEK", "DKK", "NOK", "MYR", "RM")
_CURRENCY_MARK = re.compile("|".join([r"€", r"\$", r"£", r"¥", *(rf"{c[0]}(?<!\w.){c[1:]}(?!\w)" for c in _CODES)]))
# searched in lower-cased text (twice as fast as IGNORECASE); the words are written in lower case
_PAYMENT_WORD = re.compile(r"cash|change|tendered|paid|bezahlt|gegeben|rückgeld|espèces|rendu|efectivo|cambio|"
                           r"contanti|resto|找零|实收")

_NO_LABELS = (np.zeros(len(GROUPS), dtype=np.float32), 99.0)  # no label in reach: every strength 0
_NO_LABELS[0].flags.writeable = False


@dataclass
class PageInfo:
    width: float
    height: float
    median_height: float


@dataclass
class DocumentView:
    """What features need of one document, computed once: its cells, label hits of both tables by
    cell, each cell's label context from the left and from above, the rule-based result."""

    ctx: DocumentContext
    rule: Extraction
    pages: dict[int, PageInfo]
    currency: str | None
    # cell id -> (group, weight, end character, left and right edge of the label's words)
    hits: dict[int, list[tuple[int, float, int, float, float]]] = field(default_factory=dict)
    _left: dict[int, tuple[np.ndarray, float]] = field(default_factory=dict)
    _above_labels: dict[tuple[int, int, int], tuple[np.ndarray, float]] = field(default_factory=dict)
    pools: dict[str, dict[Any, float]] = field(default_factory=dict)
    rule_values: list[Any] = field(default_factory=list)  # RULE_FIELDS' values, normalized like candidates
    _row_text: dict[int, tuple[float, float, float]] = field(default_factory=dict)
    _cell_marks: dict[int, tuple[bool, bool]] = field(default_factory=dict)
    _labelled_above: dict[int, list[tuple[float, list[tuple[int, float, int, float, float]]]]] = field(
        default_factory=dict)
    # per page, the cells with labels sorted by top edge, and their tops
    _labelled: dict[int, tuple[list[float], list[Cell]]] = field(default_factory=dict)
    _party: dict[int, int] = field(default_factory=dict)
    _cell_facts: dict[int, tuple[list[float], np.ndarray, int, int]] = field(default_factory=dict)  # features.py
    _witness: dict[Any, list[float]] = field(default_factory=dict)
    _rule_at: dict[Any, list[int]] = field(default_factory=dict)  # a rule value -> its RULE_FIELDS indices

    @classmethod
    def build(cls, ctx: DocumentContext, rule: Extraction, page_sizes: dict[int, tuple[float, float]],
              currency: str | None) -> DocumentView:
        pages = {}
        for number, (width, height) in page_sizes.items():
            heights = sorted(c.height for c in ctx.cells if c.page == number) or [10.0]
            pages[number] = PageInfo(max(width, 1.0), max(height, 1.0), heights[len(heights) // 2])
        view = cls(ctx, rule, pages, currency)
        view.rule_values = [norm(rule.values.get(f)) for f in RULE_FIELDS]
        for i, value in enumerate(view.rule_values):
            if value is not None:
                view._rule_at.setdefault(value, []).append(i)
        for hit in [*ctx.hits, *ctx.context_hits]:
            group = refined_label(hit) if hit.field in L.FIELD_LABELS else hit.field
            box = hit.box
            view.hits.setdefault(id(hit.cell), []).append((GROUP_INDEX[group], hit.weight, hit.char_end,
                                                           box[0], box[2]))
        labelled = sorted((c for c in ctx.cells if id(c) in view.hits), key=lambda c: c.box[1])
        for cell in labelled:
            tops, cells = view._labelled.setdefault(cell.page, ([], []))
            tops.append(cell.box[1])
            cells.append(cell)
        return view

    # ------------------------------------------------------------------ label context

    def row(self, cell: Cell) -> list[Cell]:
        return row_of(cell, self.ctx.cells)

    def party(self, cell: Cell) -> int:
        """+1 under a seller heading, -1 under a buyer heading, 0 elsewhere; a value far right of
        its key ("Name:        Lieferant GmbH") belongs to the key's block."""
        if id(cell) not in self._party:
            from inbox_ocr.understand.parties import party_of

            party = party_of(cell, self.ctx)
            if party is None:
                left = [c for c in self.row(cell) if c.box[2] <= cell.box[0] + 1]
                party = party_of(left[-1], self.ctx) if left else None
            self._party[id(cell)] = {"seller": 1, "buyer": -1}.get(party or "", 0)
        return self._party[id(cell)]

    def row_facts(self, cell: Cell) -> tuple[float, float, float]:
        """Of the cell's row: cells with digits, a payment word (cash, change), a currency mark."""
        if id(cell) not in self._row_text:
            row = self.row(cell)
            marks = [self._marks(c) for c in row]  # neither kind of word has a space: cell by cell
            self._row_text[id(cell)] = (float(sum(1 for c in row if c.has_digit)),
                                        float(any(payment for payment, _ in marks)),
                                        float(any(currency for _, currency in marks)))
        return self._row_text[id(cell)]

    def _marks(self, cell: Cell) -> tuple[bool, bool]:
        marks = self._cell_marks.get(id(cell))
        if marks is None:
            marks = self._cell_marks[id(cell)] = (bool(_PAYMENT_WORD.search(cell.text.lower())),
                                                  bool(_CURRENCY_MARK.search(cell.text)))
        return marks

    def witness(self, value: Any) -> list[float]:
        """For each of RULE_FIELDS: 1.0 where the rule-based extractor chose this value."""
        found = self._witness.get(value)
        if found is None:
            found = [0.0] * len(self.rule_values)
            for i in self._rule_at.get(norm(value), ()):
                found[i] = 1.0
            self._witness[value] = found
        return found

    def same(self, cand: Candidate) -> tuple[np.ndarray, float]:
        """Labels earlier in the value's own cell (a cell without labels shares one empty answer)."""
        cell = cand.cell
        hits = self.hits.get(id(cell))
        if not hits:
            return _NO_LABELS
        vec = np.zeros(len(GROUPS), dtype=np.float32)
        gap = 99.0
        for group, weight, end, _, _ in hits:
            if end <= cand.start:
                words = cell.text[end : cand.start].count(" ")
                vec[group] = max(vec[group], weight * _DECAY_SAME ** max(words - 1, 0))
                gap = min(gap, float(words))
        return vec, gap

    def left(self, cell: Cell) -> tuple[np.ndarray, float]:
        """Labels in the (up to two) cells before this one on its row (most cells have none: they
        share one empty answer)."""
        found = self._left.get(id(cell))
        if found is None:
            found = _NO_LABELS
            before = [c for c in self.row(cell) if c.box[2] <= cell.box[0] + 1 and c is not cell]
            labelled = [(other, hits) for other in before[-2:] if (hits := self.hits.get(id(other)))]
            if labelled:
                vec = np.zeros(len(GROUPS), dtype=np.float32)
                gap = 99.0
                for other, hits in labelled:
                    distance = max(cell.box[0] - other.box[2], 0.0) / cell.height
                    for group, weight, _, _, _ in hits:
                        vec[group] = max(vec[group], weight * _DECAY_LEFT ** min(distance, 60))
                        gap = min(gap, distance)
                found = (vec, gap)
            self._left[id(cell)] = found
        return found

    def above(self, cand: Candidate) -> tuple[np.ndarray, float]:
        """Labels above the value, in its column: a header row names the value under each of its
        words ("Nettobetrag  MwSt-Betrag  Endbetrag" over "448,99  70,00  518,99")."""
        cell = cand.cell
        near = self._labelled_above.get(id(cell))
        if near is None:
            near = []
            # the labelled ones among the nearest cells above: when no labelled cell stands above
            # in the column at all (most cells), there is nothing to look up
            labelled = self._labelled.get(cell.page)
            if labelled and above_in_column(cell, *labelled):
                near = [(lines, hits) for lines, other in self.ctx.cells.above(cell)
                        if (hits := self.hits.get(id(other)))]
            self._labelled_above[id(cell)] = near
        if not near:
            return _NO_LABELS
        first = cell.word_index_at(cand.start)
        last = max(cell.word_index_at(max(cand.end - 1, cand.start)) + 1, first + 1)
        key = (id(cell), first, last)
        if key not in self._above_labels:
            x0, _, x1, _ = cell.sub_box(first, last)
            slack = cell.height
            vec = np.zeros(len(GROUPS), dtype=np.float32)
            gap = 99.0
            for lines, hits in near:
                for group, weight, _, lx0, lx1 in hits:
                    if min(x1, lx1) - max(x0, lx0) <= -slack:
                        continue  # a label over another column
                    vec[group] = max(vec[group], weight * _DECAY_ABOVE ** max(lines, 0.0))
                    gap = min(gap, max(lines, 0.0))
            self._above_labels[key] = (vec, gap)
        return self._above_labels[key]


def norm(value: Any) -> Any:
    """Values compared as the rule witness features compare them (ids without separators)."""
    if isinstance(value, str):
        return _SEPARATORS.sub("", value).upper()
    return value


_SEPARATORS = re.compile(r"[\s.\-]")


__all__ = ["GROUPS", "GROUP_INDEX", "RULE_FIELDS", "DocumentView", "PageInfo", "norm"]
