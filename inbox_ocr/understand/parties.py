"""The parties: vendor and customer names, VAT and tax ids, and the vendor's address, found from
party headings ("Verkäufer", "Bill to", 销售方), keys ("Name:", "USt-IdNr.") and company legal forms."""

from __future__ import annotations

import re

from inbox_ocr.understand import labels as L
from inbox_ocr.understand.caches import per_text
from inbox_ocr.understand.label_match import LabelHit
from inbox_ocr.understand.layout import Cell, same_row
from inbox_ocr.understand.nearby import value_candidates
from inbox_ocr.understand.normalize import (
    VAT_ID,
)
from inbox_ocr.understand.patterns import LETTER_OR_DIGIT, fold, literal_first
from inbox_ocr.understand.scoring import (
    FIELD_TABLE,
    LABELS,
    DocumentContext,
    Extraction,
    cells_left_of,
)

# matched against fold()ed text (patterns.py): the alternatives' first letters are compared as they are
_SELLER_HEADING = re.compile(rf"^\W*(?:{L.SELLER_WORDS})(?:\s*[/&,]\s*\w+)*\W*$")
_BUYER_HEADING = re.compile(rf"^\W*(?:{L.BUYER_WORDS})(?:\s*[/&,]\s*\w+)*\W*$")
BUYER_WORD = re.compile(rf"(?:{L.BUYER_WORDS})", re.IGNORECASE)
# LEGAL_FORM, COMPANY_WORD and NOT_NAME are searched in fold()ed text (patterns.py): lower case,
# every alternative beginning with its first letter; legal_forms() and has_legal_form() fold for you
LEGAL_FORM = re.compile(rf"(?:{literal_first(L.LEGAL_FORMS, LETTER_OR_DIGIT)})(?![^\W\d_])")
YOUR_WORD = re.compile(r"(?<![^\W_])(?:ihre?|your|votre|vostra|su|uw)(?![^\W\d_])", re.IGNORECASE)
_OTHER_TAX_ID = re.compile(r"(?<![A-Z0-9])([0-9A-Z]{15,20})(?![A-Z0-9])")
COMPANY_WORD = re.compile(rf"(?:{literal_first(L.COMPANY_WORDS, LETTER_OR_DIGIT)})(?![^\W\d_])")
# "Company Reg No. 75495-W", "(CO. NO. JM0195368-D)": a registration number, not part of the name
_REG_TAIL = re.compile(
    r"\s*\(?(?<![^\W_])(?:company|co\.?|business|roc|reg)(?:\s*reg(?:istration|\.)?)?\s*(?:no|number|id)\b.*$",
    re.IGNORECASE,
)
DOC_TITLE = re.compile(
    r"invoice|receipt|rechnung|facture|factura|fattura|factuur|quittung|bill\b|gutschrift|avoir|credit\s*note"
    r"|ricevuta|recibo|发票|收据",
    re.IGNORECASE,
)
# r"@|www\.|...|\bbic\b|...|\bno\s*[.:]" with re.IGNORECASE, in lower case and with each "\b" before a
# letter written after that letter (b(?<!\w.)ic: "bic" not after a letter or digit)
NOT_NAME = re.compile(
    r"@|www\.|https?:|\.com\b|tel\b|fax\b|phone|telefon|iban|b(?<!\w.)ic\b|page|seite|\+\d|r(?<!\w.)eg(?:istration)?\b"
    r"|g(?<!\w.)st\b|n(?<!\w.)o\s*[.:]"
)


def legal_forms(text: str) -> list[re.Match[str]]:
    """The legal forms in `text` ("GmbH", "S.A.R.L.", "Sdn Bhd", 有限公司); spans are `text`'s."""
    return list(LEGAL_FORM.finditer(fold(text)))


def has_legal_form(text: str) -> bool:
    return LEGAL_FORM.search(fold(text)) is not None


def without_legal_forms(text: str) -> str:
    """`text` with each legal form replaced by a space."""
    pieces, at = [], 0
    for m in legal_forms(text):
        pieces.append(text[at : m.start()])
        at = m.end()
    return " ".join([*pieces, text[at:]])


def _party_headings(ctx: DocumentContext) -> list[tuple[Cell, str]]:
    """The document's party headings ("Verkäufer", "Bill to:", 购买方), found once per document."""
    if ctx.party_headings is None:
        found = []
        for other in ctx.cells:
            if len(other.words) > 4:
                continue
            folded = fold(other.text)
            if _SELLER_HEADING.match(folded):
                found.append((other, "seller"))
            elif _BUYER_HEADING.match(folded):
                found.append((other, "buyer"))
        ctx.party_headings = found
    return ctx.party_headings


