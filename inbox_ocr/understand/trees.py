"""Evaluating the shipped gradient-boosted trees: plain arrays in, probabilities out.

The scorer's models are trained with scikit-learn's HistGradientBoostingClassifier (training/train.py)
and shipped as the arrays of their trees (models/fields.npz), so the running product needs neither
scikit-learn nor a pickle. Every tree is walked for all rows at once, one level per step; the
training script checks that the result equals scikit-learn's own predict_proba.

A node goes left when the feature is <= its threshold, or when the feature is NaN and the node sends
missing values left; leaves hold the additive raw score. The probability is the logistic of the
baseline plus the sum over trees.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class _Flat:
    """All trees as one array of nodes: a leaf splits on feature 0 at +inf and both its children
    are itself, so that every row can take the same number of steps."""

    feature: np.ndarray  # node arrays indexed with intp (np.take casts any other index type first)
    threshold: np.ndarray
    missing_right: np.ndarray  # where a NaN feature goes (the one case where `v > threshold` is wrong)
    child: np.ndarray  # [2 * node + went_right]
    value: np.ndarray


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

    def _flat(self) -> _Flat:
        """The trees as one array of nodes (child indices made global), built once."""
        cached = self.__dict__.get("_flat_cache")
        if cached is None:
            trees, width = self.feature.shape
            offset = (np.arange(trees) * width)[:, None]
            own = np.arange(trees * width).reshape(trees, width)
            leaf = self.is_leaf
            left, right = np.where(leaf, own, self.left + offset), np.where(leaf, own, self.right + offset)
            child = np.stack([left, right], axis=-1)
            cached = _Flat(np.where(leaf, 0, self.feature).astype(np.intp).ravel(),
                           np.where(leaf, np.inf, self.threshold).ravel(), (~self.missing_left).ravel(),
                           child.astype(np.intp).ravel(), self.value.ravel())
            object.__setattr__(self, "_flat_cache", cached)
        return cached

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


class _Stack:
    """The flat nodes of several ensembles side by side: every row starts at every tree's root and
    takes as many steps as the deepest ensemble needs (a leaf points at itself); the leaves'
    values are summed per ensemble."""

    def __init__(self, ensembles: tuple[TreeEnsemble, ...]) -> None:
        self.ensembles = ensembles  # kept, so that the ids in the cache key stay theirs
        flats = [e._flat() for e in ensembles]
        offsets = np.cumsum([0] + [len(f.feature) for f in flats[:-1]])
        self.feature = np.concatenate([f.feature for f in flats])
        self.threshold = np.concatenate([f.threshold for f in flats])
        self.missing_right = np.concatenate([f.missing_right for f in flats])
        self.child = np.concatenate([f.child + off for f, off in zip(flats, offsets, strict=True)])
        self.value = np.concatenate([f.value for f in flats])
        self.roots = np.concatenate([off + np.arange(e.feature.shape[0], dtype=np.intp) * e.feature.shape[1]
                                     for e, off in zip(ensembles, offsets, strict=True)])
        self.starts = np.cumsum([0] + [e.feature.shape[0] for e in ensembles[:-1]])  # each one's first tree
        self.baseline = np.array([e.baseline for e in ensembles])
        self.depth = max(e.depth for e in ensembles)

    def raw(self, X: np.ndarray) -> np.ndarray:
        rows = X.shape[0]
        if rows == 0:
            return np.zeros((0, len(self.ensembles)))
        x = np.ascontiguousarray(X, dtype=np.float64).ravel()
        has_nan = bool(np.isnan(x).any())
        row_base = (np.arange(rows, dtype=np.intp) * X.shape[1])[:, None]
        node = np.broadcast_to(self.roots, (rows, len(self.roots)))  # every row at every root
        feature, threshold, child = self.feature, self.threshold, self.child
        for _ in range(self.depth):
            v = x.take(row_base + feature.take(node))
            right = v > threshold.take(node)
            if has_nan:
                right = np.where(np.isnan(v), self.missing_right.take(node), right)
            node = child.take(2 * node + right)
        return self.baseline + np.add.reduceat(self.value.take(node), self.starts, axis=1)


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
