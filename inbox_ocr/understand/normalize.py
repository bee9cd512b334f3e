"""Turning printed values into typed ones: amounts, dates, currencies, identifiers.

Everything here is a pure function of a string plus a small per-document `Conventions` record
(decimal separator, day-first or month-first), because the same "03/04/2024" or "1,234" means
different things on different invoices and only the rest of the document can tell which.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import NamedTuple

from inbox_ocr.understand.caches import per_text
from inbox_ocr.understand.patterns import fold, literal_first

# --------------------------------------------------------------------------- conventions


@dataclass(frozen=True)
class Conventions:
    """How this document prints numbers and dates, decided once from all of its text."""

    decimal_separator: str | None = None  # "," or "."; None when the document gives no evidence
    day_first: bool = True

    @classmethod
    def detect(cls, text: str, currency_hint: str | None = None) -> Conventions:
        return cls(decimal_separator=_detect_decimal(text), day_first=_detect_day_first(text, currency_hint))


# "(?<![\d.,])\d{1,3}...", with the look behind moved after the first digit: a pattern that begins
# with a digit is searched by skipping to the next digit, one that begins with a look behind is
# tried at every character of the document
_COMMA_DECIMAL = re.compile(r"\d(?<![\d.,]\d)\d{0,2}(?:\.\d{3})*,\d{2}(?![\d,.])")
_POINT_DECIMAL = re.compile(r"\d(?<![\d.,]\d)\d{0,2}(?:,\d{3})*\.\d{2}(?![\d,.])")


def _detect_decimal(text: str) -> str | None:
    commas = len(_COMMA_DECIMAL.findall(text))
    points = len(_POINT_DECIMAL.findall(text))
    if commas == points == 0:
        return None
    return "," if commas > points else "."


_NUMERIC_DATE = re.compile(r"(\d(?<![\d.]\d)\d?)([./-])(\d{1,2})\2(\d{4}|\d{2})(?![\d])")  # as above


def _detect_day_first(text: str, currency_hint: str | None) -> bool:
    day_first_votes = month_first_votes = dotted = 0
    for a, sep, b, _ in _NUMERIC_DATE.findall(text):
        first, second = int(a), int(b)
        if sep == ".":
            dotted += 1
        if first > 12 >= second:
            day_first_votes += 1
        elif second > 12 >= first:
            month_first_votes += 1
    if day_first_votes or month_first_votes:
        return day_first_votes >= month_first_votes
    if dotted:
        return True  # dotted dates are day-first everywhere they are used
    # no unambiguous date: US-dollar documents are usually from the US, which writes month first
    return currency_hint != "USD"


# --------------------------------------------------------------------------- amounts

# A printed number: optional sign, digits with optional grouping, optional decimals, optional
# trailing minus (accounting style "12,50-").
_DIGIT = re.compile(r"\d")  # amounts and dates have one: text without any needs no other pattern
AMOUNT_TOKEN = re.compile(
    r"(?:(?<=RM)|(?<![\w.,/]))"
    # a leading minus, also before a currency mark ("-RM 0.01", "- € 5,00", "-EUR 3.20")
    r"(?:(?P<sign>[-−–])\s?(?:(?:RM|[A-Z]{3}|[A-Z]{0,2}\$|[€£¥])\s?)?)?"
    # Indian grouping first (lakh, crore: "1,23,456.00"), then groups of three, then plain digits
    r"(?P<number>\d{1,2}(?:,\d{2})+,\d{3}(?:\.\d{1,4})?|\d{1,3}(?:[.,'’\u00a0\u202f ]\d{3})+(?:[.,]\d{1,4})?"
    r"|\d+(?:[.,]\d{1,4})?)"
    r"(?P<trailing>-)?(?![\w/]|[.,]\d)"
)


def parse_amount(text: str, conventions: Conventions | None = None) -> Decimal | None:
    """The first amount in `text`, or None. Handles 1.234,56 / 1,234.56 / 1 234,56 / 1'234.56."""
    for m in AMOUNT_TOKEN.finditer(text):
        value = _amount_from_match(m, conventions)
        if value is not None:
            return value
    return None


