"""Blocks about the parties and the money's way: letterhead, sender line, address blocks, payment
terms and bank details, tax notes, and the footers and page bands drawn on every page."""

from __future__ import annotations

from .blocks import GREY, Ctx, Row, meta_beside, meta_width
from .canvas import Canvas
from .company import Company, person
from .formats import NBSP
from .locale import country_name
from .phrases import phrase


def letterhead(ctx: Ctx, x: float, y: float, *, align: str = "left", name_size: float = 16,
               contacts: bool = True, vat: bool = False, max_width: float | None = None) -> float:  # fmt: skip
    """Vendor name in large bold type, then address and contact lines."""
    v, cv, small = ctx.inv.vendor, ctx.cv, ctx.size - 0.5
    max_width = max_width or ctx.width * 0.6
    while cv.measure(v.name, name_size, bold=True) > max_width and name_size > ctx.size + 1:
        name_size -= 0.5
    names = cv.wrap(v.name, name_size, max_width, bold=True)
    for line in names:
        cv.text(x, y, line, name_size, bold=True, align=align, truth="vendor_name" if len(names) == 1 else None)
        y += name_size * 1.3
    if len(names) > 1:
        cv.marks.truth_value("vendor_name", v.name)
    y += name_size * 0.2
    lines = v.address_lines()
    if ctx.rng.random() < 0.4 and ctx.lang != "zh":
        lines = [" · ".join(lines)]
    if contacts:
        lines.append(f"{ctx.label('phone')} {v.phone}")
        lines.append(v.email if not v.web or ctx.rng.random() < 0.5 else f"{v.email} · {v.web}")
    for line in [part for text in lines for part in cv.wrap(text, small, max_width)]:
        cv.text(x, y, line, small, align=align, dist=("phone", v.phone) if v.phone in line else None)
        y += small * 1.35
    if vat and ctx.inv.show["vendor_vat"] and "vendor_vat" not in ctx.placed:
        text = f"{ctx.with_colon(ctx.label('vat_id'))} "
        value = v.vat_print or ""
        width = cv.measure(text + value, small)
        if width > max_width:  # label and id on two lines rather than past the column
            cv.text(x, y, text.strip(), small, align=align)
            y += small * 1.35
            cv.text(x, y, value, small, align=align, truth="vendor_vat_id")
        else:
            start = x - width if align == "right" else x - width / 2 if align == "center" else x
            end = cv.text(start, y, text, small)
            cv.text(end, y, value, small, truth="vendor_vat_id")
        ctx.placed.add("vendor_vat")
        y += small * 1.35
    return y


def sender_line(ctx: Ctx, x: float, y: float, width: float) -> float:
    v = ctx.inv.vendor
    text = (
        " · ".join([v.name, *v.address_lines()]) if ctx.rng.random() < 0.6 else ", ".join([v.name, *v.address_lines()])
    )
    size = 6.5
    while ctx.cv.measure(text, size) > width and size > 5:
        size -= 0.5
    end = ctx.cv.text(x, y, text, size)
    ctx.cv.line(x, y + size * 1.15, end, y + size * 1.15, width=0.3)
    return y + size * 2


