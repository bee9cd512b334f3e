"""Geometry of a page: cells of words (the labels found in them are in label_match.py; what lies
near a cell or a label, its row, the cells above it, a label's value, is in nearby.py).

A *cell* is a run of words on one line with no wide gap inside; a table row of amounts becomes one
cell per column, a "Rechnungsnummer: 4711" stays one cell. Positions are in page units (PDF points
for text layers, pixels for OCR); every threshold is relative to the text height, so both work.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from inbox_ocr.kernel.models import Box, Page, Word

# A gap wider than this many text heights splits a line into cells.
CELL_GAP = 1.1


@dataclass(eq=False)
class Cell:
    """A run of words on one line; its text, box, height (at least 1), whether it has a digit and
    where labels may start in it are worked out once, when it is made."""

    page: int
    index: int
    words: list[Word]
    text: str = field(init=False)
    box: Box = field(init=False)
    spans: list[tuple[int, int]] = field(init=False)  # character span of each word in text
    height: float = field(init=False)
    has_digit: bool = field(init=False)
    # where a label may begin: the word starts, and each CJK character with its offset (both label
    # tables are searched)
    starts: tuple[list[int], list[tuple[int, str]]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        words = self.words
        texts = [w.text for w in words]
        spans, pos = [], 0
        for t in texts:
            end = pos + len(t)
            spans.append((pos, end))
            pos = end + 1
        self.text = text = " ".join(texts)
        self.spans = spans
        if len(words) == 1:
            self.box = box = tuple(words[0].box)  # type: ignore[assignment]
        else:  # min and max written out: a page has a hundred cells
            x0, y0, x1, y1 = words[0].box
            for w in words[1:]:
                a, b, c, d = w.box
                if a < x0:
                    x0 = a
                if b < y0:
                    y0 = b
                if c > x1:
                    x1 = c
                if d > y1:
                    y1 = d
            self.box = box = (x0, y0, x1, y1)
        height = box[3] - box[1]
        self.height = height if height > 1.0 else 1.0
        if text.isascii():  # the digits of ASCII text are 0-9: one regex search instead of a call per character
            self.has_digit = _ASCII_DIGIT.search(text) is not None
            self.starts = _ascii_starts(text, texts, spans), []
        else:
            self.has_digit = any(map(str.isdigit, text))
            self.starts = _word_starts(text)

    def word_index_at(self, char: int) -> int:
        """Index of the word that contains (or first follows) character offset `char`."""
        for i, (_, end) in enumerate(self.spans):
            if char < end:
                return i
        return len(self.spans)

    def text_from(self, word: int) -> str:
        return " ".join(w.text for w in self.words[word:])

    def sub_box(self, start: int, end: int) -> Box:
        ws = self.words[start:end] or self.words
        if len(ws) == 1:
            return tuple(ws[0].box)  # type: ignore[return-value]
        x0s, y0s, x1s, y1s = zip(*(w.box for w in ws), strict=True)
        return (min(x0s), min(y0s), max(x1s), max(y1s))


def same_row(cell: Cell, other: Cell) -> bool:
    """The two overlap vertically by at least half the lower one's height (min and max written out:
    this runs for every pair of cells a row is looked for in)."""
    _, top, _, bottom = cell.box
    _, otop, _, obottom = other.box
    h, oh = cell.height, other.height
    return (bottom if bottom < obottom else obottom) - (top if top > otop else otop) >= 0.5 * (h if h < oh else oh)


def _split_words(line) -> list[Word]:  # type: ignore[no-untyped-def]
    """The words of a line without word boxes (some OCR output), boxes split in proportion to characters."""
    tokens = line.text.split()
    if not tokens:
        return []
    x0, y0, x1, y1 = line.bbox
    per_char = (x1 - x0) / max(len(line.text), 1)
    words, pos = [], 0
    for token in tokens:
        start = line.text.index(token, pos)
        pos = start + len(token)
        words.append(
            Word(text=token, box=(x0 + start * per_char, y0, x0 + pos * per_char, y1), confidence=line.confidence)
        )
    return words


def _left_edge(word: Word) -> float:
    return word.box[0]


def page_cells(page: Page) -> list[Cell]:
    """Split every line of the page into cells at wide gaps."""
    cells: list[Cell] = []
    for line in page.lines:
        words = [w for w in (line.words or _split_words(line)) if w.text.strip()]
        if not words:
            continue
        if len(words) == 1:
            cells.append(Cell(page.number, len(cells), words))
            continue
        words.sort(key=_left_edge)
        height = max(min([w.box[3] - w.box[1] for w in words]), 1.0)
        run = [words[0]]
        for w in words[1:]:
            if w.box[0] - run[-1].box[2] > CELL_GAP * height:
                cells.append(Cell(page.number, len(cells), run))
                run = []
            run.append(w)
        cells.append(Cell(page.number, len(cells), run))
    if cells:
        # one bucket size per page: rounding each cell by its own height misorders mixed font sizes
        heights = sorted(c.height for c in cells)
        bucket = max(heights[len(heights) // 2] * 0.5, 1.0)
        cells.sort(key=lambda c: (round(c.box[1] / bucket), c.box[0]))
    for i, c in enumerate(cells):
        c.index = i
    return cells


_CJK_CHARS = r"\u3000-\u9fff\uff00-\uffef"
CJK = re.compile(f"[{_CJK_CHARS}]")
# a CJK character, or a character that is neither space nor CJK after a start, a CJK character or
# a character that is not a letter or digit (\w is str.isalnum() plus "_")
_START = re.compile(rf"[{_CJK_CHARS}]|(?:^|(?<=\W)|(?<=_)|(?<=[{_CJK_CHARS}]))[^\s{_CJK_CHARS}]")
_ASCII_START = re.compile(r"(?<![^\W_])\S")  # the same for ASCII text
_ASCII_DIGIT = re.compile(r"[0-9]")


def _ascii_starts(text: str, words: list[str], spans: list[tuple[int, int]]) -> list[int]:
    """`_ASCII_START`'s matches in the words of an ASCII cell: a word of letters and digits only
    begins after a space or at the start, so its first character is its only start; other words
    are searched (the lookbehind sees the character before the word)."""
    starts: list[int] = []
    for word, (begin, end) in zip(words, spans, strict=True):
        if word.isalnum():
            starts.append(begin)
        else:
            starts.extend(m.start() for m in _ASCII_START.finditer(text, begin, end))
    return starts


def _word_starts(text: str) -> tuple[list[int], list[tuple[int, str]]]:
    if text.isascii():  # no CJK: a start is a non-space character after a non-letter-or-digit
        return [m.start() for m in _ASCII_START.finditer(text)], []
    words: list[int] = []
    cjk: list[tuple[int, str]] = []
    for m in _START.finditer(text):
        if CJK.match(m.group()):
            cjk.append((m.start(), m.group()))
        else:
            words.append(m.start())
    return words, cjk


def layout_text(pages: Iterable[Page]) -> str:
    """The pages as rows of text, cells of one row joined by wide spaces (like `pdftotext -layout`),
    which is what invoice2data templates are written against."""
    rows_out: list[str] = []
    for page in pages:
        cells = page_cells(page)
        rows: list[list[Cell]] = []
        for cell in sorted(cells, key=lambda c: (c.box[1] + c.box[3]) / 2):
            mid = (cell.box[1] + cell.box[3]) / 2
            if rows and abs(mid - (rows[-1][0].box[1] + rows[-1][0].box[3]) / 2) < 0.5 * cell.height:
                rows[-1].append(cell)
            else:
                rows.append([cell])
        rows_out.extend("   ".join(c.text for c in sorted(row, key=lambda c: c.box[0])) for row in rows)
    return "\n".join(rows_out)
