"""Layout families, part two: place-date letter, bold letterhead, information sidebar, long
two-page table, fully ruled form, dot-leader text layout, amount-first modern layout."""

from __future__ import annotations

from random import Random

from .blocks import GREY, Ctx, Row, draw_value, meta_beside, meta_dotted, meta_rows, meta_width
from .canvas import Canvas
from .content import Invoice, Options
from .formats import NBSP
from .layouts import body_end, drawn_since, intro, start, table_and_totals, title_text
from .parties import bank_lines, install_footer, leftovers, letterhead, notes, party_block, payment_block
from .phrases import phrase
from .table import currency_note, ensure_space, items_table, total_rows, totals_right


def place_date(inv: Invoice, rng: Random) -> Canvas:
    """The invoice date only in a place-date line ('München, den 1. November 2024')."""
    ctx = start(inv, rng, face=rng.choice(("serif", "sans")))
    cv, fmt = ctx.cv, ctx.fmt
    if rng.random() < 0.6:
        install_footer(ctx)
    centered = rng.random() < 0.4
    y = letterhead(ctx, (ctx.left + ctx.right) / 2 if centered else ctx.left, ctx.top,
                   align="center" if centered else "left", name_size=rng.uniform(13, 18)) + 20  # fmt: skip
    if inv.customer:
        y = party_block(ctx, ctx.left, y, inv.customer, width=230)
    style = "long" if rng.random() < 0.5 and fmt.date_style not in ("cn", "cn_short", "iso") else None
    issued = fmt.date(inv.issued, style)
    line = phrase(rng, "place_date", ctx.lang).format(city=inv.vendor.city, date=issued)
    cv.marks.truth_value("invoice_date", issued)
    cv.text(ctx.right, y + 14, line, ctx.size, align="right")
    y += 14 + ctx.size * 3
    in_title = rng.random() < 0.5
    cv.text(ctx.left, y, title_text(ctx, number=in_title), ctx.size + 3, bold=True)
    y += ctx.size * 2.5
    rows = meta_rows(ctx, number=not in_title, issued=False, customer_vat=True)
    if rows:
        y = meta_beside(ctx, ctx.left, y, rows) + 8
    y = intro(ctx, y + 4)
    y = table_and_totals(ctx, y)
    body_end(ctx, y, closing=rng.random() < 0.7)
    return cv


def letterhead_bold(inv: Invoice, rng: Random) -> Canvas:
    """Company name in large bold type centred over a rule, contact line under it, registry footer."""
    ctx = start(inv, rng)
    cv, v = ctx.cv, inv.vendor
    install_footer(ctx, size=6.5)
    mid = (ctx.left + ctx.right) / 2
    name_size = rng.uniform(17, 20)
    while cv.measure(v.name, name_size, bold=True) > ctx.width and name_size > 12:
        name_size -= 1
    cv.text(mid, ctx.top, v.name, name_size, bold=True, align="center", truth="vendor_name")
    y = ctx.top + name_size * 1.4
    cv.line(ctx.left, y, ctx.right, y, width=1.2)
    contact = " · ".join([*v.address_lines(), f"{ctx.label('phone')} {v.phone}", v.email])
    for line in cv.wrap(contact, ctx.size - 1.5, ctx.width):
        y += (ctx.size - 1.5) * 1.4
        cv.text(mid, y - (ctx.size - 1.5) * 1.1, line, ctx.size - 1.5, align="center")
    y += 24
    y_left = party_block(ctx, ctx.left, y, inv.customer, width=ctx.width / 2 - 20) if inv.customer else y
    rows = meta_rows(ctx, customer_vat=True)
    y_right = meta_beside(ctx, ctx.right - meta_width(ctx, rows), y, rows)
    y = max(y_left, y_right) + 18
    cv.text(ctx.left, y, title_text(ctx), ctx.size + 4, bold=True)
    y = table_and_totals(ctx, y + ctx.size * 2.6, style=rng.choice(("grid", "ruled")), placement="footer")
    body_end(ctx, y)
    return cv


