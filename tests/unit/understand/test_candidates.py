"""Candidate generation: every value with a field's shape is found, in the forms invoices print."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from inbox_ocr.understand.candidates import candidates, tax_id_valid
from inbox_ocr.understand.layout import page_cells
from inbox_ocr.understand.nearby import Cells
from inbox_ocr.understand.normalize import Conventions
from tests.unit.understand.conftest import make_pdf, read_pdf


def _found(items: list[tuple], conventions: Conventions | None = None, cjk: bool = False):  # type: ignore[no-untyped-def]
    doc = read_pdf(make_pdf(items, cjk=cjk))
    cells = Cells(c for p in doc.pages for c in page_cells(p))
    return candidates(cells, conventions or Conventions())


def test_vat_ids_are_found_with_and_without_spaces_and_checked() -> None:
    found = _found([(40, 60, "N° TVA intra : FR 40 303 265 045"), (40, 80, "USt-IdNr.: DE136695976"),
                    (40, 100, "VAT GB 123 4567 89 and tel 0049 30 1234567")])
    values = [c.value for c in found["vat"]]
    assert "FR40303265045" in values and "DE136695976" in values
    assert tax_id_valid("FR40303265045") and tax_id_valid("DE136695976")
    assert not tax_id_valid("DE123456780")


def test_a_chinese_unified_social_credit_code_is_a_tax_id() -> None:
    found = _found([(40, 60, "纳税人识别号：91110108MA01R2LW3B")], cjk=True)
    assert [c.value for c in found["vat"]] == ["91110108MA01R2LW3B"]


def test_identifiers_keep_slashes_and_lose_glued_labels() -> None:
    found = _found([(40, 60, "Facture nº2023-6013"), (40, 80, "Rechnung VT/2022/0001 vom 01.11.2024"),
                    (40, 100, "Invoice #A-17")])
    ids = [c.value for c in found["id"]]
    assert "2023-6013" in ids and "VT/2022/0001" in ids and "A-17" in ids
    assert "01.11.2024" not in ids  # a date is a date candidate, not an identifier
    assert [c.value for c in found["date"]] == [date(2024, 11, 1)]


def test_amounts_skip_percentages_dates_and_times() -> None:
    found = _found([(40, 60, "MwSt. 19 % auf 1.234,56 EUR: 234,57"), (40, 80, "Druck 03.11.2024 14:22")],
                   Conventions(decimal_separator=","))
    assert [c.value for c in found["amount"]] == [Decimal("1234.56"), Decimal("234.57")]


def test_every_candidate_points_at_its_printed_characters() -> None:
    found = _found([(40, 60, "Total due: EUR 1,017.33 by 2024-12-15")], Conventions(decimal_separator="."))
    for kind in ("amount", "date"):
        (cand,) = found[kind]
        assert cand.text in ("1,017.33", "2024-12-15")
