"""The synthetic invoice generator: real PDFs whose text layer shows every truth value, valid ids,
consistent arithmetic, distractors that never equal the truth, and the capital-numeral converter."""

from __future__ import annotations

import json
import random
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import cv2
import numpy as np
import pymupdf
import pytest
from stdnum import iban as std_iban
from stdnum.ch import vat as ch_vat
from stdnum.cn import uscc
from stdnum.eu import vat as eu_vat
from stdnum.gb import vat as gb_vat

from inbox_ocr.training.synth import ids as synth_ids
from inbox_ocr.training.synth.generator import SynthInvoice, families, generate, generate_many, main, render_image
from inbox_ocr.understand.cn_numerals import parse_capitals, to_capitals

LANGUAGES = ("en", "de", "fr", "es", "it", "nl", "zh")
SEEDS_PER_FAMILY = 3


@pytest.fixture(scope="module")
def corpus() -> list[SynthInvoice]:
    docs = [generate(seed, family) for family in families() for seed in range(SEEDS_PER_FAMILY)]
    docs += [generate(1000 + i, language=lang) for lang in LANGUAGES for i in range(2)]
    return docs


def page_texts(doc: SynthInvoice) -> list[str]:
    with pymupdf.open(stream=doc.pdf, filetype="pdf") as pdf:
        return [page.get_text() for page in pdf]


def squeeze(text: str) -> str:
    return re.sub(r"[\s\u00a0\u202f]+", "", text)


# --- independent normalizers of printed values -------------------------------------------------

MONTHS = {
    "en": "january february march april may june july august september october november december",
    "de": "januar februar märz april mai juni juli august september oktober november dezember",
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
    "it": "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre",
    "nl": "januari februari maart april mei juni juli augustus september oktober november december",
}
CURRENCY_MARKS = {"€": "EUR", "$": "USD", "£": "GBP", "¥": "CNY", "￥": "CNY", "RMB": "CNY", "zł": "PLN", "Kč": "CZK"}


def month_number(word: str) -> int | None:
    word = word.lower().rstrip(".")
    for names in MONTHS.values():
        for number, name in enumerate(names.split(), start=1):
            if word == name or (len(word) >= 3 and name.startswith(word)) or (word == "mrt" and name == "maart"):
                return number
    return None


def parse_date(text: str, month_first: bool) -> date | None:
    t = text.strip()
    if m := re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})日?", t):
        return date(int(m[1]), int(m[2]), int(m[3]))
    if m := re.fullmatch(r"(\d{1,2})[./-](\d{1,2})[./-](\d{2}|\d{4})", t):
        a, b, y = int(m[1]), int(m[2]), int(m[3])
        y = y + 2000 if y < 100 else y
        return date(y, a, b) if month_first else date(y, b, a)
    if m := re.fullmatch(r"(\d{1,2})(?:er)?\.?[\s-]+(?:de\s+)?([^\d\s-]+)[\s-]+(?:de\s+)?(\d{4})", t):
        month = month_number(m[2])
        return date(int(m[3]), month, int(m[1])) if month else None
    if m := re.fullmatch(r"([^\d\s]+)\s+(\d{1,2}),\s*(\d{4})", t):
        month = month_number(m[1])
        return date(int(m[3]), month, int(m[2])) if month else None
    return None


def parse_amount(text: str) -> Decimal | None:
    if re.search(r"[零壹贰叁肆伍陆柒捌玖]", text):
        return parse_capitals(text)
    digits = re.sub(r"[^\d.,'’\-]", "", text.replace("\u202f", "").replace("\u00a0", "").replace(" ", ""))
    m = re.fullmatch(r"(-?)([\d.,'’]*?)[.,](\d{2})", digits)
    if not m:
        return None
    whole = re.sub(r"[.,'’]", "", m[2]) or "0"
    return Decimal(f"{m[1]}{whole}.{m[3]}")


def compact(text: str) -> str:
    return "".join(ch for ch in text.upper() if ch.isalnum())


