"""Layout families, part one: business-letter layouts (DIN 5008 window letter, header at the right,
key/value box, labels above values, number only in the title, letter with totals in sentences,
receipt strip, bill-to/ship-to)."""

from __future__ import annotations

from random import Random

from .blocks import GREY, Ctx, continuation_header, meta_above, meta_beside, meta_box, meta_rows, meta_width
from .canvas import Canvas, Rect
from .content import Invoice
from .labels import TITLES
from .parties import (
    install_footer,
    install_page_numbers,
    install_print_stamp,
    leftovers,
    letterhead,
    notes,
    party_block,
    payment_block,
    sender_line,
)
from .phrases import phrase
from .table import currency_note, ensure_space, items_table, totals_footer, totals_inline, totals_right, totals_summary


def start(inv: Invoice, rng: Random, *, face: str | None = None, size: float | None = None,
          paper: str | None = None) -> Ctx:  # fmt: skip
    """A canvas and context with randomized paper, font, size and margins; page numbers and stamp installed."""
    paper = paper or ("Letter" if inv.country == "US" or (inv.language == "en" and rng.random() < 0.15) else "A4")
    face = face or rng.choice(("sans", "sans", "sans", "serif", "serif", "mono"))
    cv = Canvas(paper, face)
    size = size or rng.choice((8.0, 8.5, 9.0, 9.0, 9.5, 10.0))
    if face == "mono":
        size = min(size, 8.5)
    left = rng.uniform(42, 72)
    right = cv.width - rng.uniform(36, 56)
    colon = rng.choice((":", ":", ":", "")) if inv.language != "fr" else rng.choice((":", " :", ""))
    ctx = Ctx(cv, inv, rng, size, left, right, rng.uniform(36, 56), cv.height - 48, colon=colon)
    ctx.continuation = continuation_header
    install_page_numbers(ctx, always=rng.random() < 0.3)
    install_print_stamp(ctx)
    return ctx


def drawn_since(ctx: Ctx, mark: int) -> Rect:
    """Bounding box of the text drawn on the current page since len(boxes) was `mark`."""
    boxes = ctx.cv.boxes[ctx.cv.page_no][mark:]
    if not boxes:
        return (0.0, 0.0, 0.0, 0.0)
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def mark(ctx: Ctx) -> int:
    return len(ctx.cv.boxes[ctx.cv.page_no])


def title_text(ctx: Ctx, *, number: bool = False) -> str:
    if number:
        text = ctx.label("title_number", TITLES).format(n=ctx.inv.number)
        ctx.cv.marks.truth_value("invoice_number", ctx.inv.number)
        return text
    return ctx.label("title", TITLES)


def body_end(ctx: Ctx, y: float, *, closing: bool = False, bank: bool = True) -> float:
    """What follows the totals: payment terms and bank, notes, currency note, optional closing."""
    y = ensure_space(ctx, y + 6, ctx.size * 8)
    y = payment_block(ctx, ctx.left, y, ctx.width * 0.75, bank=bank)
    y = leftovers(ctx, ctx.left, y + 2)
    y = notes(ctx, ctx.left, y + 4, ctx.width * 0.8)
    y = currency_note(ctx, ctx.left, y + 2)
    if closing:
        y = ensure_space(ctx, y + 8, ctx.size * 5)
        ctx.cv.text(ctx.left, y, phrase(ctx.rng, "closing", ctx.lang), ctx.size)
        ctx.cv.text(ctx.left, y + ctx.size * 3, ctx.inv.vendor.name, ctx.size)
        y += ctx.size * 4.5
    return y


def intro(ctx: Ctx, y: float) -> float:
    if ctx.rng.random() < 0.5:
        ctx.cv.text(ctx.left, y, phrase(ctx.rng, "salutation", ctx.lang), ctx.size)
        y += ctx.size * 2
    if ctx.rng.random() < 0.6:
        y = ctx.cv.paragraph(ctx.left, y, ctx.width, phrase(ctx.rng, "intro", ctx.lang), ctx.size) + ctx.size * 0.6
    return y


