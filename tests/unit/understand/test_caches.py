"""What understanding keeps from text to text is dropped by caches.forget(), and forgetting
changes no result (the speed benchmark forgets before each document)."""

from __future__ import annotations

from inbox_ocr.understand import analyze, caches, normalize, parties
from inbox_ocr.understand.candidates import tax_id_valid
from inbox_ocr.understand.scoring import LABELS

from .conftest import make_pdf, read_pdf


def test_forget_empties_every_cache_and_the_analysis_is_the_same_after() -> None:
    document = read_pdf(make_pdf([
        (380, 60, "Rechnung Nr. RE-2024-117"), (380, 76, "Datum: 05.03.2024"), (60, 60, "Muster GmbH"),
        (60, 76, "USt-IdNr. DE136695976"), (300, 400, "Nettobetrag 100,00 EUR"), (300, 416, "MwSt 19% 19,00 EUR"),
        (300, 432, "Gesamtbetrag 119,00 EUR"),
    ]))
    first = analyze(document)
    per_text = [normalize._all_amounts, normalize._find_dates, tax_id_valid, parties.looks_like_name,
                parties.strip_name]
    assert all(fn.cache_info().currsize > 0 for fn in per_text)
    assert LABELS._ascii
    caches.forget()
    assert [fn.cache_info().currsize for fn in per_text] == [0] * len(per_text)
    assert not LABELS._ascii
    again = analyze(document)
    assert again.fields == first.fields and again.field_confidence == first.field_confidence
    assert first.fields.total is not None and str(first.fields.total) == "119.00"
