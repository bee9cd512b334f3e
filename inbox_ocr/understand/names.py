"""Vendor-name candidates for the learned scorer (scorer.py, features.py): every name-like line
of page one and of the footer, stripped of registry tails and labels, joined to the line above
where a name runs over two lines, and the shape facts the scorer reads of each."""

from __future__ import annotations

import re

from inbox_ocr.understand.layout import Cell
from inbox_ocr.understand.parties import (
    BUYER_WORD,
    COMPANY_WORD,
    DOC_TITLE,
    LEGAL_FORM,
    NAME_EDGE,
    NOT_NAME,
    YOUR_WORD,
    line_above,
    looks_like_name,
    strip_name,
)
from inbox_ocr.understand.scoring import DocumentContext


def name_candidates(ctx: DocumentContext, rule_vendor: str | None) -> list[tuple[str, Cell, bool]]:
    """Texts that may be the vendor's name: every name-like line of page one and of the footer
    (stripped of registry tails and labels), a name-like line joined to the line above it (two-line
    names, "SDN BHD" on a line of its own), and the rule-based choice. (text, cell, joined)."""
    out: list[tuple[str, Cell, bool]] = []
    seen: set[str] = set()
    first = ctx.cells[0].page if ctx.cells else 1
    _, cells = ctx.cells.on_page(first)
    height = ctx.page_heights.get(first) or max((c.box[3] for c in cells), default=1.0)

    def add(text: str, cell: Cell, joined: bool) -> None:
        text = text.strip(NAME_EDGE)
        if text and text not in seen and looks_like_name(text):
            seen.add(text)
            out.append((text, cell, joined))

    label_end: dict[int, int] = {}  # cell -> where the labels that start it end
    for h in ctx.hits:
        if h.start == 0:
            label_end[id(h.cell)] = max(label_end.get(id(h.cell), 0), h.char_end)
    for i, cell in enumerate(cells):
        if cell.box[1] > 0.5 * height and cell.box[1] < 0.8 * height:
            continue  # the body of the page holds items and totals, not the parties
        text = cell.text
        if id(cell) in label_end:
            text = cell.text[label_end[id(cell)]:]
        name = strip_name(text)
        add(name, cell, False)
        if len(name.split()) <= 4 and (above := line_above(cell, cells, i)) is not None:
            add(f"{above.text.strip()} {name}", cell, True)
    if rule_vendor and rule_vendor not in seen:
        home = next((c for c in ctx.cells if rule_vendor in c.text), ctx.cells[0])
        seen.add(rule_vendor)
        out.append((rule_vendor, home, False))
    return out


def name_facts(text: str) -> list[float]:
    """Shape of a name candidate: legal form, business word, words, letters, upper case, digits,
    contact or label words, document-title words, a buyer word."""
    letters = sum(map(str.isalpha, text))
    lower = text.lower()  # searched by the case-sensitive twins of the patterns: twice as fast
    return [
        float(bool(_FACTS["legal"].search(lower))), float(bool(_FACTS["company"].search(lower))),
        float(len(text.split())), letters / max(len(text), 1), sum(map(str.isupper, text)) / max(letters, 1),
        float(sum(map(str.isdigit, text))), float(bool(_FACTS["not_name"].search(lower))),
        float(bool(_FACTS["title"].search(lower))),
        float(bool(_FACTS["buyer"].search(lower) or _FACTS["your"].search(lower))),
    ]


_FACTS = {name: re.compile(rx.pattern) for name, rx in (
    ("legal", LEGAL_FORM), ("company", COMPANY_WORD), ("not_name", NOT_NAME), ("title", DOC_TITLE),
    ("buyer", BUYER_WORD), ("your", YOUR_WORD))}
assert all((bare := re.sub(r"\\.", "", p.pattern)) == bare.lower() for p in _FACTS.values()), "lower-case letters only"


NAME_FACTS = ("legal_form", "company_word", "words", "letter_share", "upper_share", "digits", "contact_word",
              "title_word", "buyer_word")
