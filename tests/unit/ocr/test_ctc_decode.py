"""CTC greedy decoding: repeats merged, blanks dropped, and the space prior (space_boost)."""

from __future__ import annotations

import numpy as np
import pytest

from inbox_ocr.read.ocr.recognize import RecognizerOptions, TextRecognizer

LABELS = ["<blank>", "A", "B", ":", " "]


class _Input:
    name = "x"
    shape = [None, 3, 48, None]


class _Session:
    def get_inputs(self) -> list[_Input]:
        return [_Input()]


def _recognizer(boost: float) -> TextRecognizer:
    return TextRecognizer(_Session(), LABELS, RecognizerOptions(space_boost=boost))  # type: ignore[arg-type]


def _frames(*rows: dict[str, float]) -> np.ndarray:
    """T×C probabilities; each row names the classes it gives weight to, the blank takes the rest."""
    out = np.zeros((len(rows), len(LABELS)), dtype=np.float32)
    for t, row in enumerate(rows):
        for label, p in row.items():
            out[t, LABELS.index(label)] = p
        out[t, 0] = 1.0 - sum(row.values())
    return out


# "A", a gap the model leaves blank with a weak space, ":", gap, "B"
GAPPED = _frames({"A": 0.9}, {"A": 0.8}, {" ": 0.15}, {":": 0.7}, {" ": 0.12}, {"B": 0.95})


def test_greedy_decoding_merges_repeats_and_drops_blanks() -> None:
    rec = _recognizer(boost=1.0)._read(GAPPED, None, 1.0)
    assert rec.text == "A:B"
    assert rec.char_confidences == pytest.approx((0.9, 0.7, 0.95))


def test_space_boost_reads_weak_gaps_as_spaces() -> None:
    rec = _recognizer(boost=10.0)._read(GAPPED, None, 1.0)
    assert rec.text == "A : B"
    # a space keeps its own (low) probability, and the line's confidence ignores spaces
    assert rec.char_confidences[1] == pytest.approx(0.15)
    assert rec.confidence == pytest.approx((0.9 + 0.7 + 0.95) / 3)


def test_space_boost_never_overrules_a_character() -> None:
    # the frame reads ":" (0.4 against blank 0.35): a boosted space (2.5) does not replace it
    frames = _frames({"A": 0.9}, {":": 0.4, " ": 0.25}, {"B": 0.9})
    assert _recognizer(boost=10.0)._read(frames, None, 1.0).text == "A:B"


def test_a_too_weak_space_stays_a_blank() -> None:
    frames = _frames({"A": 0.9}, {" ": 0.05}, {"B": 0.9})  # blank 0.95 > 10 × 0.05
    assert _recognizer(boost=10.0)._read(frames, None, 1.0).text == "AB"


def test_no_leading_trailing_or_double_spaces() -> None:
    frames = _frames({" ": 0.3}, {"A": 0.9}, {" ": 0.3}, {}, {" ": 0.3}, {"B": 0.9}, {" ": 0.6})
    rec = _recognizer(boost=10.0)._read(frames, None, 1.0)
    assert rec.text == "A B"
    assert len(rec.char_confidences) == len(rec.char_spans) == 3


def test_logit_outputs_get_the_same_prior() -> None:
    logits = np.log(np.clip(GAPPED, 1e-6, None)) + 5.0  # a graph without a softmax: raw scores
    assert _recognizer(boost=1.0)._read(logits, None, 1.0).text == "A:B"
    rec = _recognizer(boost=10.0)._read(logits, None, 1.0)
    assert rec.text == "A : B"
    assert rec.char_confidences[0] == pytest.approx(0.9, abs=1e-4)  # probabilities, not logits
