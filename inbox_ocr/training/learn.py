"""Fitting the field models, exporting their trees, and predicting with them as the product does.

`fit` trains scikit-learn's HistGradientBoostingClassifier on the candidates of many documents
(every positive, a random share of the negatives of each document, so that long documents do not
drown short ones); `export` turns it into the arrays the product evaluates (understand/trees.py)
and checks that both give the same probabilities; `predict` runs the product's own decision
(understand/scorer.py `choose`) on featurized documents.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from inbox_ocr.training.dataset import DocFeatures, iter_rows
from inbox_ocr.training.devsets import canonical
from inbox_ocr.understand.scorer import FIELD_KINDS, JOINT_SLACK, Choice, FieldModel, best_values, choose
from inbox_ocr.understand.trees import MAX_DEPTH, Calibration, TreeEnsemble

FIELDS = tuple(FIELD_KINDS)
PARAMS: dict[str, Any] = {
    "max_iter": 80, "learning_rate": 0.15, "max_depth": 5, "max_leaf_nodes": 20, "min_samples_leaf": 20,
    "l2_regularization": 1.0, "early_stopping": False,
}
NEGATIVES_PER_DOCUMENT = 40
REAL_WEIGHT = 3.0  # a real document counts as this many synthetic ones: they are few, and closest to the target


def training_rows(docs: Sequence[DocFeatures], field: str, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Feature rows, labels and weights: every positive and a random share of each document's negatives."""
    rng = np.random.default_rng(seed)
    xs, ys, ws = [], [], []
    for index, X, y in iter_rows(docs, field):
        negatives = np.flatnonzero(y == 0)
        if len(negatives) > NEGATIVES_PER_DOCUMENT:
            negatives = rng.choice(negatives, NEGATIVES_PER_DOCUMENT, replace=False)
        keep = np.concatenate([np.flatnonzero(y == 1), negatives])
        xs.append(X[keep])
        ys.append(y[keep])
        ws.append(np.full(len(keep), 1.0 if docs[index].source == "synth" else REAL_WEIGHT))
    if not xs:
        return np.zeros((0, 0), dtype=np.float32), np.zeros(0, dtype=np.int8), np.zeros(0)
    return np.vstack(xs), np.concatenate(ys), np.concatenate(ws)


def fit(docs: Sequence[DocFeatures], field: str, seed: int = 0) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    X, y, w = training_rows(docs, field, seed)
    if len(y) == 0 or y.min() == y.max():
        raise ValueError(f"{field}: no positive and negative candidates to learn from")
    model = HistGradientBoostingClassifier(random_state=seed, **PARAMS)
    return model.fit(X, y, sample_weight=w)


def export(model: Any, check: np.ndarray | None = None) -> TreeEnsemble:
    """The trees of a fitted binary HistGradientBoostingClassifier as arrays; with `check` rows,
    verify that the arrays reproduce scikit-learn's probabilities."""
    predictors = [iteration[0] for iteration in model._predictors]  # binary: one tree per iteration
    width = max(len(p.nodes) for p in predictors)
    shape = (len(predictors), width)
    feature = np.zeros(shape, np.int32)
    threshold = np.zeros(shape, np.float64)
    missing_left = np.zeros(shape, bool)
    left = np.zeros(shape, np.int32)
    right = np.zeros(shape, np.int32)
    value = np.zeros(shape, np.float64)
    is_leaf = np.ones(shape, bool)
    depth = 1
    for t, predictor in enumerate(predictors):
        nodes = predictor.nodes
        if np.any(nodes["is_categorical"]):
            raise ValueError("categorical splits are not supported by the exported evaluator")
        n = len(nodes)
        feature[t, :n] = nodes["feature_idx"]
        threshold[t, :n] = nodes["num_threshold"]
        missing_left[t, :n] = nodes["missing_go_to_left"].astype(bool)
        leaf = nodes["is_leaf"].astype(bool)
        is_leaf[t, :n] = leaf
        left[t, :n] = np.where(leaf, np.arange(n), nodes["left"])
        right[t, :n] = np.where(leaf, np.arange(n), nodes["right"])
        value[t, :n] = nodes["value"]
        depth = max(depth, int(nodes["depth"].max()))
    if depth > MAX_DEPTH:
        raise ValueError(f"trees {depth} levels deep; the shipped evaluator lays out at most {MAX_DEPTH} "
                         "(set max_depth)")
    ensemble = TreeEnsemble(feature, threshold, missing_left, left, right, value, is_leaf,
                            float(np.ravel(model._baseline_prediction)[0]), depth)
    if check is not None and len(check):
        ours = ensemble.proba(check)
        theirs = model.predict_proba(check)[:, 1]
        if not np.allclose(ours, theirs, atol=1e-9):
            raise AssertionError(f"exported trees differ from scikit-learn by {np.abs(ours - theirs).max():.2e}")
    return ensemble


def field_models(trees: dict[str, TreeEnsemble], policy: dict[str, tuple[float, float, float]] | None = None,
                 calibrations: dict[str, Calibration] | None = None) -> dict[str, FieldModel]:
    """FieldModels from trees; `policy` gives each field's (threshold, margin, threshold where the
    rule-based extractor found nothing)."""
    identity = Calibration(np.array([]), np.array([]))
    return {f: FieldModel(f, FIELD_KINDS[f], t, (calibrations or {}).get(f, identity),
                          *(policy or {}).get(f, (0.0, 0.0, 0.0))) for f, t in trees.items()}


class Ranked(NamedTuple):
    """What the decision policy is tuned on, per document and field."""

    value: str | None  # the scorer's best value, canonical
    p: float  # its probability
    p_rule: float  # the probability the scorer gives the rule-based value
    same_as_rule: bool
    has_rule: bool


def ranked(models: dict[str, FieldModel], doc: DocFeatures) -> dict[str, Ranked]:
    out = {}
    for name, model in models.items():
        best = best_values(doc.values[model.kind], model.trees.proba(doc.features[model.kind]))
        fallback = doc.fallback.get(name)
        p_rule = dict(best).get(fallback, 0.0) if fallback is not None else 0.0
        if not best:
            out[name] = Ranked(None, 0.0, p_rule, False, fallback is not None)
            continue
        value = best[0][0]
        if doc.credit_note and name in ("total", "subtotal", "tax") and value < 0:
            value = -value
        out[name] = Ranked(canonical(name, value), best[0][1], p_rule, best[0][0] == fallback, fallback is not None)
    return out


def predict(
    models: dict[str, FieldModel], doc: DocFeatures, joint_slack: float = JOINT_SLACK
) -> dict[str, Choice | None]:
    """What the product would state for this document (canonical values; a credit note's amounts
    positive, as analyze() states them)."""
    picked = choose(models, doc.values, doc.features, doc.fallback, joint_slack)
    out: dict[str, Choice | None] = {}
    for name, choice in picked.items():
        if choice is None:
            out[name] = None
            continue
        value = choice[0]
        if doc.credit_note and name in ("total", "subtotal", "tax") and value < 0:
            value = -value
        out[name] = (canonical(name, value), choice[1])
    return out


def correct(field: str, doc: DocFeatures, choice: Choice | None) -> bool | None:
    """Whether a choice is right; None when the document's truth for the field is not known."""
    if field not in doc.truth:
        return None
    want = doc.truth[field]
    return (choice is None) if want is None else (choice is not None and choice[0] == want)