def party_block(ctx: Ctx, x: float, y: float, party: Company, *, heading: str | None = None,
                role: str = "customer", width: float = 220, size: float | None = None) -> float:  # fmt: skip
    """An address block: optional heading, name, attention line, street, city, country, VAT id."""
    cv, size = ctx.cv, size or ctx.size + 0.5
    if heading:
        cv.text(x, y, heading, size - 1.5, bold=True, color=GREY if ctx.rng.random() < 0.5 else (0, 0, 0))
        y += size * 1.4
    is_customer = role == "customer"
    names = cv.wrap(party.name, size, width, bold=ctx.rng.random() < 0.5)
    for i, line in enumerate(names):
        whole = len(names) == 1
        cv.text(
            x,
            y,
            line,
            size,
            truth="customer_name" if is_customer and whole else None,
            dist=None if is_customer or party.name == _customer_name(ctx) else ("name.ship_to", party.name),
        )
        if is_customer and not whole and i == 0:
            ctx.cv.marks.truth_value("customer_name", party.name)
        y += size * 1.3
    if is_customer and ctx.rng.random() < 0.3 and ctx.lang != "zh":
        person = party.contact or _person_for(ctx)
        cv.text(x, y, phrase(ctx.rng, "attention", ctx.lang).format(p=person), size, dist=("name.person", person))
        y += size * 1.3
    for line in party.address_lines():
        cv.text(x, y, line, size)
        y += size * 1.3
    if party.country != ctx.inv.country or ctx.rng.random() < 0.1:
        cv.text(x, y, country_name(party.country, ctx.lang).upper(), size)
        y += size * 1.3
    if is_customer and ctx.inv.show["customer_vat"] and "customer_vat" not in ctx.placed and ctx.rng.random() < 0.6:
        label = ctx.with_colon(ctx.label("customer_vat_id" if ctx.rng.random() < 0.5 else "vat_id"))
        end = cv.text(x, y, label, size - 1)
        if end + 3 + cv.measure(party.vat_print or "", size - 1) > x + width:
            end, y = x - 3, y + size * 1.3  # narrow column: the id under its label
        cv.text(end + 3, y, party.vat_print or "", size - 1, truth="customer_vat_id")
        ctx.placed.add("customer_vat")
        y += size * 1.3
    return y


def _customer_name(ctx: Ctx) -> str | None:
    return ctx.inv.customer.name if ctx.inv.customer else None


def _person_for(ctx: Ctx) -> str:
    return person(ctx.rng, ctx.lang)


def payment_block(ctx: Ctx, x: float, y: float, width: float, *, bank: bool = True, terms: bool = True) -> float:
    """Payment terms (with the due date unless the metadata showed it) and the vendor's bank details."""
    inv, cv, size, rng = ctx.inv, ctx.cv, ctx.size, ctx.rng
    if terms:
        if inv.due_date and "due_date" not in ctx.placed:
            due = ctx.fmt.date(inv.due_date)
            cv.marks.truth_value("due_date", due)
            y = cv.paragraph(x, y, width, phrase(rng, "terms_date", ctx.lang).format(date=due.replace(" ", NBSP)), size)
            ctx.placed.add("due_date")
        elif rng.random() < 0.7:
            y = cv.paragraph(x, y, width, phrase(rng, "terms_days", ctx.lang).format(days=inv.payment_days), size)
    if inv.customer_iban:
        mandate = "Mandate" if ctx.lang == "en" else "Mandat"
        account = f"{inv.customer_iban[:4]} {inv.customer_iban[4:]}"
        text = f"SEPA: {ctx.label('iban')} {account} ({mandate} {inv.number[:3]}-{inv.issued.year})"
        y = cv.paragraph(x, y, width, text, size - 1)
        cv.marks.distractor("iban.customer", inv.customer_iban, inv.customer_iban)
    if bank:
        y = bank_lines(ctx, x, y, width, size)
    return y


