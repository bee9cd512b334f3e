"""Structured e-invoices: UN/CEFACT CII (Factur-X, ZUGFeRD 1 and 2, XRechnung), OASIS UBL and
Italy's FatturaPA (ordinary FPA12/FPR12 and simplified FSM10).

    parse_einvoice(xml bytes, warnings) -> (InvoiceFields, format name)  raises UnreadableDocument
    from_pdf(pymupdf document)  -> (InvoiceFields | None, format name | None)   never raises

The XML is parsed with defusedxml (no entity expansion, no external entities). Elements are
found by local name, so the namespace URIs of the many CII/UBL versions in circulation do not
matter; values are copied as written (a Decimal keeps "300" or "252.1" as printed).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import date
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from inbox_ocr.kernel.errors import UnreadableDocument
from inbox_ocr.kernel.models import InvoiceFields, LineItem

log = logging.getLogger(__name__)

# Names that Factur-X / ZUGFeRD / XRechnung prescribe for the embedded file, tried first.
KNOWN_EMBEDDED_NAMES = ("factur-x.xml", "zugferd-invoice.xml", "xrechnung.xml", "zugferd_invoice.xml")
MAX_XML_BYTES = 20 * 1024**2
CII_ROOTS = {"CrossIndustryInvoice", "CrossIndustryDocument", "Invoice"}
UBL_ROOTS = {"Invoice", "CreditNote"}
FATTURAPA_ROOTS = {"FatturaElettronica", "FatturaElettronicaSemplificata"}


# --------------------------------------------------------------------------- element helpers


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(el: Element | None, name: str) -> Iterator[Element]:
    if el is None:
        return iter(())
    return (c for c in el if _local(c.tag) == name)


def _child(el: Element | None, *names: str) -> Element | None:
    """The first child whose local name is one of `names` (alternatives across versions)."""
    if el is None:
        return None
    for c in el:
        if _local(c.tag) in names:
            return c
    return None


def _path(el: Element | None, path: str) -> Element | None:
    """Follow a/b|c/d by local names; `|` separates alternatives at one step."""
    for step in path.split("/"):
        el = _child(el, *step.split("|"))
        if el is None:
            return None
    return el


def _text(el: Element | None, path: str | None = None) -> str | None:
    if path is not None:
        el = _path(el, path)
    if el is None or el.text is None:
        return None
    value = el.text.strip()
    return value or None


# Problems met while parsing one XML (a bad amount is a warning on that field, not a lost document)
_problems: ContextVar[list[str] | None] = ContextVar("einvoice_problems", default=None)
MAX_AMOUNT_DIGITS = 15  # |value| < 10**15: more is no invoice amount, and arithmetic on it is unbounded
MIN_AMOUNT_EXPONENT = -12


def _decimal(el: Element | None, path: str | None = None) -> Decimal | None:
    text = _text(el, path)
    if text is None:
        return None
    try:
        value: Decimal | None = Decimal(text)
    except InvalidOperation:
        value = None
    if value is not None and _usable(value):
        return value
    problems = _problems.get()
    if problems is not None:
        target = _path(el, path) if path else el
        where = _local(target.tag) if target is not None else "amount"
        shown = text if len(text) <= 30 else text[:29] + "…"
        problems.append(f"e-invoice {where} {shown!r} is not a usable amount; that value is ignored")
    return None


def _usable(value: Decimal) -> bool:
    """Finite, under 10**15 and with at most 12 decimals: NaN, Infinity or 1E+999999999 in one
    amount must not make the document unreadable or arithmetic on it unbounded."""
    if not value.is_finite():
        return False
    exponent = value.as_tuple().exponent
    return value.is_zero() or (
        value.adjusted() < MAX_AMOUNT_DIGITS and isinstance(exponent, int) and exponent >= MIN_AMOUNT_EXPONENT
    )


def _cii_date(el: Element | None) -> date | None:
    """udt:DateTimeString format 102 (YYYYMMDD), or the bare text of pre-release ZUGFeRD files."""
    if el is None:
        return None
    inner = _child(el, "DateTimeString", "DateString")
    raw = _text(inner) if inner is not None else _text(el)
    return _yyyymmdd(raw)


def _yyyymmdd(raw: str | None) -> date | None:
    if not raw:
        return None
    digits = raw.replace("-", "")[:8]
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None


# --------------------------------------------------------------------------- entry points


def parse_einvoice(data: bytes, warnings: list[str] | None = None) -> tuple[InvoiceFields, str]:
    """Parse CII or UBL XML; raises UnreadableDocument for anything else. A value that cannot be
    used (an amount that is NaN, infinite or absurdly large) is left out with a note in `warnings`;
    the rest of the XML stays."""
    problems: list[str] = []
    token = _problems.set(problems)
    try:
        return _parse(data)
    finally:
        _problems.reset(token)
        if warnings is not None:
            warnings.extend(dict.fromkeys(problems))  # each distinct note once


def _parse(data: bytes) -> tuple[InvoiceFields, str]:
    if len(data) > MAX_XML_BYTES:
        raise UnreadableDocument(f"the XML is larger than {MAX_XML_BYTES // 1024**2} MB")
    try:
        root = SafeET.fromstring(data)
    except DefusedXmlException as exc:
        raise UnreadableDocument(f"the XML uses forbidden constructs (entities or DTDs): {exc}") from exc
    except (ParseError, ValueError) as exc:
        raise UnreadableDocument(f"not well-formed XML: {exc}") from exc
    name = _local(root.tag)
    namespace = root.tag[1:].split("}", 1)[0] if root.tag.startswith("{") else ""
    if name in UBL_ROOTS and "oasis" in namespace:
        return _parse_ubl(root), f"UBL {name}"
    if name in CII_ROOTS:
        return _parse_cii(root), name
    if name in FATTURAPA_ROOTS:
        return _parse_fatturapa(root), f"FatturaPA {root.get('versione') or name}"
    raise UnreadableDocument(f"XML root <{name}> is neither a CII, a UBL nor a FatturaPA invoice")


def from_pdf(pdf, warnings: list[str]) -> tuple[InvoiceFields | None, str | None]:  # type: ignore[no-untyped-def]
    """The e-invoice embedded in a PDF (Factur-X / ZUGFeRD / XRechnung hybrid), if any.

    A broken embedded XML is a warning, not an error: the text layer is still read.
    """
    try:
        names = list(pdf.embfile_names())
    except Exception as exc:  # a damaged name tree must not stop the text layer
        warnings.append(f"embedded files could not be listed: {exc}")
        return None, None
    xml_names = [n for n in names if str(n).lower().endswith(".xml")]
    xml_names.sort(key=lambda n: (str(n).lower() not in KNOWN_EMBEDDED_NAMES, names.index(n)))
    for name in xml_names:
        try:
            data = pdf.embfile_get(name)
        except Exception as exc:
            warnings.append(f"embedded file {name!r} could not be extracted: {exc}")
            continue
        try:
            fields, fmt = parse_einvoice(data, warnings)
        except UnreadableDocument as exc:
            if str(name).lower() in KNOWN_EMBEDDED_NAMES:
                warnings.append(f"embedded e-invoice {name!r} ignored: {exc}")
            continue
        return fields, fmt
    return None, None


# --------------------------------------------------------------------------- CII


def _tax_registrations(party: Element | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for reg in _children(party, "SpecifiedTaxRegistration"):
        id_el = _child(reg, "ID")
        value = _text(id_el)
        if id_el is not None and value:
            out.setdefault(id_el.get("schemeID", ""), value)
    return out


def _parse_cii(root: Element) -> InvoiceFields:
    header = _child(root, "ExchangedDocument", "HeaderExchangedDocument")
    tx = _child(root, "SupplyChainTradeTransaction", "SpecifiedSupplyChainTradeTransaction")
    agreement = _child(tx, "ApplicableHeaderTradeAgreement", "ApplicableSupplyChainTradeAgreement")
    settlement = _child(tx, "ApplicableHeaderTradeSettlement", "ApplicableSupplyChainTradeSettlement")
    seller = _child(agreement, "SellerTradeParty")
    buyer = _child(agreement, "BuyerTradeParty")
    summation = _child(
        settlement, "SpecifiedTradeSettlementHeaderMonetarySummation", "SpecifiedTradeSettlementMonetarySummation"
    )
    currency = _text(settlement, "InvoiceCurrencyCode")

    tax_total = None
    for el in _children(summation, "TaxTotalAmount"):
        # With a separate tax currency there are two; the one in the invoice currency is BT-110.
        if tax_total is None or (currency and el.get("currencyID") == currency):
            tax_total = _decimal(el)

    seller_regs = _tax_registrations(seller)
    buyer_regs = _tax_registrations(buyer)
    means = _child(settlement, "SpecifiedTradeSettlementPaymentMeans")
    terms = list(_children(settlement, "SpecifiedTradePaymentTerms"))
    due = next((d for t in terms if (d := _cii_date(_child(t, "DueDateDateTime"))) is not None), None)
    term_text = "; ".join(t for term in terms if (t := _text(term, "Description")))
    period = _child(settlement, "BillingSpecifiedPeriod")
    address = _child(seller, "PostalTradeAddress")
    rates = []
    for tax in _children(settlement, "ApplicableTradeTax"):
        rate = _decimal(tax, "RateApplicablePercent|ApplicablePercent")
        if rate is not None and rate not in rates:
            rates.append(rate)
    order = _text(agreement, "BuyerOrderReferencedDocument/IssuerAssignedID|ID")
    return InvoiceFields(
        invoice_number=_text(header, "ID"),
        invoice_date=_cii_date(_child(header, "IssueDateTime")),
        due_date=due,
        service_period_start=_cii_date(_child(period, "StartDateTime")),
        service_period_end=_cii_date(_child(period, "EndDateTime")),
        total=_decimal(summation, "GrandTotalAmount"),
        subtotal=_decimal(summation, "TaxBasisTotalAmount"),
        tax=tax_total,
        tax_rates=tuple(rates),
        amount_due=_decimal(summation, "DuePayableAmount"),
        currency=currency,
        vendor_name=_text(seller, "Name"),
        vendor_address=_join_address(
            address, ("LineOne", "LineTwo", "LineThree", "PostcodeCode", "CityName", "CountryID")
        ),
        vendor_vat_id=seller_regs.get("VA"),
        vendor_tax_number=seller_regs.get("FC"),
        customer_name=_text(buyer, "Name"),
        customer_vat_id=buyer_regs.get("VA"),
        iban=_text(means, "PayeePartyCreditorFinancialAccount/IBANID"),
        bic=_text(means, "PayeeSpecifiedCreditorFinancialInstitution/BICID"),
        po_number=order or _text(agreement, "BuyerReference"),
        payment_terms=term_text or None,
        payment_reference=_text(settlement, "PaymentReference"),
        type_code=_text(header, "TypeCode"),
        line_items=tuple(_cii_lines(tx)),
    )


def _join_address(el: Element | None, parts: tuple[str, ...]) -> str | None:
    values = [v for p in parts if (v := _text(el, p))]
    return ", ".join(values) or None


def _cii_lines(tx: Element | None) -> Iterator[LineItem]:
    for item in _children(tx, "IncludedSupplyChainTradeLineItem"):
        name = _text(item, "SpecifiedTradeProduct/Name")
        agreement = _child(item, "SpecifiedLineTradeAgreement", "SpecifiedSupplyChainTradeAgreement")
        delivery = _child(item, "SpecifiedLineTradeDelivery", "SpecifiedSupplyChainTradeDelivery")
        settlement = _child(item, "SpecifiedLineTradeSettlement", "SpecifiedSupplyChainTradeSettlement")
        yield LineItem(
            description=name or "",
            quantity=_decimal(delivery, "BilledQuantity"),
            unit_price=_decimal(agreement, "NetPriceProductTradePrice/ChargeAmount"),
            amount=_decimal(
                settlement,
                "SpecifiedTradeSettlementLineMonetarySummation|SpecifiedTradeSettlementMonetarySummation/LineTotalAmount",
            ),
            tax_rate=_decimal(settlement, "ApplicableTradeTax/RateApplicablePercent|ApplicablePercent"),
        )


# --------------------------------------------------------------------------- UBL


def _ubl_party(root: Element, role: str) -> tuple[str | None, str | None, str | None, str | None]:
    """name, VAT id, tax number, address of AccountingSupplierParty / AccountingCustomerParty."""
    party = _path(root, f"{role}/Party")
    name = _text(party, "PartyLegalEntity/RegistrationName") or _text(party, "PartyName/Name")
    vat = tax_number = None
    for scheme in _children(party, "PartyTaxScheme"):
        company_id = _text(scheme, "CompanyID")
        if (_text(scheme, "TaxScheme/ID") or "").upper() == "VAT":
            vat = vat or company_id
        else:
            tax_number = tax_number or company_id
    address = _join_address(
        _child(party, "PostalAddress"), ("StreetName", "AdditionalStreetName", "PostalZone", "CityName")
    )
    country = _text(party, "PostalAddress/Country/IdentificationCode")
    if address and country:
        address = f"{address}, {country}"
    return name, vat, tax_number, address


def _parse_ubl(root: Element) -> InvoiceFields:
    is_credit = _local(root.tag) == "CreditNote"
    totals = _child(root, "LegalMonetaryTotal")
    currency = _text(root, "DocumentCurrencyCode")
    tax = None
    for tax_total in _children(root, "TaxTotal"):
        amount_el = _child(tax_total, "TaxAmount")
        if tax is None or (currency and amount_el is not None and amount_el.get("currencyID") == currency):
            tax = _decimal(amount_el)
    rates: list[Decimal] = []
    for tax_total in _children(root, "TaxTotal"):
        for sub in _children(tax_total, "TaxSubtotal"):
            rate = _decimal(sub, "TaxCategory/Percent")
            if rate is not None and rate not in rates:
                rates.append(rate)
    means = _child(root, "PaymentMeans")
    v_name, v_vat, v_tax, v_address = _ubl_party(root, "AccountingSupplierParty")
    c_name, c_vat, _, _ = _ubl_party(root, "AccountingCustomerParty")
    due = _text(root, "DueDate") or _text(means, "PaymentDueDate")
    terms = "; ".join(t for el in _children(root, "PaymentTerms") if (t := _text(el, "Note")))
    line_tag, qty_tag = ("CreditNoteLine", "CreditedQuantity") if is_credit else ("InvoiceLine", "InvoicedQuantity")
    return InvoiceFields(
        invoice_number=_text(root, "ID"),
        invoice_date=_yyyymmdd(_text(root, "IssueDate")),
        due_date=_yyyymmdd(due),
        service_period_start=_yyyymmdd(_text(root, "InvoicePeriod/StartDate")),
        service_period_end=_yyyymmdd(_text(root, "InvoicePeriod/EndDate")),
        total=_decimal(totals, "TaxInclusiveAmount"),
        subtotal=_decimal(totals, "TaxExclusiveAmount"),
        tax=tax,
        tax_rates=tuple(rates),
        amount_due=_decimal(totals, "PayableAmount"),
        currency=currency,
        vendor_name=v_name,
        vendor_address=v_address,
        vendor_vat_id=v_vat,
        vendor_tax_number=v_tax,
        customer_name=c_name,
        customer_vat_id=c_vat,
        iban=_text(means, "PayeeFinancialAccount/ID"),
        bic=_text(means, "PayeeFinancialAccount/FinancialInstitutionBranch/ID"),
        po_number=_text(root, "OrderReference/ID") or _text(root, "BuyerReference"),
        payment_terms=terms or None,
        payment_reference=_text(means, "PaymentID"),
        type_code=_text(root, "CreditNoteTypeCode" if is_credit else "InvoiceTypeCode")
        or ("381" if is_credit else "380"),
        line_items=tuple(
            LineItem(
                description=_text(line, "Item/Name") or _text(line, "Item/Description") or "",
                quantity=_decimal(line, qty_tag),
                unit_price=_decimal(line, "Price/PriceAmount"),
                amount=_decimal(line, "LineExtensionAmount"),
                tax_rate=_decimal(line, "Item/ClassifiedTaxCategory/Percent"),
            )
            for line in _children(root, line_tag)
        ),
    )


# --------------------------------------------------------------------------- FatturaPA (Italy)

# TipoDocumento -> UNTDID 1001, as the other formats give it: notes di credito are credit notes
_FATTURAPA_TYPES = {"TD04": "381", "TD08": "381", "TD05": "383", "TD09": "383"}


def _first(el: Element | None, name: str) -> Element | None:
    """The first descendant with this local name (FatturaPA nests a party's data differently in the
    ordinary and the simplified format)."""
    if el is None:
        return None
    return next((d for d in el.iter() if _local(d.tag) == name), None)


def _fatturapa_party(party: Element | None) -> tuple[str | None, str | None, str | None, str | None]:
    """name, VAT id (IdPaese + IdCodice), codice fiscale, address of a CedentePrestatore or
    CessionarioCommittente."""
    name = _text(_first(party, "Denominazione"))
    if name is None:
        name = " ".join(t for t in (_text(_first(party, "Nome")), _text(_first(party, "Cognome"))) if t) or None
    fiscal = _first(party, "IdFiscaleIVA")
    country, code = _text(fiscal, "IdPaese"), _text(fiscal, "IdCodice")
    vat = f"{country}{code}" if country and code else None
    address = _join_address(_child(party, "Sede"),
                            ("Indirizzo", "NumeroCivico", "CAP", "Comune", "Provincia", "Nazione"))
    return name, vat, _text(_first(party, "CodiceFiscale")), address


def _sum(values: list[Decimal | None]) -> Decimal | None:
    present = [v for v in values if v is not None]
    return sum(present, Decimal(0)) if present else None


def _parse_fatturapa(root: Element) -> InvoiceFields:
    """One FatturaPA file. A file may batch several invoices of one seller to one buyer (a "lotto":
    several FatturaElettronicaBody): the first is read and a warning says how many there are."""
    simplified = _local(root.tag) == "FatturaElettronicaSemplificata"
    header = _child(root, "FatturaElettronicaHeader")
    bodies = list(_children(root, "FatturaElettronicaBody"))
    body = bodies[0] if bodies else None
    if len(bodies) > 1 and (problems := _problems.get()) is not None:
        problems.append(f"the FatturaPA file holds {len(bodies)} invoices (a lotto); only the first is read")
    general = _path(body, "DatiGenerali/DatiGeneraliDocumento")
    v_name, v_vat, v_tax, v_address = _fatturapa_party(_child(header, "CedentePrestatore"))
    c_name, c_vat, _, _ = _fatturapa_party(_child(header, "CessionarioCommittente"))
    kind = _text(general, "TipoDocumento")
    if simplified:  # amounts include VAT; no summary block
        services = list(_children(body, "DatiBeniServizi"))
        total = _sum([_decimal(s, "Importo") for s in services])
        tax = _sum([_decimal(s, "DatiIVA/Imposta") for s in services])
        subtotal = total - tax if total is not None and tax is not None else None
        rates = [r for s in services if (r := _decimal(s, "DatiIVA/Aliquota")) is not None]
        lines = [LineItem(description=_text(s, "Descrizione") or "", amount=_decimal(s, "Importo"),
                          tax_rate=_decimal(s, "DatiIVA/Aliquota")) for s in services]
        payment = None
    else:
        goods = _child(body, "DatiBeniServizi")
        summaries = list(_children(goods, "DatiRiepilogo"))
        subtotal = _sum([_decimal(s, "ImponibileImporto") for s in summaries])
        tax = _sum([_decimal(s, "Imposta") for s in summaries])
        total = _decimal(general, "ImportoTotaleDocumento")  # optional in the format
        if total is None and subtotal is not None and tax is not None:
            total = subtotal + tax + (_decimal(general, "Arrotondamento") or Decimal(0))
        rates = [r for s in summaries if (r := _decimal(s, "AliquotaIVA")) is not None]
        lines = [LineItem(description=_text(line, "Descrizione") or "", quantity=_decimal(line, "Quantita"),
                          unit_price=_decimal(line, "PrezzoUnitario"), amount=_decimal(line, "PrezzoTotale"),
                          tax_rate=_decimal(line, "AliquotaIVA")) for line in _children(goods, "DettaglioLinee")]
        payment = _path(body, "DatiPagamento/DettaglioPagamento")
    return InvoiceFields(
        invoice_number=_text(general, "Numero"),
        invoice_date=_yyyymmdd(_text(general, "Data")),
        due_date=_yyyymmdd(_text(payment, "DataScadenzaPagamento")),
        total=total,
        subtotal=subtotal,
        tax=tax,
        tax_rates=tuple(dict.fromkeys(rates)),
        amount_due=_decimal(payment, "ImportoPagamento"),
        currency=_text(general, "Divisa"),
        vendor_name=v_name,
        vendor_address=v_address,
        vendor_vat_id=v_vat,
        vendor_tax_number=v_tax,
        customer_name=c_name,
        customer_vat_id=c_vat,
        iban=_text(payment, "IBAN"),
        bic=_text(payment, "BIC"),
        po_number=_text(body, "DatiGenerali/DatiOrdineAcquisto/IdDocumento"),
        payment_reference=_text(payment, "CodicePagamento"),
        type_code=_FATTURAPA_TYPES.get(kind or "", "380") if kind else None,
        line_items=tuple(lines),
    )
