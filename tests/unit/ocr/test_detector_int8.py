"""The shipped int8 text detector: the default, and it finds the lines the float32 original finds."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from inbox_ocr.kernel.errors import ConfigError
from inbox_ocr.kernel.settings import OcrSettings
from inbox_ocr.read.ocr import OcrEngine, session
from inbox_ocr.read.ocr.detect import DetectorOptions, TextDetector
from tests.unit.ocr.conftest import RenderedPage, render_invoice


def _detector(precision: str) -> TextDetector:
    return TextDetector(session.open_session(session.detector_model(precision), 1), DetectorOptions())


def _box(quad: np.ndarray) -> tuple[float, float, float, float]:
    return float(quad[:, 0].min()), float(quad[:, 1].min()), float(quad[:, 0].max()), float(quad[:, 1].max())


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(w, 0.0) * max(h, 0.0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union else 0.0


def test_the_default_engine_runs_the_shipped_int8_detector() -> None:
    assert OcrSettings().det_precision == "int8"
    engine = OcrEngine(OcrSettings())
    assert engine.models["detector"] == session.SHIPPED_DET_INT8
    assert OcrEngine(OcrSettings(det_precision="float32")).models["detector"] == session.BUNDLED_DET


@pytest.mark.parametrize("dpi", [110, 150, 200])
def test_int8_finds_the_lines_float32_finds(dpi: int) -> None:
    page: RenderedPage = render_invoice(dpi)
    image = cv2.cvtColor(page.pixels, cv2.COLOR_RGB2BGR)
    full = [_box(b.quad) for b in _detector("float32")(image)]
    small = [_box(b.quad) for b in _detector("int8")(image)]
    assert len(full) == len(page.lines)  # the reference itself reads the page right
    assert len(small) == len(full)
    for box in full:  # each line of the original has its twin, in the same place
        assert max(_iou(box, other) for other in small) > 0.8


def test_a_missing_int8_detector_is_a_config_error_that_says_what_to_do(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(session, "_SHIPPED", tmp_path)
    with pytest.raises(ConfigError, match="det_precision: float32"):
        session.detector_model("int8")
    assert session.detector_model("float32").name == session.BUNDLED_DET
