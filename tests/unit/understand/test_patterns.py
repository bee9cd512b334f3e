"""patterns.py: regular expressions rewritten so that the regex engine can skip ahead must match
exactly what the patterns they replace match."""

from __future__ import annotations

import random
import re

import pytest

from inbox_ocr.understand import labels as L
from inbox_ocr.understand.candidates import _EU_VAT
from inbox_ocr.understand.fields import _CURRENCY_LABEL
from inbox_ocr.understand.lines import _COLUMN_RX, _COLUMNS
from inbox_ocr.understand.money import _PREPAID
from inbox_ocr.understand.normalize import _VAT_SHAPES, IBAN_CANDIDATE, VAT_ID
from inbox_ocr.understand.parties import (
    _BUYER_HEADING,
    _SELLER_HEADING,
    COMPANY_WORD,
    LEGAL_FORM,
    NOT_NAME,
    has_legal_form,
    legal_forms,
    without_legal_forms,
)
from inbox_ocr.understand.patterns import ASCII_LOOKALIKES, fold, literal_first
from inbox_ocr.understand.scoring import is_payment

_WORDS = ["GmbH", "Muster", "AG", "&", "Co.", "KG", "S.A.R.L.", "Sdn", "Bhd", "SDN.BHD.", "Ltd", "Inc.", "plc", "bv",
          "Trading", "Restaurant", "Café", "Services", "Tel.", "Fax:", "www.example.com", "info@x.de", "IBAN", "BIC",
          "Reg.", "GST", "No.", "no:", "Seite", "page", "+49", "DE136695976", "FR 11 123 456 782", "ATU12345678",
          "DE89 3704 0044 0532 0130 00", "有限公司", "公司", "İ", "ı", "ſ", "\u212a", "Ä", "ß", "x", "_", "-", "4711",
          "xDE123456789", "NL123456789B01", "CHE-123.456.789", "GB123456789012", "ES91 2100", "Währung:", "EUR",
          "WÄHRUNG", "Beträge", "in", "EN", "amounts", "Montants", "currency:", "币种", "Anzahlung", "bereits",
          "BEZAHLT", "Déjà", "payé", "Prepaid", "Paid amount", "预付", "deposit", "CASH", "Change", "Mastercard",
          "Cashier", "RÜCKGELD", "Visa", "card"]


def _texts(count: int, seed: int) -> list[str]:
    rnd = random.Random(seed)
    out = []
    for _ in range(count):
        words = [rnd.choice(_WORDS) for _ in range(rnd.randint(1, 6))]
        out.append(rnd.choice([" ", "", "-", ", "]).join(words))
    return out


def _found(matches) -> list[tuple[tuple[int, int], tuple[str | None, ...]]]:  # type: ignore[no-untyped-def]
    return [(m.span(), m.groups()) for m in matches]


def test_fold_keeps_positions_and_matches_as_ignorecase_does() -> None:
    for text in _texts(3000, 1):
        assert len(fold(text)) == len(text)
    # the four non-ASCII look-alikes that re.IGNORECASE takes for ASCII letters
    for char, letter in (("İ", "i"), ("ı", "i"), ("ſ", "s"), ("\u212a", "k")):
        assert re.fullmatch(letter, char, re.IGNORECASE) and fold(char) == letter
        assert fold(f"Ä{char}X{char}") == f"ä{letter}x{letter}"  # beside other non-ASCII letters too
    assert set(ASCII_LOOKALIKES) == {"İ", "ı", "ſ", "\u212a"}  # fold tests for these four by name


def test_legal_forms_company_and_contact_words_match_as_the_ignorecase_patterns_did() -> None:
    old_legal = re.compile(rf"(?<![^\W_])(?:{L.LEGAL_FORMS})(?![^\W\d_])", re.IGNORECASE)
    old_company = re.compile(rf"(?<![^\W_])(?:{L.COMPANY_WORDS})(?![^\W\d_])", re.IGNORECASE)
    old_not_name = re.compile(r"@|www\.|https?:|\.com\b|tel\b|fax\b|phone|telefon|iban|\bbic\b|page|seite|\+\d"
                              r"|\breg(?:istration)?\b|\bgst\b|\bno\s*[.:]", re.IGNORECASE)
    found = 0
    for text in _texts(6000, 2):
        assert _found(legal_forms(text)) == _found(old_legal.finditer(text)), text
        assert has_legal_form(text) == bool(old_legal.search(text))
        assert bool(LEGAL_FORM.fullmatch(fold(text))) == bool(old_legal.fullmatch(text)), text
        assert without_legal_forms(text) == old_legal.sub(" ", text), text
        assert _found(COMPANY_WORD.finditer(fold(text))) == _found(old_company.finditer(text)), text
        assert _found(NOT_NAME.finditer(fold(text))) == _found(old_not_name.finditer(text)), text
        found += len(legal_forms(text))
    assert found > 2000


