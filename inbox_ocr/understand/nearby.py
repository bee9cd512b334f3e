"""What lies near a cell or a label: the cells of each page by position, a cell's row, the (up to
two) cells above it in its column, and the texts that may hold a label's value.

For a label found in a cell, the value is looked for, in this order of trust:
  1. the rest of the same cell ("Invoice no: 4711"),
  2. the next cells to the right on the same row ("Invoice no:     4711"),
  3. the cells below, overlapping the label's column ("Invoice no" over "4711", table headers).

Each answer is worked out once per cell (or label) of a `Cells` and shared: do not change the lists.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass

from inbox_ocr.understand.label_match import LabelHit
from inbox_ocr.understand.layout import Cell, same_row


@dataclass(frozen=True)
class Candidate:
    text: str
    where: str  # "same" | "right" | "below"
    distance: float  # in text heights
    cell: Cell | None = None


_LEADING = re.compile(r"^(?:[\s:：#.=/|]|[-–](?!\s?\d))+")  # keep the minus of "-0.01"


class Cells(list):  # type: ignore[type-arg]
    """All cells of a document, with the cells of each page kept sorted by top edge; which cells
    share a row and which stand above which in a column, worked out once per cell."""

    def __init__(self, cells: Iterable[Cell]) -> None:
        super().__init__(cells)
        self._pages: dict[int, tuple[list[float], list[Cell]]] = {}
        self._memo: dict[tuple[int, int], list[Candidate]] = {}
        self._rows: dict[int, list[Cell]] = {}
        self._above: dict[int, list[tuple[float, Cell]]] = {}

    def on_page(self, page: int) -> tuple[list[float], list[Cell]]:
        if page not in self._pages:
            cells = sorted((c for c in self if c.page == page), key=lambda c: c.box[1])
            self._pages[page] = ([c.box[1] for c in cells], cells)
        return self._pages[page]

    def row(self, cell: Cell) -> list[Cell]:
        """Cells on the same visual row as `cell`, left to right (shared: do not change the list)."""
        row = self._rows.get(id(cell))
        if row is None:  # only cells whose top is near this one can share its row
            tops, on_page = self.on_page(cell.page)
            lo, hi = bisect.bisect_left(tops, cell.box[1] - 3 * cell.height), bisect.bisect_right(tops, cell.box[3])
            row = self._rows[id(cell)] = _row(cell, on_page[lo:hi])
        return row

    def above(self, cell: Cell) -> list[tuple[float, Cell]]:
        """The (up to two) nearest cells above `cell` in its column, nearest first, with the
        number of lines between (from -0.3, touching, to 4)."""
        near = self._above.get(id(cell))
        if near is None:
            near = self._above[id(cell)] = above_in_column(cell, *self.on_page(cell.page))
        return near


def above_in_column(cell: Cell, tops: list[float], on_page: list[Cell]) -> list[tuple[float, Cell]]:
    """Of `on_page` (sorted by top edge, `tops` their tops), the (up to two) nearest cells above
    `cell` in its column, nearest first, with the number of lines between."""
    h = cell.height
    x0, top, x1, _ = cell.box
    near = []
    lo, hi = bisect.bisect_left(tops, top - 6 * h), bisect.bisect_right(tops, top + h)
    for other in on_page[lo:hi]:
        ox0, _, ox1, obottom = other.box
        lines = (top - obottom) / h
        if lines < -0.3 or lines > 4.0 or other is cell:
            continue
        # min(x1, ox1) - max(x0, ox0) > 0: written out, as below, because these loops are hot
        if (x1 if x1 < ox1 else ox1) - (x0 if x0 > ox0 else ox0) > 0 or abs(ox0 - x0) < h:
            near.append((lines, other))
    near.sort(key=_first)
    return near[:2]


def _first(pair: tuple[float, Cell]) -> float:
    return pair[0]


def value_candidates(hit: LabelHit, cells: list[Cell], max_below: int = 3) -> list[Candidate]:
    """Texts that may hold the value of `hit`, most trusted first."""
    if isinstance(cells, Cells):
        key = (id(hit), max_below)
        if key not in cells._memo:
            cells._memo[key] = _value_candidates(hit, cells, max_below)
        return cells._memo[key]
    return _value_candidates(hit, Cells(cells), max_below)


def _value_candidates(hit: LabelHit, cells: Cells, max_below: int) -> list[Candidate]:
    out: list[Candidate] = []
    cell = hit.cell
    rest = _LEADING.sub("", cell.text[hit.char_end :])
    if rest:
        out.append(Candidate(rest, "same", 0.0, cell))
    lx0, ly0, lx1, ly1 = hit.box
    h = cell.height
    tops, page_cells_ = cells.on_page(cell.page)
    # only cells whose top lies between a few lines above and the end of the "below" window
    lo = bisect.bisect_left(tops, ly0 - 4 * h)
    hi = bisect.bisect_right(tops, ly1 + 4.0 * h * max(max_below, 1) / 3)
    near = [c for c in page_cells_[lo:hi] if c is not cell]
    row = []
    for c in near:
        cx0, ctop, _, cbottom = c.box
        ch = c.height
        overlap = (ly1 if ly1 < cbottom else cbottom) - (ly0 if ly0 > ctop else ctop)
        if overlap >= 0.5 * (h if h < ch else ch) and cx0 >= lx1 - 1:
            row.append(c)
    row.sort(key=lambda c: c.box[0])
    for c in row[:2]:
        out.append(Candidate(c.text, "right", (c.box[0] - lx1) / h, c))
    below = []
    reach = 4.0 * h * max_below / 3
    for c in near:
        cx0, ctop, cx1, _ = c.box
        gap = ctop - ly1
        if -0.3 * h <= gap <= reach:
            horizontal = (lx1 if lx1 < cx1 else cx1) - (lx0 if lx0 > cx0 else cx0)
            if horizontal > 0 or abs(cx0 - lx0) < h:
                below.append(c)
    below.sort(key=lambda c: c.box[1])
    for c in below[:max_below]:
        out.append(Candidate(c.text, "below", (c.box[1] - ly1) / h, c))
    return out


def row_of(cell: Cell, cells: list[Cell]) -> list[Cell]:
    """Cells on the same visual row as `cell`, left to right (computed once per cell of a `Cells`;
    the list is shared, do not change it)."""
    if isinstance(cells, Cells):
        return cells.row(cell)
    return _row(cell, [c for c in cells if c.page == cell.page])


def _row(cell: Cell, pool: list[Cell]) -> list[Cell]:
    row = [c for c in pool if same_row(cell, c)]
    row.sort(key=_left_edge)
    return row


def _left_edge(cell: Cell) -> float:
    return cell.box[0]
