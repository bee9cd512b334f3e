"""What understanding keeps from one text to the next: the dates and amounts of a cell's text,
whether a line looks like a name, which labels can begin with a word's first letters. The
rule-based extractor and the scorer's features ask about the same cells, and texts such as
"Total" or "Seite 1 von 1" come back in document after document.

`forget()` drops all of it. The speed benchmark calls it before each document, so that a
document is timed as a daemon first meets it, not with its own cells already worked out by an
earlier round over the same files.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

_T = TypeVar("_T")
_CLEARS: list[Callable[[], None]] = []


def per_text(fn: Callable[..., _T]) -> functools._lru_cache_wrapper[_T]:
    """`fn` with its last 4,096 answers kept (its arguments are texts and settings), until `forget()`."""
    cached = functools.lru_cache(maxsize=4096)(fn)
    _CLEARS.append(cached.cache_clear)
    return cached


def on_forget(clear: Callable[[], None]) -> None:
    """Call `clear` when what is kept is forgotten (a cache that is no `per_text` function)."""
    _CLEARS.append(clear)


def forget() -> None:
    """Drop everything kept from the texts read so far."""
    for clear in _CLEARS:
        clear()


__all__ = ["forget", "on_forget", "per_text"]
