"""Build the int8 text detector the product ships (inbox_ocr/read/ocr/models/).

    python -m inbox_ocr.training.quantize [--receipts 16] [--invoices 8]

The bundled PP-OCRv6 small detector (rapidocr's wheel, float32) is converted to opset 13 and
quantized statically with ONNX Runtime's tools: weights int8 per output channel, activations
uint8 with ranges calibrated (min/max) on what the detector really receives in the product: the
inputs of a float32 engine reading the first `--receipts` sroie-dev receipts (sorted by name; the
OCR benchmarks report the others as held-out) and `--invoices` synthetic invoices rendered at 150
and 200 dpi, half of them with scan damage. The result is written next to the code, with the
source model's and its own SHA-256 printed for models/README.md.

Weights keep the full int8 range: 7-bit weights (`reduce_range`, for x86 CPUs without VNNI, where
`ocr.det_precision: auto` runs the float32 detector instead) measured 0.6331 page word F1 on
receipts 17-56 against 0.6410. Only the detector is quantized. The recognizer was tried the same way (all of it, its
convolutions only, its matrix products only): on 40 held-out receipts page word F1 lost up to
1 point for at most 8% less CPU, so it stays float32.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
from pathlib import Path

import numpy as np

from inbox_ocr.kernel.settings import OcrSettings
from inbox_ocr.read.ocr import session as sessions
from inbox_ocr.read.ocr.engine import OcrEngine
from inbox_ocr.read.ocr.files import page_images
from inbox_ocr.training.devsets import DATASETS


def calibration_inputs(receipts: int, invoices: int) -> list[dict[str, np.ndarray]]:
    """The detector's inputs while a float32 engine reads the calibration pages (after orientation,
    perspective and deskew, at the detector's own input size), one feed per call."""
    from inbox_ocr.training.synth import generate, render_image

    settings = OcrSettings(det_precision="float32")
    engine = OcrEngine(settings)
    session = engine.detector.session
    feeds: list[dict[str, np.ndarray]] = []
    run = session.run

    def recording(outputs, feed, *args, **kwargs):  # type: ignore[no-untyped-def]
        feeds.append({name: np.array(value, copy=True) for name, value in feed.items()})
        return run(outputs, feed, *args, **kwargs)

    session.run = recording  # type: ignore[method-assign]
    images = sorted((DATASETS / "sroie-dev" / "img").glob("*.jpg"))[:receipts]
    if len(images) < receipts:
        sys.exit(f"needs {receipts} receipts in {DATASETS / 'sroie-dev' / 'img'}")
    pages = [path.read_bytes() for path in images]
    for seed in range(invoices):
        invoice = generate(9000 + seed)
        pages.append(render_image(invoice.pdf, dpi=(150, 200)[seed % 2], degrade=seed if seed % 4 < 2 else None))
    for data in pages:
        engine.read_pages(page_images(data, settings, []))
    return feeds


def quantize(target: Path, receipts: int, invoices: int) -> None:
    import onnx
    from onnx import version_converter
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    source = sessions.bundled_model(sessions.BUNDLED_DET)
    feeds = calibration_inputs(receipts, invoices)
    print(f"calibration: {len(feeds)} detector inputs from {receipts} receipts and {invoices} invoices")

    class Feeds(CalibrationDataReader):
        def __init__(self) -> None:
            self.left = iter(feeds)

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.left, None)

    with tempfile.TemporaryDirectory() as tmp:
        converted, prepared = Path(tmp) / "opset13.onnx", Path(tmp) / "prepared.onnx"
        # per-channel weight scales need DequantizeLinear's `axis`, which opset 13 brought
        onnx.save(version_converter.convert_version(onnx.load(str(source)), 13), str(converted))
        quant_pre_process(str(converted), str(prepared), skip_symbolic_shape=True)
        quantize_static(str(prepared), str(target), Feeds(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        calibrate_method=CalibrationMethod.MinMax)
    for path in (source, target):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        print(f"{path.name}: {path.stat().st_size / 1e6:.1f} MB, sha256 {digest}")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--receipts", type=int, default=16)
    ap.add_argument("--invoices", type=int, default=8)
    ap.add_argument("--out", type=Path, default=sessions.shipped_model(sessions.SHIPPED_DET_INT8))
    args = ap.parse_args(argv)
    quantize(args.out, args.receipts, args.invoices)


if __name__ == "__main__":
    main()
