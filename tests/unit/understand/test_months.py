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


def test_the_month_prefix_tree_matches_what_the_flat_alternation_matches() -> None:
    """The date patterns hold the month names as a prefix tree (for speed); every pattern finds the
    same dates, spans and groups as with the names as one flat alternation, longest first, on texts
    made of month names in mixed case, cut short, glued to digits and separators, and next to
    letters that case-fold like ASCII ones (long s, Kelvin sign, dotted and dotless i)."""
    import random
    import re

    from inbox_ocr.understand import normalize

    tree = normalize._prefix_tree(["sep", "sept", "september", "jun", "juni", "july"])
    assert tree == "(?:ju(?:ly|n(?:i)?)|sep(?:t(?:ember)?)?)"
    assert [re.match(tree, text).group() for text in ("septembers", "septs", "juni", "julyx")] == [  # type: ignore[union-attr]
        "september", "sept", "juni", "july"]  # the longest word first, as the flat alternation
    flat = "|".join(sorted((re.escape(name) for name in MONTHS), key=len, reverse=True))
    pairs = [(pattern, re.compile(pattern.pattern.replace(normalize._MONTH_ALT, flat), pattern.flags))
             for pattern, _ in normalize._DATE_PATTERNS if normalize._MONTH_ALT in pattern.pattern]
    assert len(pairs) == 3
    rnd = random.Random(7)
    names = sorted(MONTHS)
    glue = ["", " ", ".", "-", "/", ",", " de ", "de", "st", "º", "–", "_", "x", "ſ", "K", "İ", "ı"]

    def part() -> str:
        roll = rnd.random()
        if roll < 0.4:
            name = "".join(c.upper() if rnd.random() < 0.3 else c for c in rnd.choice(names))
            return name if rnd.random() < 0.8 else name[: rnd.randint(1, 6)]
        return str(rnd.randint(0, 3000)) if roll < 0.7 else rnd.choice(glue)

    texts = ["Jan 3 - Feb 4, 2024", "1. Septembre 2024", "March 5, 2024", "5 de enero de 2024"]
    texts += [rnd.choice(["", " "]).join(part() for _ in range(rnd.randint(1, 6))) for _ in range(4000)]
    for text in texts:
        for tree, flat_pattern in pairs:
            assert [(m.span(), m.groups()) for m in tree.finditer(text)] == [
                (m.span(), m.groups()) for m in flat_pattern.finditer(text)], text
