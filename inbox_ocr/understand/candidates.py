"""Every value on a page that has the right shape for a field: identifiers (invoice numbers), dates,
money amounts and VAT / tax ids. Each candidate knows the cell and the characters it came from, so
that features.py can describe its surroundings and the scorer can choose among them.

Generation is deliberately generous: which of the shapes is the invoice's number or total is the
scorer's question, not this module's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

from inbox_ocr.understand.caches import per_text
from inbox_ocr.understand.layout import Cell
from inbox_ocr.understand.normalize import PERCENT, Conventions, all_amounts, find_dates
from inbox_ocr.understand.patterns import literal_first

Kind = Literal["id", "date", "amount", "vat", "name"]
KINDS: tuple[Kind, ...] = ("id", "date", "amount", "vat", "name")


@dataclass(frozen=True, slots=True)
class Candidate:
    kind: Kind
    value: str | date | Decimal  # identifiers and tax ids as compact strings
    cell: Cell
    start: int  # characters of cell.text that carry the value
    end: int

    @property
    def text(self) -> str:
        return self.cell.text[self.start : self.end]


# --------------------------------------------------------------------------- identifiers

_TOKEN = re.compile(r"\S+")
_ID = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9\-/._]*[A-Za-z0-9])?")
_ASCII_DIGIT = re.compile(r"[0-9]")
_MONEY = re.compile(r"[-−]?\d{1,3}(?:[.,' ]\d{3})*[.,]\d{2}")
_TIME = re.compile(r"\d{1,2}:\d{2}(?::\d{2})?")
_DATE_SHAPE = re.compile(r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}")
_LABEL_GLUE = re.compile(r"^(?:n[oº°r]?\.?|nr\.?|no\.?|#|nº|n°|ref\.?)[:.#]?", re.IGNORECASE)
_GLUE_FIRST = frozenset("nNrR#")  # what _LABEL_GLUE can begin with
MAX_ID_CHARS = 40


def _identifiers(cell: Cell) -> list[Candidate]:
    out: list[Candidate] = []
    for m in _TOKEN.finditer(cell.text):
        raw, offset = m.group(0), m.start()
        if not _ASCII_DIGIT.search(raw):  # an identifier (of _ID's ASCII characters) has a digit
            continue
        glued = _LABEL_GLUE.match(raw) if raw[0] in _GLUE_FIRST else None  # "Nr.4711", "#123", "nº2023-6013"
        if glued and glued.end() < len(raw):
            raw, offset = raw[glued.end() :], offset + glued.end()
        if ":" in raw:  # "Rechnungsnr:4711"
            head, _, tail = raw.rpartition(":")
            raw, offset = tail, offset + len(head) + 1
        found = _ID.search(raw)
        if found is None:
            continue
        token = found.group(0)
        if len(token) < 2 or len(token) > MAX_ID_CHARS or not _ASCII_DIGIT.search(token):
            continue
        if _MONEY.fullmatch(token) or _TIME.fullmatch(token) or _DATE_SHAPE.fullmatch(token):
            continue
        start = offset + found.start()
        out.append(Candidate("id", token, cell, start, start + len(token)))
    return out


# --------------------------------------------------------------------------- dates and amounts


def _amounts(cell: Cell, conventions: Conventions, dates: list[Candidate]) -> list[Candidate]:
    """Money amounts: percentages, dates and times are blanked first (their digits are no amounts)."""
    text = cell.text
    if "%" in text:
        text = PERCENT.sub(_blank, text)
    for d in dates:
        text = text[: d.start] + " " * (d.end - d.start) + text[d.end :]
    if ":" in text:
        text = _TIME.sub(_blank, text)
    out = []
    for value, s, e in all_amounts(text, conventions):
        if abs(value) >= Decimal("1e12"):
            continue  # an account or phone number, not money
        if _DAY_MONTH.fullmatch(text[s:e]) and text[e : e + 1] == ".":
            continue  # "bis zum 19.12." is a day and a month, not money
        out.append(Candidate("amount", value, cell, s, e))
    return out


_DAY_MONTH = re.compile(r"\d{1,2}\.\d{2}")


def _blank(m: re.Match[str]) -> str:
    return " " * len(m.group(0))


_LAST_SEPARATOR = re.compile(r"([.,])\d{1,2}\s*-?$")


def other_separator(printed: str, conventions: Conventions) -> bool:
    """Cents written with the separator the document does not use for decimals (a feature: the
    convention is a majority vote, and "08.30" opening hours can win it)."""
    mine = conventions.decimal_separator
    if mine is None:
        return False
    m = _LAST_SEPARATOR.search(printed.strip())
    return m is not None and m.group(1) != mine


# --------------------------------------------------------------------------- tax ids

_COUNTRIES = "AT|BE|BG|CHE|CY|CZ|DE|DK|EE|EL|ES|FI|FR|GB|HR|HU|IE|IT|LT|LU|LV|MT|NL|NO|PL|PT|RO|SE|SI|SK|XI"
# a country prefix not inside a longer run of letters and digits (the look-behind after the prefix's
# first letter: patterns.literal_first), then the number with or without separators
_EU_VAT = re.compile(
    rf"((?:{literal_first(_COUNTRIES, '[A-Z0-9]')})"
    r"[\s.:-]{0,2}(?:[0-9A-Z][\s.\-]?){6,13}[0-9A-Z])(?![0-9A-Z])"
)
_USCC = re.compile(r"(?<![0-9A-Z])([0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10})(?![0-9A-Z])")
_STRUCTURE = re.compile(
    r"ATU\d{8}|BE[01]?\d{9}|BG\d{9,10}|CHE\d{9}(?:MWST|TVA|IVA)?|CY\d{8}[A-Z]|CZ\d{8,10}|DE\d{9}|DK\d{8}|EE\d{9}"
    r"|EL\d{9}|ES[A-Z0-9]\d{7}[A-Z0-9]|FI\d{8}|FR[A-Z0-9]{2}\d{9}|GB(?:\d{9}|\d{12})|HR\d{11}|HU\d{8}"
    r"|IE\d[A-Z0-9+*]\d{5}[A-Z]{1,2}|IT\d{11}|LT(?:\d{9}|\d{12})|LU\d{8}|LV\d{11}|MT\d{8}|NL\d{9}B\d{2}"
    r"|NO\d{9}(?:MVA)?|PL\d{10}|PT\d{9}|RO\d{2,10}|SE\d{12}|SI\d{8}|SK\d{10}|XI\d{9}"
)


def compact_tax_id(text: str) -> str:
    return re.sub(r"[\s.:\-]", "", text).upper()


@per_text
def tax_id_valid(value: str) -> bool:
    """The check digits of an EU VAT id or a Chinese unified social credit code hold."""
    from stdnum.cn import uscc
    from stdnum.eu import vat

    try:
        return bool(uscc.is_valid(value)) if len(value) == 18 and value[:2].isdigit() else bool(vat.is_valid(value))
    except Exception:  # stdnum raises for country prefixes it does not know
        return False


def _tax_ids(cell: Cell) -> list[Candidate]:
    upper = cell.text.upper()
    out: list[Candidate] = []
    for m in _EU_VAT.finditer(upper):
        value = compact_tax_id(m.group(1))
        if _STRUCTURE.fullmatch(value) or tax_id_valid(value):
            out.append(Candidate("vat", value, cell, m.start(1), m.end(1)))
    for m in _USCC.finditer(upper):
        if any(c.start <= m.start(1) < c.end for c in out):
            continue
        out.append(Candidate("vat", m.group(1), cell, m.start(1), m.end(1)))
    return out


def candidates(cells: list[Cell], conventions: Conventions) -> dict[Kind, list[Candidate]]:
    """All candidates of every kind but names (names.name_candidates), in reading order."""
    out: dict[Kind, list[Candidate]] = {kind: [] for kind in KINDS}
    for cell in cells:
        if not cell.has_digit:
            continue  # every kind of candidate has digits (names come from names.name_candidates)
        dates = [Candidate("date", value, cell, s, e) for value, s, e in find_dates(cell.text, conventions)]
        taxes = _tax_ids(cell)
        out["date"] += dates
        out["amount"] += _amounts(cell, conventions, dates)
        out["vat"] += taxes
        taken = [(c.start, c.end) for c in (*dates, *taxes)]
        out["id"] += [c for c in _identifiers(cell) if not any(c.start < e and s < c.end for s, e in taken)]
    return out
