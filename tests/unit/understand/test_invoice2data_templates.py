"""A folder of invoice2data-format templates that uses every documented feature (written here, see
invoice2data_templates/README.md), read the way invoice2data's TUTORIAL says it reads them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from inbox_ocr.understand import analyze, load_templates
from inbox_ocr.understand.templates import Templates, apply_template

from .conftest import make_pdf, read_pdf

FOLDER = Path(__file__).parent / "invoice2data_templates"

NORTHWIND = """Northwind Hosting Inc.          Account # NW-4471
Invoice # NWH-20931
Invoice date: 03/04/2024       Due date: 04/03/2024
Subtotal $1,000.00
Sales tax $82.50
Total due $1,082.50"""

STADTWERKE = """Stadtwerke Nordheim GmbH · USt-IdNr. DE811234567
Rechnungsnummer 40012345   Rechnungsdatum 15.02.2024
Pos Leistung                 Menge   Betrag
 1  Strom Arbeitspreis        2.450,5   735,15
     Zählernummer 1ESY1160
     Zeitraum 01.01.-31.01.
 2  Grundpreis                1   12,50
     Zeitraum 01.01.-31.01.
Nettobetrag 747,65
Rechnungsbetrag 889,70"""

MOBILE = """Mobile Libre      FR25499247138
Facture no 98765 du 3 mars 2024
Total de la facture HT      40,00
Montant à payer TTC     48,00"""

OYO = """Invoice No: OYO778812                                   Date: 31/12/2017
Guest Name: Sanjay
Hotel Details                                                   Check In            Check Out       Rooms
OYO 4189 Resort Nanganallur,                                    31/12/2017          01/01/2018      1
25,Vembuliamman Koil Street,, Pazhavanthangal, Chennai
                                                                    Booking ID              Payment Mode
                                                                    IBZY2087                Cash at Hotel
