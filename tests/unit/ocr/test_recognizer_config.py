"""The recognizer takes any CTC model plus a dictionary from the config."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pymupdf
import pytest

from inbox_ocr.kernel.errors import ConfigError
from inbox_ocr.kernel.settings import OcrSettings
from inbox_ocr.read.ocr import OcrEngine, PageImage
from inbox_ocr.read.ocr.session import BUNDLED_REC, bundled_model, open_session
from tests.unit.ocr.conftest import RenderedPage


def _top(invoice: RenderedPage):  # type: ignore[no-untyped-def]
    return PageImage(1, invoice.pixels[:500], 1.0)


def _bundled_dictionary() -> list[str]:
    meta = open_session(bundled_model(BUNDLED_REC)).get_modelmeta().custom_metadata_map
    return meta["character"].splitlines()


def test_model_and_dictionary_from_config_files(
    tmp_path: Path, engine: OcrEngine, invoice: RenderedPage
) -> None:
    dict_file = tmp_path / "keys.txt"
    dict_file.write_text("\n".join(_bundled_dictionary()) + "\n", encoding="utf-8")
    configured = OcrEngine(OcrSettings(rec_model=bundled_model(BUNDLED_REC), rec_dict=dict_file))
    assert configured.read_page(_top(invoice)).text == engine.read_page(_top(invoice)).text


def test_a_dictionary_that_does_not_fit_the_model_is_a_config_error(tmp_path: Path) -> None:
    dict_file = tmp_path / "keys.txt"
    dict_file.write_text("a\nb\nc\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="classes"):
        OcrEngine(OcrSettings(rec_dict=dict_file))


def test_a_dictionary_entry_of_several_characters_is_a_config_error(tmp_path: Path) -> None:
    dict_file = tmp_path / "keys.txt"
    dict_file.write_text("\n".join(["ff", *_bundled_dictionary()[1:]]) + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="entry 1 is 'ff'"):
        OcrEngine(OcrSettings(rec_dict=dict_file))


def test_a_missing_model_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot load"):
        OcrEngine(OcrSettings(rec_model=tmp_path / "nope.onnx"))


def test_a_wrong_dictionary_changes_the_text(
    tmp_path: Path, engine: OcrEngine, invoice: RenderedPage
) -> None:
    # same size, characters shifted by one: proves the configured dictionary is the one used
    chars = _bundled_dictionary()
    dict_file = tmp_path / "keys.txt"
    dict_file.write_text("\n".join(chars[1:] + chars[:1]) + "\n", encoding="utf-8")
    shifted = OcrEngine(OcrSettings(rec_dict=dict_file))
    assert "INVOICE" not in shifted.read_page(_top(invoice)).text


def test_latin_alphabet_never_outputs_cjk(engine: OcrEngine) -> None:
    assert all(len(c) == 1 and ord(c) < 0x2150 for c in engine.recognizer.labels[1:])
    assert {"€", "ä", "ß", "é", "ł", "0", "%"} <= set(engine.recognizer.labels)


def test_full_alphabet_reads_chinese() -> None:
    doc = pymupdf.open()
    page = doc.new_page(width=300, height=80)
    page.insert_text((20, 45), "谢谢惠顾", fontsize=24, fontname="china-s")
    pix = page.get_pixmap(dpi=200, alpha=False)
    pixels = np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.height, pix.width, 3).copy()
    full = OcrEngine(OcrSettings(alphabet="all"))
    assert full.read_page(PageImage(1, pixels, 1.0)).text == "谢谢惠顾"
