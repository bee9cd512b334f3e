"""What a synthetic invoice says, before any layout: parties, numbers, dates, line items and
consistent arithmetic (Decimal, cents), the optional fields it shows and the truth they make."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from random import Random

from . import ids as ids
from .company import Company, make_company, person
from .formats import CENT, Fmt, make_fmt
from .locale import COUNTRIES, VENDOR_COUNTRIES
from .phrases import UNITS, item_text

TRUTH_KEYS = ("invoice_number", "invoice_date", "due_date", "currency", "total", "subtotal", "tax", "vendor_name",
              "vendor_vat_id", "customer_name", "customer_vat_id", "iban", "po_number")  # fmt: skip
_EU_CUSTOMERS = ("DE", "FR", "NL", "BE", "AT", "IT", "ES", "CZ", "PL", "IE")


@dataclass
class Item:
    description: str
    sku: str
    qty: Decimal
    unit: str
    unit_price: Decimal
    rate: Decimal
    discount: Decimal  # percent, 0 when none
    amount: Decimal


@dataclass
class TaxLine:
    rate: Decimal
    base: Decimal
    tax: Decimal


@dataclass
class Options:
    """What a layout family wants from the content (item counts, whether a customer is printed ...)."""

    items: tuple[int, int] | None = None
    customer: float = 1.0
    ship_to: float = 0.0
    discounts: bool = True


@dataclass
class Invoice:
    language: str
    country: str
    fmt: Fmt
    vendor: Company
    customer: Company | None
    ship_to: Company | None
    number: str
    number_shape: int
    issued: date
    due_date: date | None
    payment_days: int
    po_number: str | None
    refs: dict[str, str]  # order_number, customer_number, delivery_note, contract_number, associated_invoice
    other_dates: dict[str, date]  # delivery_date, order_date
    period: tuple[date, date] | None
    printed_at: datetime | None
    items: list[Item]
    items_total: Decimal
    discount_pct: Decimal | None
    discount: Decimal
    subtotal: Decimal
    tax_lines: list[TaxLine]
    tax: Decimal
    total: Decimal
    deposit: Decimal | None
    vat_mode: str  # normal | reverse | exempt (no VAT shown: small business, US without sales tax)
    show: dict[str, bool] = field(default_factory=dict)
    contact: str | None = None
    customer_iban: str | None = None

    @property
    def currency(self) -> str:
        return self.fmt.currency

    @property
    def amount_due(self) -> Decimal | None:
        return None if self.deposit is None else self.total - self.deposit

    def truth(self) -> dict[str, str | None]:
        s = self.show
        cust = self.customer
        return {
            "invoice_number": self.number,
            "invoice_date": self.issued.isoformat(),
            "due_date": self.due_date.isoformat() if self.due_date else None,
            "currency": self.currency,
            "total": f"{self.total:.2f}",
            "subtotal": f"{self.subtotal:.2f}" if s["subtotal"] else None,
            "tax": f"{self.tax:.2f}" if s["tax"] else None,
            "vendor_name": self.vendor.name,
            "vendor_vat_id": self.vendor.vat_id if s["vendor_vat"] else None,
            "customer_name": cust.name if cust else None,
            "customer_vat_id": cust.vat_id if cust and s["customer_vat"] else None,
            "iban": self.vendor.iban if s["iban"] else None,
            "po_number": self.po_number,
        }


def _money(rng: Random) -> Decimal:
    value = math.exp(rng.uniform(math.log(0.8), math.log(4000)))
    ending = rng.random()
    whole = Decimal(int(value))
    if ending < 0.25:
        return max(whole, Decimal(1))
    if ending < 0.4:
        return whole + Decimal("0.90") if whole < 100 else whole + Decimal("0.50")
    return (Decimal(str(round(value, 2)))).quantize(CENT)


def _qty(rng: Random) -> Decimal:
    roll = rng.random()
    if roll < 0.5:
        return Decimal(1)
    if roll < 0.85:
        return Decimal(rng.choice((2, 2, 3, 4, 5, 6, 8, 10, 12, 20, 24, 50, 100)))
    return Decimal(rng.choice(("0.5", "1.5", "2.5", "3.75", "7.5", "12.25")))


def _tax(base: Decimal, rate: Decimal) -> Decimal:
    return (base * rate / 100).quantize(CENT, rounding=ROUND_HALF_UP)


def _item_count(rng: Random, opts: Options) -> int:
    if opts.items:
        return rng.randint(*opts.items)
    roll = rng.random()
    if roll < 0.4:
        return rng.randint(1, 3)
    if roll < 0.75:
        return rng.randint(4, 8)
    return rng.randint(9, 15) if roll < 0.92 else rng.randint(16, 25)


def _distinct_date(rng: Random, base: date, low: int, high: int, avoid: list[date]) -> date:
    """A date near `base` that equals no date in `avoid`, also read day-first versus month-first."""
    banned = set(avoid)
    for a in avoid:
        if a.day <= 12:
            banned.add(date(a.year, a.day, a.month))
    for _ in range(100):
        candidate = base + timedelta(days=rng.randint(low, high))
        if candidate not in banned:
            return candidate
    return base + timedelta(days=high + 37)  # pragma: no cover


def build_invoice(rng: Random, language: str, opts: Options) -> Invoice:
    """Draw the content of one invoice; arithmetic and distinctness hold by construction."""
    country = "CN" if language == "zh" else rng.choice(VENDOR_COUNTRIES[language])
    info = COUNTRIES[country]
    currency = info.currency
    if country in ("PL", "CZ", "GB", "CH") and rng.random() < 0.3:
        currency = "EUR"
    fmt = make_fmt(rng, language, country, currency)
    vendor = make_company(rng, country, language)
    customer = ship_to = None
    if rng.random() < opts.customer:
        if country in ("CN", "US"):
            cust_country = country
        else:
            cross = (info.eu or country in ("GB", "CH")) and rng.random() < 0.25
            cust_country = rng.choice([c for c in _EU_CUSTOMERS if c != country]) if cross else country
        customer = make_company(rng, cust_country, language if cust_country == country else "en", with_bank=False)
        if rng.random() < opts.ship_to:
            ship_to = make_company(rng, cust_country, language, with_bank=False)
            ship_to.name = customer.name if rng.random() < 0.6 else ship_to.name
    vat_mode = "normal"
    if customer and customer.country != country and rng.random() < 0.85:
        vat_mode = "reverse" if info.eu or country in ("GB", "CH") else "exempt"
    small_business = country in ("DE", "AT", "FR", "IT", "NL") and rng.random() < 0.08
    if vat_mode == "normal" and (small_business or (country == "US" and rng.random() < 0.35)):
        vat_mode = "exempt"

    issued = date(2019, 1, 1) + timedelta(days=rng.randint(0, 8 * 365))
    shape = ids.invoice_number_shape(rng)
    number = ids.invoice_number(rng, shape, language, issued)
    days = rng.choice((7, 10, 14, 14, 21, 30, 30, 30, 45, 60))
    due = issued + timedelta(days=days) if rng.random() < 0.7 else None
    truth_dates = [issued] + ([due] if due else [])
    other_dates: dict[str, date] = {}
    if rng.random() < 0.35:
        other_dates["delivery_date"] = _distinct_date(rng, issued, -20, -1, truth_dates)
    if rng.random() < 0.25:
        other_dates["order_date"] = _distinct_date(rng, issued, -45, -5, truth_dates + list(other_dates.values()))
    period = None
    if rng.random() < 0.15:
        first = (issued.replace(day=1) - timedelta(days=1)).replace(day=1)
        last = issued.replace(day=1) - timedelta(days=1)
        if not {first, last} & set(truth_dates):
            period = (first, last)
    printed_at = None
    if rng.random() < 0.2:
        stamp = _distinct_date(rng, issued, 1, 12, truth_dates + list(other_dates.values()))
        printed_at = datetime.combine(stamp, time(rng.randint(7, 19), rng.randint(0, 59)))

    refs: dict[str, str] = {}
    for key, kind, p in (("customer_number", "customer", 0.55), ("order_number", "order", 0.3),
                         ("delivery_note", "delivery", 0.25), ("contract_number", "contract", 0.1)):  # fmt: skip
        if rng.random() < p:
            refs[key] = ids.reference(rng, kind, issued)
    if rng.random() < 0.15:
        refs["associated_invoice"] = ids.invoice_number(rng, shape, language, issued - timedelta(days=40))
    po = ids.reference(rng, "po", issued) if rng.random() < 0.4 else None

    rates = info.rates
    if vat_mode != "normal":
        rates = (Decimal(0),)
    count = _item_count(rng, opts)
    mixed = vat_mode == "normal" and len(rates) > 1 and count > 1 and rng.random() < (0.5 if country == "CN" else 0.2)
    line_discounts = opts.discounts and rng.random() < 0.1
    doc_discount = opts.discounts and (count == 1 or (not mixed and rng.random() < 0.12))
    units = UNITS[language]
    items: list[Item] = []
    for _ in range(count):
        qty, price = _qty(rng), _money(rng)
        if price * qty > 5000:
            qty = Decimal(rng.choice((1, 1, 2, 3)))
        disc = Decimal(rng.choice((0, 0, 5, 10, 15))) if line_discounts else Decimal(0)
        amount = (qty * price * (100 - disc) / 100).quantize(CENT, rounding=ROUND_HALF_UP)
        rate = rng.choice(rates[:2]) if mixed else rates[0]
        sku = f"{rng.choice('ABCDEFHKMPRSTW')}{ids.digits(rng, rng.choice((4, 5, 6)))}"
        items.append(Item(item_text(rng, language), sku, qty, rng.choice(units), price, rate, disc, amount))
    if mixed and len({i.rate for i in items}) < 2:
        items[-1].rate = rates[1] if items[0].rate == rates[0] else rates[0]
    items_total = sum((i.amount for i in items), Decimal(0))
    pct = Decimal(rng.choice((2, 3, 5, 10))) if doc_discount else None
    discount = (items_total * pct / 100).quantize(CENT, rounding=ROUND_HALF_UP) if pct else Decimal(0)
    subtotal = items_total - discount
    tax_lines: list[TaxLine] = []
    for rate in sorted({i.rate for i in items}, reverse=True):
        base = sum((i.amount for i in items if i.rate == rate), Decimal(0))
        if pct:
            base = subtotal  # a document discount only comes with a single rate
        tax_lines.append(TaxLine(rate, base, _tax(base, rate)))
    tax = sum((t.tax for t in tax_lines), Decimal(0))
    total = subtotal + tax
    deposit = None
    if rng.random() < 0.08 and total > 200:
        share = Decimal(rng.choice(("0.2", "0.3", "0.5")))
        deposit = max((total * share / 50).quantize(Decimal(1)) * 50, Decimal(100))

    show = {
        "subtotal": vat_mode != "exempt" and rng.random() < 0.95,
        "tax": vat_mode != "exempt",
        "vendor_vat": vendor.vat_id is not None and rng.random() < (1.0 if country == "CN" else 0.88),
        "customer_vat": bool(customer and customer.vat_id) and (vat_mode == "reverse" or rng.random() < 0.3),
        "iban": vendor.iban is not None and rng.random() < (0.5 if country == "GB" else 0.88),
    }
    invoice = Invoice(
        language=language, country=country, fmt=fmt, vendor=vendor, customer=customer, ship_to=ship_to,
        number=number, number_shape=shape, issued=issued, due_date=due, payment_days=days, po_number=po, refs=refs,
        other_dates=other_dates, period=period, printed_at=printed_at, items=items, items_total=items_total,
        discount_pct=pct, discount=discount, subtotal=subtotal, tax_lines=tax_lines, tax=tax, total=total,
        deposit=deposit, vat_mode=vat_mode, show=show,
    )  # fmt: skip
    if rng.random() < 0.3:
        invoice.contact = person(rng, language)
    if vendor.iban and rng.random() < 0.06 and customer and customer.country in ids.IBAN_LENGTH:
        invoice.customer_iban = ids.iban(rng, customer.country)
    return invoice
