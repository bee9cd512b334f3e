"""Building blocks the layout families assemble: the drawing context, labelled metadata rows in
four arrangements, letterheads, address blocks, payment details, notes and footers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from random import Random
from typing import Any

from .canvas import Canvas
from .content import Invoice
from .formats import NBSP, Fmt
from .labels import LABELS, Vocabulary
from .phrases import phrase

GREY = (0.45, 0.45, 0.45)
LIGHT = (0.9, 0.9, 0.9)


@dataclass
class Row:
    """One labelled value: what is printed, and what it is (truth field or distractor kind and value)."""

    label: str
    value: str
    truth: str | None = None
    dist: tuple[str, Any] | None = None


@dataclass
class Ctx:
    cv: Canvas
    inv: Invoice
    rng: Random
    size: float
    left: float
    right: float
    top: float
    bottom: float
    colon: str = ":"
    labels: dict[str, str] = field(default_factory=dict)
    placed: set[str] = field(default_factory=set)
    continuation: Callable[[Ctx], float] | None = None
    later_bottom: float | None = None  # ctx.bottom from page 2 on, when page 1 breaks early on purpose

    @property
    def lang(self) -> str:
        return self.inv.language

    @property
    def fmt(self) -> Fmt:
        return self.inv.fmt

    @property
    def width(self) -> float:
        return self.right - self.left

    def label(self, key: str, table: Vocabulary = LABELS) -> str:
        """The document's label for a field: picked once, reused wherever the field shows again."""
        if key not in self.labels:
            self.labels[key] = self.rng.choice(table[key][self.lang])
        return self.labels[key]

    def with_colon(self, text: str) -> str:
        if not text or not self.colon or text.endswith((":", "：", "#", "°", "º")) or "{" in text:
            return text
        return text + ("：" if self.lang == "zh" else " :" if self.lang == "fr" and self.colon == " :" else ":")

    def money_nb(self, value: Any) -> str:
        """An amount with currency whose spaces do not break across lines (for sentences)."""
        return str(self.fmt.money(value)).replace(" ", NBSP)

    def new_page(self) -> float:
        self.cv.new_page()
        if self.later_bottom is not None:
            self.bottom, self.later_bottom = self.later_bottom, None
        return self.continuation(self) if self.continuation else self.top


def continuation_header(ctx: Ctx) -> float:
    """The small header of a follow-up page: vendor and invoice number."""
    size = ctx.size - 1
    text = f"{ctx.inv.vendor.name} - {ctx.with_colon(ctx.label('invoice_number'))} {ctx.inv.number}"
    ctx.cv.text(ctx.left, ctx.top, text, size, color=GREY)
    ctx.cv.line(ctx.left, ctx.top + size * 1.5, ctx.right, ctx.top + size * 1.5, width=0.4, color=GREY)
    return ctx.top + size * 3


def meta_rows(ctx: Ctx, *, number: bool = True, issued: bool = True, due: bool | None = None,
              customer_vat: bool = False) -> list[Row]:  # fmt: skip
    """The document's labelled metadata in a plausible order; `due` None lets the payment block say it."""
    inv, fmt, rng = ctx.inv, ctx.fmt, ctx.rng
    head: list[Row] = []
    if number:
        head.append(Row(ctx.label("invoice_number"), inv.number, truth="invoice_number"))
    if issued:
        head.append(Row(ctx.label("invoice_date"), fmt.date(inv.issued), truth="invoice_date"))
    if rng.random() < 0.3:
        head.reverse()
    rest: list[Row] = []
    if due is None:
        due = rng.random() < 0.55
    if due and inv.due_date:
        rest.append(Row(ctx.label("due_date"), fmt.date(inv.due_date), truth="due_date"))
        ctx.placed.add("due_date")
    for key, kind in (("customer_number", "id"), ("order_number", "id"), ("delivery_note", "id"),
                      ("contract_number", "id"), ("associated_invoice", "id")):  # fmt: skip
        if key in inv.refs:
            rest.append(Row(ctx.label(key), inv.refs[key], dist=(f"{kind}.{key}", inv.refs[key])))
    if inv.po_number:
        rest.append(Row(ctx.label("po_number"), inv.po_number, truth="po_number"))
    for key, value in inv.other_dates.items():
        rest.append(Row(ctx.label(key), fmt.date(value), dist=(f"date.{key}", value)))
    if inv.period:
        a, b = inv.period
        rest.append(Row(ctx.label("service_period"), f"{fmt.date(a)} - {fmt.date(b)}", dist=("date.period", (a, b))))
    if customer_vat and inv.customer and inv.show["customer_vat"] and "customer_vat" not in ctx.placed:
        rest.append(Row(ctx.label("customer_vat_id"), inv.customer.vat_print or "", truth="customer_vat_id"))
        ctx.placed.add("customer_vat")
    if inv.contact:
        rest.append(Row(phrase(rng, "contact", ctx.lang).split("{p}")[0].strip(" :："), inv.contact,
                        dist=("name.contact", inv.contact)))  # fmt: skip
    rng.shuffle(rest)
    rest.sort(key=lambda r: 0 if r.truth == "due_date" else 1 if rng.random() < 0.5 else 2)
    return head + rest