DESCRIPTION                                             RATE                                    AMOUNT
Room Charges                                            Rs 1939 x 1 Night x 1 Room              Rs 1939
Grand Total                                                                                     Rs 1,939"""

CIRRUS = """Cirrus Cloud — Usage statement and invoice
Invoice ID CC-0A1B2C        Billing date 2024-05-01
Service                 Usage          Cost
Compute instances       720.0 h        86.40
Object storage          1.5 TB         33.00
Support plan                           29.00
Amount charged USD 148.40"""

GADGETS = """Gadget Shop Ltd, 1 High Street, Leeds
Invoice number GS10021
Dispatched 2 May 2024
Dispatched 4 May 2024
Delivery £4.99
Delivery £2.50
VAT 20% £16.00
VAT 5% £1.25
Grand total £124.74"""

LUMEN = """Lumen Energie NV — BTW BE0403170701
Factuurnummer: 7712003   Factuurdatum: 20/03/2024
Te betalen: 1.234,56"""

FERNSPRECH = """Fernsprech AG
Kundennummer: 55 120
Rechnungsnummer: 2024 - 0815   Datum: 01.06.2024
Gesamtbetrag: 59,90 EUR"""

WEBWINKEL = """De Webwinkel BV   BTW NL853512345B01
Factuurnummer WW100234   Factuurdatum 07-06-2024
Artikel                 Aantal   Bedrag
USB-C kabel 2m          3        29,97
Laptopstandaard         1        49,95
-------------------------------------
Vervolg op volgende pagina
Transport 79,92
Artikel                 Aantal   Bedrag
Draadloze muis          2        39,98
Subtotaal 119,90
Totaal incl. BTW 145,08"""

IBERIA = """Suministros Iberia SL  CIF B12345674                 Fecha 28/02/2024
Factura nº 2024/118
TOTAL FACTURA 2.420,00"""

PAPERCRAFT = """Papercraft Supplies
Invoice PC-5521
Balance 310.00"""


@pytest.fixture(scope="module")
def templates() -> Templates:
    return load_templates(FOLDER)


def values(templates: Templates, text: str, name: str) -> dict:
    template = templates.match(text)
    assert template is not None and template.name == name, template
    result = apply_template(template, text)
    assert result.missing == [], result.missing
    return result.values


def test_the_folder_loads_recursively_with_the_two_broken_files_named(templates: Templates) -> None:
    assert len(templates.items) == 12
    problems = sorted(templates.problems)
    assert len(problems) == 2
    assert "xx.required-not-a-list.yml" in problems[0] and "required_fields: expected a list" in problems[0]
    assert "xx.table-without-body.yml" in problems[1] and "tables[0]: needs `start`, `end` and `body`" in problems[1]


def test_new_style_regex_fields_with_types_and_date_formats(templates: Templates) -> None:
    v = values(templates, NORTHWIND, "com.northwind-hosting")
    assert (v["invoice_number"], v["invoice_date"], v["due_date"]) == ("NWH-20931", date(2024, 3, 4), date(2024, 4, 3))
    assert (v["total"], v["subtotal"], v["currency"], v["vendor_name"]) == (
        Decimal("1082.50"), Decimal("1000.00"), "USD", "Northwind Hosting Inc.")


def test_lines_with_first_line_line_and_last_line_join_multi_line_items(templates: Templates) -> None:
    v = values(templates, STADTWERKE, "de.stadtwerke-nordheim")
    assert (v["invoice_number"], v["invoice_date"], v["total"], v["vendor_vat_id"]) == (
        "40012345", date(2024, 2, 15), Decimal("889.70"), "DE811234567")
    assert [(i.description, i.quantity, i.amount) for i in v["line_items"]] == [
        ("Strom Arbeitspreis\nZählernummer 1ESY1160", Decimal("2450.5"), Decimal("735.15")),
        ("Grundpreis", Decimal("1"), Decimal("12.50")),
    ]


def test_required_fields_accents_replace_and_a_french_month(templates: Templates) -> None:
    v = values(templates, MOBILE, "fr.mobile-libre")
    assert (v["invoice_number"], v["invoice_date"], v["total"], v["subtotal"], v["vendor_vat_id"]) == (
        "98765", date(2024, 3, 3), Decimal("48.00"), Decimal("40.00"), "FR25499247138")


def test_tables_fill_fields_from_the_row_under_their_headers(templates: Templates) -> None:
    template = templates.match(OYO)
    assert template is not None and template.name == "in.oyo-rooms"
    result = apply_template(template, OYO)
    # booking_id and date_check_in have no place in our fields, but they are found: the template applies
    assert result.missing == []
    assert (result.values["invoice_number"], result.values["total"], result.values["invoice_date"]) == (
        "OYO778812", Decimal("1939"), date(2017, 12, 31))
    without_booking = OYO.replace("IBZY2087                Cash at Hotel", "")
    assert apply_template(template, without_booking).missing == ["booking_id"]


def test_json_template_without_issuer_and_a_lines_field_with_several_line_regexes(templates: Templates) -> None:
    v = values(templates, CIRRUS, "com.cirrus-cloud")
    assert "vendor_name" not in v  # no issuer: the generic extractor names the vendor
    assert (v["invoice_number"], v["invoice_date"], v["total"]) == ("CC-0A1B2C", date(2024, 5, 1), Decimal("148.40"))
    assert [(i.description, i.amount) for i in v["line_items"]] == [
        ("Compute instances", Decimal("86.40")), ("Object storage", Decimal("33.00")),
        ("Support plan", Decimal("29.00"))]


def test_regex_lists_group_last_and_the_sum_prefix(templates: Templates) -> None:
    v = values(templates, GADGETS, "com.gadget-shop")
    assert v["invoice_number"] == "GS10021"  # the second regex of the list
    assert v["invoice_date"] == date(2024, 5, 4)  # group: last
    assert v["tax"] == Decimal("17.25")  # sum_amount_tax: 16.00 + 1.25
    assert (v["total"], v["currency"]) == (Decimal("124.74"), "GBP")


def test_priority_then_exclude_keywords_fall_back_to_the_next_template(templates: Templates) -> None:
    assert values(templates, LUMEN, "be.lumen-energie")["total"] == Decimal("1234.56")
    reminder = LUMEN + "\nReeds betaald via domiciliëring"
    v = values(templates, reminder, "be.lumen-energie-any")
    assert v == {"vendor_name": "Lumen Energie NV", "invoice_number": "7712003"}


def test_remove_whitespace_removes_spaces_not_line_breaks(templates: Templates) -> None:
    v = values(templates, FERNSPRECH, "de.fernsprech")
    assert (v["invoice_number"], v["invoice_date"], v["total"]) == ("2024-0815", date(2024, 6, 1), Decimal("59.90"))


def test_lowercase_and_lines_over_two_blocks_with_skipped_lines(templates: Templates) -> None:
    v = values(templates, WEBWINKEL, "nl.webwinkel")
    assert (v["invoice_number"], v["invoice_date"], v["total"]) == ("ww100234", date(2024, 6, 7), Decimal("145.08"))
    assert [(i.description, i.quantity, i.amount) for i in v["line_items"]] == [
        ("usb-c kabel 2m", Decimal("3"), Decimal("29.97")),
        ("laptopstandaard", Decimal("1"), Decimal("49.95")),
        ("draadloze muis", Decimal("2"), Decimal("39.98")),
    ]


def test_area_is_ignored_and_static_fields_both_ways(templates: Templates) -> None:
    v = values(templates, IBERIA, "es.suministros-iberia")
    assert (v["invoice_number"], v["invoice_date"], v["total"]) == ("2024/118", date(2024, 2, 28), Decimal("2420.00"))
    assert (v["currency"], v["vendor_vat_id"]) == ("EUR", "ESB12345674")


def test_a_template_missing_a_default_required_field_is_not_used(templates: Templates) -> None:
    """Papercraft's template names no required_fields, so invoice2data's apply (date, amount,
    invoice_number); its document prints no 'Dated' line: the template is not used, the generic
    extractor's values stay and a warning says why."""
    template = templates.match(PAPERCRAFT)
    assert template is not None and apply_template(template, PAPERCRAFT).missing == ["date"]
    pdf = make_pdf([(50, 60, "Papercraft Supplies", 14), (50, 90, "Invoice PC-5521"), (50, 110, "Date: 2024-07-01"),
                    (50, 130, "Balance 310.00")])
    result = analyze(read_pdf(pdf), templates=templates)
    assert result.template is None
    assert any("template com.papercraft matched but its required field(s) date were not found" in w
               for w in result.warnings)
    assert result.fields.invoice_number == "PC-5521" and result.fields.invoice_date == date(2024, 7, 1)


def test_the_whole_folder_through_a_pdf(templates: Templates) -> None:
    """End to end: a text PDF, the layout text the reader makes of it, the template's values."""
    pdf = make_pdf([(50, 60, "Northwind Hosting Inc."), (300, 60, "Account # NW-4471"), (50, 90, "Invoice # NWH-20931"),
                    (50, 110, "Invoice date: 03/04/2024"), (50, 130, "Subtotal $1,000.00"),
                    (50, 150, "Total due $1,082.50")])
    result = analyze(read_pdf(pdf), templates=templates)
    assert result.template == "com.northwind-hosting"
    f = result.fields
    assert (f.invoice_number, f.invoice_date, f.total, f.currency) == (
        "NWH-20931", date(2024, 3, 4), Decimal("1082.50"), "USD")