def normalize(field: str, printed: str, doc: SynthInvoice) -> str | None:
    if field in ("total", "subtotal", "tax"):
        value = parse_amount(printed)
        return None if value is None else f"{value:.2f}"
    if field in ("invoice_date", "due_date"):
        parsed = parse_date(printed, month_first=doc.truth["currency"] == "USD")
        return parsed.isoformat() if parsed else None
    if field == "currency":
        for mark, code in CURRENCY_MARKS.items():
            if mark in printed:
                return code
        codes = re.findall(r"\b[A-Z]{3}\b", printed)
        return codes[0] if codes else ("CNY" if "人民币" in printed or printed == "元" else None)
    if field in ("vendor_name", "customer_name"):
        return printed
    return compact(printed)


# --- tests -------------------------------------------------------------------------------------


def test_at_least_fourteen_structurally_different_families() -> None:
    names = families()
    assert len(names) >= 14
    assert {"din5008", "receipt", "bill_ship", "place_date", "title_number", "cn_vat"} <= set(names)


def test_same_seed_gives_same_document_and_other_seeds_differ() -> None:
    a, b = generate(4242, "din5008"), generate(4242, "din5008")
    assert a.truth == b.truth
    assert page_texts(a) == page_texts(b)
    c, d = generate(77), generate(77)
    assert (c.family, c.language, c.truth, page_texts(c)) == (d.family, d.language, d.truth, page_texts(d))
    assert generate(4243, "din5008").truth != a.truth


def test_every_family_renders_a_pdf_with_a_text_layer(corpus: list[SynthInvoice]) -> None:
    seen = set()
    for doc in corpus:
        seen.add(doc.family)
        with pymupdf.open(stream=doc.pdf, filetype="pdf") as pdf:
            assert 1 <= pdf.page_count <= 3
            size = (round(pdf[0].rect.width), round(pdf[0].rect.height))
            assert size in {(595, 842), (612, 792)} or (doc.family == "cn_vat" and size == (609, 397))
            assert len(pdf[0].get_text("words")) > 20
    assert seen == set(families())


def test_every_truth_value_is_printed_and_reads_back_as_the_truth(corpus: list[SynthInvoice]) -> None:
    for doc in corpus:
        text = squeeze("".join(page_texts(doc)))
        for field, value in doc.truth.items():
            if value is None:
                continue
            forms = doc.printed.get(field, ())
            assert forms, f"{doc.family}/{doc.seed}: {field} not printed"
            for printed in forms:
                assert squeeze(printed) in text, f"{doc.family}/{doc.seed}: {printed!r} not in the text layer"
            readings = {normalize(field, p, doc) for p in forms}
            expected = (
                compact(value)
                if field
                not in (
                    "total",
                    "subtotal",
                    "tax",
                    "invoice_date",
                    "due_date",
                    "currency",
                    "vendor_name",
                    "customer_name",
                )
                else value
            )
            assert readings == {expected}, f"{doc.family}/{doc.language}/{doc.seed} {field}: {forms} -> {readings}"


def test_always_present_fields(corpus: list[SynthInvoice]) -> None:
    for doc in corpus:
        for key in ("invoice_number", "invoice_date", "currency", "total", "vendor_name"):
            assert doc.truth[key], (doc.family, key)
        date.fromisoformat(doc.truth["invoice_date"] or "")
    optional = ("due_date", "subtotal", "vendor_vat_id", "customer_vat_id", "iban", "po_number")
    for key in optional:
        assert any(d.truth[key] for d in corpus), f"{key} never shown"
        assert any(d.truth[key] is None for d in corpus), f"{key} always shown"


def test_tax_is_left_out_on_some_invoices() -> None:
    """VAT-exempt invoices (small businesses, some exports) print no tax: a few in a hundred."""
    docs = list(generate_many(60, seed=5, families=["din5008", "header_right", "letter_inline"]))
    assert any(d.truth["tax"] for d in docs)
    assert any(d.truth["tax"] is None for d in docs)


def vat_valid(number: str) -> bool:
    if len(number) == 18 and number[:2].isdigit():
        return bool(uscc.is_valid(number))
    if number.startswith("CHE"):
        return bool(ch_vat.is_valid(number))
    if number.startswith("GB"):
        return bool(gb_vat.is_valid(number))
    return bool(eu_vat.is_valid(number))


