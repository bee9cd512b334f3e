# ruff: noqa: E501  (XML fixtures are easier to read one element per line)
"""E-invoices: CII and UBL XML we write here, Factur-X embedded in a PDF, and the zugferd-dev corpus."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from inbox_ocr.kernel.errors import UnreadableDocument
from inbox_ocr.read.einvoice import parse_einvoice
from inbox_ocr.understand import analyze

from .conftest import make_pdf, read_pdf, read_xml

CII = """<?xml version="1.0" encoding="UTF-8"?>
<rsm:CrossIndustryInvoice xmlns:rsm="urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
  xmlns:ram="urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
  xmlns:udt="urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100">
 <rsm:ExchangedDocument><ram:ID>XR-2024-77</ram:ID><ram:TypeCode>{type_code}</ram:TypeCode>
  <ram:IssueDateTime><udt:DateTimeString format="102">20240305</udt:DateTimeString></ram:IssueDateTime></rsm:ExchangedDocument>
 <rsm:SupplyChainTradeTransaction>
  <ram:IncludedSupplyChainTradeLineItem>
   <ram:SpecifiedTradeProduct><ram:Name>Beratung</ram:Name></ram:SpecifiedTradeProduct>
   <ram:SpecifiedLineTradeAgreement><ram:NetPriceProductTradePrice><ram:ChargeAmount>100.00</ram:ChargeAmount></ram:NetPriceProductTradePrice></ram:SpecifiedLineTradeAgreement>
   <ram:SpecifiedLineTradeDelivery><ram:BilledQuantity unitCode="HUR">10</ram:BilledQuantity></ram:SpecifiedLineTradeDelivery>
   <ram:SpecifiedLineTradeSettlement><ram:ApplicableTradeTax><ram:RateApplicablePercent>19</ram:RateApplicablePercent></ram:ApplicableTradeTax>
    <ram:SpecifiedTradeSettlementLineMonetarySummation><ram:LineTotalAmount>1000.00</ram:LineTotalAmount></ram:SpecifiedTradeSettlementLineMonetarySummation></ram:SpecifiedLineTradeSettlement>
  </ram:IncludedSupplyChainTradeLineItem>
  <ram:ApplicableHeaderTradeAgreement>
   <ram:SellerTradeParty><ram:Name>Beispiel Software GmbH</ram:Name>
    <ram:SpecifiedTaxRegistration><ram:ID schemeID="VA">DE136695976</ram:ID></ram:SpecifiedTaxRegistration></ram:SellerTradeParty>
   <ram:BuyerTradeParty><ram:Name>Kunde AG</ram:Name></ram:BuyerTradeParty>
   <ram:BuyerOrderReferencedDocument><ram:IssuerAssignedID>PO-991</ram:IssuerAssignedID></ram:BuyerOrderReferencedDocument>
  </ram:ApplicableHeaderTradeAgreement>
  <ram:ApplicableHeaderTradeSettlement>
   <ram:PaymentReference>XR-2024-77</ram:PaymentReference>
   <ram:InvoiceCurrencyCode>EUR</ram:InvoiceCurrencyCode>
   <ram:SpecifiedTradeSettlementPaymentMeans><ram:TypeCode>58</ram:TypeCode>
    <ram:PayeePartyCreditorFinancialAccount><ram:IBANID>DE89370400440532013000</ram:IBANID></ram:PayeePartyCreditorFinancialAccount></ram:SpecifiedTradeSettlementPaymentMeans>
   <ram:ApplicableTradeTax><ram:CalculatedAmount>190.00</ram:CalculatedAmount><ram:RateApplicablePercent>19</ram:RateApplicablePercent></ram:ApplicableTradeTax>
   <ram:SpecifiedTradePaymentTerms><ram:Description>30 Tage netto</ram:Description>
    <ram:DueDateDateTime><udt:DateTimeString format="102">20240404</udt:DateTimeString></ram:DueDateDateTime></ram:SpecifiedTradePaymentTerms>
   <ram:SpecifiedTradeSettlementHeaderMonetarySummation>
    <ram:LineTotalAmount>1000.00</ram:LineTotalAmount><ram:TaxBasisTotalAmount>1000.00</ram:TaxBasisTotalAmount>
    <ram:TaxTotalAmount currencyID="EUR">190.00</ram:TaxTotalAmount><ram:GrandTotalAmount>1190.00</ram:GrandTotalAmount>
    <ram:DuePayableAmount>1190.00</ram:DuePayableAmount></ram:SpecifiedTradeSettlementHeaderMonetarySummation>
  </ram:ApplicableHeaderTradeSettlement>
 </rsm:SupplyChainTradeTransaction>
