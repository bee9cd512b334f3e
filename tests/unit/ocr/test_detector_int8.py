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


def test_the_default_runs_int8_where_the_cpu_has_int8_dot_products(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    assert OcrSettings().det_precision == "auto"
    expected = session.SHIPPED_DET_INT8 if session.int8_dot_product() else session.BUNDLED_DET
    assert OcrEngine(OcrSettings()).models["detector"] == expected
    assert OcrEngine(OcrSettings(det_precision="int8")).models["detector"] == session.SHIPPED_DET_INT8
    assert OcrEngine(OcrSettings(det_precision="float32")).models["detector"] == session.BUNDLED_DET
    monkeypatch.setattr(session, "int8_dot_product", lambda: False)
    assert session.detector_model("auto").name == session.BUNDLED_DET
    monkeypatch.setattr(session, "int8_dot_product", lambda: True)
    assert session.detector_model("auto").name == session.SHIPPED_DET_INT8


def test_vnni_is_read_from_the_cpu_flags() -> None:
    line = "flags\t\t: fpu sse2 avx2 {} avx512f\n"
    assert session.has_vnni("processor\t: 0\n" + line.format("avx512_vnni"))
    assert session.has_vnni(line.format("avx_vnni"))
    assert not session.has_vnni(line.format("avx512bw"))  # an AVX2 / AVX-512 CPU before VNNI
    assert not session.has_vnni("Features\t: fp asimd asimddp\n")  # ARM: not told apart here, float32


@pytest.mark.skipif(not session.int8_dot_product(), reason="no int8 dot products (VNNI) on this CPU: "
                    "det_precision auto runs the float32 detector here")
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