def test_tax_ids_and_ibans_are_valid(corpus: list[SynthInvoice]) -> None:
    """Most VAT ids hold their check digits; about one in ten is a placeholder (as on real samples)."""
    checked = invalid = 0
    for doc in corpus:
        for key in ("vendor_vat_id", "customer_vat_id"):
            value = doc.truth[key]
            if value:
                assert value == value.upper() and " " not in value
                checked += 1
                invalid += not vat_valid(value)
    assert checked > 20 and 0 < invalid < 0.3 * checked, (invalid, checked)
    for doc in corpus:
        if doc.truth["iban"]:
            assert std_iban.is_valid(doc.truth["iban"]), doc.truth["iban"]
        if doc.family == "cn_vat":
            assert uscc.is_valid(doc.truth["vendor_vat_id"] or "")


@pytest.mark.parametrize("country", ["DE", "FR", "GB", "NL", "BE", "AT", "IT", "ES", "CZ", "PL", "CH", "IE"])
def test_id_generators_give_valid_numbers_for_each_country(country: str) -> None:
    rng = random.Random(country)
    for _ in range(20):
        number = synth_ids.vat_id(rng, country)
        assert vat_valid(number), number
        printed = synth_ids.format_vat(rng, number)
        assert compact(printed) == compact(number)
        account = synth_ids.iban(rng, country)
        assert std_iban.is_valid(account)
        assert all(len(group) == 4 for group in synth_ids.format_iban(account).split()[:-1])
    assert uscc.is_valid(synth_ids.uscc_code(rng))


def test_arithmetic_is_consistent(corpus: list[SynthInvoice]) -> None:
    for doc in corpus:
        t = doc.truth
        for key in ("total", "subtotal", "tax"):
            if t[key] is not None:
                assert re.fullmatch(r"-?\d+\.\d\d", t[key] or ""), t[key]
        if t["subtotal"] is not None and t["tax"] is not None:
            assert Decimal(t["subtotal"]) + Decimal(t["tax"]) == Decimal(t["total"] or "")
        lines = [Decimal(v) for kind, v, _ in doc.distractors if kind == "amount.line"]
        discounts = [Decimal(v) for kind, v, _ in doc.distractors if kind == "amount.discount"]
        assert lines, doc.family
        if t["subtotal"] is not None:
            assert sum(lines) - sum(discounts[:1]) == Decimal(t["subtotal"]), (doc.family, doc.seed)
        deposit = [Decimal(v) for kind, v, _ in doc.distractors if kind == "amount.deposit"]
        due = [Decimal(v) for kind, v, _ in doc.distractors if kind == "amount.amount_due"]
        if due:
            assert due[0] == Decimal(t["total"] or "") - deposit[0]


def test_distractors_never_equal_the_truth(corpus: list[SynthInvoice]) -> None:
    kinds: set[str] = set()
    for doc in corpus:
        t = doc.truth
        amounts = {Decimal(t[k] or "") for k in ("total", "subtotal", "tax") if t[k] is not None}
        dates = {t[k] for k in ("invoice_date", "due_date") if t[k]}
        ids = {compact(t[k] or "") for k in ("invoice_number", "po_number", "vendor_vat_id", "customer_vat_id", "iban")
               if t[k]}  # fmt: skip
        for kind, value, printed in doc.distractors:
            kinds.add(kind)
            if kind.startswith("amount."):
                assert Decimal(value) not in amounts, (doc.family, kind, printed, t)
            elif kind.startswith("date."):
                assert not set(value.split("/")) & dates, (doc.family, kind, printed)
            elif kind.startswith(("id.", "iban.")):
                assert compact(value) not in ids, (doc.family, kind, printed)
    expected = {"amount.line", "amount.unit_price", "id.customer_number", "id.order_number", "id.delivery_note",
                "id.associated_invoice", "date.delivery_date", "date.order_date", "name.person", "page",
                "id.invoice_code", "id.check_code"}  # fmt: skip
    assert expected <= kinds, expected - kinds


