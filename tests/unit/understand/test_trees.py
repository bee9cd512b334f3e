"""The evaluator of the shipped trees: hand-made trees, missing values, and agreement with the
library the trees were trained with."""

from __future__ import annotations

import numpy as np
import pytest

from inbox_ocr.understand.trees import Calibration, TreeEnsemble


def one_split(threshold: float, missing_left: bool) -> TreeEnsemble:
    """One tree: x0 <= threshold -> -2, else +2 (nodes 1 and 2 are leaves)."""
    return TreeEnsemble(
        feature=np.array([[0, 0, 0]], np.int32), threshold=np.array([[threshold, 0, 0]]),
        missing_left=np.array([[missing_left, False, False]]), left=np.array([[1, 1, 2]], np.int32),
        right=np.array([[2, 1, 2]], np.int32), value=np.array([[0.0, -2.0, 2.0]]),
        is_leaf=np.array([[False, True, True]]), baseline=0.5, depth=1,
    )


def test_rows_go_left_at_or_under_the_threshold_and_missing_values_follow_the_node() -> None:
    X = np.array([[0.5], [1.0], [1.5], [np.nan]], dtype=np.float32)
    assert one_split(1.0, missing_left=True).raw(X).tolist() == [-1.5, -1.5, 2.5, -1.5]
    assert one_split(1.0, missing_left=False).raw(X).tolist()[-1] == 2.5
    p = one_split(1.0, missing_left=True).proba(X)
    assert np.allclose(p, 1 / (1 + np.exp(-np.array([-1.5, -1.5, 2.5, -1.5]))))


def test_no_rows_give_no_scores() -> None:
    assert one_split(1.0, True).raw(np.zeros((0, 1), np.float32)).shape == (0,)


def test_the_arrays_round_trip() -> None:
    ensemble = one_split(0.25, False)
    again = TreeEnsemble.from_arrays(ensemble.arrays("f"), "f")
    X = np.array([[0.1], [0.9]], dtype=np.float32)
    assert again.proba(X).tolist() == ensemble.proba(X).tolist()


def test_calibration_interpolates_and_clips() -> None:
    calibration = Calibration(np.array([0.2, 0.8]), np.array([0.1, 0.9]))
    assert calibration(0.5) == pytest.approx(0.5)
    assert calibration(0.0) == pytest.approx(0.1) and calibration(1.0) == pytest.approx(0.9)


def test_exported_scikit_learn_trees_give_scikit_learn_probabilities() -> None:
    pytest.importorskip("sklearn")
    from sklearn.ensemble import HistGradientBoostingClassifier

    from inbox_ocr.training.learn import export

    rng = np.random.default_rng(0)
    X = rng.normal(size=(3000, 6)).astype(np.float32)
    X[rng.random(X.shape) < 0.05] = np.nan
    y = ((np.nan_to_num(X[:, 0]) + X[:, 1] * np.nan_to_num(X[:, 2]) > 0.3) | np.isnan(X[:, 3])).astype(int)
    model = HistGradientBoostingClassifier(max_iter=40, max_depth=5, random_state=0).fit(X, y)
    ensemble = export(model, check=X[:500])  # raises when they differ
    assert np.allclose(ensemble.proba(X[500:]), model.predict_proba(X[500:])[:, 1], atol=1e-9)


def test_uneven_trees_laid_out_complete_give_the_leaf_a_row_walks_to() -> None:
    """Leaves at different depths (the evaluator pads them to the deepest level): each row gets
    the value of the leaf it reaches by walking the tree node by node."""
    # x0 <= 0 -> leaf 1 (-1); else x1 <= 0 -> leaf 3 (+1); else x0 <= 2 -> leaf 5 (+2) else leaf 6 (+3)
    ensemble = TreeEnsemble(
        feature=np.array([[0, 0, 1, 0, 0, 0, 0]], np.int32),
        threshold=np.array([[0.0, 0, 0.0, 0, 2.0, 0, 0]]),
        missing_left=np.array([[True, False, False, False, True, False, False]]),
        left=np.array([[1, 1, 3, 3, 5, 5, 6]], np.int32), right=np.array([[2, 1, 4, 3, 6, 5, 6]], np.int32),
        value=np.array([[0.0, -1.0, 0.0, 1.0, 0.0, 2.0, 3.0]]),
        is_leaf=np.array([[False, True, False, True, False, True, True]]), baseline=0.0, depth=3,
    )
    X = np.array([[-1, 5], [1, -1], [1, 1], [3, 1], [np.nan, 1], [1, np.nan]], dtype=np.float32)
    assert ensemble.raw(X).tolist() == [-1.0, 1.0, 2.0, 3.0, -1.0, 2.0]


def test_trees_deeper_than_the_evaluator_lays_out_disable_the_scorer(tmp_path, caplog) -> None:  # type: ignore[no-untyped-def]
    import json
    from dataclasses import replace

    from inbox_ocr.understand import scorer
    from inbox_ocr.understand.features import FEATURE_NAMES
    from inbox_ocr.understand.trees import MAX_DEPTH

    deep = replace(one_split(0.0, True), depth=MAX_DEPTH + 1)
    np.savez(tmp_path / "fields.npz", **deep.arrays("total"))
    (tmp_path / "fields.json").write_text(json.dumps({
        "feature_names": {k: list(v) for k, v in FEATURE_NAMES.items()},
        "fields": {"total": {"kind": "amount", "threshold": 0.1, "calibration": {"x": [], "y": []}}},
    }))
    assert scorer.Scorer.load(tmp_path) is None
    assert "levels deep" in caplog.text


def test_a_tree_that_is_one_leaf_gives_its_value_alone_and_beside_deeper_ones() -> None:
    """A model whose trees never split (depth 0) scores every row with its leaf; evaluated with
    deeper models (padded to their depth), each keeps its own scores."""
    leaf = TreeEnsemble(
        feature=np.array([[0]], np.int32), threshold=np.array([[0.0]]), missing_left=np.array([[False]]),
        left=np.array([[0]], np.int32), right=np.array([[0]], np.int32), value=np.array([[0.25]]),
        is_leaf=np.array([[True]]), baseline=1.0, depth=0,
    )
    X = np.array([[0.5], [1.5], [np.nan]])
    assert leaf.raw(X).tolist() == [1.25, 1.25, 1.25]
    both = TreeEnsemble.proba_all((leaf, one_split(1.0, missing_left=False)), X)
    assert np.allclose(both, 1 / (1 + np.exp(-np.array([[1.25, -1.5], [1.25, 2.5], [1.25, 2.5]]))))


def test_rows_narrower_than_the_features_the_trees_read_are_refused() -> None:
    X = np.array([[0.5], [1.5]])
    deeper = TreeEnsemble(  # splits on feature 1 (the second column)
        feature=np.array([[1, 0, 0]], np.int32), threshold=np.array([[1.0, 0, 0]]),
        missing_left=np.array([[True, False, False]]), left=np.array([[1, 1, 2]], np.int32),
        right=np.array([[2, 1, 2]], np.int32), value=np.array([[0.0, -2.0, 2.0]]),
        is_leaf=np.array([[False, True, True]]), baseline=0.0, depth=1,
    )
    with pytest.raises(ValueError, match="read 2 features"):
        deeper.raw(X)
    assert deeper.raw(np.array([[9.0, 0.5], [9.0, 1.5]])).tolist() == [-2.0, 2.0]
