"""The Chinese VAT invoice family (增值税发票): the classic form with 发票代码, 密码区 and 校验码, and the
newer fully digital 电子发票 with a 20-digit number; goods table, 合计, 价税合计 in capital numerals."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from random import Random

from inbox_ocr.read.mupdf import pymupdf
from inbox_ocr.understand.cn_numerals import to_capitals

from .canvas import Canvas
from .company import Company, person
from .content import Invoice, Options
from .ids import digits

RED = (0.6, 0.1, 0.1)
CN_OPTIONS = Options(items=(2, 8), discounts=False)
_PROVINCES = ("北京", "上海", "广东", "浙江", "江苏", "四川", "湖北", "深圳", "山东")
_SPECS = ("", "", "", "A4", "V2.0", "500ml", "标准版", "XH-200", "10kg", "Pro")


def adapt(inv: Invoice) -> None:
    """A fapiao shows no due date, deposit, discount or IBAN; buyer and seller tax ids always."""
    inv.due_date = None
    inv.deposit = None
    inv.show.update(subtotal=True, tax=True, vendor_vat=True, customer_vat=inv.customer is not None, iban=False)
    inv.other_dates.clear()
    inv.period = None
    inv.printed_at = None


def _line_taxes(inv: Invoice) -> list[Decimal]:
    """Per-line tax rounded to the fen, the last line of each rate absorbing the rounding difference."""
    out: list[Decimal] = []
    for item in inv.items:
        out.append((item.amount * item.rate / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    for line in inv.tax_lines:
        idx = [i for i, item in enumerate(inv.items) if item.rate == line.rate]
        out[idx[-1]] += line.tax - sum(out[i] for i in idx)
    return out


def _money(value: Decimal, grouped: bool) -> str:
    return f"{value:,.2f}" if grouped else f"{value:.2f}"


def _vertical(cv: Canvas, x: float, top: float, bottom: float, text: str, size: float) -> None:
    step = (bottom - top) / (len(text) + 1)
    for k, ch in enumerate(text):
        cv.text(x, top + step * (k + 0.5) + (step - size) / 2, ch, size, align="center", color=RED)


def _qr(cv: Canvas, rng: Random, x: float, y: float, side: float) -> None:
    cell = side / 21
    shape = cv.page.new_shape()
    for i in range(21):
        for j in range(21):
            finder = min(i, j) < 7 and max(i, j) < 7 or (i < 7 and j > 13) or (i > 13 and j < 7)
            if (finder and (i % 6 == 0 or j % 6 == 0 or (2 <= i % 14 <= 4 and 2 <= j % 14 <= 4))) or (
                not finder and rng.random() < 0.45
            ):
                shape.draw_rect(pymupdf.Rect(x + j * cell, y + i * cell, x + (j + 1) * cell, y + (i + 1) * cell))
    shape.finish(fill=(0, 0, 0), color=None, width=0)
    shape.commit()


def _party(cv: Canvas, x: float, y: float, width: float, party: Company | None, *, seller: bool, size: float,
           full_electronic: bool) -> None:  # fmt: skip
    if party is None:
        return
    id_label = "统一社会信用代码/纳税人识别号" if full_electronic else "纳税人识别号"
    rows: list[tuple[str, str, str | None]] = [("名  称", party.name, "vendor_name" if seller else "customer_name"),
            (id_label, party.vat_id or "", "vendor_vat_id" if seller else "customer_vat_id")]  # fmt: skip
    if not full_electronic:
        rows.append(("地 址、电 话", f"{party.address_lines()[0]} {party.phone}", None))
        rows.append(("开户行及账号", party.extra.get("account", ""), None))
    for label, value, truth in rows:
        end = cv.text(x, y, f"{label}：", size, color=RED)
        value_size = size
        while cv.measure(value, value_size) > x + width - end and value_size > 5.5:
            value_size -= 0.5
        dist = ("id.bank_account", value) if label.startswith("开户行") else None
        cv.text(end, y, value, value_size, truth=truth, dist=dist)
        y += size * 1.75


def cn_vat(inv: Invoice, rng: Random) -> Canvas:
    """增值税专用发票 / 电子普通发票 (old form) or 电子发票（增值税专用发票/普通发票） (fully digital)."""
    adapt(inv)
    native = rng.random() < 0.4
    cv = Canvas("A4", "sans", size=(609.45, 396.85) if native else None)
    full = rng.random() < 0.5
    grouped = rng.random() < 0.3
    mono = rng.random() < 0.5
    num_font = "cour" if mono else None
    size = 8.0 if native else rng.choice((8.0, 8.5, 9.0))
    left, right = 20.0, cv.width - 20.0
    width = right - left
    y = 18.0
    if full:
        title = rng.choice(("电子发票（增值税专用发票）", "电子发票（普通发票）"))
    else:
        title = rng.choice(("增值税专用发票", "增值税电子普通发票", "增值税普通发票"))
        title = rng.choice(_PROVINCES) + title if rng.random() < 0.5 else title
    title_size = 16.0 if native else rng.uniform(16, 19)
    mid = (left + right) / 2
    cv.text(mid, y, title, title_size, bold=True, align="center", color=RED)
    tw = cv.measure(title, title_size)
    cv.line(mid - tw / 2, y + title_size * 1.2, mid + tw / 2, y + title_size * 1.2, width=0.8, color=RED)
    cv.line(mid - tw / 2, y + title_size * 1.2 + 2.5, mid + tw / 2, y + title_size * 1.2 + 2.5, width=0.8, color=RED)
    marks = cv.marks
    issued = f"{inv.issued.year}年{inv.issued.month:02d}月{inv.issued.day:02d}日"
    meta: list[tuple[str, str, str | None, str | None]] = []
    if full:
        number = f"{inv.issued.year % 100:02d}{digits(rng, 18)}"
    else:
        code = digits(rng, rng.choice((10, 12)), first_nonzero=True)
        number = digits(rng, 8)
        meta.append(("发票代码", code, None, "id.invoice_code"))
        _qr(cv, rng, left, y, 48 if not native else 40)
        machine = digits(rng, 12, first_nonzero=True)
        cv.text(left + 56, y + 28, f"机器编号：{machine}", size - 1)
        marks.distractor("id.machine_number", machine, machine)
    inv.number = number
    meta.append(("发票号码", number, "invoice_number", None))
    meta.append(("开票日期", issued, "invoice_date", None))
    if not full:
        check = digits(rng, 20)
        meta.append(("校验码", " ".join(check[i : i + 5] for i in range(0, 20, 5)), None, "id.check_code"))
    meta_w = max(cv.measure(f"{label}：{value}", size) for label, value, _, _ in meta)
    mx = right - meta_w
    my = y if mx > mid + tw / 2 + 12 else y + title_size * 1.2 + 8
    for label, value, truth, dist in meta:
        end = cv.text(mx, my, f"{label}：", size, color=RED)
        cv.text(end, my, value, size, truth=truth, dist=(dist, value.replace(" ", "")) if dist else None,
                font=num_font if value.isdigit() else None)  # fmt: skip
        my += size * 1.6
    top = max(my, y + title_size * 2 + 4) + 6
    rows_h = size * 1.75
    party_h = max(rows_h * (2 if full else 4) + 8, 5 * size * 1.1 + 8)  # room for the vertical 购买方信息
    cv.rect(left, top, right, top + party_h, stroke=RED)
    label_w = 16.0
    if full:
        half = width / 2
        _vertical(cv, left + label_w / 2, top, top + party_h, "购买方信息", size - 1)
        _vertical(cv, left + half + label_w / 2, top, top + party_h, "销售方信息", size - 1)
        cv.line(left + label_w, top, left + label_w, top + party_h, color=RED)
        cv.line(left + half, top, left + half, top + party_h, color=RED)
        cv.line(left + half + label_w, top, left + half + label_w, top + party_h, color=RED)
        _party(cv, left + label_w + 4, top + 6, half - label_w - 8, inv.customer, seller=False, size=size - 0.5,
               full_electronic=True)  # fmt: skip
        _party(cv, left + half + label_w + 4, top + 6, half - label_w - 8, inv.vendor, seller=True, size=size - 0.5,
               full_electronic=True)  # fmt: skip
    else:
        cipher_x = left + width * 0.6
        _vertical(cv, left + label_w / 2, top, top + party_h, "购买方", size - 1)
        _vertical(cv, cipher_x + label_w / 2, top, top + party_h, "密码区", size - 1)
        for x in (left + label_w, cipher_x, cipher_x + label_w):
            cv.line(x, top, x, top + party_h, color=RED)
        _party(cv, left + label_w + 4, top + 5, cipher_x - left - label_w - 8, inv.customer, seller=False, size=size,
               full_electronic=False)  # fmt: skip
        for k in range(4):
            code = "".join(rng.choice("0123456789+-*/<>") for _ in range(27))
            cv.text(cipher_x + label_w + 4, top + 5 + k * rows_h, code, size, font="cour")
    y = _goods(cv, inv, rng, left, right, top + party_h, size, grouped, num_font, full)
    if not full:
        seller_h = rows_h * 4 + 8
        cv.rect(left, y, right, y + seller_h, stroke=RED)
        remark_x = left + width * 0.6
        _vertical(cv, left + label_w / 2, y, y + seller_h, "销售方", size - 1)
        _vertical(cv, remark_x + label_w / 2, y, y + seller_h, "备注", size - 1)
        for x in (left + label_w, remark_x, remark_x + label_w):
            cv.line(x, y, x, y + seller_h, color=RED)
        _party(cv, left + label_w + 4, y + 5, remark_x - left - label_w - 8, inv.vendor, seller=True, size=size,
               full_electronic=False)  # fmt: skip
        _remarks(cv, inv, remark_x + label_w + 4, y + 5, size, 4)
        y += seller_h
    else:
        remark_h = rows_h * 2 + 6
        cv.rect(left, y, right, y + remark_h, stroke=RED)
        _vertical(cv, left + label_w / 2, y, y + remark_h, "备注", size - 1)
        cv.line(left + label_w, y, left + label_w, y + remark_h, color=RED)
        _remarks(cv, inv, left + label_w + 4, y + 4, size, 2)
        y += remark_h
    names = [person(rng, "zh") for _ in range(3)]
    footer = ["收款人：", "复核：", "开票人："] if not full else ["开票人："]
    for k, label in enumerate(footer):
        x = left + 10 + k * width / 4
        end = cv.text(x, y + 8, label, size, color=RED)
        cv.text(end, y + 8, names[k], size, dist=("name.clerk", names[k]))
    if not full:
        cv.text(left + 10 + 3 * width / 4, y + 8, "销售方：（章）", size, color=RED)
    return cv


def _goods(cv: Canvas, inv: Invoice, rng: Random, left: float, right: float, top: float, size: float,
           grouped: bool, num_font: str | None, full: bool) -> float:  # fmt: skip
    """The goods table, its 合计 row and the 价税合计 row; returns the bottom."""
    width = right - left
    heads = ["项目名称" if full else "货物或应税劳务、服务名称", "规格型号", "单位", "数量", "单价", "金额",
             "税率/征收率" if full else "税率", "税额"]  # fmt: skip
    fractions = (0.27, 0.1, 0.06, 0.08, 0.13, 0.14, 0.08, 0.14)
    xs = [left]
    for f in fractions:
        xs.append(xs[-1] + width * f)
    line_h = size * 1.6
    y = top + 4
    for k, head in enumerate(heads):
        hs = size - 0.5 if cv.measure(head, size) < xs[k + 1] - xs[k] - 4 else size - 2
        cv.text((xs[k] + xs[k + 1]) / 2, y, head, hs, align="center", color=RED)
    y += line_h + 2
    taxes = _line_taxes(inv)
    for item, tax in zip(inv.items, taxes, strict=True):
        name = item.description
        ns = size
        while cv.measure(name, ns) > xs[1] - xs[0] - 4 and ns > 5:
            ns -= 0.5
        price = f"{item.unit_price:.2f}" if rng.random() < 0.6 else f"{item.unit_price:.8f}"
        cells = [(name, None), (rng.choice(_SPECS), None), (item.unit, None),
                 (f"{item.qty.normalize():f}", None), (price, ("amount.unit_price", item.unit_price)),
                 (_money(item.amount, grouped), ("amount.line", item.amount)), (f"{item.rate.normalize():f}%", None),
                 (_money(tax, grouped), ("amount.line_tax", tax))]  # fmt: skip
        for k, (text, dist) in enumerate(cells):
            if k == 0:
                cv.text(xs[0] + 3, y, text, ns)
            elif k <= 2:
                cv.text((xs[k] + xs[k + 1]) / 2, y, text, size, align="center")
            else:
                cv.text(xs[k + 1] - 3, y, text, size, align="right", dist=dist, font=num_font if k != 6 else None)
        y += line_h
    y = max(y + 4, top + (line_h * 9 if len(inv.items) < 8 else 0))
    cv.text((xs[0] + xs[1]) / 2, y, "合    计", size, align="center", color=RED)
    sub, tax_total = f"¥{_money(inv.subtotal, grouped)}", f"¥{_money(inv.tax, grouped)}"
    cv.text(xs[6] - 3, y, sub, size, align="right", truth="subtotal", font=num_font)
    cv.text(xs[8] - 3, y, tax_total, size, align="right", truth="tax", font=num_font)
    cv.marks.truth_value("currency", "¥")
    y += line_h + 2
    cv.rect(left, top, right, y, stroke=RED)
    row_h = line_h + 6
    cv.rect(left, y, right, y + row_h, stroke=RED)
    end = cv.text(left + 6, y + 4, "价税合计（大写）", size, color=RED)
    cv.line(end + 6, y, end + 6, y + row_h, color=RED)
    capitals = to_capitals(inv.total)
    mark = rng.choice(("ⓧ", "⊗", ""))
    cap_end = cv.text(end + 12, y + 4, f"{mark}{capitals}", size, truth="total")
    small_total = f"¥{_money(inv.total, grouped)}"
    label = "（小写）"
    x = max(left + width * 0.68, cap_end + 12)
    end = cv.text(x, y + 4, label, size, color=RED)
    cv.text(end, y + 4, small_total, size, truth="total", font=num_font)
    return y + row_h


def _remarks(cv: Canvas, inv: Invoice, x: float, y: float, size: float, max_lines: int) -> None:
    """备注: the buyer's PO number (truth) and other references (distractors), as many as fit."""
    lines: list[tuple[str, str, str | None, tuple[str, str] | None]] = []
    if inv.po_number:
        lines.append(("采购订单号", inv.po_number, "po_number", None))
    for key, label in (("order_number", "订单号"), ("contract_number", "合同编号"), ("customer_number", "客户编号"),
                       ("delivery_note", "送货单号")):  # fmt: skip
        if key in inv.refs:
            lines.append((label, inv.refs[key], None, (f"id.{key}", inv.refs[key])))
    for label, value, truth, dist in lines[:max_lines]:
        end = cv.text(x, y, f"{label}：", size - 0.5)
        cv.text(end, y, value, size - 0.5, truth=truth, dist=dist)
        y += size * 1.5
