"""Document type with a confidence: from the e-invoice type code, the document's own words (the
title area counts most), and the message subject and sender.

Specific types (credit note, reminder, ...) outweigh "invoice", because their documents usually
say "invoice" too ("Reminder: invoice 4711 is overdue", "Gutschrift zur Rechnung 4711").
"""

from __future__ import annotations

import re

from inbox_ocr.kernel.models import Classification, Document, InvoiceFields, ParsedMessage

# UNTDID 1001 document name codes used by EN 16931 (CII and UBL) and ZUGFeRD.
_INVOICE_CODES = (
    "80 82 84 326 380 383 384 385 386 387 388 389 390 393 394 395 456 457 527 575 623 633 751 780 875 876 877"
)
_CREDIT_CODES = "81 83 261 262 296 308 381 396 420 458 532"
TYPE_CODES: dict[str, str] = {
    **{code: "invoice" for code in _INVOICE_CODES.split()},
    **{code: "credit_note" for code in _CREDIT_CODES.split()},
    "325": "quote",  # pro-forma invoice: a quote, not a claim for payment
    "310": "quote",
    "231": "order_confirmation",
    "220": "other",  # a purchase order we receive is not ours to pay
}

# (pattern, weight) per type; weights > 1 for types more specific than "invoice".
KEYWORDS: dict[str, tuple[str, float]] = {
    "invoice": (
        r"invoice|tax\s*invoice|bill|rechnung|handelsrechnung|facture|factura|fattura|factuur",
        1.0,
    ),
    "credit_note": (
        r"credit\s*(?:note|memo)|gutschrift|stornorechnung|avoir|note\s*de\s*crédit|nota\s*de\s*crédito|"
        r"factura\s*rectificativa|nota\s*di\s*credito|creditnota|creditfactuur",
        1.6,
    ),
    "reminder": (
        r"reminder|overdue|past\s*due|dunning|final\s*notice|mahnung|zahlungserinnerung|relance|rappel\s*de\s*paiement|"
        r"recordatorio\s*de\s*pago|sollecito|betalingsherinnering|aanmaning",
        1.7,
    ),
    "receipt": (
        r"receipt|cash\s*sale|kassenbon|kassenbeleg|quittung|reçu|ticket\s*de\s*caisse|recibo|ricevuta|scontrino|"
        r"kassabon|kwitantie",
        1.2,
    ),
    "order_confirmation": (
        r"order\s*confirmation|confirmation\s*of\s*(?:your\s*)?order|auftragsbestätigung|bestellbestätigung|"
        r"confirmation\s*de\s*commande|confirmación\s*de\s*pedido|conferma\s*d['’]ordine|orderbevestiging",
        1.6,
    ),
    "quote": (
        r"quotation|quote|estimate|angebot|kostenvoranschlag|devis|presupuesto|cotización|preventivo|offerta|offerte|"
        r"pro\s*-?\s*forma",
        1.5,
    ),
    "statement": (
        r"statement\s*of\s*account|account\s*statement|statement|kontoauszug|offene\s*posten|saldenbestätigung|"
        r"relevé\s*de\s*compte|extracto\s*de\s*cuenta|estado\s*de\s*cuenta|estratto\s*conto|rekeningoverzicht",
        1.4,
    ),
}
# Chinese has no word boundaries, so its words are matched anywhere.
CJK_KEYWORDS: dict[str, str] = {
    "invoice": "发票|增值税",
    "credit_note": "贷项|红字发票",
    "reminder": "催款|催收",
    "receipt": "收据|小票",
    "order_confirmation": "订单确认",
    "quote": "报价单",
    "statement": "对账单",
}
_PATTERNS = {
    kind: rf"(?<![^\W\d_])(?:{pattern})(?![^\W\d_])|{CJK_KEYWORDS[kind]}" for kind, (pattern, _) in KEYWORDS.items()
}
_COMPILED = {kind: re.compile(pattern, re.IGNORECASE) for kind, pattern in _PATTERNS.items()}
# The document's text is lower-cased once and searched case-sensitively (the patterns are all lower
# case), the Latin words without their leading "not after a letter" (see _words), the Chinese apart.
_LATIN = {kind: re.compile(rf"(?:{pattern})(?![^\W\d_])") for kind, (pattern, _) in KEYWORDS.items()}
_CHINESE = {kind: re.compile(words) for kind, words in CJK_KEYWORDS.items()}
# the characters a Chinese keyword begins with: a text without any is not searched seven times
_CHINESE_FIRST = re.compile("[" + "".join(sorted({w[0] for ws in CJK_KEYWORDS.values() for w in ws.split("|")})) + "]")
# Till words: one alone means little ("thank you for your order"), several make a till receipt.
_TILL_CUES = re.compile(
    r"(?:cash|change|tendered|thank\s*you|rounding|cashier|bar|rückgeld|espèces|rendu|efectivo|cambio|contanti|resto|wisselgeld)(?![^\W\d_])",
)
# "Invoice INV-2026-0040", "Rechnung Nr. 4711": a document that names several invoices by number
# lists them (a statement of account, a reminder) rather than being one.
_INVOICE_REFERENCE = re.compile(
    r"(?:invoice|inv|rechnung|facture|factura|fattura|factuur)\.?\s*(?:no\.?|nr\.?|number|n°|#)?\s*[:#]?\s*"
    r"([a-z]{0,6}[-/]?\d[\w\-/]{2,})")