def bank_lines(ctx: Ctx, x: float, y: float, width: float, size: float) -> float:
    v, cv, inv = ctx.inv.vendor, ctx.cv, ctx.inv
    if inv.show["iban"] and "iban" not in ctx.placed:
        rows = [Row(ctx.label("bank"), v.bank or ""), Row(ctx.label("iban"), v.iban_print or "", truth="iban")]
        if (v.bank or "").split(" ")[0] == rows[0].label:
            rows[0].label = ""  # 'Bank: Bank Pustopralux' reads badly
        if v.bic:
            rows.append(Row(ctx.label("bic"), v.bic))
        if meta_width(ctx, rows, size) > width:
            for row in rows:  # a narrow column: each value under its label
                cv.text(x, y, ctx.with_colon(row.label), size, color=GREY)
                value_size = size
                while cv.measure(row.value, value_size) > width and value_size > 5:
                    value_size -= 0.5
                cv.text(x, y + size * 1.3, row.value, value_size, truth=row.truth)
                y += size * 2.7
        elif ctx.rng.random() < 0.5:
            y = meta_beside(ctx, x, y + 2, rows, size=size)
        else:
            for row in rows:
                end = cv.text(x, y, ctx.with_colon(row.label), size)
                cv.text(end + 4, y, row.value, size, truth=row.truth)
                y += size * 1.35
        ctx.placed.add("iban")
    elif "account" in v.extra and "iban" not in ctx.placed:
        extra = v.extra
        text = (
            f"{v.bank or ''} · Routing {extra['routing']} · Account {extra['account']}"
            if "routing" in extra
            else extra["account"]
        )
        y = cv.paragraph(x, y, width, text, size)
        cv.marks.distractor("id.account", extra["account"], extra["account"])
        ctx.placed.add("iban")
    return y


def notes(ctx: Ctx, x: float, y: float, width: float, *, thanks: bool = True) -> float:
    """Tax notes (reverse charge, exemption), and sometimes a thank-you line."""
    inv, size = ctx.inv, ctx.size - 0.5
    if inv.vat_mode == "reverse":
        y = ctx.cv.paragraph(x, y, width, phrase(ctx.rng, "reverse_charge", ctx.lang), size) + 2
    elif inv.vat_mode == "exempt":
        y = ctx.cv.paragraph(x, y, width, phrase(ctx.rng, "exempt", ctx.lang), size) + 2
    if thanks and ctx.rng.random() < 0.5:
        y = ctx.cv.paragraph(x, y, width, phrase(ctx.rng, "thanks", ctx.lang), size)
    return y


def leftovers(ctx: Ctx, x: float, y: float) -> float:
    """Print the shown tax ids and IBAN that no other block of the family has printed yet."""
    inv, cv, size = ctx.inv, ctx.cv, ctx.size - 0.5
    todo: list[tuple[str, str, str, str]] = []
    if inv.show["vendor_vat"] and "vendor_vat" not in ctx.placed:
        todo.append(("vendor_vat", ctx.label("vat_id"), inv.vendor.vat_print or "", "vendor_vat_id"))
    if inv.customer and inv.show["customer_vat"] and "customer_vat" not in ctx.placed:
        todo.append(("customer_vat", ctx.label("customer_vat_id"), inv.customer.vat_print or "", "customer_vat_id"))
    if inv.show["iban"] and "iban" not in ctx.placed:
        todo.append(("iban", ctx.label("iban"), inv.vendor.iban_print or "", "iban"))
    for key, label, value, truth in todo:
        end = cv.text(x, y, ctx.with_colon(label), size)
        cv.text(end + 4, y, value, size, truth=truth)
        ctx.placed.add(key)
        y += size * 1.4
    return y


FooterLine = tuple[str, str | None, str]  # printed text, truth field it carries, the value part


def footer_columns(ctx: Ctx) -> list[list[FooterLine]]:
    """Footer content as columns of lines: registry, bank and tax data."""
    v, inv = ctx.inv.vendor, ctx.inv
    first: list[FooterLine] = [(v.name, None, ""), *[(line, None, "") for line in v.address_lines()]]
    contact: list[FooterLine] = [(f"{ctx.label('phone')} {v.phone}", None, "")]
    if v.fax:
        contact.append((f"{ctx.label('fax')} {v.fax}", None, ""))
    contact.append((v.email, None, ""))
    if v.web:
        contact.append((v.web, None, ""))
    columns = [first, contact]
    if inv.show["iban"] and "iban" not in ctx.placed:
        bank: list[FooterLine] = [
            (v.bank or "", None, ""),
            (f"{ctx.label('iban')} {v.iban_print}", "iban", v.iban_print or ""),
        ]
        if v.bic:
            bank.append((f"{ctx.label('bic')} {v.bic}", None, ""))
        columns.append(bank)
        ctx.placed.add("iban")
    legal: list[FooterLine] = []
    if v.registry:
        legal.append((v.registry, None, ""))
    if v.director and ctx.lang != "zh":
        legal.append((f"{ctx.label('director')}: {v.director}", None, ""))
    if inv.show["vendor_vat"] and "vendor_vat" not in ctx.placed:
        legal.append((f"{ctx.with_colon(ctx.label('vat_id'))} {v.vat_print}", "vendor_vat_id", v.vat_print or ""))
        ctx.placed.add("vendor_vat")
    if v.national_id:
        legal.append((f"{_national_label(v.national_id[0], ctx.lang)} {v.national_id[1]}", None, ""))
    if legal:
        columns.append(legal)
    return columns