def all_amounts(text: str, conventions: Conventions | None = None) -> list[tuple[Decimal, int, int]]:
    """Every amount in `text` with its character span."""
    if not _DIGIT.search(text):
        return []
    return list(_all_amounts(text, conventions.decimal_separator if conventions else None))


@per_text  # cells are read for amounts by several fields and by the scorer
def _all_amounts(text: str, decimal_hint: str | None) -> tuple[tuple[Decimal, int, int], ...]:
    out = []
    for m in AMOUNT_TOKEN.finditer(text):
        value = _match_amount(m, decimal_hint)
        if value is not None:
            out.append((value, m.start(), m.end()))
    return tuple(out)


def _amount_from_match(m: re.Match[str], conventions: Conventions | None) -> Decimal | None:
    return _match_amount(m, conventions.decimal_separator if conventions else None)


def _match_amount(m: re.Match[str], decimal_hint: str | None) -> Decimal | None:
    digits = _normalize_number(m.group("number"), decimal_hint)
    if digits is None:
        return None
    try:
        value = Decimal(digits)
    except InvalidOperation:
        return None
    if m.group("sign") or m.group("trailing"):
        value = -value
    return value


def _normalize_number(raw: str, decimal_hint: str | None) -> str | None:
    s = re.sub(r"[\s'’\u00a0\u202f]", "", raw)
    if "," in s and "." in s:
        decimal = "," if s.rfind(",") > s.rfind(".") else "."
        thousands = "." if decimal == "," else ","
        s = s.replace(thousands, "").replace(decimal, ".")
        return s
    for sep in (",", "."):
        if sep in s:
            parts = s.split(sep)
            if len(parts) > 2:
                return s.replace(sep, "")  # 1.234.567: only grouping
            if len(parts[1]) != 3:
                return s.replace(sep, ".")
            # "1,500" or "1.500": a decimal if the document writes decimals with this separator
            if decimal_hint == sep:
                return s.replace(sep, ".")
            return s.replace(sep, "")
    return s


PERCENT = re.compile(r"(\d{1,2}(?:[.,]\d{1,2})?)\s?%")


def parse_percent(text: str) -> Decimal | None:
    m = PERCENT.search(text)
    if not m:
        return None
    value = Decimal(m.group(1).replace(",", "."))
    return value.normalize() if value == value.to_integral() else value


# --------------------------------------------------------------------------- dates

MONTHS: dict[str, int] = {}
for _num, _names in enumerate(
    [
        "january jan januar janvier janv enero ene gennaio gen januari jänner jän",
        "february feb februar février fevrier févr fevr febrero febbraio februari",
        "march mar märz maerz mars marzo maart mrt",
        "april apr avril avr abril abr aprile",
        "may mai mayo maggio mag mei",
        "june jun juni juin junio giugno giu",
        "july jul juli juillet juil julio luglio lug",
        "august aug août aout agosto ago augustus",
        "september sep sept septembre septiembre settembre set",
        "october oct oktober octobre octubre ottobre ott okt",
        "november nov novembre noviembre",
        "december dec dezember décembre decembre diciembre dic dicembre dez",
    ],
    start=1,
):
    for _name in _names.split():
        MONTHS[_name] = _num
# CLDR's names of twenty European languages (months.json, written by inbox_ocr/training/cldr_months.py):
# Polish, Portuguese, Czech, the Nordic languages ... in their genitive ("1 stycznia") and plain forms.
# The hand-kept names above add the spellings without accents that prints use ("fevrier", "aout").
for _name, _num in json.loads((Path(__file__).with_name("months.json")).read_text(encoding="utf-8"))["months"].items():
    MONTHS.setdefault(_name, _num)


def _prefix_tree(words: Iterable[str], not_before: str | None = None) -> str:
    """A regex alternation of `words` as a prefix tree ("ju(?:l(?:i|y)?|n(?:e|i)?)"): the engine
    tests a character once for all the words that share it, where a flat alternation of 300 month
    names tries each name at every position of the text. Words that share a prefix are tried longest
    first, as in a flat alternation sorted by length (words that do not cannot match at the same
    place). With `not_before` (one character's pattern), a word does not match right after such a
    character: the look-behind comes after each word's first letter, as in patterns.literal_first,
    so that the engine can skip to the letters that begin a word."""
    tree: dict[str, dict] = {}
    for word in words:
        node = tree
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}  # a word ends here

    def alternation(node: dict[str, dict], after_first: str = "") -> str:
        branches = [re.escape(ch) + after_first + alternation(child) for ch, child in sorted(node.items()) if ch]
        if not branches:
            return ""
        if len(branches) == 1 and "" not in node:
            return branches[0]
        return f"(?:{'|'.join(branches)})" + ("?" if "" in node else "")

    return alternation(tree, "" if not_before is None else f"(?<!{not_before}.)")


