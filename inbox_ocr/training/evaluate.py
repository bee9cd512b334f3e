"""Honest figures: every document is scored by models that never saw its source.

    leave-one-source-out   each dev source (a zugferd producer, an invoices-dev repository, a sroie
                           fold) is held out in turn; the models learn from the others and from all
                           synthetic documents
    held-out layouts       the synthetic layout families are split in four; each quarter is scored
                           by models that learned from the other families and from the dev sets

The same held-out predictions choose each field's threshold and fit its calibration; the
reliability of the calibration is itself measured cross-fitted (the map applied to a source is
fitted without that source's predictions).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from inbox_ocr.training.dataset import DocFeatures
from inbox_ocr.training.learn import FIELDS, Ranked, correct, export, field_models, fit, predict, ranked
from inbox_ocr.understand.scorer import JOINT_SLACK, Choice, FieldModel
from inbox_ocr.understand.trees import Calibration, TreeEnsemble

Fold = str | None  # None: the document is only ever trained on


Policy = dict[str, tuple[float, float, float]]  # field -> (threshold, margin, threshold without a rule value)


@dataclass
class CrossResult:
    """Held-out results of one experiment: the fold models, and per document and field the
    scorer's ranking (for tuning the decision policy)."""

    folds: list[Fold]
    models: dict[str, dict[str, TreeEnsemble]] = field(default_factory=dict)  # fold -> field -> trees
    raw: dict[int, dict[str, Ranked]] = field(default_factory=dict)

    def predict(self, docs: Sequence[DocFeatures], policy: Policy,
                calibrations: dict[str, Calibration] | None = None,
                joint_slack: float = JOINT_SLACK) -> dict[int, dict[str, Choice | None]]:
        """What the product would state for each held-out document under `policy`."""
        out = {}
        models_of = {fold: field_models(trees, policy, calibrations) for fold, trees in self.models.items()}
        for i, fold in enumerate(self.folds):
            if fold is None:
                continue
            out[i] = predict(models_of[fold], docs[i], joint_slack)
        return out


def cross_predict(docs: Sequence[DocFeatures], folds: list[Fold], fields: Sequence[str] = FIELDS,
                  progress: Callable[[str], None] = print) -> CrossResult:
    result = CrossResult(folds)
    names = sorted({f for f in folds if f is not None})
    for n, fold in enumerate(names, 1):
        train = [d for d, f in zip(docs, folds, strict=True) if f != fold]
        trees = {}
        for name in fields:
            try:
                trees[name] = export(fit(train, name))
            except ValueError as exc:
                progress(f"  fold {fold}: {exc}")
        result.models[fold] = trees
        models = field_models(trees)
        for i, f in enumerate(folds):
            if f == fold:
                result.raw[i] = ranked(models, docs[i])
        progress(f"  fold {n}/{len(names)} ({fold}): trained on {len(train)} documents")
    return result


# --------------------------------------------------------------------------- thresholds and calibration


Predictions = dict[int, dict[str, Choice | None]]  # document index -> field -> choice

THRESHOLDS = (0.0, 0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6)
MARGINS = (0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7)


SLACKS = tuple(math.log(x) for x in (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 1e6))
MONEY_FIELDS = ("total", "subtotal", "tax")


def tune_joint_slack(docs: Sequence[DocFeatures], results: Sequence[CrossResult], policy: Policy) -> float:
    """The slack of the joint money choice under which the held-out money fields are right most
    often (ties: the smallest slack, the least trust in arithmetic alone)."""
    best, best_score = SLACKS[0], -1
    for slack in SLACKS:
        score = 0
        for result in results:
            for i, fields in result.predict(docs, policy, joint_slack=slack).items():
                score += sum(bool(correct(name, docs[i], fields.get(name))) for name in MONEY_FIELDS)
        if score > best_score:
            best, best_score = slack, score
    return best


def tune_policy(docs: Sequence[DocFeatures], raws: Sequence[dict[int, dict[str, Ranked]]]) -> Policy:
    """Per field, the thresholds and margin under which the product is right most often on held-out
    documents: below the threshold, or less than the margin more probable than the rule-based
    value, the scorer leaves the rule-based value. Where the rule-based extractor found nothing,
    a threshold of its own decides between the scorer's best value and no value."""
    out: Policy = {}
    for name in FIELDS:
        points = []  # (ranking, the scorer's value is right, the rule's value is right)
        for raw in raws:
            for i, fields in raw.items():
                if name not in docs[i].truth or name not in fields:
                    continue
                want, r = docs[i].truth[name], fields[name]
                rule_ok = docs[i].rule.get(name) == want
                points.append((r, r.value == want if want is not None else r.value is None, rule_ok))
        with_rule = [p for p in points if p[0].has_rule]
        alone = [p for p in points if not p[0].has_rule]
        best, best_score = (0.0, 0.0), -1
        for tau in THRESHOLDS:
            for margin in MARGINS:
                score = 0
                for r, ok, rule_ok in with_rule:
                    keeps = r.value is not None and r.p >= tau and (r.same_as_rule or r.p - r.p_rule >= margin)
                    score += ok if keeps else rule_ok
                if score > best_score:
                    best, best_score = (tau, margin), score
        best_alone, best_alone_score = 0.0, -1
        for tau in THRESHOLDS:
            score = sum(ok if r.value is not None and r.p >= tau else rule_ok for r, ok, rule_ok in alone)
            if score > best_alone_score:
                best_alone, best_alone_score = tau, score
        out[name] = (best[0], best[1], best_alone)
    return out


