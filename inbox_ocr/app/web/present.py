"""What the pages show, worked out from the ledger's records: one document's fields with their
confidence, warnings and boxes, a row of the review queue, a message's one-line summary."""

from __future__ import annotations

from typing import Any

from inbox_ocr.app.config import Config
from inbox_ocr.orchestration.review import EDITABLE

FIELD_LABELS = {
    "invoice_number": "Invoice number", "invoice_date": "Invoice date", "due_date": "Due date", "total": "Total",
    "subtotal": "Net", "tax": "Tax", "amount_due": "Amount due", "currency": "Currency", "vendor_name": "Vendor",
    "vendor_vat_id": "Vendor VAT id", "customer_name": "Customer", "iban": "IBAN", "bic": "BIC",
    "po_number": "PO number", "payment_reference": "Payment reference",
}


def confidence_class(value: float | None) -> str:
    if value is None:
        return "unknown"
    return "high" if value >= 0.9 else "medium" if value >= 0.7 else "low"


def attachment_of(raw: bytes, part: str | None, config: Config) -> bytes | None:
    from inbox_ocr.mime import parse_message

    for attachment in parse_message(raw, config.limits).attachments:
        if attachment.part == part:
            return attachment.data
    return None


def main_document(documents: list[dict[str, Any]]) -> dict[str, Any] | None:
    return next((d for d in documents if d.get("doc_type") in ("invoice", "credit_note")),
                documents[0] if documents else None)


def queue_row(review: Any, record: Any) -> dict[str, Any]:
    main = main_document(record.documents) or {}
    fields = main.get("fields", {})
    confidences = [c for d in record.documents for name, c in d.get("field_confidence", {}).items()
                   if name in EDITABLE]
    return {"id": record.id, "received": record.created_at.replace("T", " ")[:16], "sender": record.sender or "",
            "subject": record.subject or "", "doc_type": main.get("doc_type", "-"),
            "total": f"{fields['total']} {fields.get('currency', '')}".strip() if fields.get("total") else "-",
            "lowest": min(confidences) if confidences else None, "reason": review.reason,
            "duplicate_of": next((d["duplicate_of"]["message"] for d in record.documents if d.get("duplicate_of")),
                                 None)}


def summary_line(record: Any) -> str:
    main = main_document(record.documents)
    if main is None:
        return ""
    fields = main.get("fields", {})
    bits = [main.get("doc_type", "")]
    if fields.get("invoice_number"):
        bits.append(f"no. {fields['invoice_number']}")
    if fields.get("total"):
        bits.append(f"{fields['total']} {fields.get('currency', '')}".strip())
    return ", ".join(b for b in bits if b)


def document_view(index: int, summary: dict[str, Any], errors: dict[tuple[int, str], str],
                   typed: dict[str, str]) -> dict[str, Any]:
    """One document as the templates show it: its fields in the form's order, each with its value
    (as typed, after a refused submit), confidence, warnings, error and box."""
    fields = summary.get("fields", {})
    confidence = summary.get("field_confidence", {})
    positions = summary.get("field_positions", {})
    warnings = summary.get("warnings", [])
    rows = []
    for name in EDITABLE:
        value = fields.get(name)
        rows.append({
            "name": name, "input": f"f-{index}-{name}",
            "value": typed.get(f"f-{index}-{name}", "" if value is None else str(value)),
            "confidence": confidence.get(name), "position": positions.get(name),
            "warnings": [w for w in warnings if name in w.split(":")[0] or w.startswith(name)],
            "error": errors.get((index, name)), "corrected": summary.get("corrected", {}).get(name),
        })
    return {"index": index, "name": summary.get("attachment") or summary.get("file") or f"document {index + 1}",
            "doc_type": summary.get("doc_type"), "doc_type_confidence": summary.get("doc_type_confidence"),
            "source": summary.get("source"), "error": summary.get("error"), "warnings": warnings,
            "pages": summary.get("pages", []), "fields": rows,
            "other_warnings": [w for w in warnings if not any(w in r["warnings"] for r in rows)],
            "boxes": [{"name": r["name"], "page": r["position"]["page"], "box": r["position"]["box"],
                       "confidence": r["confidence"]} for r in rows if r["position"]]}
