"""Month names from CLDR: dates in Polish, Portuguese, Czech and the Nordic languages are read,
and the shipped months.json is what the script makes of babel's data."""

from __future__ import annotations

from datetime import date

import pytest

from inbox_ocr.understand.normalize import MONTHS, find_dates


@pytest.mark.parametrize(("text", "day"), [
    ("Data wystawienia: 1 stycznia 2024", date(2024, 1, 1)),       # Polish, genitive
    ("Data de emissão: 15 de março de 2024", date(2024, 3, 15)),   # Portuguese
    ("Datum vystavení: 3. července 2024", date(2024, 7, 3)),       # Czech, genitive
    ("Fakturadatum: 1 juli 2024", date(2024, 7, 1)),               # Swedish
    ("Fakturadato: 4. desember 2024", date(2024, 12, 4)),          # Norwegian
    ("Laskun päivä: 12. heinäkuuta 2024", date(2024, 7, 12)),      # Finnish
    ("Dato: 2. februar 2024", date(2024, 2, 2)),                   # Danish
])
def test_dates_with_month_names_of_more_languages(text: str, day: date) -> None:
    assert [d for d, _, _ in find_dates(text)] == [day]


def test_the_shipped_names_are_cldrs_and_agree_with_the_hand_kept_ones() -> None:
    babel = pytest.importorskip("babel")  # noqa: F841 - the script needs it
    from inbox_ocr.training.cldr_months import TARGET, month_names, render

    assert TARGET.read_text(encoding="utf-8") == render(), "run python -m inbox_ocr.training.cldr_months"
    for name, number in month_names().items():
        assert MONTHS[name] == number, name


@pytest.mark.parametrize(("text", "dates"), [
    ("FV/2024/03/17", []),                        # a Polish invoice number, not a date
    ("INV-17-03-2024", []),
    ("Nr. RE-2024.03.17", []),
    ("Date:2024-03-17", [date(2024, 3, 17)]),
    ("Rechnung 2024-03-17", [date(2024, 3, 17)]),
    ("01.03.2024-31.03.2024", [date(2024, 3, 1), date(2024, 3, 31)]),  # a range keeps its second date
])
def test_a_date_inside_an_identifier_is_not_a_date(text: str, dates: list[date]) -> None:
    assert [d for d, _, _ in find_dates(text)] == dates


# The date patterns as they were first written: re.IGNORECASE, a look-behind first, the month names
# as one flat alternation, longest first ({M}). normalize._DATE_PATTERNS is written for speed.
_ORIGINAL_DATE_PATTERNS = [
    (r"(?<!\w)({M})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\s*[-–]\s*(?:({M})\.?\s+)?(\d{{1,2}})(?:st|nd|rd|th)?\s*,?\s+"
     r"(\d{{4}})(?!\d)", True),
    (r"(?<!\d)(\d{{4}})\s?年\s?(\d{{1,2}})\s?月\s?(\d{{1,2}})\s?日?", False),
    (r"(?<![\d.])(?<![^\W\d_][/-])(\d{{4}})[-./](\d{{1,2}})[-./](\d{{1,2}})(?!\d)", False),
    (r"(?<![\w.])(?<![^\W\d_][/-])(\d{{1,2}})([./-])(\d{{1,2}})\2(\d{{4}}(?=\d{{1,2}}:\d\d)|\d{{4}}(?!\d)|\d{{2}}(?!\d))",
     False),
    (r"(?<!\w)(\d{{1,2}})(?:st|nd|rd|th|er|º|°)?\.?[\s\-/]*(?:de\s+)?({M})\.?[\s\-/,]*(?:de\s+)?"
     r"(\d{{4}}|\d{{2}}(?!\s?,?\s?\d{{4}}))(?!\d)", True),
    (r"(?<!\w)({M})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\s*,?\s+(\d{{4}})(?!\d)", True),
]


