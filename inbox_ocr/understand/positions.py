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

import re
from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal

from inbox_ocr.kernel.models import FieldPosition, InvoiceFields
from inbox_ocr.understand.layout import Cell
from inbox_ocr.understand.normalize import Conventions, all_amounts, find_dates

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
    squeezed: dict[int, tuple[str, list[int]]] = {}  # identifiers: each cell squeezed once
    for name in MONEY + DATES + IDENTIFIERS + NAMES:
        value = getattr(fields, name)
        if value is None:
            continue
        if isinstance(value, (Decimal, date)):
            if printed is None:
                printed = _amounts_and_dates(cells, conventions)
            where = printed.get(abs(value) if isinstance(value, Decimal) else value, [])
        else:
            finder = _text_finder(name, str(value), squeezed)
            where = [(cell, span) for cell in cells if (span := finder(cell)) is not None]
        if not where:
            continue
        cell, (start, end) = where[-1] if name in MONEY else where[0]
        box = cell.sub_box(cell.word_index_at(start), cell.word_index_at(max(end - 1, start)) + 1)
        found[name] = FieldPosition(page=cell.page, box=tuple(round(v, 1) for v in box))  # type: ignore[arg-type]
    return found


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


def _text_finder(name: str, text: str, squeezed: dict[int, tuple[str, list[int]]]) -> Callable[[Cell], Span | None]:
    if name in NAMES:
        first = text.splitlines()[0].strip().lower() if text.strip() else ""
        return lambda cell: _substring(cell.text.lower(), first) if first else None
    target = _SKIP.sub("", text).upper()

    def identifier(cell: Cell) -> Span | None:
        if not target or (target[0].isdigit() and not cell.has_digit):
            return None
        key = id(cell)
        if key not in squeezed:
            squeezed[key] = _squeeze(cell.text)
        squeezed_text, origin = squeezed[key]
        at = squeezed_text.find(target)
        return None if at < 0 else (origin[at], origin[at + len(target) - 1] + 1)
    return identifier


def _substring(text: str, wanted: str) -> Span | None:
    at = text.find(wanted)
    return None if at < 0 else (at, at + len(wanted))


def _squeeze(text: str) -> tuple[str, list[int]]:
    """`text` upper-cased without spaces, dots, dashes and slashes, and where each of its
    characters came from in `text`."""
    chars: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        if not _SKIP.match(ch):
            for upper in ch.upper():  # "ß" is "SS"
                chars.append(upper)
                origin.append(i)
    return "".join(chars), origin
