"""Evaluating the shipped gradient-boosted trees: plain arrays in, probabilities out.

The scorer's models are trained with scikit-learn's HistGradientBoostingClassifier (training/train.py)
and shipped as the arrays of their trees (models/fields.npz), so the running product needs neither
scikit-learn nor a pickle. Every tree is walked for all rows at once, one level per step, laid out
as a complete tree so that the next node is arithmetic; the training script checks that the
result equals scikit-learn's own predict_proba.

A node goes left when the feature is <= its threshold, or when the feature is NaN and the node sends
missing values left; leaves hold the additive raw score. The probability is the logistic of the
baseline plus the sum over trees.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TreeEnsemble:
    feature: np.ndarray  # [trees, nodes] int32: the feature a node splits on
    threshold: np.ndarray  # [trees, nodes] float64
    missing_left: np.ndarray  # [trees, nodes] bool
    left: np.ndarray  # [trees, nodes] int32: child indices (a leaf points at itself)
    right: np.ndarray
    value: np.ndarray  # [trees, nodes] float64: the raw score of a leaf
    is_leaf: np.ndarray  # [trees, nodes] bool
    baseline: float
    depth: int  # the deepest leaf's depth

    def raw(self, X: np.ndarray) -> np.ndarray:
        return _stack((self,)).raw(X)[:, 0]

    def proba(self, X: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.raw(X)))

    @staticmethod
    def proba_all(ensembles: tuple[TreeEnsemble, ...], X: np.ndarray) -> np.ndarray:
        """[rows, len(ensembles)]: the probabilities of several models over the same feature rows,
        their trees walked together (one pass of array operations instead of one per model)."""
        return 1.0 / (1.0 + np.exp(-_stack(ensembles).raw(X)))

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """For np.savez: the ensemble under `prefix`."""
        return {
            f"{prefix}.feature": self.feature, f"{prefix}.threshold": self.threshold,
            f"{prefix}.missing_left": self.missing_left, f"{prefix}.left": self.left, f"{prefix}.right": self.right,
            f"{prefix}.value": self.value, f"{prefix}.is_leaf": self.is_leaf,
            f"{prefix}.meta": np.array([self.baseline, float(self.depth)]),
        }

    @classmethod
    def from_arrays(cls, data: dict[str, np.ndarray] | np.lib.npyio.NpzFile, prefix: str) -> TreeEnsemble:
        meta = data[f"{prefix}.meta"]
        return cls(
            feature=data[f"{prefix}.feature"].astype(np.int32), threshold=data[f"{prefix}.threshold"],
            missing_left=data[f"{prefix}.missing_left"].astype(bool), left=data[f"{prefix}.left"].astype(np.int32),
            right=data[f"{prefix}.right"].astype(np.int32), value=data[f"{prefix}.value"],
            is_leaf=data[f"{prefix}.is_leaf"].astype(bool), baseline=float(meta[0]), depth=int(meta[1]),
        )


MAX_DEPTH = 12  # trees are laid out complete to their depth: 2**depth leaves each


def _complete(ensemble: TreeEnsemble, depth: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each tree as a complete tree of `depth` levels in heap order (the children of node i are
    2i+1 and 2i+2): a leaf above the last level becomes a node that sends every row left (feature
    0 against +inf, missing values too) over copies of itself. Returns the inner nodes' features,
    thresholds and missing-go-right flags [trees, 2**depth - 1] and the leaves' values [trees, 2**depth]."""
    trees = ensemble.feature.shape[0]
    inner, leaves = 2**depth - 1, 2**depth
    feature = np.zeros((trees, inner), np.intp)
    threshold = np.full((trees, inner), np.inf)
    missing_right = np.zeros((trees, inner), bool)
    value = np.zeros((trees, leaves))
    for t in range(trees):
        nodes = [0]  # the original node at each heap position of the current level
        for level in range(depth + 1):
            first = 2**level - 1
            for offset, node in enumerate(nodes):
                if level == depth:
                    value[t, offset] = ensemble.value[t, node]
                elif not ensemble.is_leaf[t, node]:
                    feature[t, first + offset] = ensemble.feature[t, node]
                    threshold[t, first + offset] = ensemble.threshold[t, node]
                    missing_right[t, first + offset] = not ensemble.missing_left[t, node]
            nodes = [child for node in nodes for child in (
                (node, node) if ensemble.is_leaf[t, node] else (ensemble.left[t, node], ensemble.right[t, node]))]
    return feature, threshold, missing_right, value