def test_payment_prepayment_and_currency_words_match_as_the_ignorecase_patterns_did() -> None:
    old_prepaid = re.compile(
        r"anzahlung|vorauszahlung|abschlag|bereits\s*(?:bezahlt|gezahlt|beglichen)|prepaid|prepayment|deposit|"
        r"paid\s*amount|acompte|déjà\s*(?:payé|réglé)|anticipo|pagato|aanbetaling|vooruitbetaling|预付", re.IGNORECASE)
    old_currency = re.compile(r"(?:währung|currency|devise|moneda|divisa|valuta|币种|(?:beträge|amounts|montants|"
                              r"importes|importi|bedragen)\s+(?:in|en))\W*$", re.IGNORECASE)
    old_payment = re.compile(r"(?<![^\W_])(?:cash|change|tendered|paid|bayar|tunai|card|visa|master\w*|bezahlt|gegeben|"
                             r"rückgeld|espèces|rendu|efectivo|cambio|contanti|resto)(?![^\W\d_])", re.IGNORECASE)
    found = 0
    for text in _texts(6000, 4):
        assert is_payment(text) == bool(old_payment.search(text)), text
        assert _found(_PREPAID.finditer(fold(text))) == _found(old_prepaid.finditer(text)), text
        assert _found(_CURRENCY_LABEL.finditer(fold(text))) == _found(old_currency.finditer(text)), text
        found += bool(old_prepaid.search(text)) + bool(old_currency.search(text))
    assert found > 1000


def test_party_headings_and_column_headers_match_as_the_ignorecase_patterns_did() -> None:
    old_seller = re.compile(rf"^\W*(?:{L.SELLER_WORDS})(?:\s*[/&,]\s*\w+)*\W*$", re.IGNORECASE)
    old_buyer = re.compile(rf"^\W*(?:{L.BUYER_WORDS})(?:\s*[/&,]\s*\w+)*\W*$", re.IGNORECASE)
    old_column = re.compile("|".join(rf"\W*(?P<{n}>{rx})\W*$" for n, rx in _COLUMNS.items()), re.IGNORECASE)
    words = ["Verkäufer", "VERKÄUFER", "Lieferant", "Seller", "From", "Bill to", "BILL TO", "Kunde", "Käufer",
             "Rechnungsempfänger", "Client", "Acheteur", "Cliente", "购买方", "销售方", "Description", "QTY", "Menge",
             "Unit price", "Prix unitaire", "Betrag", "Total HT", "MwSt. %", "TVA %", "数量", "金额", "İtem", "ſervice",
             "/", "&", ":", " ", "-", "x", "GmbH", "4711"]
    rnd = random.Random(5)
    texts = ["".join(rnd.choice(words) for _ in range(rnd.randint(1, 4))) for _ in range(6000)]
    texts += [" ".join(rnd.choice(words) for _ in range(rnd.randint(1, 3))) for _ in range(6000)]
    found = 0
    for text in texts:
        for new, old in ((_SELLER_HEADING, old_seller), (_BUYER_HEADING, old_buyer)):
            m, o = new.match(fold(text)), old.match(text)
            assert (m and m.span()) == (o and o.span()), text
            found += bool(o)
        m, o = _COLUMN_RX.match(fold(text)), old_column.match(text)
        assert (m and (m.span(), m.lastgroup)) == (o and (o.span(), o.lastgroup)), text
        found += bool(o)
    assert found > 1000


def test_tax_ids_and_ibans_match_as_the_look_behind_patterns_did() -> None:
    old_vat = re.compile(rf"(?<![A-Z0-9])({_VAT_SHAPES})(?![A-Z0-9])")  # the look-behind in front
    old_iban = re.compile(r"(?<![A-Z0-9])([A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){2,7}(?:\s?[A-Z0-9]{1,4})?)(?![A-Z0-9])")
    old_eu = re.compile(r"(?<![A-Z0-9])((?:AT|BE|BG|CHE|CY|CZ|DE|DK|EE|EL|ES|FI|FR|GB|HR|HU|IE|IT|LT|LU|LV|MT|NL|NO"
                        r"|PL|PT|RO|SE|SI|SK|XI)[\s.:-]{0,2}(?:[0-9A-Z][\s.\-]?){6,13}[0-9A-Z])(?![0-9A-Z])")
    found = 0
    for text in [t.upper() for t in _texts(6000, 3)]:
        assert _found(VAT_ID.finditer(text)) == _found(old_vat.finditer(text)), text
        assert _found(IBAN_CANDIDATE.finditer(text)) == _found(old_iban.finditer(text)), text
        assert _found(_EU_VAT.finditer(text)) == _found(old_eu.finditer(text)), text
        found += len(VAT_ID.findall(text))
    assert found > 1000


def test_literal_first_moves_the_look_behind_behind_each_first_character() -> None:
    assert literal_first(r"ab|\.c|x(?:y|z)", "[0-9]") == r"a(?<![0-9].)b|\.(?<![0-9].)c|x(?<![0-9].)(?:y|z)"
    # alternatives of one first character share the look-behind, in their order ("\-" is "-")
    assert literal_first(r"ab|\-q|ad|-r", "[0-9]") == r"a(?<![0-9].)(?:b|d)|\-(?<![0-9].)(?:q|r)"
    rx = re.compile(literal_first("ab|abc|xy", "[0-9]"))
    assert rx.match("abc").group() == "ab"  # the first alternative that matches wins, as before
    rx = re.compile(literal_first("ab|cd", r"[^\W_]"))
    assert rx.search("xab cd").span() == (4, 6)  # "ab" follows a letter: not a match
    assert rx.match("ab")  # at the start there is nothing before
    # "|" inside groups and character sets (also "[]|]" and "[^]|]") splits nothing
    assert literal_first(r"a(?:b|c)|d[|]|e[]|]|f[^]|]", "[0-9]") == (
        r"a(?<![0-9].)(?:b|c)|d(?<![0-9].)[|]|e(?<![0-9].)[]|]|f(?<![0-9].)[^]|]")
    for bad in (r"(?:a|b)c", r"\dx", "[ab]c", "a?b", ""):
        with pytest.raises(ValueError):
            literal_first(bad, "[0-9]")
