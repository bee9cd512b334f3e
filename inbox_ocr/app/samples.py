"""Sample documents and messages the project generates itself: the demo Maildir and test fixtures.

PDFs are drawn with pymupdf as a real invoice is laid out (labels with values to their right,
a totals block, a footer with bank details), so the text layer has real positions.
"""

from __future__ import annotations

import email.utils
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path

from inbox_ocr.read.mupdf import pymupdf


@dataclass(frozen=True)
class SampleDoc:
    title: str                                 # "INVOICE", "CREDIT NOTE", "Zahlungserinnerung" ...
    vendor: tuple[str, ...]                    # name and address lines
    header: tuple[tuple[str, str], ...]        # (label, value) pairs at the top right
    lines: tuple[tuple[str, str, str, str], ...] = ()  # description, qty, unit price, amount
    totals: tuple[tuple[str, str], ...] = ()   # (label, value) pairs under the items
    footer: tuple[str, ...] = ()
    body: tuple[str, ...] = ()                 # free paragraphs (letters, agendas)
    customer: tuple[str, ...] = ("Example Buyer GmbH", "Kundenweg 5", "10115 Berlin")


def render_pdf(doc: SampleDoc) -> bytes:
    """Draw `doc` on an A4 page and return the PDF bytes (with a real text layer). The fonts are
    embedded (Helvetica's metric twins that MuPDF carries, subset): the base-14 fonts' simple
    encoding has no €, which came out as "·"."""
    pdf = pymupdf.open()
    page = pdf.new_page(width=595, height=842)
    page.insert_font(fontname="F1", fontbuffer=pymupdf.Font("helv").buffer)
    page.insert_font(fontname="F2", fontbuffer=pymupdf.Font("hebo").buffer)

    def write(x: float, y: float, text: str, size: float, bold: bool = False) -> None:
        page.insert_text((x, y), text, fontsize=size, fontname="F2" if bold else "F1")

    y = 60.0
    write(50, y, doc.vendor[0], 14, bold=True)
    for line in doc.vendor[1:]:
        y += 14
        write(50, y, line, 9)
    write(50, 170, doc.title, 18, bold=True)
    hy = 60.0
    for label, value in doc.header:
        write(340, hy, label, 9, bold=True)
        write(460, hy, value, 9)
        hy += 14
    cy = 200.0
    for line in doc.customer:
        write(50, cy, line, 10)
        cy += 13
    y = max(cy, hy) + 30
    for paragraph in doc.body:
        write(50, y, paragraph, 10)
        y += 16
    if doc.lines:
        y += 10
        for x, head in ((50, "Description"), (330, "Qty"), (390, "Unit price"), (490, "Amount")):
            write(x, y, head, 9, bold=True)
        y += 16
        for desc, qty, unit, amount in doc.lines:
            write(50, y, desc, 9)
            write(330, y, qty, 9)
            write(390, y, unit, 9)
            write(490, y, amount, 9)
            y += 14
    y += 16
    for label, value in doc.totals:
        write(330, y, label, 10, bold=True)
        write(490, y, value, 10)
        y += 15
    fy = 780.0
    for line in doc.footer:
        write(50, fy, line, 8)
        fy += 11
    pdf.subset_fonts()
    data = pdf.tobytes(garbage=3, deflate=True)
    pdf.close()
    return data


@dataclass(frozen=True)
class SampleMessage:
    name: str
    subject: str
    sender: str
    body: str
    attachments: tuple[tuple[str, str, bytes], ...] = ()  # filename, mime type, data
    raw: bytes | None = None                              # a hand-made (malformed) message
    extra_headers: dict[str, str] = field(default_factory=dict)


def build_message(sample: SampleMessage, to: str = "ap@example.com", when: datetime | None = None) -> bytes:
    if sample.raw is not None:
        return sample.raw
    msg = EmailMessage()
    msg["From"] = sample.sender
    msg["To"] = to
    msg["Subject"] = sample.subject
    msg["Date"] = email.utils.format_datetime(when or datetime(2026, 11, 2, 9, 30, tzinfo=UTC))
    msg["Message-ID"] = f"<{sample.name}@demo.inbox-ocr.invalid>"
    for k, v in sample.extra_headers.items():
        msg[k] = v
    msg.set_content(sample.body)
    for filename, mime, data in sample.attachments:
        maintype, subtype = mime.split("/", 1)
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


_BANK = ("Acme Office Supplies Ltd · 12 Harbour Road · Bristol BS1 5TT · VAT GB 123 4567 89",
         "Bank: Example Bank · IBAN DE89 3704 0044 0532 0130 00 · BIC COBADEFFXXX")


def invoice_doc(number: str = "INV-2026-0042", total: str = "1,234.56", net: str = "1,028.80",
                tax: str = "205.76", currency_symbol: str = "€") -> SampleDoc:
    return SampleDoc(
        title="INVOICE",
        vendor=("Acme Office Supplies Ltd", "12 Harbour Road", "Bristol BS1 5TT", "United Kingdom"),
        header=(("Invoice No.:", number), ("Invoice Date:", "02/11/2026"), ("Due Date:", "02/12/2026"),
                ("PO Number:", "PO-7781"), ("VAT ID:", "GB123456789")),
        lines=_lines_adding_up_to(net),
        totals=(("Subtotal:", f"{currency_symbol}{net}"), ("VAT 20%:", f"{currency_symbol}{tax}"),
                ("Total due:", f"{currency_symbol}{total}")),
        footer=_BANK,
    )


