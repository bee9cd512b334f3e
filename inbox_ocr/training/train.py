"""Train, validate and ship the field scorer.

    python -m inbox_ocr.training.train [--synth 3000] [--synth-ocr 200] [--no-evaluate] [--out DIR]

1. Reads the dev documents (../shared/datasets) and generates synthetic ones (text layer, and
   page images read by our OCR), and featurizes them all (cached in ~/.cache/inbox-ocr).
2. Evaluates honestly (evaluate.py): leave-one-source-out over the dev sources, held-out layout
   families over the synthetic ones; tunes each field's threshold and fits its calibration on
   those held-out predictions; prints the tables (rule-based beside learned) and the reliability
   of the confidences.
3. Trains the shipped models on everything, checks that the exported trees reproduce
   scikit-learn's probabilities, and writes inbox_ocr/understand/models/fields.npz and fields.json
   (with the evaluation tables in REPORT.md beside them).

Needs scikit-learn (`pip install -e .[train]`); the product itself does not.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from inbox_ocr.training.dataset import DocFeatures, featurize_all
from inbox_ocr.training.devsets import dev_samples, synthetic
from inbox_ocr.training.evaluate import (
    accuracy_table,
    calibration_points,
    cross_fitted_confidences,
    cross_predict,
    fit_calibration,
    log_loss,
    markdown,
    reliability_table,
    tune_joint_slack,
    tune_policy,
)
from inbox_ocr.training.learn import FIELDS, NEGATIVES_PER_DOCUMENT, PARAMS, REAL_WEIGHT, export, fit, training_rows
from inbox_ocr.understand.features import FEATURE_NAMES
from inbox_ocr.understand.scorer import FIELD_KINDS, JOINT_SLACK, MODEL_DIR

REPORTED = ("invoice_number", "invoice_date", "currency", "total", "subtotal", "tax", "vendor_vat_id",
            "customer_vat_id", "vendor_name")


def source_fold(doc: DocFeatures) -> str | None:
    """The strictest split the dev sets allow: a whole dev set is held out at once (all of
    invoices-dev's repositories, all of zugferd-dev's producers); sroie-dev, one source of
    receipts, is cross-validated in five folds. Synthetic documents are only trained on."""
    if doc.source == "synth":
        return None
    return doc.group if doc.source == "sroie" else doc.source


def layout_folds(docs: Sequence[DocFeatures], parts: int = 4, seed: int = 7) -> list[str | None]:
    families = sorted({d.group for d in docs if d.source == "synth"})
    random.Random(seed).shuffle(families)
    fold = {family: f"layouts:{i % parts}" for i, family in enumerate(families)}
    return [fold[d.group] if d.source == "synth" else None for d in docs]


def evaluate(docs: list[DocFeatures]) -> tuple[dict[str, tuple[float, float, float]], dict[str, object], float, str]:
    print("leave-one-source-out over the dev sources:", flush=True)
    loso = cross_predict(docs, [source_fold(d) for d in docs])
    print("held-out layout families:", flush=True)
    layouts = cross_predict(docs, layout_folds(docs))
    policy = tune_policy(docs, [loso.raw, layouts.raw])
    slack = tune_joint_slack(docs, [loso, layouts], policy)
    held_out = {**loso.predict(docs, policy, joint_slack=slack), **layouts.predict(docs, policy, joint_slack=slack)}
    calibrations = {}
    for name in FIELDS:
        x, y = calibration_points(docs, held_out, name)
        calibrations[name] = fit_calibration(x, y)
    confidences = cross_fitted_confidences(docs, held_out, group_of=lambda d: d.group)

    def source(d: DocFeatures) -> str:
        if d.source != "synth":
            return {"zugferd": "zugferd-dev (held out)", "invoices": "invoices-dev (held out)",
                    "sroie": "sroie-dev OCR (5-fold)"}[d.source]
        return "synthetic, unseen layouts, " + ("OCR" if "-ocr-" in d.name else "text layer")

    header = ["slice", "field", "documents", "rule-based %", "learned %"]
    by_source = markdown(header, accuracy_table(docs, held_out, source, REPORTED))
    by_group = markdown(header, accuracy_table(docs, held_out, lambda d: d.group if d.source != "synth" else None,
                                               REPORTED))
    by_family = markdown(header, accuracy_table(
        docs, held_out, lambda d: d.group + (" (OCR)" if "-ocr-" in d.name else "") if d.source == "synth" else None,
        REPORTED))
    reliability = markdown(["calibrated confidence", "fields", "right %"],
                           reliability_table(docs, held_out, confidences))
    report = (f"## Per source\n\n{by_source}\n\n## Per dev group\n\n{by_group}\n\n"
              f"## Per synthetic layout family (held out)\n\n{by_family}\n\n"
              f"## Reliability (cross-fitted calibration, all held-out predictions)\n\n{reliability}\n\n"
              f"Held-out log loss of the chosen values: {log_loss(docs, held_out):.3f}\n")
    policy_table = markdown(["field", "threshold", "margin over the rule-based value",
                             "threshold where the rule found nothing"],
                            [[name, f"{t:.2f}", f"{m:.2f}", f"{a:.2f}"] for name, (t, m, a) in policy.items()])
    report += f"\n## Decision policy (tuned on the held-out predictions)\n\n{policy_table}\n"
    report += (f"\nJoint money choice: a combination that adds up may be {math.exp(slack):g} times less "
               "probable than the independent choices (tuned on the same held-out predictions).\n")
    print(report, flush=True)
    return policy, calibrations, slack, report  # type: ignore[return-value]


def ship(docs: list[DocFeatures], policy: dict[str, tuple[float, float, float]], calibrations: dict[str, object],
         out: Path, report: str, counts: dict[str, int], joint_slack: float = JOINT_SLACK) -> None:
    arrays = {}
    spec = {}
    for name in FIELDS:
        model = fit(docs, name)
        X, _, _ = training_rows(docs, name, seed=1)
        trees = export(model, check=X[:2000])
        arrays.update(trees.arrays(name))
        calibration = calibrations.get(name)
        spec[name] = {
            "kind": FIELD_KINDS[name], "threshold": policy.get(name, (0.0, 0.0, 0.0))[0],
            "margin": policy.get(name, (0.0, 0.0, 0.0))[1],
            "alone_threshold": policy.get(name, (0.0, 0.0, 0.0))[2],
            "calibration": {"x": [round(float(v), 6) for v in getattr(calibration, "x", [])],
                            "y": [round(float(v), 6) for v in getattr(calibration, "y", [])]},
            "trees": int(trees.feature.shape[0]),
        }
        print(f"  {name}: {trees.feature.shape[0]} trees, threshold {spec[name]['threshold']}, "
              f"margin {spec[name]['margin']}", flush=True)
    out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out / "fields.npz", **arrays)  # type: ignore[arg-type]
    meta = {
        "version": datetime.now(UTC).strftime("%Y-%m-%d"),
        "trained_on": counts,
        "params": PARAMS,
        "real_weight": REAL_WEIGHT,
        "negatives_per_document": NEGATIVES_PER_DOCUMENT,
        "fields": spec,
        "joint_slack": round(joint_slack, 6),
        "feature_names": {kind: list(names) for kind, names in FEATURE_NAMES.items()},
    }
    (out / "fields.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    (out / "REPORT.md").write_text(f"# Field scorer: held-out evaluation ({meta['version']})\n\n"
                                   f"Trained on: {counts}\n\n{report}", encoding="utf-8")
    print(f"wrote {out / 'fields.npz'} ({(out / 'fields.npz').stat().st_size // 1024} KiB) and fields.json")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m inbox_ocr.training.train", description=__doc__.split("\n")[0])
    parser.add_argument("--synth", type=int, default=3000, help="synthetic text-layer documents")
    parser.add_argument("--synth-ocr", type=int, default=200, help="synthetic documents read by OCR from images")
    parser.add_argument("--no-evaluate", action="store_true", help="train and ship without the held-out runs")
    parser.add_argument("--out", type=Path, default=MODEL_DIR, help="where the model files go")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    started = time.monotonic()
    samples = dev_samples() + synthetic(args.synth, seed=100_000) + synthetic(args.synth_ocr, 200_000, reading="ocr")
    if not any(s.source != "synth" for s in samples):
        print("note: ../shared/datasets not found; training on synthetic documents only", file=sys.stderr)
    docs = featurize_all(samples, args.workers)
    counts: dict[str, int] = {}
    for d in docs:
        key = d.source if d.source != "synth" else ("synth-ocr" if "-ocr-" in d.name else "synth-text")
        counts[key] = counts.get(key, 0) + 1
    print(f"featurized {len(docs)} documents {counts} in {time.monotonic() - started:.0f} s", flush=True)
    policy: dict[str, tuple[float, float, float]] = {}
    calibrations: dict[str, object] = {}
    report = "(not evaluated)\n"
    slack = JOINT_SLACK
    if not args.no_evaluate:
        policy, calibrations, slack, report = evaluate(docs)
    ship(docs, policy, calibrations, args.out, report, counts, slack)
    print(f"done in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