_BILLING_SENDER = re.compile(r"invoice|billing|rechnung|factur|accounts?|faktura", re.IGNORECASE)


def _words(rx: re.Pattern[str], text: str) -> list[str]:
    r"""What `findall` gives for `rx` with (?<![^\W\d_]) in front (not right after a letter). Without
    that lookbehind the regex engine jumps to the words' first letters instead of trying every
    position, three times as fast; a match right after a letter is dropped and the search goes on
    from its next character, which is where the lookbehind would have sent the engine too."""
    out: list[str] = []
    group = 1 if rx.groups == 1 else 0
    pos = 0
    while (m := rx.search(text, pos)) is not None:
        start = m.start()
        if start > 0 and text[start - 1].isalnum() and not text[start - 1].isdecimal():  # [^\W\d_]
            pos = start + 1
            continue
        out.append(m.group(group))
        pos = max(m.end(), start + 1)
    return out


def classify(
    document: Document,
    fields: InvoiceFields | None = None,
    message: ParsedMessage | None = None,
) -> Classification:
    """Decide the document type; never raises."""
    einvoice = document.einvoice
    if einvoice is not None and einvoice.type_code:
        kind = TYPE_CODES.get(einvoice.type_code.strip(), "invoice")
        return Classification(doc_type=kind, confidence=0.98, reasons=(f"e-invoice type code {einvoice.type_code}",))

    scores: dict[str, float] = {kind: 0.0 for kind in KEYWORDS}
    reasons: list[str] = []
    title, body = (text.lower() for text in _title_and_body(document))
    chinese_title, chinese_body = (_CHINESE_FIRST.search(text) is not None for text in (title, body))
    for kind, rx in _LATIN.items():
        weight = KEYWORDS[kind][1]
        in_title = {*_words(rx, title), *(_CHINESE[kind].findall(title) if chinese_title else ())}
        in_body = len(_words(rx, body)) + (len(_CHINESE[kind].findall(body)) if chinese_body else 0)
        if in_title:
            scores[kind] += 2.0 * weight * min(len(in_title), 2)
            reasons.append(f"{kind}: title says {sorted(in_title)[0]!r}")
        scores[kind] += 0.4 * weight * min(in_body, 3)
        if message is not None and message.subject and (m := _COMPILED[kind].search(message.subject)):
            scores[kind] += 1.5 * weight
            reasons.append(f"{kind}: subject says {m.group(0)!r}")
    references = set(_words(_INVOICE_REFERENCE, title + "\n" + body))
    if len(references) >= 2 and scores["statement"] > 0:
        scores["statement"] += min(len(references), 4) * 0.75
        reasons.append(f"statement: lists {len(references)} invoices")
    cues = set(_words(_TILL_CUES, title + "\n" + body))
    if len(cues) >= 2:
        scores["receipt"] += 1.0 + 0.5 * (len(cues) - 2)
        reasons.append(f"receipt: till words {sorted(cues)[:3]}")
    if message is not None and _BILLING_SENDER.search(message.sender or ""):
        scores["invoice"] += 0.5
    if fields is not None:
        if fields.total is not None and (fields.invoice_number or fields.vendor_vat_id):
            scores["invoice"] += 1.0
        if fields.total is not None and fields.total < 0 and scores["credit_note"] > 0:
            scores["credit_note"] += 1.0
        if fields.due_date is None and fields.invoice_number is None and scores["receipt"] > 0:
            scores["receipt"] += 0.8
    best = max(scores, key=lambda k: scores[k])
    total = sum(scores.values())
    if scores[best] < 0.8:
        return Classification(
            doc_type="other",
            confidence=0.5 if total == 0 else 0.4,
            reasons=tuple(reasons) or ("no document-type words",),
        )
    share = scores[best] / total
    confidence = min(0.97, 0.35 + 0.5 * share + 0.04 * min(scores[best], 4))
    return Classification(doc_type=best, confidence=round(confidence, 3), reasons=tuple(reasons[:6]))  # type: ignore[arg-type]


def classify_without_text(document: Document, message: ParsedMessage | None) -> Classification:
    """For a document with no text to read. One that could not be read at all (corrupt, encrypted,
    over a limit) is `other` with confidence 0: the message's subject says nothing about what the
    file is, and a rule must not route it as an invoice. One that only lacks OCR (an image, a
    scan) gets the subject's hint, at most 0.5."""
    if document.reading == "unreadable" or document.error:
        why = f"the document could not be read: {document.error}" if document.error else "unreadable"
        return Classification(doc_type="other", confidence=0.0, reasons=(why[:200],))
    empty = Document(filename="", content_type="", sha256="", reading="unreadable")
    result = classify(empty, None, message)
    if result.doc_type == "other":
        return Classification(doc_type="other", confidence=0.3, reasons=("no readable text",))
    return Classification(doc_type=result.doc_type, confidence=min(result.confidence, 0.5), reasons=result.reasons)


def _title_and_body(document: Document) -> tuple[str, str]:
    """The top third of page one (where documents name themselves), and everything else."""
    if not document.pages:
        return "", ""
    first = document.pages[0]
    limit = first.height * 0.35 if first.height else float("inf")
    title = "\n".join(line.text for line in first.lines if line.bbox[1] <= limit)
    rest = [line.text for line in first.lines if line.bbox[1] > limit]
    rest += [line.text for page in document.pages[1:3] for line in page.lines]
    return title, "\n".join(rest)