</rsm:CrossIndustryInvoice>"""

UBL = """<?xml version="1.0" encoding="UTF-8"?>
<{root} xmlns="urn:oasis:names:specification:ubl:schema:xsd:{root}-2"
  xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
  xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2">
 <cbc:CustomizationID>urn:cen.eu:en16931:2017#compliant#urn:xeinkauf.de:kosit:xrechnung_3.0</cbc:CustomizationID>
 <cbc:ID>UBL-5</cbc:ID><cbc:IssueDate>2024-06-30</cbc:IssueDate>{due}
 <cbc:{root}TypeCode>{code}</cbc:{root}TypeCode>
 <cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>
 <cac:OrderReference><cbc:ID>PO-7</cbc:ID></cac:OrderReference>
 <cac:AccountingSupplierParty><cac:Party>
  <cac:PostalAddress><cbc:StreetName>Hauptstr. 1</cbc:StreetName><cbc:CityName>Berlin</cbc:CityName><cbc:PostalZone>10115</cbc:PostalZone>
   <cac:Country><cbc:IdentificationCode>DE</cbc:IdentificationCode></cac:Country></cac:PostalAddress>
  <cac:PartyTaxScheme><cbc:CompanyID>DE136695976</cbc:CompanyID><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:PartyTaxScheme>
  <cac:PartyLegalEntity><cbc:RegistrationName>UBL Lieferant GmbH</cbc:RegistrationName></cac:PartyLegalEntity>
 </cac:Party></cac:AccountingSupplierParty>
 <cac:AccountingCustomerParty><cac:Party><cac:PartyLegalEntity><cbc:RegistrationName>Stadt Beispiel</cbc:RegistrationName></cac:PartyLegalEntity></cac:Party></cac:AccountingCustomerParty>
 <cac:PaymentMeans><cbc:PaymentMeansCode>58</cbc:PaymentMeansCode><cbc:PaymentID>REF-5</cbc:PaymentID>
  <cac:PayeeFinancialAccount><cbc:ID>DE89370400440532013000</cbc:ID></cac:PayeeFinancialAccount></cac:PaymentMeans>
 <cac:TaxTotal><cbc:TaxAmount currencyID="EUR">14.00</cbc:TaxAmount>
  <cac:TaxSubtotal><cbc:TaxableAmount currencyID="EUR">200.00</cbc:TaxableAmount><cbc:TaxAmount currencyID="EUR">14.00</cbc:TaxAmount>
   <cac:TaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>7</cbc:Percent><cac:TaxScheme><cbc:ID>VAT</cbc:ID></cac:TaxScheme></cac:TaxCategory></cac:TaxSubtotal></cac:TaxTotal>
 <cac:LegalMonetaryTotal><cbc:LineExtensionAmount currencyID="EUR">200.00</cbc:LineExtensionAmount>
  <cbc:TaxExclusiveAmount currencyID="EUR">200.00</cbc:TaxExclusiveAmount><cbc:TaxInclusiveAmount currencyID="EUR">214.00</cbc:TaxInclusiveAmount>
  <cbc:PayableAmount currencyID="EUR">214.00</cbc:PayableAmount></cac:LegalMonetaryTotal>
 <cac:{root}Line><cbc:ID>1</cbc:ID><cbc:{qty} unitCode="C62">4</cbc:{qty}><cbc:LineExtensionAmount currencyID="EUR">200.00</cbc:LineExtensionAmount>
  <cac:Item><cbc:Name>Bücher</cbc:Name><cac:ClassifiedTaxCategory><cbc:ID>S</cbc:ID><cbc:Percent>7</cbc:Percent></cac:ClassifiedTaxCategory></cac:Item>
  <cac:Price><cbc:PriceAmount currencyID="EUR">50.00</cbc:PriceAmount></cac:Price></cac:{root}Line>
