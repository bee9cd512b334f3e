"""Line-item tables (with page breaks and carried-forward sums) and the totals in three placements:
a block at the right, rows in the table footer, and sentences."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .blocks import GREY, LIGHT, Ctx
from .labels import COLUMNS
from .phrases import phrase


@dataclass
class Column:
    key: str
    title: str
    align: str
    width: float = 0.0
    x: float = 0.0


@dataclass
class TableGeometry:
    left: float
    right: float
    amount_left: float  # where the amount column starts (totals in the footer align to it)
    bottom: float


@dataclass
class TotalRow:
    label: str
    value: str
    truth: str | None = None
    dist: tuple[str, Any] | None = None
    strong: bool = False


def _columns(ctx: Ctx, size: float) -> list[Column]:
    rng, inv = ctx.rng, ctx.inv
    keys = ["description"]
    if rng.random() < 0.55:
        keys.insert(0, "pos")
    if rng.random() < 0.3:
        keys.insert(len(keys) - 1, "sku")
    if rng.random() < 0.9:
        keys.append("qty")
    if rng.random() < 0.4:
        keys.append("unit")
    if "qty" in keys and rng.random() < 0.9 or rng.random() < 0.5:
        keys.append("unit_price")
    if any(i.discount for i in inv.items):
        keys.append("disc")
    if len(inv.tax_lines) > 1 or rng.random() < 0.25:
        keys.append("rate")
    keys.append("amount")
    right = {"qty", "unit_price", "rate", "disc", "amount"}
    cols = [Column(k, ctx.label(k, COLUMNS), "right" if k in right else "left") for k in keys]
    if rng.random() < 0.3:
        mark = ctx.fmt.currency_mark()
        for col in cols:
            if col.key in ("amount", "unit_price"):
                col.title = f"{col.title} ({mark})" if rng.random() < 0.5 else f"{col.title} {mark}"
        ctx.cv.marks.truth_value("currency", mark)
    return cols


def _cell(ctx: Ctx, key: str, index: int) -> tuple[str, tuple[str, Any] | None]:
    item, fmt = ctx.inv.items[index], ctx.fmt
    if key == "pos":
        return str((index + 1) * (10 if ctx.labels.get("_pos10") else 1)), None
    if key == "sku":
        return item.sku, None
    if key == "description":
        return item.description, None
    if key == "qty":
        return fmt.number(item.qty), None
    if key == "unit":
        return item.unit, None
    if key == "unit_price":
        return fmt.amount(item.unit_price), ("amount.unit_price", item.unit_price)
    if key == "rate":
        return fmt.rate(item.rate), None
    if key == "disc":
        return (fmt.rate(item.discount) if item.discount else ""), None
    return fmt.amount(item.amount), ("amount.line", item.amount)


def items_table(ctx: Ctx, x: float, y: float, width: float, *, style: str = "ruled",
                size: float | None = None, carry: bool = True) -> TableGeometry:  # fmt: skip
    """Draw the line items from y; breaks onto new pages with carried-forward sums when needed."""
    cv, rng = ctx.cv, ctx.rng
    size = size or ctx.size
    ctx.labels.setdefault("_pos10", "1" if rng.random() < 0.15 else "")
    cols = _columns(ctx, size)
    pad = size * 0.5
    for col in cols:
        if col.key != "description":
            cells = [_cell(ctx, col.key, i)[0] for i in range(len(ctx.inv.items))]
            col.width = max([cv.measure(col.title, size, bold=True)] + [cv.measure(c, size) for c in cells]) + 2 * pad
    while sum(c.width for c in cols if c.key != "description") > width * 0.68:
        drop = next((c for c in cols if c.key in ("sku", "unit", "pos", "rate")), None)
        if drop is None:
            break
        cols.remove(drop)
    desc = next(c for c in cols if c.key == "description")
    desc.width = width - sum(c.width for c in cols if c.key != "description")
    cx = x
    for col in cols:
        col.x = cx
        cx += col.width
    line_h = size * 1.3
    header_h = line_h + 2 * pad

    def header(top: float) -> float:
        if style in ("shaded", "zebra", "grid"):
            cv.rect(x, top, x + width, top + header_h, fill=LIGHT, stroke=None)
        for col in cols:
            tx = col.x + col.width - pad if col.align == "right" else col.x + pad
            cv.text(tx, top + pad, col.title, size, bold=True, align=col.align)
        cv.line(x, top + header_h, x + width, top + header_h, width=0.8)
        if style == "grid":
            cv.line(x, top, x + width, top, width=0.6)
        return top + header_h

    def carry_row(top: float, key: str, value: Decimal) -> float:
        amount = cols[-1]
        cv.text(amount.x - pad, top + pad, ctx.label(key), size, align="right", bold=True)
        cv.text(amount.x + amount.width - pad, top + pad, ctx.fmt.amount(value), size, align="right", bold=True,
                dist=("amount.carried", value))  # fmt: skip
        return top + header_h

    y = header(y)
    table_top = y
    running = Decimal(0)
    for index, item in enumerate(ctx.inv.items):
        desc_lines = cv.wrap(item.description, size, desc.width - 2 * pad)
        row_h = len(desc_lines) * line_h + 2 * pad
        if y + row_h + (header_h if carry else 0) > ctx.bottom:
            if style == "grid":
                _grid(ctx, cols, x, width, table_top, y)
            if carry:
                y = carry_row(y, "carried_forward", running)
            y = ctx.new_page()
            if carry:
                y = carry_row(y, "brought_forward", running)
            y = header(y)
            table_top = y
        if style == "zebra" and index % 2 == 1:
            cv.rect(x, y, x + width, y + row_h, fill=(0.95, 0.95, 0.95), stroke=None)
        for col in cols:
            text, dist = _cell(ctx, col.key, index)
            if col.key == "description":
                for k, line in enumerate(desc_lines):
                    cv.text(col.x + pad, y + pad + k * line_h, line, size)
                continue
            tx = col.x + col.width - pad if col.align == "right" else col.x + pad
            cv.text(tx, y + pad, text, size, align=col.align, dist=dist)
        y += row_h
        running += item.amount
        if style in ("ruled", "grid"):
            cv.line(x, y, x + width, y, width=0.3, color=GREY)
    if style == "grid":
        _grid(ctx, cols, x, width, table_top, y)
    elif style != "ruled":
        cv.line(x, y, x + width, y, width=0.6)
    return TableGeometry(x, x + width, cols[-1].x, y)


def _grid(ctx: Ctx, cols: list[Column], x: float, width: float, top: float, bottom: float) -> None:
    for col in cols[1:]:
        ctx.cv.line(col.x, top, col.x, bottom, width=0.3)
    ctx.cv.line(x, top, x, bottom, width=0.6)
    ctx.cv.line(x + width, top, x + width, bottom, width=0.6)


def total_rows(ctx: Ctx, *, currency_on_total: bool | None = None) -> list[TotalRow]:
    """Rows from items total to amount due, each tagged with what it is."""
    inv, fmt, rng = ctx.inv, ctx.fmt, ctx.rng
    rows: list[TotalRow] = []
    if inv.discount_pct:
        items = fmt.amount(inv.items_total)
        rows.append(TotalRow(ctx.label("items_total"), items, dist=("amount.items_total", inv.items_total)))
        label = ctx.label("discount").format(rate=fmt.rate(inv.discount_pct))
        rows.append(TotalRow(label, fmt.amount(-inv.discount), dist=("amount.discount", inv.discount)))
    if inv.show["subtotal"]:
        rows.append(TotalRow(ctx.label("subtotal"), fmt.amount(inv.subtotal), truth="subtotal"))
    if inv.show["tax"]:
        multi = len(inv.tax_lines) > 1
        for line in inv.tax_lines:
            label = ctx.label("tax").format(rate=fmt.rate(line.rate))
            if multi and rng.random() < 0.5:
                label = f"{label} ({fmt.amount(line.base)})"
                ctx.cv.marks.distractor("amount.tax_base", line.base, fmt.amount(line.base))
            if multi:
                rows.append(TotalRow(label, fmt.amount(line.tax), dist=("amount.tax_part", line.tax)))
            else:
                rows.append(TotalRow(label, fmt.amount(line.tax), truth="tax"))
        if multi:
            rows.append(TotalRow(ctx.label("tax_total"), fmt.amount(inv.tax), truth="tax"))
    with_currency = rng.random() < 0.7 if currency_on_total is None else currency_on_total
    total = fmt.money(inv.total) if with_currency else fmt.amount(inv.total)
    if with_currency:
        ctx.cv.marks.truth_value("currency", fmt.currency_mark())
    rows.append(TotalRow(ctx.label("total"), total, truth="total", strong=True))
    if inv.deposit is not None and inv.amount_due is not None:
        rows.append(TotalRow(ctx.label("deposit"), fmt.amount(-inv.deposit), dist=("amount.deposit", inv.deposit)))
        due = fmt.money(inv.amount_due) if with_currency else fmt.amount(inv.amount_due)
        rows.append(TotalRow(ctx.label("amount_due"), due, dist=("amount.amount_due", inv.amount_due), strong=True))
    return rows


def totals_height(ctx: Ctx, rows: list[TotalRow], size: float | None = None) -> float:
    return len(rows) * (size or ctx.size) * 1.6 + 12


def totals_right(ctx: Ctx, right: float, y: float, *, size: float | None = None, boxed: bool | None = None,
                 label_x: float | None = None) -> float:  # fmt: skip
    """The totals block against the right margin; labels right-aligned before the values or in a column."""
    rows = total_rows(ctx)
    size = size or ctx.size
    y = ensure_space(ctx, y, totals_height(ctx, rows, size))
    cv = ctx.cv
    room = right - (label_x if label_x is not None else ctx.left)

    def needed(s: float) -> float:
        labels = max(cv.measure(ctx.with_colon(r.label), s + 1, bold=True) for r in rows)
        return labels + s * 2 + max(cv.measure(r.value, s + 1, bold=True) for r in rows)

    while needed(size) > room and size > 5.5:
        size -= 0.5
    value_w = max(cv.measure(r.value, size + 1, bold=True) for r in rows)
    label_w = max(cv.measure(ctx.with_colon(r.label), size + 1, bold=True) for r in rows)
    gap = size * 2
    left = right - value_w - gap - label_w
    if label_x is not None and label_x + label_w + gap + value_w <= right:
        left = label_x
    boxed = ctx.rng.random() < 0.3 if boxed is None else boxed
    for row in rows:
        s = size + 1 if row.strong else size
        if row.strong:
            if boxed:
                cv.rect(left - 4, y - 3, right + 4, y + s * 1.35, fill=LIGHT, stroke=None)
            else:
                cv.line(left, y - 3, right, y - 3, width=0.8)
        cv.text(left, y, ctx.with_colon(row.label), s, bold=row.strong)
        cv.text(right, y, row.value, s, bold=row.strong, align="right", truth=row.truth, dist=row.dist)
        y += s * 1.6
    return y + 4


def totals_footer(ctx: Ctx, geo: TableGeometry, y: float, *, grid: bool = True) -> float:
    """Totals as extra rows under the table, values in the amount column, labels just left of it."""
    rows = total_rows(ctx)
    size = ctx.size
    cv = ctx.cv
    value_w = max(cv.measure(r.value, size, bold=True) for r in rows) + size
    amount_left = min(geo.amount_left, geo.right - value_w)
    row_h = size * 1.9
    y = ensure_space(ctx, y, len(rows) * row_h + 6)
    label_w = max(cv.measure(r.label, size, bold=True) for r in rows) + size * 2
    box_left = max(geo.left, amount_left - label_w)
    for row in rows:
        if grid:
            cv.rect(box_left, y, geo.right, y + row_h, width=0.4, fill=LIGHT if row.strong else None)
            cv.line(amount_left, y, amount_left, y + row_h, width=0.4)
        cv.text(amount_left - size * 0.6, y + size * 0.5, row.label, size, bold=row.strong, align="right")
        cv.text(geo.right - size * 0.5, y + size * 0.5, row.value, size, bold=row.strong, align="right",
                truth=row.truth, dist=row.dist)  # fmt: skip
        y += row_h
    return y + 6


def totals_summary(ctx: Ctx, x: float, y: float, width: float) -> float:
    """A tax summary table: a header row of labels (rate, net, tax, gross), one row per VAT rate,
    and a sum row when there are several rates; the labels stand above the values."""
    inv, fmt, cv = ctx.inv, ctx.fmt, ctx.cv
    size = ctx.size
    strip = lambda text: text.replace("{rate}", "").replace("()", "").replace("@", "").strip(" :")  # noqa: E731
    headers = [strip(ctx.label("tax").split("{rate}")[0] or ctx.label("rate", COLUMNS)), strip(ctx.label("subtotal")),
               strip(ctx.label("tax_total")), strip(ctx.label("total"))]
    cols = [x, x + width * 0.3, x + width * 0.55, x + width]
    y = ensure_space(ctx, y + 6, size * 2 * (len(inv.tax_lines) + 3))
    for i, (col, text) in enumerate(zip(cols, headers, strict=True)):
        cv.text(col, y, text, size, bold=True, align="left" if i == 0 else "right")
    y += size * 1.8
    multi = len(inv.tax_lines) > 1
    for line in inv.tax_lines:
        gross = line.base + line.tax
        cv.text(cols[0], y, fmt.rate(line.rate), size)
        cv.text(cols[1], y, fmt.amount(line.base), size, align="right",
                truth=None if multi else "subtotal", dist=("amount.tax_base", line.base) if multi else None)
        cv.text(cols[2], y, fmt.amount(line.tax), size, align="right",
                truth=None if multi else "tax", dist=("amount.tax_part", line.tax) if multi else None)
        cv.text(cols[3], y, fmt.money(gross) if not multi else fmt.amount(gross), size, align="right",
                truth=None if multi else "total", dist=("amount.gross_part", gross) if multi else None)
        y += size * 1.6
    if multi:
        cv.line(cols[1] - 40, y - size * 0.3, cols[3], y - size * 0.3, width=0.5)
        cv.text(cols[1], y, fmt.amount(inv.subtotal), size, bold=True, align="right", truth="subtotal")
        cv.text(cols[2], y, fmt.amount(inv.tax), size, bold=True, align="right", truth="tax")
        cv.text(cols[3], y, fmt.money(inv.total), size, bold=True, align="right", truth="total")
        y += size * 1.6
    if not multi:
        cv.marks.truth_value("currency", fmt.currency_mark())
    return y + 8


def totals_inline(ctx: Ctx, x: float, y: float, width: float) -> float:
    """Totals said in sentences: 'Net amount 1.000,00 € plus VAT 19 % 190,00 €. Total due: 1.190,00 €'."""
    inv, fmt, cv, rng = ctx.inv, ctx.fmt, ctx.cv, ctx.rng
    size = ctx.size + 0.5
    y = ensure_space(ctx, y, size * 6)
    if inv.discount_pct:
        label = ctx.label("discount").format(rate=fmt.rate(inv.discount_pct))
        text = f"{label}: {ctx.money_nb(-inv.discount)}"
        cv.marks.distractor("amount.discount", inv.discount, fmt.money(-inv.discount))
        y = cv.paragraph(x, y, width, text, size)
    if inv.show["subtotal"] and inv.show["tax"] and len(inv.tax_lines) == 1:
        net, tax = ctx.money_nb(inv.subtotal), ctx.money_nb(inv.tax)
        cv.marks.truth_value("subtotal", net)
        cv.marks.truth_value("tax", tax)
        rate = fmt.rate(inv.tax_lines[0].rate)
        sentence = phrase(rng, "net_sentence", ctx.lang).format(amount=net, rate=rate, tax=tax)
        y = cv.paragraph(x, y, width, sentence, size)
    else:
        for row in total_rows(ctx, currency_on_total=True)[:-1]:
            if row.truth == "total" or (row.dist and row.dist[0] in ("amount.deposit", "amount.amount_due")):
                continue
            if row.dist and row.dist[0] in ("amount.items_total", "amount.discount"):
                continue
            end = cv.text(x, y, ctx.with_colon(row.label), size)
            cv.text(end + 4, y, row.value, size, truth=row.truth, dist=row.dist)
            y += size * 1.4
    total = ctx.money_nb(inv.total)
    cv.marks.truth_value("total", total)
    cv.marks.truth_value("currency", fmt.currency_mark())
    y = cv.paragraph(x, y + 2, width, phrase(rng, "total_sentence", ctx.lang).format(amount=total), size + 1, bold=True)
    if inv.deposit is not None and inv.amount_due is not None:
        due = ctx.money_nb(inv.amount_due)
        cv.marks.distractor("amount.amount_due", inv.amount_due, due)
        cv.marks.distractor("amount.deposit", inv.deposit, fmt.amount(inv.deposit))
        text = f"{ctx.label('deposit')}: {ctx.money_nb(-inv.deposit)}. {ctx.label('amount_due')}: {due}"
        y = cv.paragraph(x, y, width, text, size)
    return y + 4


def ensure_space(ctx: Ctx, y: float, need: float) -> float:
    """y itself when `need` points fit above the bottom, else the top of a new page."""
    return y if y + need <= ctx.bottom else ctx.new_page()


def currency_note(ctx: Ctx, x: float, y: float) -> float:
    """Name the currency once when nothing else on the page did."""
    if ctx.cv.marks.truth.get("currency"):
        return y
    notes = {"en": "All amounts in {c}", "de": "Alle Beträge in {c}", "fr": "Montants exprimés en {c}",
             "es": "Importes en {c}", "it": "Importi in {c}", "nl": "Bedragen in {c}", "zh": "币种：{c}"}  # fmt: skip
    code = ctx.fmt.currency
    ctx.cv.text(x, y, notes[ctx.lang].format(c=code), ctx.size - 1, truth="currency")
    return y + ctx.size * 1.5
