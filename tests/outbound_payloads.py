"""Real outbox payloads for the outbound webhook tests: a generated invoice e-mail run through
the pipeline (text layer, no OCR), so templates are tested against what the outbox really stores."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

from inbox_ocr.app import samples
from inbox_ocr.app.config import parse_config
from inbox_ocr.app.wiring import build_processor
from inbox_ocr.kernel.models import RawMessage
from inbox_ocr.orchestration.ledger import NewDelivery
from inbox_ocr.orchestration.outbox import new_deliveries
from inbox_ocr.orchestration.pipeline import process_message


@functools.cache
def invoice_deliveries(count: int = 1, subject: str = "Invoice INV-2026-0042") -> tuple[NewDelivery, ...]:
    """`count` deliveries for webhook `erp`, one per generated invoice message (distinct keys)."""
    config = parse_config(
        {
            "sources": [{"name": "inbox", "type": "maildir", "path": "unused"}],
            "ocr": {"enabled": False},
            "webhooks": {"erp": {"url": "http://127.0.0.1:1/"}},
            "rules": [{"name": "invoices", "when": {"doc_type": "invoice"}, "then": [{"webhook": "erp"}]}],
        }
    )
    processor = build_processor(config)
    pdf = samples.render_pdf(samples.invoice_doc())
    out: list[NewDelivery] = []
    for i in range(count):
        sample = samples.SampleMessage(
            name=f"inv-{i}",
            subject=subject,
            sender="Acme Billing <billing@acme.example>",
            body="Invoice attached.",
            attachments=(("invoice.pdf", "application/pdf", pdf),),
        )
        raw = RawMessage(source="inbox", key=f"k{i}", raw=samples.build_message(sample))
        out.extend(new_deliveries(raw, process_message(raw, processor)))
    return tuple(out)


def payload(delivery: NewDelivery) -> dict[str, Any]:
    return json.loads(delivery.payload)  # type: ignore[no-any-return]


@dataclass
class Row:
    """A Delivery as the outbox hands it to a sink (kernel.ports.Delivery)."""

    id: int
    webhook: str
    idempotency_key: str
    payload: bytes
    attempts: int = 0
