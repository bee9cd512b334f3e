"""Currencies printed on a page: ISO 4217 codes standing as words and the symbols of the common
currencies, in order of appearance."""

from __future__ import annotations

import re

ISO_CURRENCIES = frozenset(
    [
        "AED",
        "ARS",
        "AUD",
        "BGN",
        "BHD",
        "BRL",
        "CAD",
        "CHF",
        "CLP",
        "CNY",
        "COP",
        "CZK",
        "DKK",
        "EGP",
        "EUR",
        "GBP",
        "HKD",
        "HUF",
        "IDR",
        "ILS",
        "INR",
        "ISK",
        "JPY",
        "KRW",
        "KWD",
        "MAD",
        "MXN",
        "MYR",
        "NGN",
        "NOK",
        "NZD",
        "PEN",
        "PHP",
        "PKR",
        "PLN",
        "QAR",
        "RON",
        "RSD",
        "RUB",
        "SAR",
        "SEK",
        "SGD",
        "THB",
        "TND",
        "TRY",
        "TWD",
        "UAH",
        "USD",
        "VND",
        "ZAR",
    ]  # noqa: E501
)
# Symbols, longest first so "US$" wins over "$".
CURRENCY_SYMBOLS: list[tuple[str, str]] = [
    ("US$", "USD"),
    ("CA$", "CAD"),
    ("C$", "CAD"),
    ("A$", "AUD"),
    ("AU$", "AUD"),
    ("NZ$", "NZD"),
    ("HK$", "HKD"),
    ("S$", "SGD"),
    ("R$", "BRL"),
    ("€", "EUR"),
    ("£", "GBP"),
    ("₹", "INR"),
    ("₩", "KRW"),
    ("₺", "TRY"),
    ("₽", "RUB"),
    ("zł", "PLN"),
    ("Kč", "CZK"),
    ("₫", "VND"),
    ("฿", "THB"),
    ("₱", "PHP"),
    ("元", "CNY"),
    ("￥", "CNY"),
    ("¥", "JPY"),
    ("$", "USD"),
]
# Codes are searched without the letter boundaries, which are checked on each match: the engine
# then skips to the codes' first letters, and a match that fails a boundary (a letter before or
# after: "EURO", "SEUR") cannot overlap one that holds.
_CODE = re.compile("|".join(sorted(ISO_CURRENCIES)))
_ASCII_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_RINGGIT = re.compile(r"(?<![A-Za-z])RM\s?\d")
_ANY_SYMBOL = re.compile("|".join(re.escape(symbol) for symbol, _ in CURRENCY_SYMBOLS))


def currencies_in(text: str) -> list[str]:
    """ISO codes of every currency code or symbol in `text`, in order of appearance."""
    hits: list[tuple[int, str]] = [
        (i, m.group()) for m in _CODE.finditer(text)
        if ((i := m.start()) == 0 or text[i - 1] not in _ASCII_LETTERS)
        and (m.end() == len(text) or text[m.end()] not in _ASCII_LETTERS)
    ]
    hits += [(m.start(), "MYR") for m in _RINGGIT.finditer(text)]
    if _ANY_SYMBOL.search(text):  # most texts have none: one search, not a find per symbol
        hits += _symbols_in(text)
    hits.sort()
    return [code for _, code in hits]


def _symbols_in(text: str) -> list[tuple[int, str]]:
    """Where each currency symbol stands and its code; a longer symbol ("US$") takes its characters
    from a shorter one ("$")."""
    hits: list[tuple[int, str]] = []
    consumed: set[int] = set()
    for symbol, code in CURRENCY_SYMBOLS:
        start = 0
        while (i := text.find(symbol, start)) >= 0:
            start = i + len(symbol)
            if i in consumed or any(i + k in consumed for k in range(len(symbol))):
                continue
            consumed.update(range(i, i + len(symbol)))
            if symbol == "¥" and re.search(r"[\u4e00-\u9fff]", text):
                code = "CNY"  # the yen sign on a Chinese document is the yuan
            hits.append((i, code))
    return hits


__all__ = ["CURRENCY_SYMBOLS", "ISO_CURRENCIES", "currencies_in"]