def party_of(cell: Cell, ctx: DocumentContext) -> str | None:
    """'seller' or 'buyer' from the nearest party heading above in the same column."""
    best: tuple[float, str] | None = None
    for other, kind in _party_headings(ctx):
        if other.page != cell.page or other.box[1] > cell.box[1] + 1:
            continue
        if not (other.box[0] - cell.height * 2 <= cell.box[0] <= other.box[2] + cell.height * 2):
            continue
        distance = cell.box[1] - other.box[1]
        if best is None or distance < best[0]:
            best = (distance, kind)
    return best[1] if best else None


def extract_vat_ids(out: Extraction, ctx: DocumentContext) -> None:
    from stdnum.cn import uscc as cn_uscc
    from stdnum.eu import vat as eu_vat

    vendor: list[tuple[float, str]] = []
    customer: list[tuple[float, str]] = []
    for cell in ctx.cells:
        if not cell.has_digit:  # every VAT id has digits
            continue
        for m in VAT_ID.finditer(cell.text.upper()):
            value = re.sub(r"[\s.\-]", "", m.group(1))
            prefix = cell.text[: m.start()]
            row = " ".join(c.text for c in cells_left_of(cell, ctx.cells))
            labelled = bool(re.search(r"ust|vat|tva|iva|btw|nif|cif|steuer|税", prefix + row, re.IGNORECASE))
            is_buyer = bool(BUYER_WORD.search(prefix + " " + row) or YOUR_WORD.search(prefix + " " + row))
            party = "buyer" if is_buyer else party_of(cell, ctx)
            score = (0.9 if labelled else 0.6) * (1.0 if eu_vat.is_valid(value) else 0.8)
            (customer if party == "buyer" else vendor).append((score, value))
    found = {v for _, v in vendor + customer}
    for hit in ctx.by_field.get("vat_id", ()):
        # tax ids outside the EU pattern (Chinese USCC, ...): trust the label
        for cand in value_candidates(hit, ctx.cells, max_below=0):
            other = _OTHER_TAX_ID.search(cand.text.upper())
            if not other or other.group(1) in found or not any(map(str.isdigit, other.group(1))):
                continue
            value = other.group(1)
            valid = len(value) == 18 and cn_uscc.is_valid(value)
            party = "buyer" if YOUR_WORD.search(hit.cell.text) else party_of(hit.cell, ctx)
            (customer if party == "buyer" else vendor).append((0.85 if valid else 0.55, value))
            found.add(value)
            break
    vendor.sort(key=lambda v: -v[0])
    customer.sort(key=lambda v: -v[0])
    if vendor:
        out.set("vendor_vat_id", vendor[0][1], vendor[0][0])
    cust = [c for c in customer if not vendor or c[1] != vendor[0][1]]
    if cust:
        out.set("customer_vat_id", cust[0][1], cust[0][0])


# A line that is only a document's title ("INVOICE", "Tax Invoice", "Gutschrift", "增值税专用发票")
# names the document, never its issuer.
_TITLE_LINE = re.compile(
    r"^\W*(?:(?:tax|vat|commercial|pro-?\s?forma|final|simplified)\s+)?(?:invoice|receipt|rechnung|facture"
    r"|factura|fattura|factuur|quittung|gutschrift|avoir|credit\s*note|ricevuta|recibo)\W*$|(?:发票|收据)$",
    re.IGNORECASE,
)


@per_text  # the same lines are asked about by several fields and the scorer
def looks_like_name(text: str) -> bool:
    letters = sum(map(str.isalpha, text))
    digits = sum(map(str.isdigit, text))
    if letters < 2 or digits > letters * 0.5 or len(text) > 80 or NOT_NAME.search(fold(text)):
        return False
    if _TITLE_LINE.search(text.strip()):
        return False
    if LEGAL_FORM.fullmatch(fold(text.strip(NAME_EDGE + "."))):  # "GmbH" alone: the rest was taken for a label
        return False
    return not any(hit_text_is_label(text))


def hit_text_is_label(text: str) -> list[str]:
    """The labels that make up all of `text` (a cell that is only a label is no value)."""
    text = text.strip()
    if not text:
        return []
    full = len(text.rstrip(" :")) - 1
    out = []
    for _, rx, _, table in LABELS.starting(text):
        if table != FIELD_TABLE:
            continue
        m = rx.match(text)
        if m and m.end() >= full:
            out.append(m.group(0))
    return out


def _key_like(cell: Cell, ctx: DocumentContext) -> bool:
    """A cell that is the key of a key: value pair ("Nummer" followed by ": 4711")."""
    if cell.text.rstrip().endswith(":"):
        return True
    right = [c for c in _row_right(cell, ctx.cells)]
    return bool(right) and right[0].text.lstrip().startswith(":")


def _row_right(cell: Cell, cells: list[Cell]) -> list[Cell]:
    row = [c for c in cells if c.page == cell.page and c.box[0] >= cell.box[2] - 1 and same_row(cell, c)]
    return sorted(row, key=lambda c: c.box[0])


