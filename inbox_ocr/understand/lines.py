"""Line items from a positioned table: find the header row (a description column and an amount
column, in any of our languages), then read the rows below it column by column until the totals
block starts. Rows without an amount continue the previous item's description.

Only tables that look like tables are read: a layout we do not recognise gives no line items
rather than wrong ones.
"""

from __future__ import annotations

import re
from decimal import Decimal

from inbox_ocr.kernel.models import LineItem
from inbox_ocr.understand.layout import Cell
from inbox_ocr.understand.normalize import PERCENT, Conventions, all_amounts, parse_percent
from inbox_ocr.understand.patterns import fold

_COLUMNS: dict[str, str] = {
    "description": r"description|item|product|service|article|bezeichnung|artikelbezeichnung|beschreibung|leistung|produkt|"  # noqa: E501
    r"artikel|désignation|designation|libellé|descripción|concepto|descrizione|articolo|omschrijving|product|项目|货物或应税劳务名称|名称",  # noqa: E501
    "quantity": r"qty|quantity|menge|anzahl|quantité|qté|cantidad|cant\.?|quantità|q\.tà|aantal|数量",
    "unit_price": r"unit\s*price|price|rate|einzelpreis|preis|nettopreis|stückpreis|prix\s*unitaire|prix\s*u\.?|p\.u\.|precio|"  # noqa: E501
    r"prezzo|prijs|单价",
    "amount": r"amount|total|line\s*total|betrag|gesamt|gesamtpreis|nettobetrag|positionsbetrag|summe|montant|prix\s*ht|"  # noqa: E501
    r"total\s*ht|importe|importo|totale|bedrag|totaal|金额",
    "tax_rate": r"vat\s*%?|tax\s*%?|ust\.?\s*%?|mwst\.?\s*-?%?|steuersatz|tva\s*%?|iva\s*%?|btw\s*%?|税率",
}
# A header cell names one column: the first of _COLUMNS whose words are the whole cell (one match
# of the alternatives in order is the same as trying them one by one; `lastgroup` names it), matched
# against fold()ed text (patterns.py)
_COLUMN_RX = re.compile("|".join(rf"\W*(?P<{name}>{rx})\W*$" for name, rx in _COLUMNS.items()))
_TOTALS = re.compile(
    r"(?<![^\W\d_])(?:sub\s*-?total|total|summe|zwischensumme|gesamt|netto|nettobetrag|rechnungsbetrag|montant|"
    r"totale|totaal|importe|base\s*imponible|imponibile|umsatzsteuer\w*|steuer\w*|mwst|vat|tva|iva|btw|"
    r"belegsummen|合计|小计)(?![^\W\d_])",
    re.IGNORECASE,
)


def _rows(cells: list[Cell]) -> list[list[Cell]]:
    rows: list[list[Cell]] = []
    for cell in sorted(cells, key=lambda c: (c.page, (c.box[1] + c.box[3]) / 2)):
        mid = (cell.box[1] + cell.box[3]) / 2
        if (
            rows
            and rows[-1][0].page == cell.page
            and abs(mid - (rows[-1][0].box[1] + rows[-1][0].box[3]) / 2) < 0.5 * cell.height
        ):
            rows[-1].append(cell)
        else:
            rows.append([cell])
    return [sorted(r, key=lambda c: c.box[0]) for r in rows]


def _header(row: list[Cell]) -> dict[str, tuple[float, float]] | None:
    columns: dict[str, tuple[float, float]] = {}
    amounts: list[Cell] = []
    for cell in row:
        m = _COLUMN_RX.match(fold(cell.text))
        if m is None:
            continue
        name = m.lastgroup
        if name == "amount":
            amounts.append(cell)
        elif name is not None and name not in columns:
            columns[name] = (cell.box[0], cell.box[2])
    if amounts:
        # "Amount | Product | Price | Total": the rightmost money column is the line amount;
        # an "amount" column left of it counts pieces
        columns["amount"] = (amounts[-1].box[0], amounts[-1].box[2])
        if len(amounts) > 1 and "quantity" not in columns:
            columns["quantity"] = (amounts[0].box[0], amounts[0].box[2])
    if "description" in columns and "amount" in columns and len(columns) >= 3:
        return columns
    return None


def _column_of(cell: Cell, columns: dict[str, tuple[float, float]]) -> str | None:
    """The header column this cell sits under: overlapping it, else the nearest by centre."""
    best, best_gap = None, float("inf")
    for name, (x0, x1) in columns.items():
        overlap = min(x1, cell.box[2]) - max(x0, cell.box[0])
        gap = -overlap if overlap > 0 else abs((x0 + x1) / 2 - (cell.box[0] + cell.box[2]) / 2)
        if gap < best_gap:
            best, best_gap = name, gap
    return best


def extract_line_items(cells: list[Cell], conventions: Conventions, limit: int = 200) -> tuple[LineItem, ...]:
    """Line items of the first recognisable table, or () when there is none."""
    rows = _rows(cells)
    for index, row in enumerate(rows):
        columns = _header(row)
        if columns is None:
            continue
        items = _read_table(rows[index + 1 :], columns, conventions, limit)
        if items:
            return tuple(items)
    return ()


def _read_table(
    rows: list[list[Cell]], columns: dict[str, tuple[float, float]], conventions: Conventions, limit: int
) -> list[LineItem]:
    items: list[dict] = []
    last_y = None
    for row in rows:
        text = " ".join(c.text for c in row)
        height = row[0].height
        if last_y is not None and row[0].box[1] - last_y > 6 * height:
            break  # a wide gap ends the table
        if _TOTALS.search(text) and items:
            break
        values: dict[str, str] = {}
        for cell in row:
            name = _column_of(cell, columns)
            if name:
                values[name] = (values.get(name, "") + " " + cell.text).strip()
        amount = _amount(values.get("amount", ""), conventions)
        if amount is None:
            if items and values.get("description") and len(values) == 1:
                items[-1]["description"] += " " + values["description"]
                last_y = row[0].box[3]
            continue
        items.append(
            {
                "description": values.get("description", "").strip(),
                "quantity": _amount(values.get("quantity", ""), conventions),
                "unit_price": _amount(values.get("unit_price", ""), conventions),
                "amount": amount,
                "tax_rate": _rate(values.get("tax_rate", "")),
            }
        )
        last_y = row[0].box[3]
        if len(items) >= limit:
            break
    return [LineItem(**item) for item in items if item["description"]]


def _amount(text: str, conventions: Conventions) -> Decimal | None:
    cleaned = PERCENT.sub(" ", text)
    found = all_amounts(cleaned, conventions)
    return found[0][0] if found else None


def _rate(text: str) -> Decimal | None:
    rate = parse_percent(text if "%" in text else text + "%") if text else None
    if rate is not None and rate == rate.to_integral():
        rate = Decimal(int(rate))
    return rate
