"""Which of the recognizer's classes a deployment reads, and reading Chinese only where a line has it.

The bundled PP-OCRv6 recognizer scores 18,710 classes (15,702 of them Han) at every timestep; a
European invoice uses a few hundred. Slicing the columns of the final classifier (MatMul + bias
before the softmax) to the kept classes removes most of that layer's work and of its N×T×C output
(the largest tensor of a batch, which sets our peak memory), and it stops the model from "seeing"
CJK glyphs or Cyrillic look-alikes in Latin text. The graph is edited in memory from the model file
given; nothing is written or downloaded.

Alphabets (`ocr.alphabet`):
  latin  European Latin script, punctuation, currency and letterlike symbols.
  auto   (default) latin, and a line in which the recognizer is sure (SENTINEL_MIN) to see a
         Chinese or Japanese character is read again with the Han, kana and CJK punctuation
         classes too. The cut head carries "sentinel" columns (the 3,755 most used Han characters,
         GB 2312 level 1, and the kana) that only detect; such a line's 120-wide features, which
         the edited graph also returns, go through the whole CJK + Latin head in NumPy: no second
         run of the network.
  all    every class of the model (Cyrillic, Greek, Hangul, symbols ...).
With `latin`, the sentinels still detect: a line where they win is read as before (they are
masked) and the page gets a warning that the configured alphabet drops what the model saw.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

# Basic Latin, Latin-1 Supplement, Latin Extended-A/B, IPA-free: the letters of the European
# languages; plus General Punctuation (dashes, quotes, bullets), Currency Symbols (€, £ ...) and
# Letterlike Symbols (№, ™).
_LATIN_RANGES = ((0x20, 0x250), (0x2000, 0x2070), (0x20A0, 0x20D0), (0x2100, 0x2150))
# CJK symbols and punctuation, hiragana + katakana, CJK Unified Ideographs (extension A and the
# basic block), full-width forms. Compatibility ideographs (U+F900..) are left out: they look the
# same as their unified twins, which the text layer's NFKC gives too.
_CJK_RANGES = ((0x3000, 0x3100), (0x3400, 0x4DC0), (0x4E00, 0xA000), (0xFF00, 0xFFF0))
_KANA = (0x3040, 0x3100)


def _codes(labels: list[str]) -> np.ndarray:
    """The code point of each one-character label; -1 for the others (the blank's "<blank>")."""
    return np.array([ord(label) if len(label) == 1 else -1 for label in labels], dtype=np.int64)


def _within(codes: np.ndarray, ranges: tuple[tuple[int, int], ...]) -> np.ndarray:
    inside = np.zeros(len(codes), dtype=bool)
    for lo, hi in ranges:
        inside |= (codes >= lo) & (codes < hi)
    return inside


@cache
def _common_han() -> frozenset[str]:
    """GB 2312 level 1: the 3,755 Han characters of everyday Chinese text (about 99.7% of it)."""
    rows = (bytes([hi, lo]) for hi in range(0xB0, 0xD8) for lo in range(0xA1, 0xFF))
    return frozenset(b.decode("gb2312") for b in rows if b < b"\xd7\xfa")


# Single strokes and dots that Latin text prints too (一 is a dash, ー a long dash, ・ a bullet):
# they stay readable on a Chinese line but cannot tell one.
_LOOKS_LATIN = frozenset("一丨丶丿ー・")
# A sentinel tells only where it wins a timestep with at least this probability. Chosen on the
# first 75 sroie-dev receipts and one Chinese page set (seed 7), checked on the other 75 and a
# second set (seed 11): every line with Chinese detected in both (788/788, 818/818); on the Latin
# receipts only lines that really print Chinese (货物出门 ..., 豆奶仙草).
SENTINEL_MIN = 0.9


def sentinel_classes(labels: list[str]) -> list[int]:
    """Indices of the sentinels: the classes that tell a line holds Chinese or Japanese text, a
    common Han character or a kana (less _LOOKS_LATIN). Array operations over the whole label
    list: the model has 18,710 classes and this runs at every start."""
    codes = _codes(labels)
    han = np.fromiter(map(ord, _common_han()), dtype=np.int64)
    latin_looking = np.fromiter(map(ord, _LOOKS_LATIN), dtype=np.int64)
    found = (np.isin(codes, han) | _within(codes, (_KANA,))) & ~np.isin(codes, latin_looking)
    return np.flatnonzero(found).tolist()  # type: ignore[no-any-return]


def kept_classes(labels: list[str], alphabet: str) -> list[int]:
    """Indices of the classes to keep: the blank (0) and every label in the alphabet: "latin"
    (_LATIN_RANGES), "auto" (latin and _CJK_RANGES) or "all"."""
    if alphabet == "all":
        return list(range(len(labels)))
    codes = _codes(labels)
    kept = _within(codes, _LATIN_RANGES)
    if alphabet == "auto":
        kept |= _within(codes, _CJK_RANGES)
    kept[:1] = True
    return np.flatnonzero(kept).tolist()  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Head:
    """The recognizer's final classifier restricted to some classes: features (T×D) @ weight + bias,
    then a softmax, gives their probabilities."""

    weight: np.ndarray  # D × K float32
    bias: np.ndarray  # K float32
    labels: list[str]

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        logits = features @ self.weight + self.bias
        logits -= logits.max(axis=1, keepdims=True)
        np.exp(logits, out=logits)
        logits /= logits.sum(axis=1, keepdims=True)
        return logits


@dataclass(frozen=True)
class CutModel:
    """A recognizer cut to some classes: the edited model (with `features`, its second output is the
    classifier's input), its labels, and the uncut classifier."""

    model: bytes
    labels: list[str]
    head: Head


def cut_model(model: Path, labels: list[str], keep: list[int], *, features: bool = False) -> CutModel | None:
    """The model with its final classifier cut to the `keep` classes; with `features`, a second
    graph output gives the classifier's input. None when the graph does not end in
    MatMul(+Add)(+Softmax) over constant weights (then the caller masks the scores instead)."""
    try:
        import onnx
        from onnx import numpy_helper
    except ImportError:  # optional: without onnx the recognizer masks scores after the run
        log.info("event=ocr_alphabet_mask reason=onnx_not_installed")
        return None
    proto = onnx.load(str(model))
    graph = proto.graph
    producers = {out: node for node in graph.node for out in node.output}
    inits = {init.name: init for init in graph.initializer}
    node = producers.get(graph.output[0].name)
    chain = []
    while node is not None and node.op_type in ("Softmax", "Identity", "Add", "MatMul"):
        chain.append(node)
        if node.op_type == "MatMul":
            break
        node = producers.get(next((i for i in node.input if i not in inits), ""))
    matmul = chain[-1] if chain and chain[-1].op_type == "MatMul" else None
    if matmul is None or matmul.input[1] not in inits:
        return None
    weight = numpy_helper.to_array(inits[matmul.input[1]])
    if weight.ndim != 2 or weight.shape[1] != len(labels):
        return None
    bias = np.zeros(weight.shape[1], dtype=np.float32)
    bias_inits = []
    for add in (n for n in chain if n.op_type == "Add"):
        bias_name = next((i for i in add.input if i in inits), None)
        if bias_name is None:
            return None
        add_bias = numpy_helper.to_array(inits[bias_name])
        if add_bias.shape[-1] != weight.shape[1]:
            return None
        bias = bias + add_bias.reshape(-1)
        bias_inits.append((bias_name, add_bias))
    head = Head(weight.astype(np.float32), bias.astype(np.float32), list(labels))
    inits[matmul.input[1]].CopyFrom(numpy_helper.from_array(weight[:, keep].copy(), matmul.input[1]))
    for name, add_bias in bias_inits:
        inits[name].CopyFrom(numpy_helper.from_array(add_bias[..., keep].copy(), name))
    dims = graph.output[0].type.tensor_type.shape.dim
    if dims:
        dims[-1].ClearField("dim_param")
        dims[-1].dim_value = len(keep)
    if features:
        graph.output.append(onnx.helper.make_tensor_value_info(matmul.input[0], onnx.TensorProto.FLOAT, None))
    return CutModel(proto.SerializeToString(), [labels[i] for i in keep], head)


def sub_head(head: Head, alphabet: str) -> Head:
    """The classifier over the blank and the classes of one alphabet."""
    keep = kept_classes(head.labels, alphabet)
    return Head(np.ascontiguousarray(head.weight[:, keep]), head.bias[keep].copy(), [head.labels[i] for i in keep])
