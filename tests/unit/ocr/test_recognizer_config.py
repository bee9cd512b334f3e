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


def _mixed_page() -> PageImage:
    doc = pymupdf.open()
    page = doc.new_page(width=300, height=120)
    page.insert_text((20, 45), "谢谢惠顾", fontsize=24, fontname="china-s")
    page.insert_text((20, 95), "Total 12.50 EUR", fontsize=20, fontname="helv")
    pix = page.get_pixmap(dpi=200, alpha=False)
    pixels = np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.height, pix.width, 3).copy()
    return PageImage(1, pixels, 1.0)


def test_the_default_reads_chinese_and_latin_without_configuration(engine: OcrEngine) -> None:
    assert OcrSettings().alphabet == "auto"
    page = engine.read_page(_mixed_page())
    assert [line.text for line in page.lines] == ["谢谢惠顾", "Total 12.50 EUR"]
    assert page.warnings == ()


def test_latin_leaves_chinese_out_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    latin = OcrEngine(OcrSettings(alphabet="latin"))
    with caplog.at_level("WARNING"):
        page = latin.read_page(_mixed_page())
    assert "Total 12.50 EUR" in [line.text for line in page.lines]
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in page.text)
    assert len(page.warnings) == 1 and "ocr.alphabet 'latin' leaves out" in page.warnings[0]
    assert "event=ocr_script_dropped page=1 lines=1 alphabet=latin" in caplog.text


def test_the_warning_reaches_the_document(tmp_path: Path) -> None:
    from inbox_ocr.read.ocr import ocr_image_bytes
    from tests.unit.ocr.conftest import image_bytes

    warnings: list[str] = []
    pages = ocr_image_bytes(image_bytes(_mixed_page().pixels), OcrSettings(alphabet="latin"), warnings)
    assert "Total 12.50 EUR" in pages[0].text
    assert any("leaves out" in w for w in warnings)


def test_latin_pages_read_the_same_with_the_default_as_with_latin(engine: OcrEngine, invoice: RenderedPage) -> None:
    latin = OcrEngine(OcrSettings(alphabet="latin"))
    page = PageImage(1, invoice.pixels, 1.0)
    default, only_latin = engine.read_page(page), latin.read_page(page)
    assert default.text == only_latin.text == "\n".join(invoice.lines)
    assert [line.confidence for line in default.lines] == [line.confidence for line in only_latin.lines]


def test_latin_and_auto_emit_no_cyrillic_or_greek_lookalikes(engine: OcrEngine) -> None:
    fallback = engine.recognizer.fallback
    labels = set(engine.recognizer.labels) | set(fallback.labels if fallback else ())
    assert {"€", "ä", "ß", "é", "ł", "0", "%", "年", "（"} <= labels
    assert not labels & {"А", "В", "О", "Р", "α", "Ω", "한"}


def test_full_alphabet_reads_chinese() -> None:
    full = OcrEngine(OcrSettings(alphabet="all"))
    assert full.read_page(_mixed_page()).lines[0].text == "谢谢惠顾"
