"""Checks a finance team would do by eye, turned into confidence and warnings.

IBAN checksum (schwifty), VAT id checksum (python-stdnum), BIC structure, net + tax = gross within
a cent, due date not before the invoice date. A failed check lowers the confidence of the fields
involved and adds a warning; a passed arithmetic check raises the money fields' confidence.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

from schwifty import BIC, IBAN
from stdnum.eu import vat as eu_vat

from inbox_ocr.kernel.models import InvoiceFields
from inbox_ocr.understand.currency import ISO_CURRENCIES

CENT = Decimal("0.01")


def validate(
    fields: InvoiceFields, confidence: dict[str, float], calibrated: set[str] | frozenset[str] = frozenset()
) -> tuple[dict[str, float], list[str]]:
    """Return adjusted per-field confidences and the warnings for one document. A failed check
    lowers a field's confidence; a passed one raises it, except where the confidence is already
    the learned scorer's calibrated probability (`calibrated`: the scorer saw the checks' inputs)."""
    conf = dict(confidence)
    warnings: list[str] = []

    def lower(name: str, factor: float) -> None:
        if name in conf:
            conf[name] = round(conf[name] * factor, 3)

    def raise_to(name: str, floor: float) -> None:
        if name in conf and name not in calibrated:
            conf[name] = max(conf[name], floor)

    if fields.iban:
        try:
            IBAN(fields.iban)
            raise_to("iban", 0.95)
        except Exception:  # schwifty raises one of several subclasses of ValueError
            lower("iban", 0.3)
            warnings.append(f"iban {fields.iban} fails the IBAN checksum")
    if fields.bic:
        try:
            BIC(fields.bic)
        except Exception:
            lower("bic", 0.3)
            warnings.append(f"bic {fields.bic} is not a valid BIC")
    for name in ("vendor_vat_id", "customer_vat_id"):
        value = getattr(fields, name)
        if not value:
            continue
        compact = re.sub(r"[\s.\-]", "", value).upper()
        if compact[:2].isalpha() and compact[:2] in _EU_PREFIXES:
            if eu_vat.is_valid(compact):
                raise_to(name, 0.9)
            else:
                lower(name, 0.6)
                warnings.append(f"{name} {value} fails the VAT id checksum")
    if fields.vendor_vat_id and fields.customer_vat_id and fields.vendor_vat_id == fields.customer_vat_id:
        lower("customer_vat_id", 0.5)
        warnings.append("vendor and customer have the same VAT id")

    _check_amounts(fields, conf, warnings, lower, raise_to)

    if fields.invoice_date and fields.due_date and fields.due_date < fields.invoice_date:
        lower("due_date", 0.4)
        warnings.append(f"due date {fields.due_date} is before the invoice date {fields.invoice_date}")
    if fields.invoice_date and fields.invoice_date > date.today() + timedelta(days=366):
        lower("invoice_date", 0.4)
        warnings.append(f"invoice date {fields.invoice_date} is more than a year in the future")
    if (
        fields.service_period_start
        and fields.service_period_end
        and fields.service_period_end < fields.service_period_start
    ):
        warnings.append("service period ends before it starts")
    if fields.currency and fields.currency not in ISO_CURRENCIES:
        lower("currency", 0.7)
    return conf, warnings


def _check_amounts(fields: InvoiceFields, conf, warnings, lower, raise_to) -> None:  # type: ignore[no-untyped-def]
    total, subtotal, tax = fields.total, fields.subtotal, fields.tax
    if total is not None and subtotal is not None and tax is not None:
        if abs(subtotal + tax - total) <= CENT:
            for name in ("total", "subtotal", "tax"):
                raise_to(name, 0.95)
        else:
            for name in ("total", "subtotal", "tax"):
                lower(name, 0.6)
            warnings.append(f"subtotal {subtotal} + tax {tax} = {subtotal + tax}, not the total {total}")
    elif total is not None and subtotal is not None and abs(subtotal) > abs(total) + CENT and total > 0:
        lower("subtotal", 0.6)
        warnings.append(f"subtotal {subtotal} is larger than the total {total}")
    if subtotal is not None and tax is not None and fields.tax_rates and subtotal != 0 and len(fields.tax_rates) == 1:
        expected = (subtotal * fields.tax_rates[0] / 100).quantize(CENT)
        if abs(expected - tax) > Decimal("0.05") and abs(tax) > 0:
            warnings.append(f"tax {tax} is not {fields.tax_rates[0]}% of {subtotal}")


_EU_PREFIXES = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "EL",
        "ES",
        "FI",
        "FR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
        "XI",
    ]
)  # noqa: E501
