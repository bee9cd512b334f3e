"""A thin drawing surface over pymupdf for the synthetic invoices.

Text is placed by the top of its line (y grows downwards), measured with the same font that draws
it, and remembered: which printed string carries which truth field, which carries a distractor of
which kind and value, and the box of every text run (to check that nothing overlaps).
Fonts are the base-14 designs (helv/tiro/cour with bold variants) embedded as subsets, so the
text layer keeps €, ’ and accented letters; CJK text uses pymupdf's Droid Sans Fallback.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from inbox_ocr.read.mupdf import pymupdf

from .formats import NNBSP

PAPER = {"A4": (595.0, 842.0), "Letter": (612.0, 792.0)}
FONT_SETS = {"sans": ("helv", "hebo"), "serif": ("tiro", "tibo"), "mono": ("cour", "cobo")}
Rect = tuple[float, float, float, float]
Color = tuple[float, float, float]
BLACK: Color = (0.0, 0.0, 0.0)


@cache
def _font(name: str) -> pymupdf.Font:
    return pymupdf.Font("china-s" if name == "cjk" else name)


def _is_cjk(text: str) -> bool:
    return any("\u2e80" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef" or "\u3000" <= ch <= "\u303f" for ch in text)


@dataclass
class Marks:
    """What the drawing said: printed forms of truth fields and distractors (kind, value, printed)."""

    truth: dict[str, list[str]] = field(default_factory=dict)
    distractors: list[tuple[str, Any, str]] = field(default_factory=list)

    def truth_value(self, name: str, printed: str) -> str:
        self.truth.setdefault(name, []).append(printed)
        return printed

    def distractor(self, kind: str, value: Any, printed: str) -> str:
        self.distractors.append((kind, value, printed))
        return printed


class Canvas:
    """Pages of one document; `y` of a text is the top of its line, `size` its font size in points."""

    def __init__(self, paper: str = "A4", face: str = "sans", *, size: tuple[float, float] | None = None) -> None:
        self.doc = pymupdf.open()
        self.width, self.height = size or PAPER[paper]
        self.regular, self.bold = FONT_SETS[face]
        self.marks = Marks()
        self.boxes: list[list[Rect]] = []
        self.page_hooks: list[Callable[[Canvas, int, int], None]] = []
        self._writers: dict[tuple[int, Color, bool], pymupdf.TextWriter] = {}
        self._current = 0
        self.new_page()

    @property
    def page(self) -> pymupdf.Page:
        return self.doc[self.page_no]

    @property
    def page_no(self) -> int:
        return self._current

    @property
    def page_count(self) -> int:
        return len(self.boxes)

    def new_page(self) -> None:
        self.doc.new_page(width=self.width, height=self.height)
        self.boxes.append([])
        self._current = len(self.boxes) - 1

    def _font_name(self, text: str, bold: bool, font: str | None) -> str:
        if _is_cjk(text):
            return "cjk"
        return font or (self.bold if bold else self.regular)

    def measure(self, text: str, size: float, *, bold: bool = False, font: str | None = None) -> float:
        name = self._font_name(text, bold, font)
        return float(_font(name).text_length(text.replace(NNBSP, " "), fontsize=size))

    def text(
        self,
        x: float,
        y: float,
        text: str,
        size: float = 9,
        *,
        bold: bool = False,
        align: str = "left",
        font: str | None = None,
        color: Color = BLACK,
        truth: str | None = None,
        dist: tuple[str, Any] | None = None,
    ) -> float:
        """Draw one run; x is its left, right or centre edge per `align`. Returns the right edge."""
        if not text:
            return x
        name = self._font_name(text, bold, font)
        width = self.measure(text, size, bold=bold, font=font)
        left = x - width if align == "right" else x - width / 2 if align == "center" else x
        writer = self._writer(color, bold=name == "cjk" and bold)
        baseline = y + 0.8 * size
        chunks = text.split(NNBSP)
        cursor = left
        for i, chunk in enumerate(chunks):
            if i:
                cursor += 0.17 * size
            writer.append((cursor, baseline), chunk, font=_font(name), fontsize=size)
            cursor += float(_font(name).text_length(chunk, fontsize=size))
        self.boxes[self.page_no].append((left, y, left + width, y + size))
        if truth:
            self.marks.truth_value(truth, text)
        if dist:
            self.marks.distractor(dist[0], dist[1], text)
        return left + width

    def _writer(self, color: Color, *, bold: bool) -> pymupdf.TextWriter:
        key = (self.page_no, color, bold)
        if key not in self._writers:
            self._writers[key] = pymupdf.TextWriter(self.page.rect)
        return self._writers[key]

    def wrap(self, text: str, size: float, width: float, *, bold: bool = False) -> list[str]:
        """Greedy line breaking at spaces (at characters for CJK)."""
        if self.measure(text, size, bold=bold) <= width:
            return [text]
        units = list(text) if _is_cjk(text) and " " not in text else text.split(" ")
        glue = "" if _is_cjk(text) and " " not in text else " "
        lines: list[str] = []
        current = ""
        for unit in units:
            candidate = f"{current}{glue}{unit}" if current else unit
            if current and self.measure(candidate, size, bold=bold) > width:
                lines.append(current)
                current = unit
            else:
                current = candidate
        if current:
            lines.append(current)
        return lines

    def paragraph(self, x: float, y: float, width: float, text: str, size: float, *, leading: float = 1.35,
                  bold: bool = False, truth: str | None = None) -> float:  # fmt: skip
        """Wrapped text; returns the y below it."""
        for line in self.wrap(text, size, width, bold=bold):
            self.text(x, y, line, size, bold=bold, truth=truth)
            y += size * leading
        return y

    def line(self, x0: float, y0: float, x1: float, y1: float, *, width: float = 0.6, color: Color = BLACK,
             dashes: str | None = None) -> None:  # fmt: skip
        shape = self.page.new_shape()
        shape.draw_line((x0, y0), (x1, y1))
        shape.finish(color=color, width=width, dashes=dashes)
        shape.commit()

    def rect(self, x0: float, y0: float, x1: float, y1: float, *, fill: Color | None = None,
             stroke: Color | None = BLACK, width: float = 0.6) -> None:  # fmt: skip
        self.page.draw_rect(pymupdf.Rect(x0, y0, x1, y1), color=stroke, fill=fill, width=width if stroke else 0)

    def finish(self) -> bytes:
        """Run the per-page hooks (footers, page numbers) on every page and return the PDF bytes."""
        count = len(self.boxes)
        for hook in self.page_hooks:
            for index in range(count):
                self._current = index
                hook(self, index, count)
        self._current = count - 1
        for (page, color, bold), writer in self._writers.items():
            # text goes on top of the fills drawn so far; bold CJK is stroked as well as filled
            writer.write_text(self.doc[page], color=color, render_mode=2 if bold else 0)
        self.doc.subset_fonts()
        data: bytes = self.doc.tobytes(garbage=3, deflate=True)
        self.doc.close()
        return data