def test_no_two_words_overlap_and_all_stay_on_the_page(corpus: list[SynthInvoice]) -> None:
    for doc in corpus:
        with pymupdf.open(stream=doc.pdf, filetype="pdf") as pdf:
            for page in pdf:
                words = page.get_text("words")
                box = np.array([w[:4] for w in words])
                assert box[:, 0].min() >= 0 and box[:, 2].max() <= page.rect.width + 0.5, doc.family
                height = box[:, 3] - box[:, 1]
                middle = (box[:, 1] + box[:, 3]) / 2
                top, bottom = middle - 0.3 * height, middle + 0.3 * height
                left, right = box[:, 0] + 0.3, box[:, 2] - 0.3
                dx = np.minimum(right[:, None], right[None, :]) - np.maximum(left[:, None], left[None, :])
                dy = np.minimum(bottom[:, None], bottom[None, :]) - np.maximum(top[:, None], top[None, :])
                hit = (dx > 0.5) & (dy > 0)
                np.fill_diagonal(hit, False)
                pairs = [(words[i][4], words[j][4]) for i, j in zip(*np.nonzero(hit), strict=True) if i < j]
                assert not pairs, (doc.family, doc.language, doc.seed, pairs[:3])


def test_long_tables_carry_over_to_a_second_page_with_the_totals() -> None:
    for seed in range(2):
        doc = generate(seed, "long_table")
        texts = page_texts(doc)
        assert len(texts) >= 2
        assert any(squeeze(p) in squeeze(texts[-1]) for p in doc.printed["total"])
        assert any(kind == "amount.carried" for kind, _, _ in doc.distractors)


def test_chinese_vat_invoice_text_is_extractable() -> None:
    for seed in range(3):
        doc = generate(seed, "cn_vat")
        assert doc.language == "zh" and doc.truth["currency"] == "CNY"
        text = page_texts(doc)[0]
        for word in ("发票号码", "开票日期", "价税合计", "纳税人识别号", "名", "税额", "合"):
            assert word in text
        capitals = re.findall(r"[零壹贰叁肆伍陆柒捌玖拾佰仟万亿圆角分整]{3,}", text)
        assert any(parse_capitals(c) == Decimal(doc.truth["total"] or "") for c in capitals)
        assert doc.truth["vendor_name"] and doc.truth["vendor_name"].endswith("公司")
        assert len(doc.truth["invoice_number"] or "") in (8, 20)
        assert doc.truth["customer_vat_id"] and uscc.is_valid(doc.truth["customer_vat_id"])


def test_cn_family_only_in_chinese() -> None:
    with pytest.raises(ValueError):
        generate(1, "cn_vat", "de")
    with pytest.raises(ValueError):
        generate(1, "no_such_family")


def test_generate_many_respects_families_and_languages() -> None:
    docs = list(generate_many(6, seed=50, families=["receipt", "hero"], languages=["de", "fr"]))
    assert [d.family for d in docs] == ["receipt", "hero"] * 3
    assert {d.language for d in docs} <= {"de", "fr"}
    assert [d.seed for d in docs] == list(range(50, 56))
    again = generate(docs[3].seed, docs[3].family, docs[3].language)
    assert again.truth == docs[3].truth


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("壹仟贰佰叁拾肆元伍角陆分", "1234.56"),
        ("⊗壹佰圆整", "100.00"),
        ("贰拾万零叁佰圆整", "200300.00"),
        ("ⓧ 壹万零伍圆整", "10005.00"),
        ("壹仟零叁拾圆零伍分", "1030.05"),
        ("壹拾万零柒仟元伍角叁分", "107000.53"),
        ("壹拾万柒仟元伍角叁分", "107000.53"),
        ("壹仟陆佰捌拾元零叁角贰分", "1680.32"),
        ("人民币叁佰贰拾伍元零肆分", "325.04"),
        ("拾伍元正", "15.00"),
        ("伍角陆分", "0.56"),
        ("壹亿零伍圆整", "100000005.00"),
        ("零圆整", "0.00"),
    ],
)
def test_parse_capitals_reads_hand_written_examples(text: str, amount: str) -> None:
    assert parse_capitals(text) == Decimal(amount)


