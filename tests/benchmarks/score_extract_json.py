"""Score `inbox-ocr extract --json` output against zugferd-dev/expected.json.

    inbox-ocr extract --json --text-only ../shared/datasets/zugferd-dev/*.pdf > /tmp/extract.jsonl
    python tests/benchmarks/score_extract_json.py /tmp/extract.jsonl

Prints per-field accuracy over the files expected.json lists (fields it leaves null are not scored).
"""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = ROOT.parent / "shared" / "datasets" / "zugferd-dev" / "expected.json"

# expected.json key -> (our field name, how to compare)
FIELDS = {
    "invoice_number": ("invoice_number", "text"),
    "issue_date": ("invoice_date", "date"),
    "currency": ("currency", "text"),
    "grand_total": ("total", "amount"),
    "seller_vat_id": ("vendor_vat_id", "vat"),
    "seller_name": ("vendor_name", "text"),
}


def same(kind: str, have: object, want: str) -> bool:
    if have is None:
        return False
    if kind == "amount":
        try:
            return Decimal(str(have)) == Decimal(want)
        except InvalidOperation:
            return False
    if kind == "date":
        return str(have).replace("-", "") == want
    if kind == "vat":
        return str(have).replace(" ", "").upper() == want.replace(" ", "").upper()
    return " ".join(str(have).split()).casefold() == " ".join(want.split()).casefold()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("jsonl", nargs="?", type=argparse.FileType("r"), default=sys.stdin)
    parser.add_argument("--expected", type=Path, default=EXPECTED)
    args = parser.parse_args()
    expected = json.loads(args.expected.read_text())
    results = {}
    for line in args.jsonl:
        if line.strip():
            row = json.loads(line)
            results.setdefault(Path(row["file"]).name, row)
    print(f"{'field':<16} {'correct':>8} {'scored':>7} {'accuracy':>9}")
    total_ok = total_n = 0
    for key, (ours, kind) in FIELDS.items():
        ok = n = 0
        for name, want in expected.items():
            if want.get(key) in (None, ""):
                continue
            n += 1
            ok += same(kind, results.get(name, {}).get("fields", {}).get(ours), want[key])
        total_ok += ok
        total_n += n
        print(f"{key:<16} {ok:>8} {n:>7} {ok / n:>9.1%}")
    print(f"{'all':<16} {total_ok:>8} {total_n:>7} {total_ok / total_n:>9.1%}")
    missing = sorted(set(expected) - set(results))
    if missing:
        print(f"no output for {len(missing)} file(s): {', '.join(missing)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