def _name_from(hit: LabelHit, ctx: DocumentContext, below: int = 4, heading: bool = False) -> tuple[str, Cell] | None:
    candidates = value_candidates(hit, ctx.cells, max_below=below)
    if heading:  # under a party heading the name is below it; a far cell to the right is another column
        candidates = [c for c in candidates if c.where != "right" or c.distance < 4]
        candidates.sort(key=lambda c: {"same": 0, "below": 1, "right": 2}[c.where])
    names = []
    for cand in candidates:
        if cand.cell is None or (cand.where != "same" and _key_like(cand.cell, ctx)):
            continue
        text = strip_name(cand.text)
        if looks_like_name(text):
            names.append((text, cand.cell))
    if not names:
        return None
    # "GLN ...", "Herrn", a contact person: prefer the first line that names a company
    for name, cell in names[:3]:
        if has_legal_form(name):
            return name, cell
    return names[0]


NAME_EDGE = " \t\u3000,;:，；：、"  # spaces and punctuation (Latin and CJK) around a name, never part of it


@per_text
def strip_name(text: str) -> str:
    """The company part of a line: "Au bon moulin SARL - 1242 chemin ..." -> "Au bon moulin SARL",
    "AEON CO. (M) BHD (126926-H)" -> "AEON CO. (M) BHD", "Dimiliki: X Sdn Bhd" -> "X Sdn Bhd"."""
    text = _REG_TAIL.sub("", text)
    parts = [p.strip(NAME_EDGE) for p in re.split(r"\s+[-–|●•·]\s+|\s*[●•|]\s*", text)]
    part = next((p for p in parts if has_legal_form(p)), parts[0])
    if ":" in part and has_legal_form(part.split(":", 1)[1]):
        part = part.split(":", 1)[1].strip()
    forms = legal_forms(part)
    if forms:
        # the name ends with its last legal form ("GmbH & Co. KG"); what follows is a register
        # number, a label or the next column
        head, tail = part[: forms[-1].end()], part[forms[-1].end() :]
        if re.match(r"^[\s.,]*[(\[]?\s*\d", tail) or ":" in tail or "：" in tail or len(tail.split()) > 3:
            part = head + (")" if head.count("(") > head.count(")") else "")
    return part.strip(NAME_EDGE)


def _heading_hit(hit: LabelHit) -> bool:
    """A party label that is a heading ("Verkäufer", "Bill to:") rather than a word in a name."""
    rest = hit.cell.text[hit.char_end :].strip()
    return (
        rest == ""
        or rest.startswith(":")
        or (hit.start == 0 and len(hit.cell.words) <= hit.end + 1 and rest.endswith(":"))
    )


def _continuation_above(cell: Cell, ctx: DocumentContext) -> Cell | None:
    """A line directly above a value, in its column and with no key of its own, continues it."""
    _, cells = ctx.cells.on_page(cell.page)
    for other in cells:
        gap = cell.box[1] - other.box[3]
        if abs(other.box[0] - cell.box[0]) > 2 or not (-0.2 * cell.height <= gap <= 0.8 * cell.height):
            continue
        if cells_left_of(other, ctx.cells) or not looks_like_name(other.text):
            return None
        return other
    return None


_POSTCODE = re.compile(r"(?<!\d)\d{4,6}(?!\d)|\b\d{1,4}\s*[a-z]?\b")
_CONTACT = re.compile(r"@|www\.|https?:|tel|fax|phone|telefon|iban|bic|ust|vat|tva|gst|reg\b|\+\d", re.IGNORECASE)


def _vendor_address(ctx: DocumentContext, name: str) -> str | None:
    """The lines under the vendor's name (or after it on a sender line, or beside 'Anschrift:')."""
    for hit in ctx.by_field.get("address", ()):
        if party_of(hit.cell, ctx) != "seller":
            continue
        for cand in value_candidates(hit, ctx.cells, max_below=0):
            if cand.cell is None or not any(map(str.isdigit, cand.text)):
                continue
            lines, cell = [cand.text.strip()], cand.cell
            while (below := _continuation_below(cell, ctx)) is not None and len(lines) < 3:
                lines.append(below.text.strip())
                cell = below
            return ", ".join(lines)
    home = next((c for c in ctx.cells if name in c.text), None)
    if home is None:
        return None
    parts = [p.strip() for p in re.split(r"\s+[-–|●•·]\s+|\s*[●•|]\s*", home.text) if p.strip()]
    if len(parts) > 1 and name in parts[0]:
        rest = [p for p in parts[1:] if not _CONTACT.search(p)]
        if rest and any(map(str.isdigit, " ".join(rest))):
            return ", ".join(rest)
    lines, cell = [], home
    while (below := _continuation_below(cell, ctx, loose=True)) is not None and len(lines) < 3:
        if _CONTACT.search(below.text) or not _POSTCODE.search(below.text):
            break
        lines.append(below.text.strip())
        cell = below
    return ", ".join(lines) if lines else None