# The month names as the date patterns use them, in lower case: they search `fold`ed text (see
# patterns.py; re.IGNORECASE would make the engine try every position); _MONTH_WORD is not right
# after a letter or digit.
_MONTH_ALT = _prefix_tree(MONTHS)
_MONTH_WORD = _prefix_tree(MONTHS, not_before=r"\w")


class _DatePattern(NamedTuple):
    pattern: re.Pattern[str]
    kind: str
    # what a text must contain for `pattern` to match in it, a key of _NEEDS: most cells hold no month
    # name, no 年, no separator between figures, and one search for that spares them the pattern
    # (tests/unit/understand/test_months.py checks that each is necessary)
    needs: str


_NEEDS = {"month": re.compile(_MONTH_ALT), "年": re.compile("年"), "separator": re.compile(r"[-./]")}
_DATE_PATTERNS: list[_DatePattern] = [
    # a range with the year once, at its end: "July 1 - July 31, 2014", "Aug 3 – 9, 2014"
    _DatePattern(re.compile(rf"({_MONTH_WORD})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\s*[-–]\s*(?:({_MONTH_ALT})\.?\s+)?"
                            rf"(\d{{1,2}})(?:st|nd|rd|th)?\s*,?\s+(\d{{4}})(?!\d)"),
                 "mdy_range", "month"),
    _DatePattern(re.compile(r"(\d(?<!\d\d)\d{3})\s?年\s?(\d{1,2})\s?月\s?(\d{1,2})\s?日?"), "ymd", "年"),
    # not inside an identifier: "FV/2024/03/17", "INV-17-03-2024" are numbers, not dates
    _DatePattern(re.compile(r"(\d(?<![\d.]\d)(?<![^\W\d_][/-]\d)\d{3})[-./](\d{1,2})[-./](\d{1,2})(?!\d)"), "ymd",
                 "separator"),
    # a time glued to the year by OCR ("25/01/20181:22:56PM") still ends the date
    _DatePattern(re.compile(r"(\d(?<![\w.]\d)(?<![^\W\d_][/-]\d)\d?)([./-])(\d{1,2})\2(\d{4}(?=\d{1,2}:\d\d)|\d{4}(?!\d)|\d{2}(?!\d))"),
                 "numeric", "separator"),
    _DatePattern(
        re.compile(
            rf"(\d(?<!\w\d)\d?)(?:st|nd|rd|th|er|º|°)?\.?[\s\-/]*(?:de\s+)?({_MONTH_ALT})\.?[\s\-/,]*(?:de\s+)?(\d{{4}}|\d{{2}}(?!\s?,?\s?\d{{4}}))(?!\d)",  # noqa: E501
        ),
        "dmy_text",
        "month",
    ),
    _DatePattern(
        re.compile(rf"({_MONTH_WORD})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\s*,?\s+(\d{{4}})(?!\d)"),
        "mdy_text",
        "month",
    ),
]


def _year(text: str) -> int:
    y = int(text)
    if y < 100:
        y += 2000 if y < 70 else 1900
    return y


def _make_date(y: int, m: int, d: int) -> date | None:
    try:
        value = date(y, m, d)
    except ValueError:
        return None
    return value if 1990 <= value.year <= 2100 else None


def find_dates(text: str, conventions: Conventions | None = None) -> list[tuple[date, int, int]]:
    """Every date in `text` with its span, in order of appearance."""
    if not _DIGIT.search(text):  # every pattern has a day or a year in figures
        return []
    return list(_find_dates(text, conventions.day_first if conventions else True))



