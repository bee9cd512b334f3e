"""The understand stage: a read Document in, an AnalyzedDocument (type, fields, confidence) out.

    load_templates(folder)                      once at startup: invoice2data YAML vendor templates
    analyze(document, message, templates)       per document; never raises for bad input

Precedence of values: an e-invoice XML wins over everything (it is what the sender's system
booked); a matching vendor template wins over the generic extractor for the fields it defines.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from inbox_ocr.kernel.models import AnalyzedDocument, Classification, Document, InvoiceFields, ParsedMessage
from inbox_ocr.understand.classify import classify, classify_without_text
from inbox_ocr.understand.fields import extract_fields
from inbox_ocr.understand.layout import layout_text
from inbox_ocr.understand.positions import locate_fields
from inbox_ocr.understand.templates import TEMPLATE_PAGES, Template, Templates, apply_template
from inbox_ocr.understand.templates import load_templates as _load_templates
from inbox_ocr.understand.validate import validate

log = logging.getLogger(__name__)

__all__ = ["Template", "Templates", "analyze", "check_capitals", "load_templates"]

_MONEY = ("total", "subtotal", "tax", "amount_due")


def load_templates(folder: Path | None) -> Templates:
    """Load the invoice2data templates in `folder` (None: no templates). Raises ConfigError."""
    return _load_templates(folder)


def analyze(
    document: Document,
    message: ParsedMessage | None = None,
    templates: Templates | None = None,
    learned: bool = True,
) -> AnalyzedDocument:
    """Classify one document and extract its invoice fields, with per-field confidence and warnings.
    `learned=False` keeps the rule-based values of the fields the scorer covers (for comparisons)."""
    try:
        return _analyze(document, message, templates, learned)
    except Exception as exc:  # a bug must cost one document its fields, not the message its routing
        log.exception("event=analyze_failed file=%s", document.filename)
        return AnalyzedDocument(
            document=document,
            classification=Classification(doc_type="other", confidence=0.0, reasons=("analysis failed",)),
            warnings=(f"internal error while analysing: {exc!r}",),
        )


def _analyze(
    document: Document, message: ParsedMessage | None, templates: Templates | None, learned: bool
) -> AnalyzedDocument:
    has_text = bool(document.pages) and any(p.lines for p in document.pages)
    if document.einvoice is None and (document.reading in ("needs_ocr", "unreadable") or not has_text):
        return AnalyzedDocument(
            document=document,
            classification=classify_without_text(document, message),
            warnings=("no readable text: fields not extracted",),
        )
    warnings: list[str] = []
    values: dict[str, Any] = {}
    confidence: dict[str, float] = {}
    calibrated: set[str] = set()  # confidences that are the learned scorer's calibrated probabilities
    extraction = None
    if has_text:
        stated = {name for name, value in document.einvoice or () if value not in (None, (), "")}
        extraction = extract_fields(document, learned, stated)
        calibrated.update(extraction.calibrated)
        values.update(extraction.values)
        confidence.update(extraction.confidence)
        warnings.extend(extraction.warnings)

    template_name = None
    if templates is not None and templates.items and has_text:
        text = layout_text(document.pages[:TEMPLATE_PAGES])
        template = templates.match(text)
        if template is not None:
            try:
                result = apply_template(template, text)
            except Exception as exc:  # a broken template costs its own fields, never the document's others
                log.warning("event=template_failed template=%s file=%s error=%r", template.name, document.filename, exc)
                warnings.append(f"template {template.name} failed and was not used: {exc!r}")
            else:
                if result.missing:  # as invoice2data: a template applies whole or not at all
                    warnings.append(f"template {template.name} matched but its required field(s) "
                                    f"{', '.join(result.missing)} were not found: not used")
                    result.values = {}
                else:
                    template_name = result.template
                    warnings.extend(result.warnings)
                for name, value in result.values.items():
                    values[name] = value
                    confidence[name] = 0.9
                    calibrated.discard(name)

    if document.einvoice is not None:
        for name, value in document.einvoice:
            if value not in (None, (), ""):
                values[name] = value
                confidence[name] = 1.0
                calibrated.discard(name)
    fields = _build_fields(values, warnings)
    classification = classify(document, fields, message)
    if classification.doc_type == "credit_note" and document.einvoice is None:
        fields = _positive_credit(fields)
    confidence = {k: v for k, v in confidence.items() if getattr(fields, k, None) not in (None, (), "")}
    confidence, problems = validate(fields, confidence, calibrated)
    if has_text and document.einvoice is None:
        problems += check_capitals(document, fields, confidence)
    positions = locate_fields(extraction.cells, fields, extraction.conventions) if extraction else {}
    return AnalyzedDocument(
        document=document,
        classification=classification,
        fields=fields,
        field_confidence=confidence,
        warnings=tuple(warnings + problems),
        template=template_name,
        positions=positions,
    )


def check_capitals(document: Document, fields: InvoiceFields, confidence: dict[str, float]) -> list[str]:
    """Chinese invoices print the gross twice, in figures and in capital numerals (价税合计 大写/小写):
    the two must agree. A total that disagrees loses confidence and is named in a warning."""
    from inbox_ocr.understand.cn_numerals import capital_amounts

    text = "\n".join(p.text for p in document.pages[:TEMPLATE_PAGES])
    spelled = capital_amounts(text)
    if not spelled or fields.total is None:
        return []
    if any(abs(abs(fields.total) - value) <= Decimal("0.005") for value in spelled):
        return []
    if "total" in confidence:
        confidence["total"] = round(confidence["total"] * 0.5, 3)
    return [f"total {fields.total} differs from the amount in capital numerals ({spelled[0]})"]


def _build_fields(values: dict[str, Any], warnings: list[str]) -> InvoiceFields:
    try:
        return InvoiceFields(**values)
    except ValidationError as exc:
        # keep every field that is valid on its own; name the ones dropped
        kept: dict[str, Any] = {}
        for name, value in values.items():
            try:
                InvoiceFields(**{name: value})
                kept[name] = value
            except ValidationError:
                warnings.append(f"{name}: value {value!r} dropped ({exc.error_count()} validation errors)")
        return InvoiceFields(**kept)


def _positive_credit(fields: InvoiceFields) -> InvoiceFields:
    """Credit notes state positive amounts (as EN 16931 does) even when the print shows minus signs."""
    updates = {name: -v for name in _MONEY if (v := getattr(fields, name)) is not None and v < 0}
    return fields.model_copy(update=updates) if updates else fields