def _continuation_below(cell: Cell, ctx: DocumentContext, loose: bool = False) -> Cell | None:
    """The next line of the same block: same left edge, less than a line apart, no key of its own."""
    _, cells = ctx.cells.on_page(cell.page)
    for other in cells:
        gap = other.box[1] - cell.box[3]
        if abs(other.box[0] - cell.box[0]) > (cell.height * 1.5 if loose else 2) or not (
            -0.2 * cell.height <= gap <= 1.0 * cell.height
        ):
            continue
        if other is cell or cells_left_of(other, ctx.cells) or hit_text_is_label(other.text):
            return None
        return other
    return None


def extract_parties(out: Extraction, ctx: DocumentContext) -> None:
    vendor = customer = None
    for hit in ctx.by_field.get("name", ()):
        party = party_of(hit.cell, ctx)
        got = _name_from(hit, ctx, below=0)
        if got and got[1] is not hit.cell and (above := _continuation_above(got[1], ctx)) is not None:
            got = (f"{above.text} {got[0]}", got[1])  # "Name:" beside the last line of a two-line name
        if got and party == "seller" and vendor is None:
            vendor = (got[0], 0.85)
        elif got and party == "buyer" and customer is None:
            customer = (got[0], 0.8)
    for field_name in ("vendor_name", "customer_name"):
        current = vendor if field_name == "vendor_name" else customer
        if current is not None:
            continue
        for hit in ctx.by_field.get(field_name, ()):
            if not _heading_hit(hit):
                continue
            got = _name_from(hit, ctx, heading=True)
            if got:
                current = (got[0], 0.7 * hit.weight + 0.1)
                break
        if field_name == "vendor_name":
            vendor = current
        else:
            customer = current
    if vendor is None:
        vendor = _company_guess(ctx, exclude=customer[0] if customer else None)
    if vendor:
        out.set("vendor_name", vendor[0], vendor[1])
        address = _vendor_address(ctx, vendor[0])
        if address:
            out.set("vendor_address", address, 0.6)
    if customer:
        out.set("customer_name", customer[0], customer[1])


def _company_guess(ctx: DocumentContext, exclude: str | None) -> tuple[str, float] | None:
    """The first company-looking line on page one outside a buyer block, else the top line.

    A line that is little more than a legal form ("SDN BHD", "CO. (M) SDN BHD") ends a name that
    starts on the line above, so the two are joined."""
    first_page = [c for c in ctx.cells if c.page == ctx.cells[0].page]
    for marker, confidence in ((LEGAL_FORM, 0.6), (COMPANY_WORD, 0.45)):
        for i, cell in enumerate(first_page):
            if not marker.search(fold(cell.text)) or party_of(cell, ctx) == "buyer":
                continue
            name = strip_name(cell.text)
            core = without_legal_forms(name)
            if len(re.findall(r"[^\W\d_]{2,}", core)) <= 1 or (i and first_page[i - 1].text.rstrip().endswith("&")):
                above = line_above(cell, first_page, i)
                if above is not None:
                    name = f"{above.text.strip()} {name}"
            if i + 1 < len(first_page) and name.endswith("&"):
                name = f"{name} {first_page[i + 1].text.strip()}"
            if sum(map(str.isalpha, without_legal_forms(name))) < 3:
                continue  # a bare "SDN BHD" or "(CO.)" with nothing to join
            if looks_like_name(name) and name != exclude and not BUYER_WORD.search(name):
                return name, confidence
    for cell in first_page[:4]:
        name = strip_name(cell.text)
        # receipts put the shop name first; a lower-case first line is a handwritten note
        if looks_like_name(name) and name != exclude and not name.islower():
            return name, 0.35
    return None


def line_above(cell: Cell, cells: list[Cell], index: int) -> Cell | None:
    """The cell right above `cell` = cells[index] (same column, less than a line apart; `cells`
    sorted by top) if it can start a name."""
    x0, top, x1, _ = cell.box
    h = cell.height
    for j in range(index - 1, -1, -1):
        other = cells[j]
        ox0, _, ox1, obottom = other.box
        gap = top - obottom
        if gap > 1.0 * h:
            return None
        if gap > -0.3 * h and (x1 if x1 < ox1 else ox1) - (x0 if x0 > ox0 else ox0) > 0:  # columns overlap
            ok = (
                looks_like_name(other.text)
                and not any(map(str.isdigit, other.text))
                and not other.text.islower()
                and not DOC_TITLE.search(other.text)
            )
            return other if ok else None
    return None
