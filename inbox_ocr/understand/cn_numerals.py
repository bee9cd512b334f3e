"""Chinese capital amounts (大写金额) as printed on VAT invoices: "壹仟贰佰叁拾肆圆伍角陆分".

    to_capitals(Decimal("1234.56"))   -> "壹仟贰佰叁拾肆圆伍角陆分"
    parse_capitals("⊗壹佰圆整")        -> Decimal("100.00")

Writing follows the payment-settlement rules of the People's Bank of China: one 零 for a run of
skipped positions (壹万零伍圆整, 壹仟零叁拾圆零伍分), 壹拾 for a leading ten, 整 when there are no
fen, 零 between 圆 and fen when the jiao is zero. Reading accepts the variants those rules allow
or that printers use: 元 or 圆, 整 or 正, 整 after 角, an optional 零 after 圆 or after 万/亿, a bare
拾 for a leading ten, a ⊗/ⓧ mark or 人民币 in front and spaces anywhere.
"""

from __future__ import annotations

import re
from decimal import Decimal

__all__ = ["capital_amounts", "parse_capitals", "to_capitals"]

DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ("", "拾", "佰", "仟")
_SECTION_UNITS = ("", "万", "亿")
_YUAN = "圆元"
_WHOLE = "整正"
_MARKS = "⊗ⓧⓍ☒⨂×Ⓧ"
_SPACES = re.compile(r"[\s\u3000\u00a0]+")
_CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("999999999999.99")


def to_capitals(amount: Decimal) -> str:
    """The capital-numeral spelling of a non-negative amount, rounded to the fen.

    Raises ValueError for negative or too large amounts (a trillion yuan and above)."""
    cents = int(amount.quantize(_CENT) * 100)
    if cents < 0 or Decimal(cents) / 100 > MAX_AMOUNT:
        raise ValueError(f"amount out of range for capital numerals: {amount}")
    yuan, rest = divmod(cents, 100)
    jiao, fen = divmod(rest, 10)
    head = _integer(yuan)
    if jiao == 0 and fen == 0:
        return (head or "零") + "圆整"
    out = head + "圆" if head else ""
    if jiao:
        out += DIGITS[jiao] + "角"
    elif head:
        out += "零"
    if fen:
        out += DIGITS[fen] + "分"
    return out