@pytest.mark.parametrize("text", ["", "abc", "1234.56", "壹佰", "圆整", "伍角陆分整", "壹仟伍圆整", "壹万伍圆整",
                                  "壹仟零零伍圆整", "伍伍圆", "壹圆贰元", "合计"])  # fmt: skip
def test_parse_capitals_rejects_what_is_not_a_capital_amount(text: str) -> None:
    assert parse_capitals(text) is None


def test_to_capitals_follows_the_writing_rules() -> None:
    assert to_capitals(Decimal("1234.56")) == "壹仟贰佰叁拾肆圆伍角陆分"
    assert to_capitals(Decimal("100")) == "壹佰圆整"
    assert to_capitals(Decimal("10005")) == "壹万零伍圆整"
    assert to_capitals(Decimal("1030.05")) == "壹仟零叁拾圆零伍分"
    assert to_capitals(Decimal("200300")) == "贰拾万零叁佰圆整"
    assert to_capitals(Decimal("16409.02")) == "壹万陆仟肆佰零玖圆零贰分"
    assert to_capitals(Decimal("10")) == "壹拾圆整"
    with pytest.raises(ValueError):
        to_capitals(Decimal("-1"))


def test_capitals_round_trip_with_zeros_in_every_position() -> None:
    rng = random.Random(11)
    amounts = {Decimal(c) / 100 for c in (1, 9, 10, 100, 101, 1000, 10001, 100000, 9999999999)}
    for mask in range(1 << 10):  # every pattern of zero / non-zero digits over 10 positions
        cents = int("".join(str(rng.randint(1, 9)) if mask >> k & 1 else "0" for k in range(10)))
        amounts.add(Decimal(cents) / 100)
    amounts |= {Decimal(rng.randint(1, 9_999_999_999)) / 100 for _ in range(3000)}
    for amount in amounts:
        if amount == 0:
            continue
        text = to_capitals(amount)
        assert parse_capitals(text) == amount, (amount, text)
        assert parse_capitals("ⓧ" + text.replace("圆", "元")) == amount


def test_render_image_returns_a_png_opencv_decodes() -> None:
    doc = generate(3, "kv_box")
    clean = render_image(doc.pdf, dpi=72)
    image = cv2.imdecode(np.frombuffer(clean, np.uint8), cv2.IMREAD_UNCHANGED)
    assert image is not None and abs(image.shape[0] - round(doc_height(doc) / 72 * 72)) <= 1
    noisy = render_image(doc.pdf, dpi=72, degrade=5)
    decoded = cv2.imdecode(np.frombuffer(noisy, np.uint8), cv2.IMREAD_UNCHANGED)
    assert decoded is not None and decoded.shape[:2] == image.shape[:2]
    assert noisy == render_image(doc.pdf, dpi=72, degrade=5)
    assert noisy != clean


def doc_height(doc: SynthInvoice) -> float:
    with pymupdf.open(stream=doc.pdf, filetype="pdf") as pdf:
        return float(pdf[0].rect.height)


def test_command_line_writes_pdfs_images_and_labels(tmp_path: Path) -> None:
    assert main(["--out", str(tmp_path), "--count", "3", "--seed", "9", "--images", "1", "--families",
                 "din5008,cn_vat", "--dpi", "60"]) == 0  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir()) == ["00000.pdf", "00000.png", "00001.pdf", "00002.pdf",
                                                          "labels.jsonl"]  # fmt: skip
    records = [json.loads(line) for line in (tmp_path / "labels.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["file"] for r in records] == ["00000.pdf", "00001.pdf", "00002.pdf"]
    assert [r["family"] for r in records] == ["din5008", "cn_vat", "din5008"]
    assert all(set(r) >= {"family", "language", "seed", "truth"} for r in records)
    assert records[1]["language"] == "zh"
    assert generate(records[2]["seed"], records[2]["family"], records[2]["language"]).truth == records[2]["truth"]