def _national_label(kind: str, language: str) -> str:
    return {"tax_number": "St.-Nr." if language == "de" else "Tax No.", "siret": "SIRET", "tax_code": "C.F.",
            "kvk": "KvK", "company_no": "Company No.", "regon": "REGON", "registry": "Reg. Merc."}[kind]  # fmt: skip


def install_footer(ctx: Ctx, *, size: float = 6.5, rule: bool = True) -> None:
    """Register a footer drawn on every page (columns sized to their content); moves ctx.bottom above it."""
    columns = footer_columns(ctx)
    gap = 10.0

    def natural(col: list[FooterLine], s: float) -> float:
        return max(ctx.cv.measure(text, s) for text, _, _ in col)

    while size > 5.0 and sum(natural(c, size) for c in columns) + gap * (len(columns) - 1) > ctx.width:
        size -= 0.25
    widths = [natural(c, size) for c in columns]
    spare = max(0.0, ctx.width - sum(widths) - gap * (len(columns) - 1))
    widths = [w + spare / len(columns) for w in widths]
    wrapped: list[list[FooterLine]] = []
    for col, width in zip(columns, widths, strict=True):
        lines: list[FooterLine] = []
        for text, truth, value in col:
            lines += [(part, truth, value) for part in ([text] if truth else ctx.cv.wrap(text, size, width))]
        wrapped.append(lines)
    height = max(len(c) for c in wrapped) * size * 1.3 + 8
    top = ctx.cv.height - 28 - height
    ctx.bottom = min(ctx.bottom, top - 10)
    starts = [ctx.left + sum(widths[:i]) + gap * i for i in range(len(columns))]

    def draw(cv: Canvas, index: int, count: int) -> None:
        if rule:
            cv.line(ctx.left, top, ctx.right, top, width=0.4, color=GREY)
        for x, col in zip(starts, wrapped, strict=True):
            y = top + 6
            for text, truth, value in col:
                cv.text(x, y, text, size, color=(0.25, 0.25, 0.25))
                if truth and index == 0:
                    cv.marks.truth_value(truth, value)
                y += size * 1.3

    ctx.cv.page_hooks.append(draw)


def install_page_numbers(ctx: Ctx, *, always: bool = False) -> None:
    """'Seite 1 von 2' in the top or bottom band of every page (only on multi-page documents unless always)."""
    template = ctx.label("page")
    at_top = ctx.rng.random() < 0.4
    size = 7.0

    def draw(cv: Canvas, index: int, count: int) -> None:
        if count == 1 and not always:
            return
        text = template.format(i=index + 1, k=count)
        y = 16 if at_top else cv.height - 20
        cv.text(ctx.right, y, text, size, align="right", dist=("page", index + 1))

    ctx.cv.page_hooks.append(draw)


def install_print_stamp(ctx: Ctx) -> None:
    stamp = ctx.inv.printed_at
    if stamp is None:
        return
    text = f"{ctx.label('printed')} {ctx.fmt.timestamp(stamp)}"

    def draw(cv: Canvas, index: int, count: int) -> None:
        if index == 0:
            cv.text(ctx.left, cv.height - 20, text, 6.5, color=GREY, dist=("date.printed", stamp.date()))

    ctx.cv.page_hooks.append(draw)
