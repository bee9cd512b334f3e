"""Geometry of a page: cells of words, labels found in them, and the values next to each label.

A *cell* is a run of words on one line with no wide gap inside; a table row of amounts becomes one
cell per column, a "Rechnungsnummer: 4711" stays one cell. Positions are in page units (PDF points
for text layers, pixels for OCR); every threshold is relative to the text height, so both work.

For a label found in a cell, the value is looked for, in this order of trust:
  1. the rest of the same cell ("Invoice no: 4711"),
  2. the next cells to the right on the same row ("Invoice no:     4711"),
  3. the cells below, overlapping the label's column ("Invoice no" over "4711", table headers).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from inbox_ocr.models import Box, Page, Word

# A gap wider than this many text heights splits a line into cells.
CELL_GAP = 1.1


@dataclass
class Cell:
    page: int
    index: int
    words: list[Word]
    text: str = ""
    box: Box = (0.0, 0.0, 0.0, 0.0)
    spans: list[tuple[int, int]] = field(default_factory=list)  # character span of each word in text

    def __post_init__(self) -> None:
        parts, spans, pos = [], [], 0
        for w in self.words:
            parts.append(w.text)
            spans.append((pos, pos + len(w.text)))
            pos += len(w.text) + 1
        self.text = " ".join(parts)
        self.spans = spans
        self.box = (
            min(w.box[0] for w in self.words),
            min(w.box[1] for w in self.words),
            max(w.box[2] for w in self.words),
            max(w.box[3] for w in self.words),
        )

    @property
    def height(self) -> float:
        return max(self.box[3] - self.box[1], 1.0)

    def word_index_at(self, char: int) -> int:
        """Index of the word that contains (or first follows) character offset `char`."""
        for i, (start, end) in enumerate(self.spans):
            if char < end:
                return i
        return len(self.spans)

    def text_from(self, word: int) -> str:
        return " ".join(w.text for w in self.words[word:])

    def sub_box(self, start: int, end: int) -> Box:
        ws = self.words[start:end] or self.words
        return (min(w.box[0] for w in ws), min(w.box[1] for w in ws), max(w.box[2] for w in ws), max(w.box[3] for w in ws))


def _line_words(line) -> list[Word]:  # type: ignore[no-untyped-def]
    """The line's words; OCR lines without word boxes get boxes split in proportion to characters."""
    if line.words:
        return list(line.words)
    tokens = line.text.split()
    if not tokens:
        return []
    x0, y0, x1, y1 = line.bbox
    per_char = (x1 - x0) / max(len(line.text), 1)
    words, pos = [], 0
    for token in tokens:
        start = line.text.index(token, pos)
        pos = start + len(token)
        words.append(Word(text=token, box=(x0 + start * per_char, y0, x0 + pos * per_char, y1), confidence=line.confidence))
    return words


def page_cells(page: Page) -> list[Cell]:
    """Split every line of the page into cells at wide gaps."""
    cells: list[Cell] = []
    for line in page.lines:
        words = [w for w in _line_words(line) if w.text.strip()]
        if not words:
            continue
        words.sort(key=lambda w: w.box[0])
        height = max(min(w.box[3] - w.box[1] for w in words), 1.0)
        run = [words[0]]
        for w in words[1:]:
            if w.box[0] - run[-1].box[2] > CELL_GAP * height:
                cells.append(Cell(page.number, len(cells), run))
                run = []
            run.append(w)
        cells.append(Cell(page.number, len(cells), run))
    cells.sort(key=lambda c: (round(c.box[1] / max(c.height * 0.5, 1.0)), c.box[0]))
    for i, c in enumerate(cells):
        c.index = i
    return cells


# --------------------------------------------------------------------------- labels


@dataclass(frozen=True)
class LabelHit:
    field: str
    cell: Cell
    start: int  # first word of the label
    end: int  # word after the label
    weight: float
    char_end: int = 0  # character offset in the cell text where the label ends

    @property
    def box(self) -> Box:
        return self.cell.sub_box(self.start, self.end)


_CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")


@dataclass(frozen=True)
class LabelSet:
    """All labels compiled twice: one alternation to find where any label starts (fast), and one
    pattern per label to tell which labels match there (exact)."""

    any_label: re.Pattern[str]
    each: tuple[tuple[str, re.Pattern[str], float], ...]


