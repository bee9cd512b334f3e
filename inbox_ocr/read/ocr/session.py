"""ONNX Runtime sessions for the OCR models: bundled model files, tuned options, errors translated.

The model files come from the installed `rapidocr` wheel (PP-OCRv6 small det + rec, PP-OCR v2
mobile direction classifier); we only read the files, never run RapidOCR's code or download.
One model is our own, shipped in models/ next to this file: the detector quantized to int8
(`ocr.det_precision: int8`, the default), built from the wheel's by inbox_ocr/training/quantize.py.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

import onnxruntime as ort

from inbox_ocr.kernel.errors import ConfigError

BUNDLED_PACKAGE = "rapidocr"
BUNDLED_DET = "PP-OCRv6_det_small.onnx"
BUNDLED_REC = "PP-OCRv6_rec_small.onnx"
BUNDLED_CLS = "ch_ppocr_mobile_v2.0_cls_mobile.onnx"
SHIPPED_DET_INT8 = "PP-OCRv6_det_small.int8.onnx"
_SHIPPED = Path(__file__).resolve().parent / "models"


def bundled_model(name: str) -> Path:
    """Path of a model file shipped inside the installed rapidocr wheel."""
    try:
        path = Path(str(resources.files(BUNDLED_PACKAGE).joinpath("models", name)))
    except ModuleNotFoundError as exc:
        raise ConfigError(
            "ocr", [f"the bundled OCR models need the '{BUNDLED_PACKAGE}' package: {exc}"]
        ) from exc
    if not path.is_file():
        raise ConfigError("ocr", [f"bundled OCR model {name} is missing from {path.parent}"])
    return path


def shipped_model(name: str) -> Path:
    """Path of a model file shipped with inbox-ocr itself (it may not exist yet while it is built)."""
    return _SHIPPED / name


def detector_model(precision: str) -> Path:
    """The detector of `ocr.det_precision`: the shipped int8 one, or the bundled float32 original."""
    if precision == "float32":
        return bundled_model(BUNDLED_DET)
    path = shipped_model(SHIPPED_DET_INT8)
    if not path.is_file():
        raise ConfigError("ocr", [f"the int8 text detector {path} is missing (rebuild it with python -m "
                                  "inbox_ocr.training.quantize, or set ocr.det_precision: float32)"])
    return path


def default_threads() -> int:
    """Cores this process may use (respects CPU affinity / container limits where visible)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def open_session(model: Path | bytes, threads: int | None = None) -> ort.InferenceSession:
    """One CPU session: all graph optimizations, sequential execution (the models are chains;
    parallel execution only adds scheduling), intra-op threads = cores, and no memory arena (an
    arena keeps the largest batch's buffers for the life of the process)."""
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.intra_op_num_threads = threads or default_threads()
    options.inter_op_num_threads = 1
    options.enable_cpu_mem_arena = False
    # Every call has a new input shape (page size, crop widths), so cached memory patterns are
    # never reused and only hold memory: off measured 435 MB vs 515 MB peak for 10 pages, same speed.
    options.enable_mem_pattern = False
    options.log_severity_level = 3
    # Idle worker threads sleep instead of spinning: on a shared machine spinning threads fight
    # the other processes for the cores (measured on 2 busy cores: 48.6 s vs 31.9 s for 20 pages).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        source = model if isinstance(model, bytes) else str(model)
        return ort.InferenceSession(source, sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph/NoSuchFile types
        name = "(edited model)" if isinstance(model, bytes) else model
        raise ConfigError("ocr", [f"cannot load OCR model {name}: {exc}"]) from exc
