"""heap.settle(): start-up objects out of the collector's way, a larger youngest generation, and
cycles made afterwards still collected."""

from __future__ import annotations

import gc

from inbox_ocr.kernel import heap


def test_settle_freezes_start_up_and_lets_the_young_generation_grow_while_cycles_are_still_collected() -> None:
    before = gc.get_threshold()
    try:
        heap.settle()
        assert gc.get_freeze_count() > 0
        young, middle, old = gc.get_threshold()
        assert (young, middle, old) == (heap.YOUNG_OBJECTS, before[1], before[2])

        class Node:
            pass

        for _ in range(3 * heap.YOUNG_OBJECTS):  # 6 * YOUNG_OBJECTS objects in two-object cycles
            a, b = Node(), Node()
            a.other, b.other = b, a  # type: ignore[attr-defined]
        # the collector ran on its own as they were made: few of them are left to collect now
        assert gc.collect() < 2 * heap.YOUNG_OBJECTS
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
