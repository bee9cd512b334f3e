"""A Chinese and mixed Chinese/English page set with its transcription, rendered here.

Two kinds of page, each with the text of every line known exactly:
  vat    synthetic Chinese VAT invoices (增值税发票, training/synth's cn_vat family, Droid Sans
         Fallback) rendered at 200 dpi; the truth is the PDF's text layer, line by line
  sheet  the same lines, and mixed Chinese/English invoice phrases, typeset again one per row in
         the Noto Sans CJK and Noto Serif CJK fonts (Debian's fonts-noto-cjk; pymupdf opens a
         collection's first face, the Japanese one, which has every simplified character) at
         9-14 pt: other faces and sizes than the generator's; left out without those fonts
Nothing here is a real document: real Chinese invoice images with transcriptions were not found
in any package this machine can install.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from random import Random

import numpy as np
import pymupdf

from inbox_ocr.training.synth import generate
from tests.benchmarks.ocr_metrics import pdf_lines

DPI = 200
NOTO = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"),
)
_MIXED = (
    "Invoice No. 发票号码 {n}", "Total 合计 ¥{a}", "开票日期 Date: {d}", "Tax 税额 {t} (13%)",
    "Seller 销售方: {c} Co., Ltd.", "VAT ID 纳税人识别号 {id}", "Amount in words 价税合计（大写）",
    "Bank 开户行: Bank of China {acct}", "Order 订单号 PO-{n}", "Due 付款期限 {d}",
)


@dataclass(frozen=True)
class CjkPage:
    name: str
    kind: str
    pixels: np.ndarray  # H×W×3 RGB uint8
    lines: list[tuple[str, tuple[float, float, float, float]]]  # text, box in pixels


def _pixels(page: pymupdf.Page) -> np.ndarray:
    pix = page.get_pixmap(dpi=DPI, alpha=False)
    return np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.height, pix.width, 3).copy()


def _mixed_phrases(rng: Random, count: int) -> list[str]:
    companies = ("华信", "天元", "鼎盛", "Lotus", "Shenzhen Bright", "北辰")
    out = []
    for _ in range(count):
        template = rng.choice(_MIXED)
        out.append(template.format(
            n=rng.randint(10_000_000, 99_999_999), a=f"{rng.randint(10, 99999)}.{rng.randint(0, 99):02d}",
            d=f"{rng.randint(2019, 2026)}年{rng.randint(1, 12)}月{rng.randint(1, 28)}日",
            t=f"{rng.randint(1, 9999)}.{rng.randint(0, 99):02d}", c=rng.choice(companies),
            id=f"91{rng.randint(10**15, 10**16 - 1)}", acct=rng.randint(10**15, 10**16 - 1),
        ))  # fmt: skip
    return out


def build(count: int = 12, seed: int = 7) -> list[CjkPage]:
    """`count` invoices and (with the Noto fonts) `count` sheets."""
    rng = Random(seed)
    pages = []
    for k in range(count):
        invoice = generate(seed * 1000 + k, "cn_vat", "zh")
        with pymupdf.open(stream=invoice.pdf, filetype="pdf") as doc:
            vat_page = doc[0]
            lines = pdf_lines(vat_page, DPI / 72)
            pages.append(CjkPage(f"vat-{k}", "vat", _pixels(vat_page), lines))
        sheet_lines = [t for t, _ in lines if len(t) > 1] + _mixed_phrases(rng, 12)
        rng.shuffle(sheet_lines)
        sheet = _sheet_page(sheet_lines, rng, f"sheet-{k}")
        if sheet is not None:
            pages.append(sheet)
    return pages


def _sheet_page(lines: list[str], rng: Random, name: str) -> CjkPage | None:
    fonts = [pymupdf.Font(fontfile=str(p)) for p in NOTO if p.is_file()]
    if not fonts:
        return None
    with pymupdf.open() as doc:
        page = doc.new_page(width=595, height=842)
        writer = pymupdf.TextWriter(page.rect)
        y = 36.0
        for text in lines:
            size = rng.choice((9, 10, 11, 12, 14))
            if y + size * 1.9 > 820:
                break
            writer.append((36 + rng.randint(0, 120), y + size), text, font=rng.choice(fonts), fontsize=size)
            y += size * 1.9
        writer.write_text(page)
        return CjkPage(name, "sheet", _pixels(page), pdf_lines(page, DPI / 72))
