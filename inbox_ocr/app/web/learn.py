"""Vendor templates learned from an approved review (understand/learning.py), saved into
understanding.templates_dir, with an audit entry naming the reviewer."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from inbox_ocr.app.rest import ApiError
from inbox_ocr.app.web.present import attachment_of
from inbox_ocr.kernel.errors import InboxOcrError

if TYPE_CHECKING:
    from inbox_ocr.app.web.views import WebUi

log = logging.getLogger("inbox_ocr.web")


def learn_templates(ui: WebUi, row: int, user: str) -> str:
    """Save vendor templates from the corrections just approved on message `row`; what happened,
    for the reviewer (and the audit trail)."""
    from inbox_ocr.kernel.models import InvoiceFields
    from inbox_ocr.understand.learning import NotLearnable, learn_template, save_template

    record = ui.ledger.messages.by_id(row)
    review = ui.ledger.reviews.get(row)
    folder = ui.config.understanding.templates_dir
    if record is None or review is None or folder is None:
        return ""
    said = []
    for summary in record.documents:
        corrected = list(summary.get("corrected", {}))
        if not corrected:
            continue
        name = summary.get("attachment") or "document"
        data = attachment_of(review.raw, summary.get("part"), ui.config)
        try:
            if data is None:
                raise NotLearnable("the attachment is not in the message")
            documents, _ = ui.api.analyze(data, name)
            fields = InvoiceFields.model_validate(summary.get("fields", {}))
            learned = learn_template(documents[0].document, fields, corrected)
            path = save_template(Path(folder), learned)
        except (NotLearnable, ApiError, InboxOcrError, IndexError) as exc:
            said.append(f"No template learned from {name}: {exc}.")
            continue
        skipped = "; ".join(f"{k}: {v}" for k, v in learned.skipped.items())
        ui.ledger.audit.add(row, "template", f"by {user}: {path.name} reads {', '.join(learned.learned)}"
                            + (f" (not learned: {skipped})" if skipped else ""))
        log.info("event=template_learned file=%s fields=%s user=%s", path, ",".join(learned.learned), user)
        said.append(f"Template {path.name} now reads {', '.join(learned.learned)} for {learned.data['issuer']}."
                    + (f" Not learned: {skipped}." if skipped else ""))
    return " ".join(said)