def table_and_totals(ctx: Ctx, y: float, *, style: str | None = None, placement: str | None = None) -> float:
    rng = ctx.rng
    style = style or rng.choice(("ruled", "grid", "shaded", "plain", "zebra"))
    placement = placement or rng.choice(("right", "right", "footer", "summary"))
    geo = items_table(ctx, ctx.left, y, ctx.width, style=style, carry=rng.random() < 0.7)
    if placement == "summary" and ctx.inv.show["subtotal"] and ctx.inv.show["tax"] and not ctx.inv.discount_pct \
            and ctx.inv.deposit is None:
        return totals_summary(ctx, ctx.left, geo.bottom + ctx.size, ctx.width)
    if placement == "footer":
        return totals_footer(ctx, geo, geo.bottom, grid=style in ("grid", "shaded") or rng.random() < 0.5)
    return totals_right(ctx, ctx.right, geo.bottom + ctx.size)


def din5008(inv: Invoice, rng: Random) -> Canvas:
    """Window letter: sender line above the address window, info block at the right, registry footer."""
    ctx = start(inv, rng)
    cv = ctx.cv
    install_footer(ctx, size=rng.choice((6.0, 6.5, 7.0)))
    align = rng.choice(("right", "right", "left", "center"))
    x = {"right": ctx.right, "left": ctx.left, "center": (ctx.left + ctx.right) / 2}[align]
    if rng.random() < 0.3:  # a logo (an image: no text) instead of a printed letterhead
        left = x - 90 if align == "right" else x - 45 if align == "center" else x
        cv.rect(left, ctx.top - 6, left + 90, ctx.top + 34, fill=(0.2, 0.35, 0.6), stroke=None)
        cv.marks.truth_value("vendor_name", inv.vendor.name)  # printed in the sender line below
        top = ctx.top + 40
    else:
        top = letterhead(ctx, x, ctx.top, align=align, name_size=rng.uniform(14, 20), contacts=align == "right")
    win_x = max(ctx.left, 70.0)
    y = sender_line(ctx, win_x, max(127.0, top + 8), 235)
    y = party_block(ctx, win_x, y + 6, inv.customer, width=220) if inv.customer else y
    rows = meta_rows(ctx, customer_vat=True)
    width = meta_width(ctx, rows)
    info_x = min(max(354.0, win_x + 250), ctx.right - width)
    if info_x < win_x + 235:
        y_meta = meta_beside(ctx, ctx.left, y + 12, rows)
    else:
        y_meta = meta_beside(ctx, info_x, max(141.0, top + 10), rows)
    y = max(y, y_meta) + 22
    cv.text(ctx.left, y, title_text(ctx, number=rng.random() < 0.3), ctx.size + rng.choice((3, 4, 5)), bold=True)
    y = intro(ctx, y + ctx.size * 3)
    y = table_and_totals(ctx, y)
    body_end(ctx, y, closing=rng.random() < 0.3)
    return cv


def header_right(inv: Invoice, rng: Random) -> Canvas:
    """Big title at the left, vendor block at the right, metadata beside labels under the title."""
    ctx = start(inv, rng)
    cv = ctx.cv
    if rng.random() < 0.5:
        install_footer(ctx, rule=rng.random() < 0.5)
    title_size = rng.uniform(16, 20)
    title_end = cv.text(ctx.left, ctx.top, title_text(ctx), title_size, bold=True)
    m = mark(ctx)
    head_end = letterhead(ctx, ctx.right, ctx.top, align="right", name_size=rng.uniform(11, 15), vat=True,
                          max_width=ctx.right - title_end - 24)  # fmt: skip
    head_left = drawn_since(ctx, m)[0]
    rows = meta_rows(ctx)
    y = ctx.top + title_size * 2
    if ctx.left + meta_width(ctx, rows) + 20 > head_left:
        y = max(y, head_end + 10)
    y = meta_beside(ctx, ctx.left, y, rows, bold_labels=rng.random() < 0.4)
    y = max(y, head_end) + 16
    if inv.customer:
        y = party_block(ctx, ctx.left, y, inv.customer, heading=ctx.label("bill_to"), width=ctx.width / 2)
    y = table_and_totals(ctx, y + 14)
    body_end(ctx, y)
    return cv


