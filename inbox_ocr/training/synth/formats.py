"""How one synthetic document writes its values: amount grouping and decimal marks, the currency
as symbol or code before or after, date styles (numeric, ISO, spelled-out months, 年月日), rates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from random import Random

from .phrases import MONTHS, MONTHS_SHORT

CENT = Decimal("0.01")
NBSP = "\u00a0"
NNBSP = "\u202f"  # drawn as a narrow gap by the canvas: the base-14 fonts have no glyph for it
SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "CHF": "CHF", "PLN": "zł", "CZK": "Kč", "CNY": "¥"}

_DATE_STYLES = {
    "en": ("dmy_slash", "dmy_slash", "long", "short_mon", "iso", "dmy_dot", "dmy_dash_mon"),
    "en-US": ("mdy_slash", "mdy_slash", "mdy_slash_short", "long_mdy", "short_mdy", "iso"),
    "de": ("dmy_dot", "dmy_dot", "dmy_dot", "long", "iso", "dmy_dot_yy", "short_mon", "dmy_dot_short"),
    "fr": ("dmy_slash", "dmy_slash", "dmy_slash", "long", "dmy_dot", "iso"),
    "es": ("dmy_slash", "dmy_slash", "dmy_slash", "long", "dmy_dash", "dmy_slash_short"),
    "it": ("dmy_slash", "dmy_slash", "dmy_slash", "long", "dmy_dot", "dmy_dash"),
    "nl": ("dmy_dash", "dmy_dash", "dmy_dash", "long", "dmy_slash", "iso", "short_mon"),
    "zh": ("cn", "cn", "cn_short", "iso", "ymd_slash", "ymd_dot"),
}


@dataclass(frozen=True)
class Fmt:
    """The value formats of one document (chosen once, so a document is self-consistent)."""

    language: str
    country: str
    currency: str
    group: str
    decimal: str
    currency_style: str  # symbol_before | symbol_after | code_before | code_after | yuan_after
    currency_space: bool
    date_style: str
    rate_style: str  # "19 %", "19%", "19,00 %"
    group_four: bool = True  # Spanish style prints 1234,56 but 12.345,67

    def amount(self, value: Decimal, *, currency: bool = False, sign: bool = True) -> str:
        """'1.234,56', '1,234.56', '1 234,56' ...; with the currency where the style puts it."""
        value = value.quantize(CENT)
        negative = value < 0
        units, cents = f"{abs(value):.2f}".split(".")
        if len(units) > 4 or (len(units) == 4 and self.group_four):
            parts: list[str] = []
            while len(units) > 3:
                parts.insert(0, units[-3:])
                units = units[:-3]
            units = self.group.join([units, *parts])
        text = f"{units}{self.decimal}{cents}"
        if currency:
            text = self._with_currency(text)
        return ("-" + text) if negative and sign else text

    def money(self, value: Decimal) -> str:
        return self.amount(value, currency=True)

    def _symbol(self) -> str:
        if self.currency == "CNY" and self.language == "zh":
            return "￥" if self.currency_space else "¥"
        return SYMBOLS[self.currency]

    def _code(self) -> str:
        return "RMB" if self.currency == "CNY" and self.currency_space else self.currency

    def _with_currency(self, text: str) -> str:
        style = self.currency_style
        if style == "yuan_after":
            return text + "元"
        symbol = self._symbol()
        if style == "symbol_before":
            if self.currency == "CNY":
                return symbol + text
            return f"{symbol}{' ' if self.currency_space or len(symbol) > 1 else ''}{text}"
        if style == "symbol_after":
            return f"{text} {symbol}"
        return f"{self._code()} {text}" if style == "code_before" else f"{text} {self._code()}"

    def currency_mark(self) -> str:
        """The currency as this document names it next to amounts, in a column header or a note."""
        if self.currency_style == "yuan_after":
            return "元"
        return self._code() if self.currency_style.startswith("code") else self._symbol()

    def rate(self, value: Decimal) -> str:
        text = f"{value.normalize():f}" if self.rate_style != "2dp" else f"{value:.2f}"
        text = text.replace(".", self.decimal)
        return f"{text}%" if self.rate_style == "tight" else f"{text} %"

    def number(self, value: Decimal) -> str:
        text = f"{value.normalize():f}"
        return text.replace(".", self.decimal)

    def date(self, value: date, style: str | None = None) -> str:
        return format_date(value, style or self.date_style, self.language)

    def timestamp(self, value: datetime) -> str:
        style = self.date_style if not self.date_style.startswith(("long", "short")) else "iso"
        return f"{format_date(value.date(), style, self.language)} {value:%H:%M}"


def format_date(value: date, style: str, language: str) -> str:
    d, m, y = value.day, value.month, value.year
    if style == "long":
        if language == "zh":
            return f"{y}年{m}月{d}日"
        if language == "de":
            return f"{d}. {MONTHS['de'][m - 1]} {y}"
        if language == "es":
            return f"{d} de {MONTHS['es'][m - 1]} de {y}"
        day = "1er" if language == "fr" and d == 1 else str(d)
        return f"{day} {MONTHS[language if language in MONTHS else 'en'][m - 1]} {y}"
    numeric = {
        "dmy_dot": f"{d:02d}.{m:02d}.{y}", "dmy_dot_short": f"{d}.{m}.{y}",
        "dmy_dot_yy": f"{d:02d}.{m:02d}.{y % 100:02d}",
        "dmy_slash": f"{d:02d}/{m:02d}/{y}", "dmy_slash_short": f"{d}/{m}/{y}", "dmy_dash": f"{d:02d}-{m:02d}-{y}",
        "mdy_slash": f"{m:02d}/{d:02d}/{y}", "mdy_slash_short": f"{m}/{d}/{y}", "iso": value.isoformat(),
        "ymd_slash": f"{y}/{m:02d}/{d:02d}", "ymd_dot": f"{y}.{m:02d}.{d:02d}",
        "cn": f"{y}年{m:02d}月{d:02d}日", "cn_short": f"{y}年{m}月{d}日",
    }  # fmt: skip
    if style in numeric:
        return numeric[style]
    short = MONTHS_SHORT["en" if language == "zh" else language][m - 1]
    if style == "long_mdy":
        return f"{MONTHS['en'][m - 1]} {d}, {y}"
    if style == "short_mdy":
        return f"{short} {d}, {y}"
    if style == "dmy_dash_mon":
        return f"{d:02d}-{short}-{y}"
    return f"{d:02d} {short} {y}" if language != "de" else f"{d:02d}. {short} {y}"


def date_styles(language: str, country: str) -> tuple[str, ...]:
    return _DATE_STYLES["en-US" if language == "en" and country == "US" else language]


def make_fmt(rng: Random, language: str, country: str, currency: str) -> Fmt:
    """Pick the document's conventions: mostly the country's own, sometimes a foreign or plain habit."""
    if country == "CH":
        group, decimal = (
            rng.choice((("'", "."), ("'", "."), ("’", "."), (".", ","))) if language == "de" else (" ", ",")
        )
    elif language in ("en", "zh") and country not in ("DE", "AT", "NL", "BE", "PL", "CZ"):
        group, decimal = ",", "."
    elif language == "fr" or country in ("PL", "CZ"):
        group, decimal = rng.choice((" ", NBSP, NNBSP, NNBSP, ".")), ","
    else:
        group, decimal = ".", ","
    if rng.random() < 0.12:
        group = ""  # no grouping at all, as many ERP exports print
    if language == "en" and country in ("DE", "AT", "NL", "BE", "PL", "CZ") and rng.random() < 0.6:
        group, decimal = ",", "."
    styles = {
        "en": ("symbol_before", "symbol_before", "code_before", "code_after"),
        "zh": ("symbol_before", "symbol_before", "code_before", "yuan_after"),
        "it": ("symbol_before", "symbol_after", "code_before"),
        "nl": ("symbol_before", "symbol_before", "code_before", "symbol_after"),
    }.get(language, ("symbol_after", "symbol_after", "code_after", "code_before"))
    style = rng.choice(styles)
    if currency in ("CHF", "PLN", "CZK") and style == "symbol_before":
        style = "code_before"
    return Fmt(
        language=language, country=country, currency=currency, group=group, decimal=decimal,
        currency_style=style, currency_space=rng.random() < (0.3 if language == "en" else 0.7),
        date_style=rng.choice(date_styles(language, country)),
        rate_style=rng.choice(("space", "tight", "2dp", "space")),
        group_four=not (language == "es" and rng.random() < 0.6),
    )  # fmt: skip