def _wrap(pattern: str) -> str:
    if _CJK.search(pattern):
        return f"(?:{pattern})"
    # not after "letter-": "Bestell-Datum" is no invoice date, "Lieferschein-Nr" no invoice number
    return rf"(?<![^\W_])(?<![^\W\d_]-)(?:{pattern})(?![^\W\d_])"


def compile_labels(labels: dict[str, list[tuple[str, float]]]) -> LabelSet:
    """Compile a {field: [(regex, weight)]} lexicon; Latin labels must sit on word boundaries."""
    each = []
    for name, entries in labels.items():
        for pattern, weight in entries:
            each.append((name, re.compile(_wrap(pattern), re.IGNORECASE), weight))
    any_label = re.compile("|".join(_wrap(p) for entries in labels.values() for p, _ in entries), re.IGNORECASE)
    return LabelSet(any_label, tuple(each))


def find_labels(cells: Iterable[Cell], labels: LabelSet) -> list[LabelHit]:
    """Every label occurrence; where labels overlap in a cell the longest wins ("Total HT" over "Total")."""
    hits: list[LabelHit] = []
    for cell in cells:
        starts = {m.start() for m in labels.any_label.finditer(cell.text)}
        if not starts:
            continue
        found: list[tuple[int, int, str, float]] = []
        for start in starts:
            for name, rx, weight in labels.each:
                m = rx.match(cell.text, start)
                if m and m.end() > start:
                    found.append((start, m.end(), name, weight))
        found.sort(key=lambda f: (-(f[1] - f[0]), f[0]))
        taken: list[tuple[int, int]] = []
        for start, end, name, weight in found:
            if any(start < e and s < end for s, e in taken):
                continue
            taken.append((start, end))
            first = cell.word_index_at(start)
            last = cell.word_index_at(end - 1) + 1
            if start > 0:
                weight *= 0.85  # a label inside a cell is weaker than one that starts it
                if first > 2:
                    weight *= 0.6  # ... and one deep inside a sentence weaker still
                if weight < 0.3 and len(cell.words) > 8:
                    continue  # "vom", "Nr." in running text say nothing
            hits.append(LabelHit(name, cell, first, last, weight, end))
    return hits


# --------------------------------------------------------------------------- values near a label


@dataclass(frozen=True)
class Candidate:
    text: str
    where: str  # "same" | "right" | "below"
    distance: float  # in text heights
    cell: Cell | None = None


_LEADING = re.compile(r"^[\s:：#.\-–=/|]+")


def value_candidates(hit: LabelHit, cells: list[Cell], max_below: int = 3) -> list[Candidate]:
    """Texts that may hold the value of `hit`, most trusted first."""
    out: list[Candidate] = []
    cell = hit.cell
    rest = _LEADING.sub("", cell.text[hit.char_end :])
    if rest:
        out.append(Candidate(rest, "same", 0.0, cell))
    lx0, ly0, lx1, ly1 = hit.box
    h = cell.height
    same_page = [c for c in cells if c.page == cell.page and c is not cell]
    row = []
    for c in same_page:
        overlap = min(ly1, c.box[3]) - max(ly0, c.box[1])
        if overlap >= 0.5 * min(h, c.height) and c.box[0] >= lx1 - 1:
            row.append(c)
    row.sort(key=lambda c: c.box[0])
    for c in row[:2]:
        out.append(Candidate(c.text, "right", (c.box[0] - lx1) / h, c))
    below = []
    for c in same_page:
        gap = c.box[1] - ly1
        if -0.3 * h <= gap <= 4.0 * h * max_below / 3:
            horizontal = min(lx1, c.box[2]) - max(lx0, c.box[0])
            if horizontal > 0 or abs(c.box[0] - lx0) < h:
                below.append(c)
    below.sort(key=lambda c: c.box[1])
    for c in below[:max_below]:
        out.append(Candidate(c.text, "below", (c.box[1] - ly1) / h, c))
    return out


def row_of(cell: Cell, cells: list[Cell]) -> list[Cell]:
    """Cells on the same visual row as `cell`, left to right."""
    h = cell.height
    row = [
        c
        for c in cells
        if c.page == cell.page and min(cell.box[3], c.box[3]) - max(cell.box[1], c.box[1]) >= 0.5 * min(h, c.height)
    ]
    return sorted(row, key=lambda c: c.box[0])


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
