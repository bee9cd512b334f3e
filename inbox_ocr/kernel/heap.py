"""What a long-running process does once its start-up is over.

Modules, the config, the label tables and the models are made at start and live as long as the
process. Python's cycle collector would walk all of them again on every full collection, and
reading a document makes enough small objects (words, lines, cells, candidates) to trigger one
every few documents: on the text-layer path that was about a twentieth of the time. `settle()`
collects once and moves what is left into the permanent generation (`gc.freeze`), where the
collector no longer looks. Call it only in a process of our own (the daemon, a reader worker),
once, after start-up: objects made later are collected as usual.
"""

from __future__ import annotations

import gc


def settle() -> None:
    gc.collect()
    gc.freeze()


__all__ = ["settle"]