def kv_box(inv: Invoice, rng: Random) -> Canvas:
    """Letterhead at the left and a ruled two-column key/value box at the right; totals in the table footer."""
    ctx = start(inv, rng)
    cv = ctx.cv
    if rng.random() < 0.6:
        install_footer(ctx)
    head_end = letterhead(ctx, ctx.left, ctx.top, name_size=rng.uniform(13, 18), contacts=rng.random() < 0.6)
    head_right = drawn_since(ctx, 0)[2]
    rows = meta_rows(ctx, customer_vat=True)
    size = ctx.size
    box_w = max(cv.measure(r.label, size) for r in rows) + max(cv.measure(r.value, size) for r in rows) + size * 2.4
    box_x = ctx.right - box_w
    title = title_text(ctx)
    title_size = ctx.size + 5
    beside = min(box_x, ctx.right - cv.measure(title, title_size, bold=True)) > head_right + 20
    box_y = ctx.top if beside else head_end + 10
    cv.text(ctx.right, box_y, title, title_size, bold=True, align="right")
    box_end, _ = meta_box(ctx, box_x, box_y + title_size * 1.6, rows, shade=rng.random() < 0.6)
    y = head_end + 16
    if inv.customer:
        width = min(220.0, box_x - ctx.left - 16)
        if width < 120:
            y, width = box_end + 14, 220.0
        heading = ctx.label("bill_to") if rng.random() < 0.6 else None
        y = party_block(ctx, ctx.left, y, inv.customer, heading=heading, width=width)
    y = max(y, box_end) + 18
    y = table_and_totals(ctx, y, placement="footer", style=rng.choice(("grid", "shaded", "ruled")))
    body_end(ctx, y)
    return cv


def labels_above(inv: Invoice, rng: Random) -> Canvas:
    """Parties side by side, then a strip of labels with the values in the row below."""
    ctx = start(inv, rng)
    cv = ctx.cv
    if rng.random() < 0.5:
        install_footer(ctx)
    centered = rng.random() < 0.5
    x = (ctx.left + ctx.right) / 2 if centered else ctx.left
    y = letterhead(ctx, x, ctx.top, align="center" if centered else "left", name_size=rng.uniform(13, 19),
                   vat=rng.random() < 0.5) + 18  # fmt: skip
    half = ctx.width / 2 - 12
    y_left = (
        party_block(ctx, ctx.left, y, inv.customer, heading=ctx.label("bill_to"), width=half) if inv.customer else y
    )
    y_right = y
    if inv.ship_to:
        y_right = party_block(ctx, ctx.left + ctx.width / 2, y, inv.ship_to, heading=ctx.label("ship_to"),
                              role="ship_to", width=half)  # fmt: skip
    y = max(y_left, y_right) + 14
    cv.text(ctx.left, y, title_text(ctx), ctx.size + rng.choice((4, 6, 8)), bold=True)
    y += ctx.size * 3.2
    y = meta_above(ctx, ctx.left, y, ctx.width, meta_rows(ctx, customer_vat=True), ruled=rng.random() < 0.7) + 10
    y = table_and_totals(ctx, y, placement="right")
    body_end(ctx, y)
    return cv


def title_number(inv: Invoice, rng: Random) -> Canvas:
    """The invoice number appears only in the title ('Rechnung Nr. 2024-0042', 'INVOICE #A-17')."""
    ctx = start(inv, rng)
    cv = ctx.cv
    if rng.random() < 0.5:
        install_footer(ctx)
    right_head = rng.random() < 0.5
    head_end = letterhead(ctx, ctx.right if right_head else ctx.left, ctx.top, align="right" if right_head else "left",
                          name_size=rng.uniform(12, 17), vat=True)  # fmt: skip
    y = head_end + 18
    if inv.customer:
        y = party_block(ctx, ctx.left, y, inv.customer, width=230)
    rows = meta_rows(ctx, number=False, customer_vat=True)
    width = meta_width(ctx, rows)
    y_meta = meta_beside(ctx, ctx.right - width, head_end + 18, rows) if ctx.left + 250 < ctx.right - width else None
    y = max(y, y_meta or 0) + 20
    cv.text(ctx.left, y, title_text(ctx, number=True), ctx.size + rng.choice((4, 6, 8)), bold=True)
    y += ctx.size * 3
    if y_meta is None:
        y = meta_beside(ctx, ctx.left, y, rows) + 10
    y = table_and_totals(ctx, y)
    body_end(ctx, y, closing=rng.random() < 0.3)
    return cv


