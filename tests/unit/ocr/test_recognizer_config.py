"""The recognizer takes any CTC model plus a dictionary from the config."""

from __future__ import annotations

from pathlib import Path

import pytest

from inbox_ocr.errors import ConfigError
from inbox_ocr.read.ocr import OcrEngine, PageImage
from inbox_ocr.read.ocr.session import BUNDLED_REC, bundled_model
from inbox_ocr.settings import OcrSettings
from tests.unit.ocr.conftest import RenderedPage


def _top(invoice: RenderedPage):  # type: ignore[no-untyped-def]
    return PageImage(1, invoice.pixels[:500], 1.0)


def test_model_and_dictionary_from_config_files(
    tmp_path: Path, engine: OcrEngine, invoice: RenderedPage
) -> None:
    labels = engine.recognizer.labels
    chars = labels[1:-1] if labels[-1] == " " else labels[1:]
    dict_file = tmp_path / "keys.txt"
    dict_file.write_text("\n".join(chars) + "\n", encoding="utf-8")
    configured = OcrEngine(OcrSettings(rec_model=bundled_model(BUNDLED_REC), rec_dict=dict_file))
    assert configured.read_page(_top(invoice)).text == engine.read_page(_top(invoice)).text


def test_a_dictionary_that_does_not_fit_the_model_is_a_config_error(tmp_path: Path) -> None:
    dict_file = tmp_path / "keys.txt"
    dict_file.write_text("a\nb\nc\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="classes"):
        OcrEngine(OcrSettings(rec_dict=dict_file))


def test_a_missing_model_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot load"):
        OcrEngine(OcrSettings(rec_model=tmp_path / "nope.onnx"))


def test_a_wrong_dictionary_changes_the_text(
    tmp_path: Path, engine: OcrEngine, invoice: RenderedPage
) -> None:
    # same size, characters shifted by one: proves the configured dictionary is the one used
    labels = engine.recognizer.labels
    chars = labels[1:-1]
    dict_file = tmp_path / "keys.txt"
    dict_file.write_text("\n".join(chars[1:] + chars[:1]) + "\n", encoding="utf-8")
    shifted = OcrEngine(OcrSettings(rec_dict=dict_file))
    assert "INVOICE" not in shifted.read_page(_top(invoice)).text