def calibration_points(docs: Sequence[DocFeatures], predictions: dict[int, dict[str, Choice | None]],
                       name: str, keep: Callable[[int], bool] = lambda i: True) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for i, fields in predictions.items():
        choice = fields.get(name)
        ok = correct(name, docs[i], choice)
        if choice is None or ok is None or not keep(i):
            continue
        xs.append(choice[1])
        ys.append(float(ok))
    return np.array(xs), np.array(ys)


def fit_calibration(x: np.ndarray, y: np.ndarray) -> Calibration:
    from sklearn.isotonic import IsotonicRegression

    if len(x) < 10:
        return Calibration(np.array([0.0, 1.0]), np.array([0.0, 1.0]))
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(x, y)
    return Calibration(np.asarray(iso.X_thresholds_, float), np.asarray(iso.y_thresholds_, float))


# --------------------------------------------------------------------------- report tables


def accuracy_table(docs: Sequence[DocFeatures], predictions: dict[int, dict[str, Choice | None]],
                   slice_of: Callable[[DocFeatures], str | None], fields: Sequence[str]) -> list[list[str]]:
    """Rows: slice, field, documents, rule-based %, learned %. A field the scorer does not cover
    (currency) is the rule-based value in the product, so both columns show it."""
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for i, fields_pred in predictions.items():
        doc = docs[i]
        where = slice_of(doc)
        if where is None:
            continue
        for name in fields:
            want = doc.truth.get(name)
            if want is None:
                continue  # scored where the document shows the field, as the old benchmark did
            row = counts[(where, name)]
            row[0] += 1
            row[1] += doc.rule.get(name) == want
            if name not in FIELDS:
                row[2] += doc.rule.get(name) == want
                continue
            choice = fields_pred.get(name)
            row[2] += choice is not None and choice[0] == want
    rows = []
    for (where, name), (n, rule, learned) in sorted(counts.items()):
        rows.append([where, name, str(n), f"{100 * rule / n:.1f}", f"{100 * learned / n:.1f}"])
    return rows


def reliability_table(docs: Sequence[DocFeatures], predictions: dict[int, dict[str, Choice | None]],
                      calibrated: dict[int, dict[str, float]]) -> list[list[str]]:
    """Rows: confidence band, fields given it, right %, per band over all covered fields."""
    bands = [(0.9, 1.01), (0.8, 0.9), (0.6, 0.8), (0.4, 0.6), (0.0, 0.4)]
    rows = []
    for lo, hi in bands:
        n = ok = 0
        for i, fields in predictions.items():
            for name, choice in fields.items():
                right = correct(name, docs[i], choice)
                if choice is None or right is None or docs[i].truth.get(name) is None:
                    continue
                conf = calibrated[i][name]
                if lo <= conf < hi:
                    n += 1
                    ok += right
        rows.append([f"{lo:.1f}–{min(hi, 1.0):.1f}", str(n), f"{100 * ok / n:.1f}" if n else "-"])
    return rows


def markdown(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def cross_fitted_confidences(docs: Sequence[DocFeatures], predictions: dict[int, dict[str, Choice | None]],
                             group_of: Callable[[DocFeatures], str]) -> dict[int, dict[str, float]]:
    """Each document's confidences through a calibration fitted without its own group."""
    out: dict[int, dict[str, float]] = defaultdict(dict)
    groups = {group_of(docs[i]) for i in predictions}
    for group in groups:
        def elsewhere(i: int, g: str = group) -> bool:
            return group_of(docs[i]) != g

        for name in FIELDS:
            x, y = calibration_points(docs, predictions, name, keep=elsewhere)
            calibration = fit_calibration(x, y)
            for i, fields in predictions.items():
                if group_of(docs[i]) == group and fields.get(name) is not None:
                    out[i][name] = calibration(fields[name][1])  # type: ignore[index]
    return out


def log_loss(docs: Sequence[DocFeatures], predictions: dict[int, dict[str, Choice | None]]) -> float:
    total, n = 0.0, 0
    for i, fields in predictions.items():
        for name, choice in fields.items():
            ok = correct(name, docs[i], choice)
            if choice is None or ok is None:
                continue
            p = min(max(choice[1], 1e-6), 1 - 1e-6)
            total -= math.log(p if ok else 1 - p)
            n += 1
    return total / max(n, 1)


__all__ = ["CrossResult", "FieldModel", "accuracy_table", "cross_predict", "fit_calibration", "tune_policy"]