def draw_value(ctx: Ctx, x: float, y: float, row: Row, size: float, *, bold: bool = False,
               align: str = "left") -> float:  # fmt: skip
    return ctx.cv.text(x, y, row.value, size, bold=bold, align=align, truth=row.truth, dist=row.dist)


def meta_beside(ctx: Ctx, x: float, y: float, rows: list[Row], *, right_edge: float | None = None,
                size: float | None = None, bold_labels: bool = False) -> float:  # fmt: skip
    """'Label: value' rows with the values in one column; placed from x or against right_edge."""
    size = size or ctx.size
    labels = [ctx.with_colon(r.label) for r in rows]
    label_w = max((ctx.cv.measure(t, size, bold=bold_labels) for t in labels), default=0) + size * 0.8
    value_w = max((ctx.cv.measure(r.value, size) for r in rows), default=0)
    if right_edge is not None:
        x = right_edge - label_w - value_w
    align_right = ctx.rng.random() < 0.35 and right_edge is not None
    for text, row in zip(labels, rows, strict=True):
        ctx.cv.text(x, y, text, size, bold=bold_labels)
        if align_right:
            draw_value(ctx, x + label_w + value_w, y, row, size, align="right")
        else:
            draw_value(ctx, x + label_w, y, row, size)
        y += size * 1.4
    return y


def meta_width(ctx: Ctx, rows: list[Row], size: float | None = None) -> float:
    size = size or ctx.size
    label_w = max((ctx.cv.measure(ctx.with_colon(r.label), size) for r in rows), default=0)
    return label_w + size * 0.8 + max((ctx.cv.measure(r.value, size) for r in rows), default=0)


def meta_above(ctx: Ctx, x: float, y: float, width: float, rows: list[Row], *, ruled: bool = True) -> float:
    """A strip of small labels with the values in the row below, wrapped into as many strips as needed."""
    size = ctx.size
    small = size - 1.5
    widths = [max(ctx.cv.measure(r.label, small), ctx.cv.measure(r.value, size)) + size * 1.5 for r in rows]
    start = 0
    while start < len(rows):
        end, used = start, 0.0
        while end < len(rows) and used + widths[end] <= width:
            used += widths[end]
            end += 1
        end = max(end, start + 1)
        extra = (width - sum(widths[start:end])) / (end - start) if end - start > 1 else 0
        cx = x
        if ruled:
            ctx.cv.line(x, y - 3, x + width, y - 3, width=0.5)
        for i in range(start, end):
            ctx.cv.text(cx + 2, y, rows[i].label, small, color=GREY)
            draw_value(ctx, cx + 2, y + small * 1.45, rows[i], size, bold=ctx.rng.random() < 0.2)
            cx += widths[i] + extra
        y += small * 1.45 + size * 1.6
        if ruled:
            ctx.cv.line(x, y - 4, x + width, y - 4, width=0.5)
        y += 4
        start = end
    return y


def meta_box(ctx: Ctx, x: float, y: float, rows: list[Row], *, shade: bool = True) -> tuple[float, float]:
    """A ruled two-column key/value box; returns (bottom y, box width)."""
    size = ctx.size
    label_w = max(ctx.cv.measure(r.label, size) for r in rows) + size * 1.2
    value_w = max(ctx.cv.measure(r.value, size) for r in rows) + size * 1.2
    row_h = size * 1.8
    for row in rows:
        if shade:
            ctx.cv.rect(x, y, x + label_w, y + row_h, fill=LIGHT, stroke=None)
        ctx.cv.rect(x, y, x + label_w + value_w, y + row_h, width=0.5)
        ctx.cv.line(x + label_w, y, x + label_w, y + row_h, width=0.5)
        ctx.cv.text(x + size * 0.6, y + size * 0.45, row.label, size)
        draw_value(ctx, x + label_w + size * 0.6, y + size * 0.45, row, size)
        y += row_h
    return y, label_w + value_w


def meta_dotted(ctx: Ctx, x: float, y: float, width: float, rows: list[Row], *, font: str | None = None) -> float:
    """'Invoice number .......... 2024-0042' with dot leaders."""
    size = ctx.size
    for row in rows:
        end = ctx.cv.text(x, y, row.label, size, font=font)
        value_w = ctx.cv.measure(row.value, size, font=font)
        dot_w = ctx.cv.measure(".", size, font=font)
        gap = x + width - value_w - end - size
        if gap > dot_w * 3:
            ctx.cv.text(end + size * 0.5, y, "." * int(gap / dot_w), size, font=font, color=GREY)
        ctx.cv.text(x + width, y, row.value, size, font=font, align="right", truth=row.truth, dist=row.dist)
        y += size * 1.5
    return y