def sidebar(inv: Invoice, rng: Random) -> Canvas:
    """An information column at the right (vendor, metadata, bank, tax ids) beside a narrower body."""
    ctx = start(inv, rng)
    cv, v = ctx.cv, inv.vendor
    side_w = rng.uniform(120, 140)
    side_x = ctx.right - side_w
    small = ctx.size - 1
    if rng.random() < 0.5:
        cv.rect(side_x - 8, 0, cv.width, cv.height, fill=(0.94, 0.94, 0.94), stroke=None)
    y = ctx.top
    for k, line in enumerate(cv.wrap(v.name, ctx.size + 2, side_w)):
        cv.text(side_x, y, line, ctx.size + 2, bold=True, truth="vendor_name" if k == 0 and v.name == line else None)
        y += (ctx.size + 2) * 1.3
    if not cv.marks.truth.get("vendor_name"):
        cv.marks.truth_value("vendor_name", v.name)
    for line in [*v.address_lines(), v.phone, v.email]:
        for part in cv.wrap(line, small, side_w):
            cv.text(side_x, y, part, small)
            y += small * 1.35
    y += 10
    rows = meta_rows(ctx, customer_vat=True)
    if inv.show["vendor_vat"]:
        rows.append(Row(ctx.label("vat_id"), v.vat_print or "", truth="vendor_vat_id"))
        ctx.placed.add("vendor_vat")
    for row in rows:
        cv.text(side_x, y, row.label, small, color=GREY)
        draw_value(ctx, side_x, y + small * 1.3, row, ctx.size if cv.measure(row.value, ctx.size) <= side_w else small)
        y += small * 1.3 + ctx.size * 1.6
    y = bank_lines(ctx, side_x, y + 6, side_w, small)
    ctx.right = side_x - 22
    y = ctx.top + 60
    if inv.customer:
        y = party_block(ctx, ctx.left, y, inv.customer, heading=ctx.label("bill_to"), width=ctx.width)
    cv.text(ctx.left, y + 20, title_text(ctx), ctx.size + 6, bold=True)
    y = table_and_totals(ctx, y + 20 + ctx.size * 3.2, placement="right", style=rng.choice(("plain", "ruled")))
    body_end(ctx, y)
    return cv