def letter_inline(inv: Invoice, rng: Random) -> Canvas:
    """A plain letter: items as sentences or a simple list, totals and IBAN said in sentences."""
    ctx = start(inv, rng, face=rng.choice(("serif", "sans")))
    cv, fmt = ctx.cv, ctx.fmt
    y = letterhead(ctx, ctx.left, ctx.top, name_size=rng.uniform(12, 16), vat=True) + 22
    if inv.customer:
        y = party_block(ctx, ctx.left, y, inv.customer, width=230)
    rows = meta_rows(ctx)
    y = meta_beside(ctx, ctx.right - meta_width(ctx, rows), y + 12, rows) + 12
    cv.text(ctx.left, y, title_text(ctx), ctx.size + 3, bold=True)
    y = intro(ctx, y + ctx.size * 2.6)
    for item in inv.items:
        y = ensure_space(ctx, y, ctx.size * 2)
        printed = fmt.amount(item.amount)
        text = f"{fmt.number(item.qty)} x {item.description}"
        if item.qty != 1:
            text += f" à {fmt.amount(item.unit_price)}"
            cv.marks.distractor("amount.unit_price", item.unit_price, fmt.amount(item.unit_price))
        width = ctx.width - cv.measure(printed, ctx.size) - 24
        lines = cv.wrap(text, ctx.size, width)
        for k, line in enumerate(lines):
            cv.text(ctx.left + 12, y + k * ctx.size * 1.3, line, ctx.size)
        cv.text(ctx.right, y, printed, ctx.size, align="right", dist=("amount.line", item.amount))
        y += len(lines) * ctx.size * 1.3 + 3
    y = totals_inline(ctx, ctx.left, y + 10, ctx.width)
    if inv.show["iban"] and inv.vendor.iban_print:
        amount = inv.amount_due if inv.amount_due is not None else inv.total
        if inv.amount_due is None:
            ctx.cv.marks.truth_value("total", ctx.money_nb(amount))
        sentence = phrase(rng, "transfer", ctx.lang).format(amount=ctx.money_nb(amount), iban=inv.vendor.iban_print)
        cv.marks.truth_value("iban", inv.vendor.iban_print)
        y = cv.paragraph(ctx.left, y + 4, ctx.width, sentence, ctx.size)
        ctx.placed.add("iban")
    body_end(ctx, y, closing=True)
    return cv


def receipt(inv: Invoice, rng: Random) -> Canvas:
    """A narrow strip like a till receipt: centred header, two-line items, dashed rules, VAT summary."""
    ctx = start(inv, rng, face=rng.choice(("mono", "mono", "sans")), size=rng.choice((7.5, 8.0, 8.5)))
    cv = ctx.cv
    width = rng.uniform(190, 250)
    ctx.left = rng.choice((ctx.left, (cv.width - width) / 2))
    ctx.right = ctx.left + width
    mid = ctx.left + width / 2
    y = letterhead(ctx, mid, ctx.top, align="center", name_size=rng.uniform(11, 14), vat=True) + 4

    def dashes(y: float) -> float:
        cv.line(ctx.left, y + 3, ctx.right, y + 3, width=0.5, dashes="[2 2] 0")
        return y + 9

    y = dashes(y)
    cv.text(mid, y, title_text(ctx), ctx.size + 3, bold=True, align="center")
    y += ctx.size * 2.4
    rows = meta_rows(ctx, customer_vat=True)
    for row in rows:
        label = ctx.with_colon(row.label)
        cv.text(ctx.left, y, label, ctx.size)
        if cv.measure(label, ctx.size) + cv.measure(row.value, ctx.size) + 8 > width:
            y += ctx.size * 1.35  # no room beside the label: the value goes under it
        cv.text(ctx.right, y, row.value, ctx.size, align="right", truth=row.truth, dist=row.dist)
        y += ctx.size * 1.35
    if inv.customer:
        y = party_block(ctx, ctx.left, y + 4, inv.customer, heading=ctx.label("bill_to"), width=width, size=ctx.size)
    y = dashes(y)
    for item in inv.items:
        y = ensure_space(ctx, y, ctx.size * 3)
        for line in cv.wrap(item.description, ctx.size, width):
            cv.text(ctx.left, y, line, ctx.size)
            y += ctx.size * 1.3
        cv.text(ctx.left + 10, y, f"{ctx.fmt.number(item.qty)} x {ctx.fmt.amount(item.unit_price)}", ctx.size,
                dist=("amount.unit_price", item.unit_price))  # fmt: skip
        cv.text(ctx.right, y, ctx.fmt.amount(item.amount), ctx.size, align="right", dist=("amount.line", item.amount))
        y += ctx.size * 1.6
    y = dashes(y)
    y = totals_right(ctx, ctx.right, y, label_x=ctx.left, boxed=False)
    y = dashes(y)
    y = payment_block(ctx, ctx.left, y, width)
    y = leftovers(ctx, ctx.left, y)
    y = notes(ctx, ctx.left, y + 4, width, thanks=False)
    y = currency_note(ctx, ctx.left, y)
    cv.text(mid, y + 6, phrase(rng, "thanks", ctx.lang), ctx.size, align="center")
    return cv


