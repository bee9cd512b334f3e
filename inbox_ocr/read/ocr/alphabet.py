"""Restricting a CTC recognizer to the alphabet a deployment reads.

The bundled PP-OCRv6 recognizer scores 18,710 classes (CJK + Latin) at every timestep; invoices
in a European deployment use a few hundred of them. Slicing the columns of the final classifier
(MatMul + bias before the softmax) to the kept classes removes most of that layer's work and of
its N×T×C output (the largest tensor of a batch, which set our peak memory), and it stops the
model from "seeing" CJK glyphs in smudges. The graph is edited in memory from the model file
given; nothing is written or downloaded.
"""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)

# Basic Latin, Latin-1 Supplement, Latin Extended-A/B, IPA-free: the letters of the European
# languages; plus General Punctuation (dashes, quotes, bullets), Currency Symbols (€, £ ...) and
# Letterlike Symbols (№, ™).
_LATIN_RANGES = ((0x20, 0x250), (0x2000, 0x2070), (0x20A0, 0x20D0), (0x2100, 0x2150))


def in_alphabet(label: str, alphabet: str) -> bool:
    """Whether a class label belongs to the named alphabet ("latin" or "all")."""
    if alphabet == "all":
        return True
    return len(label) == 1 and any(lo <= ord(label) < hi for lo, hi in _LATIN_RANGES)


def kept_classes(labels: list[str], alphabet: str) -> list[int]:
    """Indices of the classes to keep: the blank (0) and every label in the alphabet."""
    return [0] + [i for i, label in enumerate(labels) if i > 0 and in_alphabet(label, alphabet)]


def restrict_model(model: Path, keep: list[int]) -> bytes | None:
    """The model with its final classifier cut to the `keep` classes, serialized; None when the
    graph does not end in MatMul(+Add)(+Softmax) over constant weights (then the caller masks the
    scores instead)."""
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
    if weight.ndim != 2:
        return None
    inits[matmul.input[1]].CopyFrom(numpy_helper.from_array(weight[:, keep].copy(), matmul.input[1]))
    for add in (n for n in chain if n.op_type == "Add"):
        bias_name = next((i for i in add.input if i in inits), None)
        if bias_name is None:
            return None
        bias = numpy_helper.to_array(inits[bias_name])
        if bias.shape[-1] != weight.shape[1]:
            return None
        inits[bias_name].CopyFrom(numpy_helper.from_array(bias[..., keep].copy(), bias_name))
    dims = graph.output[0].type.tensor_type.shape.dim
    if dims:
        dims[-1].ClearField("dim_param")
        dims[-1].dim_value = len(keep)
    return proto.SerializeToString()
