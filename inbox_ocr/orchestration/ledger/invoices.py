"""Invoices seen, across messages: the same vendor, number and total arriving again (days later,
by another route) is the costliest mistake in accounts payable, a double payment.

Each committed or held message's documents that state a vendor (VAT id, else the name without
its legal form), an invoice number and a total get a row here, in the transaction of the
message's outcome. `first` finds the earliest other message with the same three.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from inbox_ocr.kernel.models import EarlierInvoice
from inbox_ocr.orchestration.ledger.db import Connection, Database

_LEGAL_FORM = re.compile(r"\b(gmbh|ag|kg|ohg|ug|e\.?k|ltd|limited|llc|inc|corp|co|plc|sa|sas|sarl|srl|spa|bv|nv"
                         r"|ab|as|oy|aps|sp\.? z o\.?o)\b\.?", re.IGNORECASE)


def invoice_key(fields: Mapping[str, Any]) -> tuple[str, str, str] | None:
    """(vendor, number, total) of a document's fields (their JSON form), or None when one is missing."""
    vendor = _vendor(fields)
    number = re.sub(r"[\s\-_/.]", "", str(fields.get("invoice_number") or "")).upper()
    try:
        total = Decimal(str(fields.get("total"))) if fields.get("total") is not None else None
    except InvalidOperation:
        total = None
    if not vendor or not number or total is None:
        return None
    return vendor, number, f"{abs(total):.2f}"


def _vendor(fields: Mapping[str, Any]) -> str:
    vat = re.sub(r"[\s.\-]", "", str(fields.get("vendor_vat_id") or "")).upper()
    if vat:
        return f"vat:{vat}"
    name = _LEGAL_FORM.sub(" ", str(fields.get("vendor_name") or "").casefold())
    name = re.sub(r"[^\w]+", " ", name).strip()
    return f"name:{name}" if name else ""


def add_invoices(db: Connection, message: int, documents: Iterable[Mapping[str, Any]]) -> None:
    """The rows of a message's documents (replacing earlier ones), inside the caller's transaction."""
    db.execute("DELETE FROM invoices WHERE message = ?", (message,))
    for doc in documents:
        found = invoice_key(doc.get("fields") or {})
        if found is not None:
            db.execute("INSERT INTO invoices (vendor, number, total, message) VALUES (?, ?, ?, ?) "
                       "ON CONFLICT DO NOTHING",
                       (*found, message))


class InvoiceStore:
    """The InvoiceHistory of the ports (kernel/ports.py)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def first_seen(self, fields: Mapping[str, Any], source: str, key: str) -> EarlierInvoice | None:
        found = invoice_key(fields)
        if found is None:
            return None
        rows = self.db.query(
            """SELECT m.id, m.source, m.key, m.created_at FROM invoices i JOIN messages m ON m.id = i.message
               WHERE i.vendor = ? AND i.number = ? AND i.total = ? AND NOT (m.source = ? AND m.key = ?)
               ORDER BY m.created_at, m.id LIMIT 1""",
            (*found, source, key),
        )
        if not rows:
            return None
        return EarlierInvoice(message=int(rows[0][0]), source=rows[0][1], key=rows[0][2], received=rows[0][3])
