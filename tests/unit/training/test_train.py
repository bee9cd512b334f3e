"""The training pipeline end to end on a few synthetic documents: featurize, cross-predict, tune,
ship, and load what was shipped as the product does."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("sklearn")

from inbox_ocr.training import learn  # noqa: E402
from inbox_ocr.training.dataset import featurize_all  # noqa: E402
from inbox_ocr.training.devsets import synthetic  # noqa: E402
from inbox_ocr.training.evaluate import SLACKS, cross_predict, tune_joint_slack, tune_policy  # noqa: E402
from inbox_ocr.training.train import layout_folds, ship  # noqa: E402
from inbox_ocr.understand.scorer import Scorer  # noqa: E402


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    import os

    os.environ["INBOX_OCR_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    return featurize_all(synthetic(36, seed=777_000), workers=1)


def test_training_ships_a_model_the_product_loads(docs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(learn, "PARAMS", {**learn.PARAMS, "max_iter": 15})
    assert all(d.truth.get("invoice_number") for d in docs)
    folds = layout_folds(docs, parts=2)
    result = cross_predict(docs, folds, progress=lambda _: None)
    assert set(result.raw) == set(range(len(docs)))  # every synthetic document predicted once, held out
    policy = tune_policy(docs, [result.raw])
    right = sum(1 for i, f in result.raw.items() if f["invoice_number"].value == docs[i].truth["invoice_number"])
    assert right >= 0.5 * len(docs)  # a handful of documents already teach most of it
    slack = tune_joint_slack(docs, [result], policy)
    assert slack in SLACKS
    ship(docs, policy, {}, tmp_path, "report", {"synth-text": len(docs)}, slack)
    scorer = Scorer.load(tmp_path)
    assert scorer is not None and set(scorer.models) == set(learn.FIELDS)
    assert scorer.joint_slack == pytest.approx(slack, abs=1e-5)
    assert (tmp_path / "REPORT.md").read_text().startswith("# Field scorer")
