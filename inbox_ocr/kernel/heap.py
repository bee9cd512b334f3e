"""What a long-running process does once its start-up is over.

Modules, the config, the label tables and the models are made at start and live as long as the
process. Python's cycle collector would walk all of them again on every full collection, and
reading a document makes enough small objects (words, lines, cells, candidates) to trigger one
every few documents: on the text-layer path that was about a twentieth of the time. `settle()`
collects once and moves what is left into the permanent generation (`gc.freeze`), where the
collector no longer looks. Call it only in a process of our own (the daemon, a reader worker),
once, after start-up: objects made later are collected as usual.

It also lets the youngest generation grow to YOUNG_OBJECTS before a collection (Python's default
is 700). Reading and analysing a text-layer document leave no reference cycles (a test checks the
analysis), so the collections every 700 new objects found nothing; they cost 1.6% of the
instructions of a text-layer document (callgrind). Cycles that other code makes are still
collected, a few thousand objects later.
"""

from __future__ import annotations

import gc

YOUNG_OBJECTS = 10_000


def settle() -> None:
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_OBJECTS, middle, old)


__all__ = ["YOUNG_OBJECTS", "settle"]
