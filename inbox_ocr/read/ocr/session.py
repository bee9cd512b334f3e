"""ONNX Runtime sessions for the OCR models: bundled model files, tuned options, errors translated.

The model files come from the installed `rapidocr` wheel (PP-OCRv6 small det + rec, PP-OCR v2
mobile direction classifier); we only read the files, never run RapidOCR's code or download.
One model is our own, shipped in models/ next to this file: the detector quantized to int8
(`ocr.det_precision`: `auto`, the default, uses it where the CPU has int8 dot products), built from
the wheel's by inbox_ocr/training/quantize.py.
"""

from __future__ import annotations

import os
from functools import cache
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


@cache
def int8_dot_product() -> bool:
    """Whether this CPU multiplies 8-bit integers without saturating (x86 VNNI: Intel since Cascade
    Lake and Ice Lake, AMD since Zen 4). ONNX Runtime's int8 kernels for x86 CPUs without it add
    pairs of products in 16 bits, which full-range int8 weights can overflow (its documentation
    advises 7-bit weights there; ours measured 0.8 points of page word F1 less with them)."""
    try:
        return has_vnni(Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace"))
    except OSError:  # not Linux: no way to tell here
        return False


def has_vnni(cpuinfo: str) -> bool:
    """Whether a /proc/cpuinfo text lists VNNI (AVX-512 or AVX) among the first CPU's flags."""
    flags = next((line.split(":", 1)[1].split() for line in cpuinfo.splitlines() if line.startswith("flags")), [])
    return "avx512_vnni" in flags or "avx_vnni" in flags


def detector_model(precision: str) -> Path:
    """The detector of `ocr.det_precision`: the shipped int8 one, or the bundled float32 original;
    `auto` takes int8 where the CPU has int8 dot products (`int8_dot_product`)."""
    if precision == "auto":
        precision = "int8" if int8_dot_product() else "float32"
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
