"""Where each extracted field was read: a page number and a box in page coordinates.

Whatever chose a value (the learned scorer, a rule, a vendor template or an e-invoice's XML), its
position is found the same way afterwards: the value is looked for in the document's cells as its
type is printed (a date in any of the formats `find_dates` reads, an amount as `all_amounts`
reads it, an identifier with its spaces, dots and dashes ignored, a name by its first line).
Of several places that print the same value, header fields take the first in reading order and
money fields the last (a total is printed after the lines that add up to it). A value that is
printed nowhere (a template's computed field, a sum) has no position.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from itertools import accumulate

from inbox_ocr.kernel.models import FieldPosition, InvoiceFields
from inbox_ocr.understand.layout import Cell
from inbox_ocr.understand.normalize import Conventions, all_amounts, find_dates
from inbox_ocr.understand.patterns import ASCII_LOOKALIKES, fold

MONEY = ("total", "subtotal", "tax", "amount_due")
DATES = ("invoice_date", "due_date", "service_period_start", "service_period_end")
IDENTIFIERS = ("invoice_number", "vendor_vat_id", "vendor_tax_number", "customer_vat_id", "iban", "bic",
               "po_number", "payment_reference")
NAMES = ("vendor_name", "customer_name", "vendor_address", "payment_terms")

_SKIP = re.compile(r"[\s.\-/]")

Span = tuple[int, int]  # character span in a cell's text


def locate_fields(cells: Iterable[Cell], fields: InvoiceFields, conventions: Conventions) -> dict[str, FieldPosition]:
    """The position of each field of `fields` that `cells` print (cells in reading order)."""
    cells = list(cells)
    found: dict[str, FieldPosition] = {}
    printed: dict[object, list[tuple[Cell, Span]]] | None = None  # amounts and dates: one pass over the cells
    lowered: list[str] | None = None
    compact: _Compact | None = None
    for name in MONEY + DATES + IDENTIFIERS + NAMES:
        value = getattr(fields, name)
        if value is None:
            continue
        where: list[tuple[Cell, Span]]
        if isinstance(value, (Decimal, date)):
            if printed is None:
                printed = _amounts_and_dates(cells, conventions)
            where = printed.get(abs(value) if isinstance(value, Decimal) else value, [])
        elif name in NAMES:
            first = str(value).splitlines()[0].strip().lower() if str(value).strip() else ""
            if lowered is None:
                lowered = [cell.text.lower() for cell in cells]
            found_at = next(((cell, (at, at + len(first))) for cell, text in zip(cells, lowered, strict=True)
                             if first and (at := text.find(first)) >= 0), None)
            where = [found_at] if found_at else []
        else:
            if compact is None:
                compact = _Compact(cells)
            found_in = compact.find(str(value))
            where = [found_in] if found_in else []
        if not where:
            continue
        cell, (start, end) = where[-1] if name in MONEY else where[0]
        box = cell.sub_box(cell.word_index_at(start), cell.word_index_at(max(end - 1, start)) + 1)
        found[name] = FieldPosition(page=cell.page, box=tuple(round(v, 1) for v in box))  # type: ignore[arg-type]
    return found


_CELL_END = "\uffff"


def _identifier(text: str) -> re.Pattern[str] | None:
    """`text` as printed with or without spaces, dots, dashes and slashes between its characters."""
    chars = _SKIP.sub("", text)
    return re.compile(r"[\s.\-/]*".join(map(re.escape, chars)), re.IGNORECASE) if chars else None


class _Compact:
    """Identifiers found as `_identifier` finds them, without compiling a pattern per value (the
    values differ from document to document): the cells' texts without spaces, dots, dashes and
    slashes, in lower case (the look-alikes as their ASCII letters), joined into one text that an
    ASCII value is looked up in; the cell found is then read character by character for the span."""

    def __init__(self, cells: list[Cell]) -> None:
        self.cells = cells
        joined = _CELL_END.join(c.text for c in cells)
        if joined.count(_CELL_END) == len(cells) - 1:  # folded and cut in one go (no cell holds the mark)
            parts = _SKIP.sub("", fold(joined)).split(_CELL_END)
        else:
            parts = [_SKIP.sub("", fold(c.text)) for c in cells]
        self.starts = list(accumulate((len(p) + 1 for p in parts[:-1]), initial=0))
        self.text = _CELL_END.join(parts)  # no ASCII value spans two cells

    def find(self, value: str) -> tuple[Cell, Span] | None:
        """The first cell that prints `value`, and where."""
        chars = _SKIP.sub("", value)
        if not chars:
            return None
        if not chars.isascii():
            pattern = _identifier(value)
            return next(((cell, m.span()) for cell in self.cells if pattern is not None
                         and (m := pattern.search(cell.text))), None)
        wanted = chars.lower()
        at = self.text.find(wanted)
        while at >= 0:
            index = bisect.bisect_right(self.starts, at) - 1
            cell = self.cells[index]
            kept = [(i, ASCII_LOOKALIKES.get(ch, ch.lower() if ch.isascii() else ch))
                    for i, ch in enumerate(cell.text) if not (ch.isspace() or ch in ".-/")]  # not _SKIP
            local = "".join(ch for _, ch in kept).find(wanted)
            if local >= 0:
                return cell, (kept[local][0], kept[local + len(wanted) - 1][0] + 1)
            next_cell = self.starts[index + 1] if index + 1 < len(self.starts) else len(self.text)
            at = self.text.find(wanted, next_cell)
        return None


def _amounts_and_dates(cells: list[Cell], conventions: Conventions) -> dict[object, list[tuple[Cell, Span]]]:
    """Every amount (by its absolute value) and every date printed, with where, in reading order."""
    out: dict[object, list[tuple[Cell, Span]]] = {}
    for cell in cells:
        if not cell.has_digit:
            continue
        for amount, s, e in all_amounts(cell.text, conventions):
            out.setdefault(abs(amount), []).append((cell, (s, e)))
        for day, s, e in find_dates(cell.text, conventions):
            out.setdefault(day, []).append((cell, (s, e)))
    return out