def _lines_adding_up_to(net: str) -> tuple[tuple[str, str, str, str], ...]:
    """Line items whose amounts add up to the printed subtotal (qty x unit price = amount)."""
    paper = Decimal("260.00")
    total = Decimal(net.replace(",", ""))
    if total == Decimal("1028.80"):
        return (("Printer paper A4, 80 g", "40", "6.50", "260.00"), ("Toner cartridge black", "8", "96.10", "768.80"))
    if total <= paper:
        return (("Office supplies", "1", f"{total:,.2f}", f"{total:,.2f}"),)
    rest = total - paper
    return (("Printer paper A4, 80 g", "40", "6.50", "260.00"),
            ("Office furniture", "1", f"{rest:,.2f}", f"{rest:,.2f}"))


def demo_messages() -> list[SampleMessage]:
    """The messages `inbox-ocr demo seed` puts into the demo Maildir."""
    invoice = render_pdf(invoice_doc())
    large = render_pdf(invoice_doc(number="INV-2026-0043", total="18,600.00", net="15,500.00", tax="3,100.00"))
    credit = render_pdf(SampleDoc(
        title="Gutschrift",
        vendor=("Lieferant GmbH", "Lieferantenstraße 20", "80333 München"),
        header=(("Gutschrift Nr.:", "GS-2026-117"), ("Datum:", "28.10.2026"), ("Zu Rechnung:", "R-2026-0981"),
                ("USt-IdNr.:", "DE123456789")),
        lines=(("Rücksendung Bürostuhl", "1", "250,00", "250,00"),),
        totals=(("Nettobetrag:", "250,00 EUR"), ("MwSt. 19 %:", "47,50 EUR"), ("Gutschriftsbetrag:", "297,50 EUR")),
        footer=("Lieferant GmbH · Geschäftsführer: Hans Muster · IBAN DE89 3704 0044 0532 0130 00",),
    ))
    reminder = render_pdf(SampleDoc(
        title="PAYMENT REMINDER",
        vendor=("Northwind Hosting B.V.", "Keizersgracht 100", "1015 CX Amsterdam"),
        header=(("Reminder date:", "15/11/2026"), ("Invoice No.:", "NW-55120"), ("Customer No.:", "C-20931")),
        body=("Dear customer,",
              "our records show that invoice NW-55120 of 01/10/2026 is overdue.",
              "Please pay the outstanding amount within 7 days. This is our first reminder."),
        totals=(("Outstanding amount:", "€ 89.00"),),
        footer=("Northwind Hosting B.V. · VAT NL123456789B01 · IBAN NL91 ABNA 0417 1643 00",),
    ))
    agenda = render_pdf(SampleDoc(
        title="Team offsite agenda",
        vendor=("Finance team", "Internal"),
        header=(("Date:", "04/12/2026"),),
        body=("09:00 Welcome and coffee", "10:00 Closing the year: what is left",
              "13:00 Lunch", "14:00 Automating the AP inbox"),
        customer=("All staff",),
    ))
    malformed = (
        b"From: Broken Mailer <noreply@broken.example>\r\n"
        b"To: ap@example.com\r\n"
        b"Subject: Invoice attached (broken)\r\n"
        b"Message-ID: <malformed@demo.inbox-ocr.invalid>\r\n"
        b"MIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=\"never-closed\"\r\n\r\n"
        b"--never-closed\r\nContent-Type: text/plain; charset=x-unknown-charset\r\n\r\n"
        b"Please find the invoice attached.\r\n"
        b"--never-closed\r\nContent-Type: application/pdf; name=\"invoice.pdf\"\r\n"
        b"Content-Disposition: attachment; filename=\"invoice.pdf\"\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n"
        b"JVBERi0xLjQKJcfs\r\n!!!! this is not base64 and the PDF is cut off\r\n"
    )
    return [
        SampleMessage("invoice", "Invoice INV-2026-0042", "Acme Billing <billing@acme-supplies.example>",
                      "Dear customer,\n\nplease find our invoice attached.\n\nAcme Office Supplies",
                      (("INV-2026-0042.pdf", "application/pdf", invoice),)),
        SampleMessage("large-invoice", "Invoice INV-2026-0043", "Acme Billing <billing@acme-supplies.example>",
                      "Dear customer,\n\nour invoice for the furniture order is attached.",
                      (("INV-2026-0043.pdf", "application/pdf", large),)),
        SampleMessage("credit-note", "Gutschrift GS-2026-117", "Buchhaltung <buchhaltung@lieferant.example>",
                      "Sehr geehrte Damen und Herren,\n\nanbei unsere Gutschrift.",
                      (("Gutschrift_GS-2026-117.pdf", "application/pdf", credit),)),
        SampleMessage("reminder", "Payment reminder NW-55120", "Northwind Billing <billing@northwind.example>",
                      "Dear customer,\n\nplease see the attached reminder.",
                      (("reminder-NW-55120.pdf", "application/pdf", reminder),)),
        SampleMessage("agenda", "Offsite agenda", "Office <office@example.com>",
                      "Hi all, the agenda for the offsite is attached.",
                      (("agenda.pdf", "application/pdf", agenda),)),
        SampleMessage("no-attachment", "Question about our account", "Jane Roe <jane@customer.example>",
                      "Hello, could you send me a copy of last month's statement? Thanks, Jane"),
        SampleMessage("malformed", "Invoice attached (broken)", "noreply@broken.example", "", raw=malformed),
    ]


def write_maildir(root: Path, messages: list[SampleMessage]) -> list[Path]:
    """Deliver messages into root/new the way an MTA does (tmp, then rename)."""
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    paths = []
    for i, sample in enumerate(messages):
        name = f"{1793000000 + i}.M{i}P1.demo"
        tmp = root / "tmp" / name
        tmp.write_bytes(build_message(sample))
        final = root / "new" / name
        tmp.rename(final)
        paths.append(final)
    return paths