def long_table(inv: Invoice, rng: Random) -> Canvas:
    """Many items in roomy rows: the table runs over to page 2 with carried-forward sums, totals there."""
    ctx = start(inv, rng, size=rng.choice((9.5, 10.0, 10.5)))
    cv = ctx.cv
    if rng.random() < 0.6:
        install_footer(ctx)
    head_end = letterhead(ctx, ctx.left, ctx.top, name_size=rng.uniform(13, 17), vat=True)
    head_right = drawn_since(ctx, 0)[2]
    rows = meta_rows(ctx, customer_vat=True)
    width = meta_width(ctx, rows)
    beside = ctx.right - width > head_right + 20
    y_meta = meta_beside(ctx, ctx.right - width, ctx.top if beside else head_end + 16, rows)
    y = head_end + 16 if beside else y_meta + 12
    if inv.customer:
        room = ctx.right - width - ctx.left - 20 if y < y_meta else ctx.width
        y = party_block(ctx, ctx.left, y, inv.customer, width=min(230.0, room)) if room > 110 else y
        if room <= 110:
            y = party_block(ctx, ctx.left, y_meta + 12, inv.customer, width=230.0)
    y = max(y, y_meta) + 18
    cv.text(ctx.left, y, title_text(ctx), ctx.size + 4, bold=True)
    y += ctx.size * 2.8
    row_h = ctx.size * 2.3
    forced = y + row_h * (1 + rng.randint(max(3, len(inv.items) // 2), len(inv.items) - 2))
    if forced < ctx.bottom:  # break after a part even when all would fit, as long tables do
        ctx.later_bottom, ctx.bottom = ctx.bottom, forced
    geo = items_table(ctx, ctx.left, y, ctx.width, style=rng.choice(("ruled", "grid", "zebra")), carry=True,
                      size=ctx.size)  # fmt: skip
    y = totals_right(ctx, ctx.right, geo.bottom + 10)
    body_end(ctx, y)
    return cv


LONG_TABLE = Options(items=(16, 25))


def grid_form(inv: Invoice, rng: Random) -> Canvas:
    """Everything in ruled cells, like a pre-printed form: small labels in the cell corners."""
    ctx = start(inv, rng, face=rng.choice(("sans", "sans", "mono")))
    cv = ctx.cv
    small = ctx.size - 2
    mid = ctx.left + ctx.width * rng.uniform(0.45, 0.55)
    top = ctx.top
    y = letterhead(ctx, ctx.left + 6, top + 6, name_size=rng.uniform(11, 14), vat=True, contacts=False,
                   max_width=mid - ctx.left - 14)  # fmt: skip
    cv.text(mid + 6, top + 6, title_text(ctx), ctx.size + 4, bold=True)
    rows = meta_rows(ctx)
    cell_w = (ctx.right - mid) / 2
    cell_h = small * 1.4 + ctx.size * 1.6
    cy = top + 6 + (ctx.size + 4) * 1.8
    column = 0
    for row in rows:
        wide = cv.measure(row.value, ctx.size) > cell_w - 6
        if wide and column == 1:
            cy, column = cy + cell_h, 0
        width = cell_w * (2 if wide else 1)
        cx = mid + column * cell_w
        label = row.label
        while cv.measure(label, small) > width - 8 and len(label) > 4:
            label = label[:-2] + "."
        value_size = ctx.size
        while cv.measure(row.value, value_size) > width - 6 and value_size > 5:
            value_size -= 0.5
        cv.rect(cx, cy, cx + width, cy + cell_h, width=0.4)
        cv.text(cx + 3, cy + 2, label, small, color=GREY)
        draw_value(ctx, cx + 3, cy + 2 + small * 1.3, row, value_size)
        if wide or column == 1:
            cy, column = cy + cell_h, 0
        else:
            column = 1
    if column == 1:
        cy += cell_h
    y = max(y, cy) + 6
    cv.rect(ctx.left, top, ctx.right, y, width=0.8)
    cv.line(mid, top, mid, y, width=0.8)
    if inv.customer:
        box_top = y
        cv.text(ctx.left + 4, y + 3, ctx.label("bill_to"), small, color=GREY)
        y = party_block(ctx, ctx.left + 6, y + small * 1.6, inv.customer, width=ctx.width / 2 - 12, size=ctx.size)
        if inv.ship_to:
            cv.text(mid + 4, box_top + 3, ctx.label("ship_to"), small, color=GREY)
            width = ctx.right - mid - 12
            y2 = party_block(
                ctx, mid + 6, box_top + small * 1.6, inv.ship_to, role="ship_to", width=width, size=ctx.size
            )
            y = max(y, y2)
            cv.line(mid, box_top, mid, y + 4, width=0.8)
        cv.rect(ctx.left, box_top, ctx.right, y + 4, width=0.8)
        y += 4
    y = table_and_totals(ctx, y + 10, style="grid", placement="footer")
    y = ensure_space(ctx, y + 4, ctx.size * 9)
    box_top = y
    y = payment_block(ctx, ctx.left + 6, y + 6, ctx.width - 12)
    y = leftovers(ctx, ctx.left + 6, y)
    y = notes(ctx, ctx.left + 6, y, ctx.width - 12)
    y = currency_note(ctx, ctx.left + 6, y)
    cv.rect(ctx.left, box_top, ctx.right, y + 4, width=0.8)
    return cv


def dotted(inv: Invoice, rng: Random) -> Canvas:
    """A plain text layout, one column, labels joined to values by dot leaders (ERP print style)."""
    ctx = start(inv, rng, face=rng.choice(("mono", "serif")))
    cv = ctx.cv
    col_w = ctx.width * rng.uniform(0.6, 0.8)
    y = letterhead(ctx, ctx.left, ctx.top, name_size=rng.uniform(11, 14), vat=True) + 14
    cv.text(ctx.left, y, title_text(ctx).upper(), ctx.size + 4, bold=True)
    y = meta_dotted(ctx, ctx.left, y + ctx.size * 2.5, col_w, meta_rows(ctx, customer_vat=True)) + 8
    if inv.customer:
        y = party_block(ctx, ctx.left, y, inv.customer, heading=ctx.label("bill_to"), width=col_w) + 10
    geo = items_table(ctx, ctx.left, y, ctx.width, style="plain")
    rows = total_rows(ctx)
    y = ensure_space(ctx, geo.bottom + 10, len(rows) * ctx.size * 1.5 + 10)
    y = meta_dotted(ctx, ctx.right - col_w * 0.8, y, col_w * 0.8,
                    [Row(r.label, r.value, r.truth, r.dist) for r in rows])  # fmt: skip
    body_end(ctx, y)
    return cv


def hero(inv: Invoice, rng: Random) -> Canvas:
    """Modern layout: the amount due in large type first ('€1,234.56 due November 15, 2024')."""
    ctx = start(inv, rng, face="sans")
    cv, fmt = ctx.cv, ctx.fmt
    title_size = rng.uniform(15, 19)
    title_end = cv.text(ctx.left, ctx.top, title_text(ctx), title_size, bold=True)
    name_size = rng.uniform(11, 14)
    while cv.measure(inv.vendor.name, name_size, bold=True) > ctx.right - title_end - 24 and name_size > 7:
        name_size -= 0.5
    cv.text(ctx.right, ctx.top + 2, inv.vendor.name, name_size, bold=True, align="right", truth="vendor_name")
    y = ctx.top + title_size * 2
    rows = meta_rows(ctx, due=False)
    y = meta_beside(ctx, ctx.left, y, rows, size=ctx.size) + 14
    amount = fmt.money(inv.total).replace(" ", NBSP)
    cv.marks.truth_value("currency", fmt.currency_mark())
    cv.marks.truth_value("total", amount)
    if inv.due_date:
        due = fmt.date(inv.due_date).replace(" ", NBSP)
        cv.marks.truth_value("due_date", due)
        ctx.placed.add("due_date")
        text = phrase(rng, "hero_due", ctx.lang).format(amount=amount, date=due)
    else:
        text = f"{ctx.label('total')} {amount}"
    size = rng.uniform(15, 19)
    for line in cv.wrap(text, size, ctx.width, bold=True):
        cv.text(ctx.left, y, line, size, bold=True)
        y += size * 1.35
    y += 10
    col = ctx.width / 3
    y_bill = (
        party_block(ctx, ctx.left, y, inv.customer, heading=ctx.label("bill_to"), width=col - 10) if inv.customer else y
    )
    v = inv.vendor
    y_from = y
    sender = {"en": "From", "de": "Von", "fr": "De", "es": "De", "it": "Da", "nl": "Van", "zh": "销售方"}[ctx.lang]
    cv.text(ctx.left + col, y_from, sender, ctx.size - 1.5, bold=True, color=GREY)
    y_from += ctx.size * 1.4
    for line in [*v.address_lines(), v.email]:
        for part in cv.wrap(line, ctx.size, col - 10):
            cv.text(ctx.left + col, y_from, part, ctx.size)
            y_from += ctx.size * 1.3
    if inv.show["vendor_vat"]:
        cv.text(ctx.left + col, y_from, v.vat_print or "", ctx.size, truth="vendor_vat_id")
        ctx.placed.add("vendor_vat")
        y_from += ctx.size * 1.3
    y = max(y_bill, y_from) + 20
    y = table_and_totals(ctx, y, style=rng.choice(("plain", "ruled")), placement="right")
    body_end(ctx, y)
    size = 7.0

    def footer(cv: Canvas, index: int, count: int) -> None:
        cv.text(ctx.left, cv.height - 32, f"{inv.number} · {fmt.money(inv.total)}", size, color=GREY)

    cv.page_hooks.append(footer)
    return cv


def _name_lines(ctx: Ctx, name: str) -> list[tuple[str, bool]]:
    """A company name on one line, or (one time in four, if it has three words or more) broken over
    two lines as registers print long names; (line, the line is the whole name)."""
    words = name.split()
    if len(words) < 3 or ctx.rng.random() >= 0.25:
        return [(name, True)]
    cut = ctx.rng.randint(1, len(words) - 1)
    ctx.cv.marks.truth_value("vendor_name", name)
    return [(" ".join(words[:cut]), False), (" ".join(words[cut:]), False)]


def two_parties(inv: Invoice, rng: Random) -> Canvas:
    """Seller and buyer side by side under their headings, each with name, address and VAT id
    (the seller's block on the left or on the right), then the dates and the table."""
    ctx = start(inv, rng)
    cv, v = ctx.cv, inv.vendor
    title = title_text(ctx, number=rng.random() < 0.5)
    cv.text(ctx.left, ctx.top, title.upper() if rng.random() < 0.5 else title, ctx.size + rng.choice((6, 8, 10)),
            bold=True)  # fmt: skip
    y = ctx.top + ctx.size * 4
    half = ctx.width / 2 - 12
    seller_x, buyer_x = (ctx.left, ctx.left + ctx.width / 2) if rng.random() < 0.7 else (
        ctx.left + ctx.width / 2, ctx.left)
    size = ctx.size + 0.5
    cv.text(seller_x, y, ctx.label("seller_heading").upper(), size - 1, bold=True, color=GREY)
    ys = y + size * 1.5
    for line, whole in _name_lines(ctx, v.name):
        cv.text(seller_x, ys, line, size + 1, bold=True, truth="vendor_name" if whole else None)
        ys += (size + 1) * 1.4
    for line in v.address_lines():
        cv.text(seller_x, ys, line, size)
        ys += size * 1.3
    if inv.show["vendor_vat"] and v.vat_print:
        label = ctx.with_colon(ctx.label("vat_id"))
        end = cv.text(seller_x, ys, label, size)
        cv.text(end + 3, ys, v.vat_print, size, truth="vendor_vat_id")
        ctx.placed.add("vendor_vat")
        ys += size * 1.3
    yb = y
    if inv.customer:
        cv.text(buyer_x, y, ctx.label("buyer_heading").upper(), size - 1, bold=True, color=GREY)
        yb = party_block(ctx, buyer_x, y + size * 1.5, inv.customer, width=half, size=size)
    y = max(ys, yb) + 18
    y = meta_beside(ctx, ctx.left, y, meta_rows(ctx)) + 14
    y = table_and_totals(ctx, y, placement=rng.choice(("right", "footer")))
    body_end(ctx, y)
    return cv


def key_value_form(inv: Invoice, rng: Random) -> Canvas:
    """A form as e-invoice viewers print one: sections under headings (the document, the seller,
    the buyer), each a column of keys with their values far to the right ('Name:', 'Address:',
    'VAT id:'), then the items and the totals."""
    ctx = start(inv, rng, face=rng.choice(("sans", "sans", "serif")))
    cv, v, c = ctx.cv, inv.vendor, inv.customer
    size = ctx.size
    key_x, value_x = ctx.left + rng.uniform(0, 20), ctx.left + rng.uniform(150, 210)

    def rows(y: float, items: list[Row]) -> float:
        for row in items:
            if row.label:
                cv.text(key_x, y, ctx.with_colon(row.label), size)
            draw_value(ctx, value_x, y, row, size)
            y += size * 1.8
        return y

    def heading(y: float, text: str) -> float:
        cv.text(key_x, y, text, size + 1, bold=True)
        return y + (size + 1) * 1.9

    y = heading(ctx.top, title_text(ctx))
    y = rows(y, meta_rows(ctx)) + size * 2
    y = heading(y, ctx.label("seller_heading"))
    name_key = ctx.label("party_name")
    seller = [Row(name_key if i == 0 else "", line, truth="vendor_name" if whole else None)
              for i, (line, whole) in enumerate(_name_lines(ctx, v.name))]
    address = v.address_lines()
    seller += [Row(ctx.label("address") if i == 0 else "", line) for i, line in enumerate(address)]
    if inv.show["vendor_vat"] and v.vat_print:
        seller.append(Row(ctx.label("vat_id"), v.vat_print, truth="vendor_vat_id"))
        ctx.placed.add("vendor_vat")
    y = rows(y, seller) + size * 2
    if c is not None:
        y = heading(y, ctx.label("buyer_heading"))
        buyer = [Row(ctx.label("party_name"), c.name, truth="customer_name")]
        buyer += [Row(ctx.label("address") if i == 0 else "", line) for i, line in enumerate(c.address_lines())]
        if inv.show["customer_vat"] and c.vat_print:
            buyer.append(Row(ctx.label("customer_vat_id"), c.vat_print, truth="customer_vat_id"))
            ctx.placed.add("customer_vat")
        y = rows(y, buyer) + size * 2
    y = table_and_totals(ctx, y, style=rng.choice(("plain", "ruled")), placement=rng.choice(("right", "footer")))
    body_end(ctx, y)
    return cv