def bill_ship(inv: Invoice, rng: Random) -> Canvas:
    """American layout: INVOICE at the top right with a meta block under it, Bill To / Ship To columns."""
    ctx = start(inv, rng, face=rng.choice(("sans", "sans", "serif")))
    cv = ctx.cv
    title_size = rng.uniform(18, 20)
    title = title_text(ctx).upper()
    room = ctx.width - cv.measure(title, title_size, bold=True) - 24
    head_end = letterhead(ctx, ctx.left, ctx.top, name_size=rng.uniform(13, 17), vat=True, max_width=room)
    head_right = drawn_since(ctx, 0)[2]
    cv.text(ctx.right, ctx.top, title, title_size, bold=True, align="right", color=GREY)
    rows = meta_rows(ctx)
    width = meta_width(ctx, rows)
    meta_top = ctx.top + title_size * 1.8
    if ctx.right - width < head_right + 16:
        meta_top = max(meta_top, head_end + 8)
    y_meta = meta_beside(ctx, 0, meta_top, rows, right_edge=ctx.right, bold_labels=True)
    y = max(head_end, y_meta) + 18
    third = ctx.width / 2 - 10
    y_bill = (
        party_block(ctx, ctx.left, y, inv.customer, heading=ctx.label("bill_to"), width=third) if inv.customer else y
    )
    y_ship = y
    if inv.ship_to:
        y_ship = party_block(ctx, ctx.left + ctx.width / 2, y, inv.ship_to, heading=ctx.label("ship_to"),
                             role="ship_to", width=third)  # fmt: skip
    y = max(y_bill, y_ship) + 16
    y = table_and_totals(ctx, y, style=rng.choice(("shaded", "zebra")), placement="right")
    body_end(ctx, y)
    return cv


def inline_totals_table(inv: Invoice, rng: Random) -> Canvas:
    """A table of items, but the totals are sentences below it ('Total due: EUR 1.234,56')."""
    ctx = start(inv, rng)
    cv = ctx.cv
    if rng.random() < 0.5:
        install_footer(ctx)
    y = letterhead(ctx, ctx.left, ctx.top, name_size=rng.uniform(12, 17), vat=rng.random() < 0.5) + 16
    if inv.customer:
        y = party_block(ctx, ctx.left, y, inv.customer, width=230) + 10
    cv.text(ctx.left, y, title_text(ctx), ctx.size + 5, bold=True)
    y = meta_beside(ctx, ctx.left, y + ctx.size * 2.8, meta_rows(ctx, customer_vat=True)) + 12
    geo = items_table(ctx, ctx.left, y, ctx.width, style=rng.choice(("ruled", "plain")))
    y = totals_inline(ctx, ctx.left, geo.bottom + 12, ctx.width)
    body_end(ctx, y)
    return cv