class _Stack:
    """The trees of several ensembles side by side, each complete to the deepest one's depth, so
    that every row takes the same steps through every tree and the next node is arithmetic
    (2i+1 or 2i+2), not a lookup; the leaves' values are summed per ensemble."""

    def __init__(self, ensembles: tuple[TreeEnsemble, ...]) -> None:
        self.ensembles = ensembles  # kept, so that the ids in the cache key stay theirs
        self.depth = depth = max(e.depth for e in ensembles)
        if depth > MAX_DEPTH:
            raise ValueError(f"trees deeper than {MAX_DEPTH} levels are not supported (depth {depth})")
        parts = [_complete(e, depth) for e in ensembles]
        feature, threshold, missing_right, value = (np.concatenate([p[i] for p in parts]) for i in range(4))
        inner = 2**depth - 1
        trees = np.arange(len(feature), dtype=np.intp)
        self.feature, self.threshold = feature.ravel(), threshold.ravel()
        self.missing_right, self.value = missing_right.ravel(), value.ravel()
        self.roots = trees * inner  # node i of tree t is t * inner + i
        self.step = 1 - self.roots  # child = 2 * node + step + went_right, in those numbers
        self.to_leaf = trees - inner  # value index of the node reached below the last level
        self.first_child = self.roots + 1  # each root's left child (2 * root + step)
        roots = self.roots if depth else self.roots[:0]  # trees of one leaf have no first level
        self.root_feature, self.root_threshold, self.root_missing_right = (
            a[roots] for a in (self.feature, self.threshold, self.missing_right))
        self.features_read = int(self.feature.max(initial=-1)) + 1  # rows must have at least as many
        self.starts = np.cumsum([0] + [e.feature.shape[0] for e in ensembles[:-1]])  # each one's first tree
        self.baseline = np.array([e.baseline for e in ensembles])

    def raw(self, X: np.ndarray) -> np.ndarray:
        rows = X.shape[0]
        if rows == 0:
            return np.zeros((0, len(self.ensembles)))
        if X.shape[1] < self.features_read:  # take's "clip" mode below would read the last column instead
            raise ValueError(f"the trees read {self.features_read} features, the rows have {X.shape[1]}")
        x = np.ascontiguousarray(X, dtype=np.float64).ravel()
        has_nan = bool(np.isnan(x).any())
        row_base = (np.arange(rows, dtype=np.intp) * X.shape[1])[:, None]
        node = np.broadcast_to(self.roots, (rows, len(self.roots)))  # every row at every root
        if self.depth:  # the first level without looking up the roots' features and thresholds
            node = self.first_child + self._goes_right(x, row_base + self.root_feature, self.root_threshold,
                                                       self.root_missing_right if has_nan else None)
        feature, threshold, missing_right, step = self.feature, self.threshold, self.missing_right, self.step
        for _ in range(self.depth - 1):
            node = 2 * node + step + self._goes_right(x, row_base + feature.take(node, mode="clip"),
                                                      threshold.take(node, mode="clip"),
                                                      missing_right.take(node, mode="clip") if has_nan else None)
        return self.baseline + np.add.reduceat(self.value.take(node + self.to_leaf), self.starts, axis=1)

    @staticmethod
    def _goes_right(x: np.ndarray, at: np.ndarray, threshold: np.ndarray,
                    missing_right: np.ndarray | None) -> np.ndarray:
        """Whether each row goes right at its node: its feature (x at `at`) over the threshold, or
        missing where the node sends missing values right. (Indices are in range: take's "clip"
        mode only spares numpy the check.)"""
        v = x.take(at, mode="clip")
        right = v > threshold
        return right if missing_right is None else np.where(np.isnan(v), missing_right, right)


_STACKS: dict[tuple[int, ...], _Stack] = {}


def _stack(ensembles: tuple[TreeEnsemble, ...]) -> _Stack:
    key = tuple(id(e) for e in ensembles)
    stack = _STACKS.get(key)
    if stack is None:
        if len(_STACKS) >= 64:  # training builds models fold by fold: keep the recent ones
            _STACKS.pop(next(iter(_STACKS)))
        stack = _STACKS[key] = _Stack(ensembles)
    return stack


@dataclass(frozen=True)
class Calibration:
    """Isotonic map from the model's probability to how often such a choice was right (fitted on
    held-out predictions); piecewise linear between its points."""

    x: np.ndarray
    y: np.ndarray

    def __call__(self, p: float) -> float:
        return float(np.interp(p, self.x, self.y)) if len(self.x) else p
