"""Synthetic invoices for training and validating the learned field extractor.

    generate(seed, family=None, language=None) -> SynthInvoice     deterministic per seed
    generate_many(count, seed=0, families=None, languages=None)     round robin over families
    families() -> list[str]
    render_image(pdf, page=0, dpi=150, degrade=None) -> PNG bytes

Each document is a real PDF with a text layer; `truth` holds the canonical values of the fields the
page shows (None for those it does not), `printed` the exact strings that carry them, `distractors`
the look-alike values printed near them (kind, canonical value, printed string), which never equal
a truth value, so that candidates can be labelled by matching normalized values.

Command line:
    python -m inbox_ocr.training.synth --out DIR --count N [--seed S]
        [--families a,b] [--languages de,fr] [--images K] [--dpi 150] [--degrade]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from random import Random
from typing import Any

from . import layout_cn as cn
from . import layouts as one
from . import layouts_more as two
from .canvas import Canvas, Marks
from .content import Invoice, Options, build_invoice
from .image import render_image
from .locale import LANGUAGES

__all__ = ["SynthInvoice", "families", "generate", "generate_many", "render_image"]


@dataclass(frozen=True)
class SynthInvoice:
    pdf: bytes
    truth: dict[str, str | None]
    family: str
    language: str
    seed: int
    printed: dict[str, tuple[str, ...]] = field(default_factory=dict)
    distractors: tuple[tuple[str, str, str], ...] = ()


@dataclass(frozen=True)
class Family:
    render: Callable[[Invoice, Random], Canvas]
    options: Options = field(default_factory=Options)
    languages: tuple[str, ...] = LANGUAGES


_FAMILIES: dict[str, Family] = {
    "din5008": Family(one.din5008),
    "header_right": Family(one.header_right),
    "kv_box": Family(one.kv_box),
    "labels_above": Family(one.labels_above, Options(ship_to=0.4)),
    "title_number": Family(one.title_number),
    "letter_inline": Family(one.letter_inline, Options(items=(1, 6))),
    "inline_totals": Family(one.inline_totals_table),
    "receipt": Family(one.receipt, Options(items=(1, 12), customer=0.4)),
    "bill_ship": Family(one.bill_ship, Options(ship_to=0.8)),
    "place_date": Family(two.place_date),
    "letterhead_bold": Family(two.letterhead_bold),
    "sidebar": Family(two.sidebar),
    "long_table": Family(two.long_table, two.LONG_TABLE),
    "grid_form": Family(two.grid_form, Options(ship_to=0.3)),
    "dotted": Family(two.dotted),
    "hero": Family(two.hero),
    "two_parties": Family(two.two_parties),
    "key_value_form": Family(two.key_value_form),
    "cn_vat": Family(cn.cn_vat, cn.CN_OPTIONS, ("zh",)),
}
_MAX_ATTEMPTS = 30


def families() -> list[str]:
    """Names of the layout families."""
    return list(_FAMILIES)


def generate(seed: int, family: str | None = None, language: str | None = None) -> SynthInvoice:
    """One synthetic invoice; the same (seed, family, language) always gives the same document."""
    rng = Random(seed)
    if family is not None and family not in _FAMILIES:
        raise ValueError(f"unknown family {family!r}; known: {', '.join(_FAMILIES)}")
    if language is not None and language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}; known: {', '.join(LANGUAGES)}")
    if family is None:
        if language == "zh" and rng.random() < 0.5:
            family = "cn_vat"
        else:
            family = rng.choice([n for n, f in _FAMILIES.items() if language is None or language in f.languages])
    spec = _FAMILIES[family]
    if language is None:
        language = rng.choice(spec.languages)
    elif language not in spec.languages:
        raise ValueError(f"family {family!r} has no {language!r} variant (languages: {', '.join(spec.languages)})")
    rng = Random(f"{seed}:{family}:{language}")  # documents of one seed differ between families
    for _ in range(_MAX_ATTEMPTS):
        invoice = build_invoice(rng, language, spec.options)
        canvas = spec.render(invoice, rng)
        pdf = canvas.finish()
        truth = invoice.truth()
        missing = [k for k, v in truth.items() if v is not None and not canvas.marks.truth.get(k)]
        if missing:
            raise RuntimeError(f"family {family} did not print {missing} (seed {seed})")
        if _collisions(truth, canvas.marks) or _ambiguous(truth):
            continue
        return SynthInvoice(
            pdf=pdf, truth=truth, family=family, language=language, seed=seed,
            printed={k: tuple(v) for k, v in canvas.marks.truth.items() if truth.get(k) is not None},
            distractors=tuple((kind, _canonical(value), printed) for kind, value, printed in canvas.marks.distractors),
        )  # fmt: skip
    raise RuntimeError(f"no collision-free document after {_MAX_ATTEMPTS} attempts (seed {seed}, {family})")


def generate_many(count: int, seed: int = 0, families: Sequence[str] | None = None,
                  languages: Sequence[str] | None = None) -> Iterator[SynthInvoice]:  # fmt: skip
    """`count` documents with seeds seed, seed+1, ...; families taken in turn, a language drawn per document."""
    names = list(families or _FAMILIES)
    wanted = tuple(languages or LANGUAGES)
    unknown = [n for n in names if n not in _FAMILIES]
    if unknown:
        raise ValueError(f"unknown families: {', '.join(unknown)}")
    usable = [n for n in names if set(_FAMILIES[n].languages) & set(wanted)]
    if not usable:
        raise ValueError("no family supports the requested languages")
    for i in range(count):
        doc_seed = seed + i
        name = usable[i % len(usable)]
        options = [lang for lang in wanted if lang in _FAMILIES[name].languages]
        yield generate(doc_seed, name, Random(doc_seed * 7919 + 17).choice(options))


def _canonical(value: Any) -> str:
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return "/".join(_canonical(v) for v in value)
    return _compact(str(value))


def _compact(text: str) -> str:
    return "".join(ch for ch in text.upper() if ch.isalnum())


def _date_variants(iso: str) -> set[date]:
    d = date.fromisoformat(iso)
    out = {d}
    if d.day <= 12:
        out.add(date(d.year, d.day, d.month))
    return out


def _collisions(truth: dict[str, str | None], marks: Marks) -> list[str]:
    """Distractors whose value equals a truth value of the same type (which would mislabel them)."""
    amounts = {Decimal(v) for k in ("total", "subtotal", "tax") if (v := truth.get(k)) is not None}
    dates: set[date] = set()
    for key in ("invoice_date", "due_date"):
        if (iso := truth.get(key)) is not None:
            dates |= _date_variants(iso)
    ids = {_compact(v) for k in ("invoice_number", "po_number", "vendor_vat_id", "customer_vat_id", "iban")
           if (v := truth.get(k)) is not None}  # fmt: skip
    names = {_compact(v) for k in ("vendor_name", "customer_name") if (v := truth.get(k)) is not None}
    bad: list[str] = []
    for kind, value, printed in marks.distractors:
        if kind.startswith("amount.") and Decimal(value) in amounts:
            bad.append(printed)
        elif kind.startswith("date."):
            values = value if isinstance(value, tuple) else (value,)
            if any(v in dates for v in values):
                bad.append(printed)
        elif (
            kind.startswith(("id.", "iban.", "phone"))
            and _compact(str(value)) in ids
            or kind.startswith("name.")
            and _compact(str(value)) in names
        ):
            bad.append(printed)
    return bad


def _ambiguous(truth: dict[str, str | None]) -> bool:
    """Two different truth fields that would print alike (a PO number equal to the invoice number)."""
    number, po = truth.get("invoice_number"), truth.get("po_number")
    return po is not None and number is not None and _compact(po) == _compact(number)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m inbox_ocr.training.synth", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--out", type=Path, required=True, help="output folder (created)")
    parser.add_argument("--count", type=int, required=True, help="number of documents")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first document (the others follow)")
    parser.add_argument("--families", default="", help=f"comma-separated subset of: {', '.join(_FAMILIES)}")
    parser.add_argument("--languages", default="", help=f"comma-separated subset of: {', '.join(LANGUAGES)}")
    parser.add_argument("--images", type=int, default=0, help="also write PNG page images of the first K documents")
    parser.add_argument("--dpi", type=int, default=150, help="resolution of the images")
    parser.add_argument("--degrade", action="store_true", help="add seeded scan noise to the images")
    args = parser.parse_args(argv)
    fams = [f for f in args.families.split(",") if f] or None
    langs = [lang for lang in args.languages.split(",") if lang] or None
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    written = 0
    with (args.out / "labels.jsonl").open("w", encoding="utf-8") as labels:
        for index, doc in enumerate(generate_many(args.count, args.seed, fams, langs)):
            name = f"{index:05d}.pdf"
            (args.out / name).write_bytes(doc.pdf)
            record: dict[str, Any] = {"file": name, "family": doc.family, "language": doc.language, "seed": doc.seed,
                                      "truth": doc.truth}  # fmt: skip
            if index < args.images:
                image = render_image(doc.pdf, dpi=args.dpi, degrade=doc.seed if args.degrade else None)
                (args.out / f"{index:05d}.png").write_bytes(image)
                record["image"] = f"{index:05d}.png"
            labels.write(json.dumps(record, ensure_ascii=False) + "\n")
            written += 1
    elapsed = time.perf_counter() - started
    print(f"wrote {written} documents to {args.out} in {elapsed:.1f} s ({written / max(elapsed, 1e-9):.1f}/s)",
          file=sys.stderr)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