def _integer(value: int) -> str:
    """Yuan in words, '' for zero; one 零 for each run of zeros followed by a non-zero digit."""
    if value == 0:
        return ""
    sections: list[int] = []
    while value:
        value, section = divmod(value, 10000)
        sections.append(section)
    out: list[str] = []
    zero_pending = False
    for index in range(len(sections) - 1, -1, -1):
        section = sections[index]
        if section == 0:
            zero_pending = bool(out)
            continue
        digits = [section // 1000 % 10, section // 100 % 10, section // 10 % 10, section % 10]
        for pos, digit in enumerate(digits):
            if digit == 0:
                zero_pending = zero_pending or bool(out)
                continue
            if zero_pending:
                out.append("零")
                zero_pending = False
            out.append(DIGITS[digit] + _SMALL_UNITS[3 - pos])
        out.append(_SECTION_UNITS[index])
        zero_pending = False  # the section unit stands between: 壹拾万柒仟, not 壹拾万零柒仟
    return "".join(out)


def parse_capitals(text: str) -> Decimal | None:
    """The amount a capital-numeral string spells, or None when the text is not one."""
    s = _SPACES.sub("", text or "")
    s = s.lstrip(_MARKS)
    if s.startswith("人民币"):
        s = s[3:]
    s = s.lstrip(_MARKS)
    if not s or any(ch not in DIGITS + "拾佰仟万亿角分" + _YUAN + _WHOLE for ch in s):
        return None
    whole = s[-1] in _WHOLE
    if whole:
        s = s[:-1]
    cut = max(s.rfind(ch) for ch in _YUAN)
    if cut >= 0:
        head, tail = s[:cut], s[cut + 1 :]
        yuan = _parse_integer(head)
        if yuan is None:
            return None
    else:
        head, tail, yuan = "", s, 0
        if not tail:
            return None
    fraction = _parse_fraction(tail, bool(head), whole)
    if fraction is None:
        return None
    return (Decimal(yuan) + Decimal(fraction) / 100).quantize(_CENT)


def _parse_fraction(tail: str, has_yuan: bool, whole: bool) -> int | None:
    """Fen in '伍角陆分', '零伍分', '伍角' or '' (after 圆)."""
    match = re.fullmatch(r"(零)?(?:([壹贰叁肆伍陆柒捌玖])角)?(?:([壹贰叁肆伍陆柒捌玖])分)?", tail)
    if match is None:
        return None
    zero, jiao, fen = match.groups()
    if not tail:
        return 0 if has_yuan else None
    if (zero and not has_yuan) or not (jiao or fen) or (fen and whole):
        return None  # '零' alone, '零伍分' without yuan, '分' followed by 整
    return DIGITS.index(jiao or "零") * 10 + DIGITS.index(fen or "零")


def _parse_integer(head: str) -> int | None:
    """Yuan from '壹万零伍', '壹拾万柒仟', '拾伍', '零'; None when units or zeros are out of place."""
    if head == "零":
        return 0
    parts: list[tuple[str, int]] = []
    rest = head
    for unit, factor in (("亿", 10**8), ("万", 10**4)):
        left, found, right = rest.partition(unit)
        if found:
            parts.append((left, factor))
            rest = right
    if rest:
        parts.append((rest, 1))
    total = 0
    higher: int | None = None
    for text, factor in parts:
        if higher is None:
            value = _parse_section(text, leading=True)
        else:
            zero = text.startswith("零")
            value = _parse_section(text[1:] if zero else text, leading=False)
            skipped = higher // factor > 10**4
            if value is not None and not zero and (skipped or value < 1000):
                return None  # '壹万伍' is not 10005: the skipped positions need their 零
        if not value:
            return None
        total += value * factor
        higher = factor
    return total if parts else None


def _parse_section(text: str, *, leading: bool) -> int | None:
    """A value below 万 written with 仟/佰/拾 and 零 for skipped positions ('壹仟零伍', '拾伍')."""
    if leading and text.startswith("拾"):
        text = "壹" + text
    value = 0
    last_unit = 10**4
    zero = False
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "零":
            if zero or value == 0:
                return None
            zero = True
            i += 1
            continue
        if ch not in DIGITS:
            return None
        unit_ch = text[i + 1] if i + 1 < len(text) else ""
        unit = {"仟": 1000, "佰": 100, "拾": 10, "": 1}.get(unit_ch)
        if unit is None or unit >= last_unit:
            return None
        gap = value > 0 and unit < last_unit // 10
        if gap != zero:
            return None  # a skipped position needs exactly one 零, an adjacent one none
        value += DIGITS.index(ch) * unit
        last_unit = unit
        zero = False
        i += 2 if unit > 1 else 1
    return None if zero else value


_RUN = re.compile(r"[⊗ⓧⓍ☒⨂×Ⓧ]?[\s\u3000]*(?:人民币)?[零壹贰叁肆伍陆柒捌玖拾佰仟万亿圆元角分整正\s\u3000]{3,}")
_NUMERAL = re.compile(r"[零壹贰叁肆伍陆柒捌玖拾佰仟万亿圆元角分整正]")


def capital_amounts(text: str) -> list[Decimal]:
    """Every amount written in capital numerals in `text` ("价税合计（大写）⊗壹佰圆整 ...")."""
    if not _NUMERAL.search(text):  # a run of spaces alone is no amount: most documents stop here
        return []
    out = []
    for m in _RUN.finditer(text):
        value = parse_capitals(m.group(0))
        if value is not None and value > 0:
            out.append(value)
    return out
