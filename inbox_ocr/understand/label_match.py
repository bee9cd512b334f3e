"""Labels found in the cells of a page: the label tables compiled (`compile_labels`) and every
occurrence of a label in the cells (`find_labels`), where overlapping labels of one table leave the
longest. Several tables compiled together are searched in one pass (the field labels the rule-based
extractor reads and the context labels the scorer's features read), each table's hits apart.

A label of the Latin tables sits on word boundaries; CJK labels may start at any character. In ASCII
cells (most) only the labels that can begin as a word begins are tried (`LabelSet.ascii_labels`);
other cells go through one gate pattern per first character.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from inbox_ocr.kernel.models import Box
from inbox_ocr.understand.layout import CJK, Cell


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


Label = tuple[str, re.Pattern[str], float, int]  # field, pattern, weight, the table it came from


@dataclass(frozen=True)
class LabelSet:
    """Compiled labels, indexed by the characters a label can start with, so that each word of a
    cell is tried only against the few labels that can begin there."""

    each: tuple[Label, ...]
    by_first: dict[str, tuple[int, ...]]
    anywhere: tuple[int, ...]  # labels whose first character we cannot tell
    # per first character, all its labels in one pattern: most word starts begin no label, and one
    # failed match of the alternation rules them all out at once
    gates: dict[str | None, re.Pattern[str]] = field(default_factory=dict)
    # each label's possible first characters in ASCII text, lower-cased (`_leads`)
    leads: tuple[Leads, ...] = ()
    tables: int = 1  # how many label tables were compiled together
    # per first character: its gate and its labels, the anywhere ones included
    _starting: dict[str, tuple[re.Pattern[str], tuple[Label, ...]]] = field(
        default_factory=dict, repr=False)
    _elsewhere: tuple[re.Pattern[str], tuple[Label, ...]] | None = None
    # per first character its labels' indices; per beginning of ASCII text (its first _LEAD
    # characters, lower-cased) the labels that may match there, in the order of `each` (filled as met)
    _indices: dict[str, tuple[int, ...]] = field(default_factory=dict, repr=False)
    _ascii: dict[str, tuple[Label, ...]] = field(default_factory=dict, repr=False)
    _tables: dict[str, _LeadTable] = field(default_factory=dict, repr=False)  # per first character

    def __post_init__(self) -> None:
        for char, indices in self.by_first.items():
            self._starting[char] = (self.gates[char], tuple(self.each[i] for i in indices + self.anywhere))
            self._indices[char] = indices + self.anywhere
        if None in self.gates:
            object.__setattr__(self, "_elsewhere", (self.gates[None], tuple(self.each[i] for i in self.anywhere)))

    def forget(self) -> None:
        """Empty the index of beginnings (caches.forget)."""
        self._ascii.clear()

    def at(self, char: str) -> tuple[int, ...]:
        return self.by_first.get(char, ()) + self.anywhere

    def starting(self, text: str) -> tuple[Label, ...]:
        """The labels that may match at the start of `text` (all that do, and few others)."""
        if not text:
            return ()
        if text.isascii():
            return self.ascii_labels(text[:_LEAD].lower())
        return tuple(self.each[i] for i in self.at(text[0]))

    def ascii_labels(self, lead: str) -> tuple[Label, ...]:
        """The labels that may match where ASCII text begins with `lead` (its first _LEAD
        characters, lower-cased): those of its first character that can begin so. (An ASCII
        letter's two cases have the same labels.)"""
        found = self._ascii.get(lead)
        if found is None:
            if len(self._ascii) >= 50_000:  # a daemon reads many documents: keep the index bounded
                self._ascii.clear()
            table = self._tables.get(lead[0])
            if table is None:
                indices = self._indices.get(lead[0], self.anywhere)
                table = self._tables[lead[0]] = _LeadTable(indices, [self.leads[i] for i in indices])
            found = self._ascii[lead] = tuple([self.each[i] for i in table.labels(lead)])
        return found


class _LeadTable:
    """Which of the labels of one first character can begin like a given text, in bit masks: one
    bit per way a label can begin, one mask per (position, character) saying which ways allow that
    character there. A new beginning is then a few lookups and ANDs (testing each label's beginnings
    in turn took about a third of the instructions of a document read on first sight). The masks depend on
    the label tables and the alphabet only, not on the documents: they are bounded, and forget()
    leaves them."""

    def __init__(self, indices: tuple[int, ...], leads: list[Leads]) -> None:
        self.ways = [way for label_leads in leads for way in label_leads]
        self.label_of: list[int] = []  # per way (bit), its label's index
        self.bits_of: list[int] = []  # per way, the bits of all ways of its label
        at = 0
        for index, label_leads in zip(indices, leads, strict=True):
            bits = ((1 << len(label_leads)) - 1) << at
            self.label_of += [index] * len(label_leads)
            self.bits_of += [bits] * len(label_leads)
            at += len(label_leads)
        self.every = (1 << at) - 1
        self._masks: list[dict[str, int]] = [{} for _ in range(_LEAD)]  # per position, per character

    def _mask(self, position: int, char: str) -> int:
        mask = 0
        for i, way in enumerate(self.ways):
            chars = way[position] if position < len(way) else None
            if chars is None or char in chars:
                mask |= 1 << i
        self._masks[position][char] = mask
        return mask

    def labels(self, text: str) -> list[int]:
        """The labels (indices, in order) that may match at the start of `text` (lower-case
        ASCII, at most _LEAD characters): those with a way to begin that allows each character of
        `text` at its position (a way shorter than `text`, or None at a position, allows any)."""
        mask = self.every
        for position, char in enumerate(text):
            known = self._masks[position].get(char)
            mask &= known if known is not None else self._mask(position, char)
            if not mask:  # most beginnings begin no label
                return []
        found = []
        while mask:  # the lowest way left, its label, then past that label's ways
            way = (mask & -mask).bit_length() - 1
            found.append(self.label_of[way])
            mask &= ~self.bits_of[way]
        return found


# The possible beginnings of a label: for each way it can begin, the set of (lower-cased ASCII)
# characters at each of its first positions; None where any character may stand.
Leads = frozenset[tuple[frozenset[str] | None, ...]]
_LEAD = 4  # characters of a beginning


@functools.cache
def _ascii_matching(char_pattern: str) -> frozenset[str]:
    """The ASCII characters (lower-cased) that a one-character pattern matches in IGNORECASE: the
    regex engine itself says which, so its case rules hold exactly."""
    rx = re.compile(char_pattern, re.IGNORECASE)
    return frozenset(chr(i).lower() for i in range(128) if rx.fullmatch(chr(i)))


def _char_class(items) -> str | None:  # type: ignore[no-untyped-def]
    """A parsed character set written back as a pattern, or None for a part we do not write back."""
    from re import _constants as c  # type: ignore[attr-defined]  # the stdlib regex parser

    escapes = {c.CATEGORY_DIGIT: r"\d", c.CATEGORY_NOT_DIGIT: r"\D", c.CATEGORY_SPACE: r"\s",
               c.CATEGORY_NOT_SPACE: r"\S", c.CATEGORY_WORD: r"\w", c.CATEGORY_NOT_WORD: r"\W"}
    out = []
    for op, av in items:
        if op is c.NEGATE:
            out.append("^")
        elif op is c.LITERAL:
            out.append(re.escape(chr(av)))
        elif op is c.RANGE:
            out.append(f"{re.escape(chr(av[0]))}-{re.escape(chr(av[1]))}")
        elif op is c.CATEGORY and av in escapes:
            out.append(escapes[av])
        else:
            return None
    return "[" + "".join(out) + "]"


def _leads(items, partial: Leads) -> Leads:  # type: ignore[no-untyped-def]
    """The beginnings (up to _LEAD characters) of what the parsed `items` match after each of the
    `partial` beginnings. Errs on the side of more beginnings: look-arounds constrain nothing, and
    after a part it does not follow (a group reference, inline flags, an atomic group) any
    characters may stand."""
    from re import _constants as c  # type: ignore[attr-defined]  # the stdlib regex parser

    current = set(partial)
    for op, av in items:
        growing = frozenset(lead for lead in current if len(lead) < _LEAD)
        if not growing:
            break
        current -= growing
        if op in (c.AT, c.ASSERT, c.ASSERT_NOT):
            current |= growing  # zero width
            continue
        if op is c.SUBPATTERN and not av[1] and not av[2]:
            current |= _leads(av[3], growing)
            continue
        if op is c.BRANCH:
            for branch in av[1]:
                current |= _leads(branch, growing)
            continue
        if op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            low, high, sub = av
            reps: Leads = growing
            last = min(high, _LEAD + 1)  # after that many repetitions every beginning is complete
            for count in range(last + 1):
                if count >= low or count == last:
                    current |= reps
                if count < last:
                    reps = _leads(sub, reps)
            continue
        chars: frozenset[str] | None = None  # one character, any
        if op is c.LITERAL:
            chars = _ascii_matching(re.escape(chr(av)))
        elif op is c.NOT_LITERAL:
            chars = _ascii_matching(f"[^{re.escape(chr(av))}]")
        elif op is c.IN:
            written = _char_class(av)
            chars = _ascii_matching(written) if written is not None else None
        elif op is c.ANY:
            chars = _ascii_matching(".")
        else:  # of unknown length: nothing is said about the rest of the beginning
            current |= {lead + (None,) * (_LEAD - len(lead)) for lead in growing}
            continue
        current |= {lead + (chars,) for lead in growing}
    return frozenset(current)


# Latin labels sit on word boundaries, and not after "letter-": "Bestell-Datum" is no invoice
# date, "Lieferschein-Nr" no invoice number
_BEFORE, _AFTER = r"(?<![^\W_])(?<![^\W\d_]-)", r"(?![^\W\d_])"


def _wrap(patterns: list[str]) -> str:
    """One pattern matching where any of `patterns` does: the CJK ones anywhere, the Latin ones
    inside the word boundaries (written once around all of them: the engine backtracks into the
    alternation when the boundary after one fails, so this is the same as a boundary around each)."""
    latin = [p for p in patterns if not CJK.search(p)]
    parts = [f"(?:{p})" for p in patterns if CJK.search(p)]
    if latin:
        parts.insert(0, _BEFORE + "(?:" + "|".join(f"(?:{p})" for p in latin) + ")" + _AFTER)
    return "|".join(parts)


def _first_chars(items) -> set[str] | None:  # type: ignore[no-untyped-def]
    """Characters a parsed regex can start with; None when any character could."""
    from re import _constants as c  # type: ignore[attr-defined]  # the stdlib regex parser

    found: set[str] = set()
    for op, av in items:
        if op in (c.AT, c.ASSERT, c.ASSERT_NOT):
            continue  # zero width
        if op is c.LITERAL:
            return found | {chr(av)}
        if op is c.IN:
            for sub_op, sub_av in av:
                if sub_op is c.LITERAL:
                    found.add(chr(sub_av))
                elif sub_op is c.RANGE:
                    found.update(chr(x) for x in range(sub_av[0], sub_av[1] + 1))
                elif sub_op is not c.NEGATE:
                    return None
            return found
        if op is c.SUBPATTERN:
            sub = _first_chars(av[3])
            return None if sub is None else found | sub
        if op is c.BRANCH:
            for branch in av[1]:
                sub = _first_chars(branch)
                if sub is None:
                    return None
                found |= sub
            return found
        if op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            sub = _first_chars(av[2])
            if sub is None:
                return None
            found |= sub
            if av[0] > 0:
                return found
            continue  # optional: the next item may start the match too
        return None
    return None


def compile_labels(*tables: dict[str, list[tuple[str, float]]]) -> LabelSet:
    """Compile {field: [(regex, weight)]} lexicons, searched together; Latin labels must sit on
    word boundaries."""
    from re import _parser

    each: list[Label] = []
    sources: list[str] = []
    leads: list[Leads] = []
    by_first: dict[str, list[int]] = {}
    anywhere = []
    entries = ((table, name, pattern, weight) for table, labels in enumerate(tables)
               for name, patterns in labels.items() for pattern, weight in patterns)
    for table, name, pattern, weight in entries:
        index = len(each)
        each.append((name, re.compile(_wrap([pattern]), re.IGNORECASE), weight, table))
        sources.append(pattern)
        parsed = _parser.parse(pattern)
        plain = not parsed.state.flags & (re.DOTALL | re.ASCII)  # inline flags _leads does not follow
        leads.append(_leads(parsed, frozenset({()})) if plain else frozenset({()}))
        chars = _first_chars(parsed)
        if chars is None:
            anywhere.append(index)
            continue
        for first in {x for ch in chars for x in (ch.lower(), ch.upper())}:
            by_first.setdefault(first, []).append(index)

    def gate(indices: list[int]) -> re.Pattern[str]:
        return re.compile(_wrap([sources[i] for i in indices]), re.IGNORECASE)

    gates: dict[str | None, re.Pattern[str]] = {k: gate(v + anywhere) for k, v in by_first.items()}
    if anywhere:
        gates[None] = gate(anywhere)
    return LabelSet(tuple(each), {k: tuple(v) for k, v in by_first.items()}, tuple(anywhere), gates, tuple(leads),
                    len(tables))


def _starts(cell: Cell, labels: LabelSet) -> list[int]:
    """Word starts (Latin labels begin there) and every CJK character a label begins with
    (Chinese has no spaces)."""
    words, cjk = cell.starts
    if not cjk:
        return words
    return sorted(words + [at for at, ch in cjk if ch in labels.by_first])


def find_labels(cells: Iterable[Cell], labels: LabelSet) -> tuple[list[LabelHit], ...]:
    """Every label occurrence, one list per table compiled into `labels`; where labels of one table
    overlap in a cell the longest wins ("Total HT" over "Total")."""
    hits: tuple[list[LabelHit], ...] = tuple([] for _ in range(labels.tables))
    starting, elsewhere = labels._starting.get, labels._elsewhere  # a character's gate and labels
    ascii_cache = labels._ascii
    for cell in cells:
        found: list[tuple[int, int, str, float, int]] = []
        text = cell.text
        if text.isascii():  # only the labels that can begin as the text does are tried
            low = text.lower()
            for start in cell.starts[0]:
                lead = low[start : start + _LEAD]
                can = ascii_cache.get(lead)
                if can is None:
                    can = labels.ascii_labels(lead)
                for name, rx, weight, table in can:
                    m = rx.match(text, start)
                    if m and m.end() > start:
                        found.append((start, m.end(), name, weight, table))
        else:
            for start in _starts(cell, labels):
                here = starting(text[start], elsewhere)
                if here is None or not here[0].match(text, start):
                    continue
                for name, rx, weight, table in here[1]:
                    m = rx.match(text, start)
                    if m and m.end() > start:
                        found.append((start, m.end(), name, weight, table))
        if not found:
            continue
        found.sort(key=_longest_first)  # stable: each table's hits keep their order
        taken: list[tuple[int, int, int]] = []
        for start, end, name, weight, table in found:
            if any(t == table and start < e and s < end for s, e, t in taken):
                continue
            taken.append((start, end, table))
            first = cell.word_index_at(start)
            last = cell.word_index_at(end - 1) + 1
            if start > 0:
                weight *= 0.85  # a label inside a cell is weaker than one that starts it
                if first > 2:
                    weight *= 0.6  # ... and one deep inside a sentence weaker still
                if weight < 0.3 and len(cell.words) > 8:
                    continue  # "vom", "Nr." in running text say nothing
            hits[table].append(LabelHit(name, cell, first, last, weight, end))
    return hits


def _longest_first(found: tuple[int, int, str, float, int]) -> tuple[int, int]:
    return found[0] - found[1], found[0]