@per_text  # the rule-based extractor and the scorer's candidates read the same cells
def _find_dates(text: str, day_first: bool) -> tuple[tuple[date, int, int], ...]:
    found: list[tuple[date, int, int]] = []
    taken: list[tuple[int, int]] = []
    text = fold(text)  # the same positions, in lower case (the month names are)
    present: dict[str, bool] = {}
    for pattern, kind, needs in _DATE_PATTERNS:
        has = present.get(needs)
        if has is None:
            has = present[needs] = _NEEDS[needs].search(text) is not None
        if not has:
            continue
        for m in pattern.finditer(text):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            value: date | None = None
            if kind == "mdy_range":
                year, first = int(m.group(5)), MONTHS[m.group(1)]
                second = MONTHS[m.group(3)] if m.group(3) else first
                start, end = _make_date(year, first, int(m.group(2))), _make_date(year, second, int(m.group(4)))
                if start is not None and end is not None and start <= end:
                    found += [(start, m.start(), m.start(2) + len(m.group(2))), (end, m.start(4) - (
                        len(m.group(3)) + 1 if m.group(3) else 0), m.end())]
                    taken.append((m.start(), m.end()))
                continue
            if kind == "ymd":
                value = _make_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            elif kind == "numeric":
                a, b, y = int(m.group(1)), int(m.group(3)), _year(m.group(4))
                value = _make_date(y, b, a) if day_first else _make_date(y, a, b)
                if value is None:  # 13/01 on a month-first document: the only reading left
                    value = _make_date(y, a, b) if day_first else _make_date(y, b, a)
            elif kind == "dmy_text":
                value = _make_date(_year(m.group(3)), MONTHS[m.group(2)], int(m.group(1)))
            elif kind == "mdy_text":
                value = _make_date(int(m.group(3)), MONTHS[m.group(1)], int(m.group(2)))
            if value is not None:
                found.append((value, m.start(), m.end()))
                taken.append((m.start(), m.end()))
    found.sort(key=lambda t: t[1])
    return tuple(found)


def parse_date(text: str, conventions: Conventions | None = None) -> date | None:
    """The first date in `text`, or None."""
    dates = find_dates(text, conventions)
    return dates[0][0] if dates else None


# --------------------------------------------------------------------------- identifiers

# EU VAT ids in upper-case text, not inside a longer run of letters and digits (written with
# patterns.literal_first: each alternative checks the character before it after its first letter)
_VAT_SHAPES = (
    r"ATU\d{8}|BE[01]?\d{9}|BG\d{9,10}|CHE[-\s.]?\d{3}[.\s]?\d{3}[.\s]?\d{3}|CY\d{8}[A-Z]|CZ\d{8,10}|"
    r"DE\s?\d{9}|DK\d{8}|EE\d{9}|EL\d{9}|ES[A-Z0-9]\d{7}[A-Z0-9]|FI\d{8}|FR[A-Z0-9]{2}\s?\d{9}|"
    r"GB\d{9}(?:\d{3})?|HR\d{11}|HU\d{8}|IE\d[A-Z0-9+*]\d{5}[A-Z]{1,2}|IT\d{11}|LT\d{9}(?:\d{3})?|LU\d{8}|"
    r"LV\d{11}|MT\d{8}|NL\d{9}B\d{2}|PL\d{10}|PT\d{9}|RO\d{2,10}|SE\d{12}|SI\d{8}|SK\d{10}|XI\d{9}"
)
VAT_ID = re.compile(rf"({literal_first(_VAT_SHAPES, '[A-Z0-9]')})(?![A-Z0-9])")
# r"(?<![A-Z0-9])([A-Z]{2}\d{2}...)" with the look-behind after the first letter (see patterns.py)
IBAN_CANDIDATE = re.compile(
    r"([A-Z](?<![A-Z0-9].)[A-Z]\d{2}(?:\s?[A-Z0-9]{4}){2,7}(?:\s?[A-Z0-9]{1,4})?)(?![A-Z0-9])"
)
BIC_CANDIDATE = re.compile(r"(?<![A-Z0-9])([A-Z]{4}[A-Z]{2}[A-Z0-9]{2}(?:[A-Z0-9]{3})?)(?![A-Z0-9])")


def compact(text: str) -> str:
    return re.sub(r"[\s.\-]", "", text).upper()