def test_the_date_patterns_match_what_their_original_forms_match() -> None:
    """Each date pattern (month names as a prefix tree, look-behinds after the first character, lower
    case on `fold`ed text, a cheap test of what the text must hold first) finds the same spans and
    groups as its original form with re.IGNORECASE on the text itself; on texts made of month names
    in mixed case, cut short, glued to digits, separators and letters that case-fold like ASCII ones
    (long s, Kelvin sign, dotted and dotless i), numeric dates, 年月日 dates."""
    import random
    import re

    from inbox_ocr.understand import normalize
    from inbox_ocr.understand.patterns import fold

    tree = normalize._prefix_tree(["sep", "sept", "september", "jun", "juni", "july"])
    assert tree == "(?:ju(?:ly|n(?:i)?)|sep(?:t(?:ember)?)?)"
    assert [re.match(tree, text).group() for text in ("septembers", "septs", "juni", "julyx")] == [  # type: ignore[union-attr]
        "september", "sept", "juni", "july"]  # the longest word first, as the flat alternation
    assert normalize._prefix_tree(["mai", "mar"], not_before=r"\w") == "m(?<!\\w.)a(?:i|r)"
    flat = "|".join(sorted((re.escape(name) for name in MONTHS), key=len, reverse=True))
    originals = [re.compile(source.format(M=flat), re.IGNORECASE if cased else 0)
                 for source, cased in _ORIGINAL_DATE_PATTERNS]
    assert len(originals) == len(normalize._DATE_PATTERNS)
    rnd = random.Random(7)
    names = sorted(MONTHS)
    glue = ["", " ", ".", "-", "/", ",", " de ", "de", "st", "º", "–", "_", "x", "ſ", "K", "İ", "ı", "年", "月", "日",
            ":", "a1", "1."]

    def part() -> str:
        roll = rnd.random()
        if roll < 0.35:
            name = "".join(c.upper() if rnd.random() < 0.3 else c for c in rnd.choice(names))
            return name if rnd.random() < 0.8 else name[: rnd.randint(1, 6)]
        return str(rnd.randint(0, 3000)) if roll < 0.7 else rnd.choice(glue)

    texts = ["Jan 3 - Feb 4, 2024", "1. Septembre 2024", "March 5, 2024", "5 de enero de 2024", "2024年3月5日",
             "FV/2024/03/17", "25/01/20181:22:56PM", "01.03.2024-31.03.2024", "ſeptember 3, 2024", "3 DEKABR 2024"]
    def month() -> str:
        name = "".join(c.upper() if rnd.random() < 0.3 else c for c in rnd.choice(names))
        return name if rnd.random() < 0.9 else name[: rnd.randint(1, 6)]

    def day() -> str:
        return str(rnd.randint(0, 40)).zfill(rnd.choice([1, 2]))

    def year() -> str:
        return str(rnd.choice([rnd.randint(1985, 2105), rnd.randint(0, 99)]))

    shapes = [
        lambda: f"{day()}{rnd.choice('./-')}{day()}{rnd.choice('./-')}{year()}",
        lambda: f"{year()}{rnd.choice('./-')}{day()}{rnd.choice('./-')}{day()}",
        lambda: f"{day()}{rnd.choice(['. ', ' ', '-', ' de ', 'th '])}{month()}{rnd.choice([' ', '. ', '-', ' de '])}"
                f"{year()}",
        lambda: f"{month()}{rnd.choice([' ', '. '])}{day()}{rnd.choice([', ', ' ', 'st, '])}{year()}",
        lambda: f"{month()} {day()}{rnd.choice([' - ', '–', ' -'])}{rnd.choice(['', month() + ' '])}{day()}, {year()}",
        lambda: f"{year()}{rnd.choice(['年', ' 年 '])}{day()}月{day()}{rnd.choice(['日', ''])}",
    ]

    def date_like() -> str:
        text = rnd.choice(shapes)()
        for _ in range(rnd.choice([0, 0, 1, 2])):  # a character of glue in, or one out
            at = rnd.randint(0, len(text))
            text = text[:at] + rnd.choice(glue) + text[at + (rnd.random() < 0.3):]
        return text

    texts += [rnd.choice(["", " "]).join(date_like() if rnd.random() < 0.4 else part()
                                         for _ in range(rnd.randint(1, 5))) for _ in range(8000)]
    matched = [0] * len(originals)
    for text in texts:
        folded = fold(text)
        for i, ((pattern, _, needs), original) in enumerate(zip(normalize._DATE_PATTERNS, originals, strict=True)):
            expected = [(m.span(), tuple(g and fold(g) for g in m.groups())) for m in original.finditer(text)]
            if expected:
                matched[i] += 1
                assert normalize._NEEDS[needs].search(folded), (text, pattern.pattern[:40])  # necessary
            assert [(m.span(), m.groups()) for m in pattern.finditer(folded)] == expected, (text, original.pattern[:40])
    assert min(matched) > 150, matched  # the texts do exercise every pattern