</{root}>"""


def ubl(root: str = "Invoice", code: str = "380") -> bytes:
    qty = "InvoicedQuantity" if root == "Invoice" else "CreditedQuantity"
    due = "<cbc:DueDate>2024-07-30</cbc:DueDate>" if root == "Invoice" else ""
    return UBL.format(root=root, code=code, qty=qty, due=due).encode()


def test_cii_xml_read_exactly() -> None:
    doc = read_xml(CII.format(type_code="380").encode())
    assert doc.reading == "einvoice_xml" and doc.einvoice_format == "CrossIndustryInvoice"
    f = doc.einvoice
    assert f is not None
    assert (f.invoice_number, f.invoice_date, f.due_date) == ("XR-2024-77", date(2024, 3, 5), date(2024, 4, 4))
    assert (f.subtotal, f.tax, f.total, f.amount_due) == (
        Decimal("1000.00"),
        Decimal("190.00"),
        Decimal("1190.00"),
        Decimal("1190.00"),
    )
    assert (f.vendor_name, f.vendor_vat_id, f.customer_name, f.po_number) == (
        "Beispiel Software GmbH",
        "DE136695976",
        "Kunde AG",
        "PO-991",
    )
    assert f.iban == "DE89370400440532013000" and f.payment_terms == "30 Tage netto" and f.tax_rates == (Decimal(19),)
    assert f.line_items[0].description == "Beratung" and f.line_items[0].amount == Decimal("1000.00")
    result = analyze(doc)
    assert result.classification.doc_type == "invoice" and result.field_confidence["total"] == 1.0
    assert result.summary()["fields"]["total"] == "1190.00"


@pytest.mark.parametrize(
    ("root", "code", "kind"), [("Invoice", "380", "invoice"), ("CreditNote", "381", "credit_note")]
)
def test_ubl_invoice_and_credit_note(root: str, code: str, kind: str) -> None:
    doc = read_xml(ubl(root, code))
    assert doc.reading == "einvoice_xml" and doc.einvoice_format == f"UBL {root}"
    f = doc.einvoice
    assert f is not None
    assert (f.invoice_number, f.invoice_date, f.currency) == ("UBL-5", date(2024, 6, 30), "EUR")
    assert (f.subtotal, f.tax, f.total) == (Decimal("200.00"), Decimal("14.00"), Decimal("214.00"))
    assert (f.vendor_name, f.vendor_vat_id, f.customer_name) == ("UBL Lieferant GmbH", "DE136695976", "Stadt Beispiel")
    assert (f.iban, f.payment_reference, f.po_number, f.type_code) == ("DE89370400440532013000", "REF-5", "PO-7", code)
    assert f.line_items[0].quantity == Decimal(4) and f.line_items[0].unit_price == Decimal("50.00")
    assert f.due_date == (date(2024, 7, 30) if root == "Invoice" else None)
    assert analyze(doc).classification.doc_type == kind


def test_embedded_facturx_wins_over_the_text_layer() -> None:
    """The printed page says one total, the XML another: the XML is what was booked."""
    pdf = make_pdf(
        [(50, 60, "RECHNUNG", 16), (50, 100, "Rechnungsnummer: PRINTED-1"), (50, 120, "Gesamtbetrag: 999,00 EUR")],
        attachments={"factur-x.xml": CII.format(type_code="381").encode()},
    )
    doc = read_pdf(pdf)
    assert doc.reading == "einvoice_xml" and doc.pages  # the text is kept for context
    result = analyze(doc)
    assert result.fields.invoice_number == "XR-2024-77" and result.fields.total == Decimal("1190.00")
    assert result.classification.doc_type == "credit_note"  # from type code 381
    assert result.summary()["source"] == "einvoice_xml"


def test_the_scorer_chooses_only_what_the_xml_leaves_open(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the XML states is not guessed from the print: the learned scorer works out only the
    kinds of candidate the fields the XML lacks need (here the tax, when the XML has none)."""
    from inbox_ocr.understand import scorer

    asked: list[tuple[str, ...]] = []
    prepare = scorer.prepare
    monkeypatch.setattr(scorer, "prepare", lambda rule, kinds, keep=None: asked.append(kinds) or prepare(rule, kinds, keep))
    items = [(50, 60, "RECHNUNG", 16), (50, 100, "Rechnungsnummer: XR-2024-77"), (50, 120, "MwSt 19%: 190,00 EUR")]
    doc = read_pdf(make_pdf(items, attachments={"factur-x.xml": CII.format(type_code="380").encode()}))
    assert doc.einvoice is not None and doc.einvoice.vendor_vat_id and doc.einvoice.tax == Decimal("190.00")
    analyze(doc)
    missing = {name for name, kind in scorer.FIELD_KINDS.items() if getattr(doc.einvoice, name) in (None, "")}
    assert asked == ([tuple(dict.fromkeys(scorer.FIELD_KINDS[n] for n in scorer.FIELD_KINDS if n in missing))]
                     if missing else [])
    without_tax = doc.model_copy(update={"einvoice": doc.einvoice.model_copy(update={"tax": None})})
    asked.clear()
    result = analyze(without_tax)
    assert "amount" in asked[0] and result.fields.tax == Decimal("190.00")


