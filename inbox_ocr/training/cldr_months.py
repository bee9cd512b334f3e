"""Write inbox_ocr/understand/months.json: month names of the languages invoices come in, from
CLDR (babel), wide and abbreviated, in their format (genitive: "stycznia", "července") and
stand-alone forms.  Run:  python -m inbox_ocr.training.cldr_months

The product reads the JSON (no babel at run time); tests/unit/understand/test_months.py checks
that it is what this script writes. A name that means different months in two languages is left
out (none does among these).
"""

from __future__ import annotations

import json
from pathlib import Path

LOCALES = ("en", "de", "fr", "es", "it", "nl", "pt", "pl", "cs", "sk", "sv", "da", "nb", "fi", "ro", "hu", "sl",
           "et", "lt", "lv")
TARGET = Path(__file__).resolve().parents[1] / "understand" / "months.json"


def month_names() -> dict[str, int]:
    from babel.dates import get_month_names

    seen: dict[str, set[int]] = {}
    for locale in LOCALES:
        for context in ("format", "stand-alone"):
            for width in ("wide", "abbreviated"):
                for number, name in get_month_names(width, context=context, locale=locale).items():
                    name = name.lower().rstrip(".")
                    if len(name) >= 3 and name.isalpha():
                        seen.setdefault(name, set()).add(int(number))
    return {name: next(iter(numbers)) for name, numbers in sorted(seen.items()) if len(numbers) == 1}


def render() -> str:
    return json.dumps({"source": "CLDR via babel", "locales": list(LOCALES), "months": month_names()},
                      ensure_ascii=False, indent=0, sort_keys=True) + "\n"


if __name__ == "__main__":
    TARGET.write_text(render(), encoding="utf-8")
    print(f"wrote {TARGET}")