@pytest.mark.parametrize("bad", ["NaN", "sNaN", "Infinity", "-Inf", "1E+999999999", "1E-999999999"])
def test_an_unusable_amount_is_a_warning_on_that_field_and_the_rest_stays(bad: str) -> None:
    """One NaN, infinite or absurd amount in the XML: that amount is left out with a warning; the
    other XML values, the text layer and the classification stay."""
    xml = CII.format(type_code="380").replace("<ram:TaxTotalAmount currencyID=\"EUR\">190.00", f"<ram:TaxTotalAmount currencyID=\"EUR\">{bad}")
    assert bad in xml
    pdf = make_pdf([(50, 60, "RECHNUNG", 16), (50, 100, "Rechnungsnummer: XR-2024-77")], attachments={"factur-x.xml": xml.encode()})
    doc = read_pdf(pdf)
    assert doc.error is None and doc.reading == "einvoice_xml" and "Rechnungsnummer" in doc.text
    assert any(f"TaxTotalAmount {bad!r}" in w for w in doc.warnings), doc.warnings
    assert doc.einvoice is not None and doc.einvoice.tax is None
    assert (doc.einvoice.invoice_number, doc.einvoice.total) == ("XR-2024-77", Decimal("1190.00"))
    result = analyze(doc)
    assert result.classification.doc_type == "invoice" and result.fields.total == Decimal("1190.00")
    standalone = read_xml(xml.encode())  # the same XML as a file of its own
    assert standalone.error is None and standalone.einvoice is not None and standalone.einvoice.tax is None
    assert any("TaxTotalAmount" in w for w in standalone.warnings)


def test_broken_embedded_xml_is_a_warning_and_the_text_is_still_read() -> None:
    pdf = make_pdf([(50, 60, "Invoice No: A-17"), (50, 80, "Total: 12.50 USD")], attachments={"factur-x.xml": b"<oops"})
    doc = read_pdf(pdf)
    assert doc.reading == "text_layer" and any("factur-x.xml" in w for w in doc.warnings)
    assert analyze(doc).fields.invoice_number == "A-17"


@pytest.mark.parametrize(
    "data",
    [
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]><Invoice>&b;</Invoice>',
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><Invoice>&x;</Invoice>',
        b"<not-closed>",
        b"<html><body>hello</body></html>",
    ],
    ids=["entity-expansion", "external-entity", "malformed", "not-an-invoice"],
)
def test_unsafe_or_foreign_xml_is_refused(data: bytes) -> None:
    with pytest.raises(UnreadableDocument):
        parse_einvoice(data)
    doc = read_xml(data)
    assert doc.reading == "unreadable" and doc.error
    assert analyze(doc).fields.total is None


def test_zugferd_dev_reproduces_expected_json(zugferd_dev) -> None:  # type: ignore[no-untyped-def]
    expected = json.loads((zugferd_dev / "expected.json").read_text())
    for name, want in expected.items():
        f = read_pdf((zugferd_dev / name).read_bytes(), name).einvoice
        assert f is not None, name
        got = {
            "invoice_number": f.invoice_number,
            "currency": f.currency,
            "seller_name": f.vendor_name,
            "seller_vat_id": f.vendor_vat_id,
            "buyer_name": f.customer_name,
            "type_code": f.type_code,
            "seller_tax_number": f.vendor_tax_number,
            "grand_total": str(f.total) if f.total is not None else None,
            "tax_total": str(f.tax) if f.tax is not None else None,
            "tax_basis_total": str(f.subtotal) if f.subtotal is not None else None,
            "due_payable": str(f.amount_due) if f.amount_due is not None else None,
        }
        for key, value in got.items():
            assert value == want[key], (name, key)
        if want["issue_date"] is not None:
            assert f.invoice_date is not None and f.invoice_date.strftime("%Y%m%d") == want["issue_date"], name
