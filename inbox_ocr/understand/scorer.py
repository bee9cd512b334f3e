"""The learned field scorer: of all the candidates of a document, which one is the invoice number,
the invoice date, the total, the net, the tax, the seller's and the buyer's VAT id.

For each field a gradient-boosted model (trained by inbox_ocr/training/train.py, shipped as
models/fields.npz + fields.json) gives every candidate a probability from its features
(features.py). The best candidate wins when its probability clears the field's threshold; its
confidence is the calibrated probability (how often such a choice was right on held-out
documents). Money is chosen jointly: when the best total, net and tax do not add up, the best
combination that does is taken unless it is far less likely.

Fields the model does not cover, and documents without a shipped model, keep the rule-based values.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np

from inbox_ocr.understand.candidates import Candidate, Kind, candidates
from inbox_ocr.understand.features import FEATURE_NAMES, feature_rows
from inbox_ocr.understand.fields import RuleResult
from inbox_ocr.understand.money import amount_pool
from inbox_ocr.understand.names import name_candidates
from inbox_ocr.understand.scoring import DocumentContext, identifier_value, scored_candidates
from inbox_ocr.understand.trees import MAX_DEPTH, Calibration, TreeEnsemble
from inbox_ocr.understand.view import DocumentView

log = logging.getLogger(__name__)

MODEL_DIR = Path(__file__).resolve().parent / "models"
FIELD_KINDS: dict[str, Kind] = {
    "invoice_number": "id", "invoice_date": "date", "total": "amount", "subtotal": "amount", "tax": "amount",
    "vendor_vat_id": "vat", "customer_vat_id": "vat", "vendor_name": "name",
}
MONEY = ("total", "subtotal", "tax")
JOINT_TOP = 4  # candidate values per money field tried together
JOINT_SLACK = math.log(8.0)  # default; the shipped model carries the slack tuned on held-out documents


@dataclass
class Scored:
    """A document's candidates with their features, ready for the models (and for training)."""

    view: DocumentView
    candidates: dict[Kind, list[Candidate]]
    features: dict[Kind, np.ndarray]


def rule_pools(ctx: DocumentContext) -> dict[str, dict[Any, float]]:
    """How the rule-based extractor scored each value it considered, per field (a feature)."""
    pools: dict[str, dict[Any, float]] = {}

    def keep(name: str, pairs: list[tuple[float, Any]]) -> None:
        best: dict[Any, float] = {}
        for score, value in pairs:
            best[value] = max(best.get(value, 0.0), float(score))
        pools[name] = best

    for name in ("invoice_number", "po_number"):
        keep(name, [(r[0], r[1]) for r in scored_candidates(ctx, name, identifier_value)])
    for name in ("invoice_date", "due_date"):
        keep(name, [(r[0], r[1]) for r in scored_candidates(ctx, name, ctx.parse_date)])
    for name in ("total", "subtotal", "tax", "amount_due"):
        keep(name, [(score, value) for score, value, _ in amount_pool(ctx, name)])
    return pools


def prepare(rule: RuleResult, kinds: tuple[Kind, ...] = ("id", "date", "amount", "vat", "name"),
            keep: Mapping[Kind, Callable[[Candidate], bool]] | None = None) -> Scored:
    """Candidates and feature rows of a document whose rule-based extraction is done. Of a kind in
    `keep`, only the candidates its test passes are kept and get a row (their rows are the same as
    among all candidates: features about the whole set still count the others)."""
    assert rule.ctx is not None
    ctx = rule.ctx
    view = DocumentView.build(ctx, rule.out, rule.page_sizes, rule.currency)
    view.pools = rule_pools(ctx)
    found = candidates(ctx.cells, ctx.conventions)
    names = name_candidates(ctx, rule.out.values.get("vendor_name")) if "name" in kinds else []
    found["name"] = [Candidate("name", text, cell, 0, len(cell.text)) for text, cell, _ in names]
    features: dict[Kind, np.ndarray] = {}
    for kind in kinds:
        parties = None
        if kind in ("vat", "name"):
            parties = [view.party(c.cell) for c in found[kind]]
        only = None
        if keep is not None and kind in keep:
            only = [i for i, c in enumerate(found[kind]) if keep[kind](c)]
        features[kind] = feature_rows(view, kind, found[kind], parties, [joined for _, _, joined in names], only)
        if only is not None:
            found[kind] = [found[kind][i] for i in only]
    return Scored(view, found, features)


@dataclass(frozen=True)
class FieldModel:
    field: str
    kind: Kind
    trees: TreeEnsemble
    calibration: Calibration
    threshold: float  # under this probability the scorer abstains
    margin: float = 0.0  # to overrule the rule-based value, be this much more probable than it
    alone_threshold: float | None = None  # the threshold where the rule-based extractor found nothing


class Scorer:
    def __init__(self, models: dict[str, FieldModel], version: str, joint_slack: float = JOINT_SLACK) -> None:
        self.models = models
        self.version = version
        self.joint_slack = joint_slack
        self.kinds: tuple[Kind, ...] = tuple(dict.fromkeys(m.kind for m in models.values()))

    @classmethod
    def load(cls, folder: Path = MODEL_DIR) -> Scorer | None:
        """The shipped models, or None (with a warning) when they are missing or do not fit the code."""
        meta_path, arrays_path = folder / "fields.json", folder / "fields.npz"
        if not meta_path.exists() or not arrays_path.exists():
            return None
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        for kind, names in meta["feature_names"].items():
            if tuple(names) != FEATURE_NAMES.get(kind):
                log.warning("event=scorer_disabled reason=the model's %s features differ from the code's; "
                            "retrain with python -m inbox_ocr.training.train", kind)
                return None
        models = {}
        with np.load(arrays_path) as data:
            for name, spec in meta["fields"].items():
                models[name] = FieldModel(
                    field=name, kind=spec["kind"], trees=TreeEnsemble.from_arrays(data, name),
                    calibration=Calibration(np.array(spec["calibration"]["x"]), np.array(spec["calibration"]["y"])),
                    threshold=float(spec["threshold"]), margin=float(spec.get("margin", 0.0)),
                    alone_threshold=float(spec.get("alone_threshold", spec["threshold"])),
                )
        deepest = max((m.trees.depth for m in models.values()), default=0)
        if deepest > MAX_DEPTH:
            log.warning("event=scorer_disabled reason=the model's trees are %d levels deep, more than the %d the "
                        "evaluator lays out; retrain with python -m inbox_ocr.training.train", deepest, MAX_DEPTH)
            return None
        return cls(models, str(meta.get("version", "")), float(meta.get("joint_slack", JOINT_SLACK)))

    def apply(self, rule: RuleResult, skip: Collection[str] = ()) -> None:
        """Replace the rule-based values of the covered fields by the scorer's choices (the rule's
        value stays where the scorer is unsure, with the scorer's calibrated doubt as confidence).
        Fields in `skip` keep the rule-based values, and kinds of candidate no remaining field
        needs are not worked out."""
        models = {name: model for name, model in self.models.items() if name not in skip}
        if not models:
            return
        out = rule.out
        fallback = {name: out.values.get(name) for name in models}
        # candidates no model of their kind could be given (choose() drops them) are not worked out
        keep: dict[Kind, Callable[[Candidate], bool]] = {}
        for kind in {m.kind for m in models.values()}:
            names = [name for name, m in models.items() if m.kind == kind]
            if all(name in _MAY_STATE for name in names):
                keep[kind] = _may_state_any(names, fallback)
        scored = prepare(rule, tuple(dict.fromkeys(m.kind for m in models.values())), keep)
        values = {kind: [c.value for c in cands] for kind, cands in scored.candidates.items()}
        for name, choice in choose(models, values, scored.features, fallback, self.joint_slack).items():
            out.values.pop(name, None)
            out.confidence.pop(name, None)
            if choice is not None:
                out.set(name, choice[0], models[name].calibration(choice[1]))
                out.calibrated.add(name)


Choice = tuple[Any, float]  # a value and the model's probability for it


def choose(models: dict[str, FieldModel], values: dict[Kind, list[Any]], features: dict[Kind, np.ndarray],
           fallback: dict[str, Any] | None = None, joint_slack: float = JOINT_SLACK) -> dict[str, Choice | None]:
    """Each covered field's value (or None) from its candidates' values and feature rows. The
    scorer's best candidate wins when its probability clears the field's threshold (a threshold of
    its own where the rule-based extractor found nothing) and, where it
    differs from the `fallback` (rule-based) value, exceeds the probability of that value by the
    field's margin; otherwise the fallback stands, with the probability the scorer gives it. Money
    is then chosen jointly (`joint_money`)."""
    choices = {name: best_values(values[models[name].kind], p) for name, p in probabilities(models, features).items()}
    for name, may_state in _MAY_STATE.items():
        if name in choices:
            backup = (fallback or {}).get(name)
            choices[name] = [c for c in choices[name] if may_state(c[0], backup)]
    picked: dict[str, Choice | None] = {}
    for name, ranked in choices.items():
        model = models[name]
        backup = (fallback or {}).get(name)
        p_backup = dict(ranked).get(backup, 0.0) if backup is not None else 0.0
        threshold = model.threshold if backup is not None or model.alone_threshold is None else model.alone_threshold
        if ranked and ranked[0][1] >= threshold and (
            backup is None or ranked[0][0] == backup or ranked[0][1] - p_backup >= model.margin
        ):
            picked[name] = ranked[0]
        else:
            picked[name] = None if backup is None else (backup, p_backup)
    if all(name in choices for name in MONEY):
        picked.update(joint_money(choices, picked, fallback or {}, joint_slack))
    vendor, customer = picked.get("vendor_vat_id"), picked.get("customer_vat_id")
    if vendor and customer and vendor[0] == customer[0]:  # one id cannot be both parties'
        others = [c for c in choices["customer_vat_id"] if c[0] != vendor[0]]
        threshold = models["customer_vat_id"].threshold
        picked["customer_vat_id"] = others[0] if others and others[0][1] >= threshold else None
    return picked


def probabilities(models: dict[str, FieldModel], features: dict[Kind, np.ndarray]) -> dict[str, np.ndarray]:
    """Each covered field's probability for every candidate of its kind; the models of one kind
    (total, subtotal and tax score the same amount rows) are evaluated together."""
    by_kind: dict[Kind, list[str]] = {}
    for name, model in models.items():
        if model.kind in features:
            by_kind.setdefault(model.kind, []).append(name)
    out = {}
    for kind, names in by_kind.items():
        ensembles = tuple(models[n].trees for n in names)
        if all(isinstance(e, TreeEnsemble) for e in ensembles):
            p = TreeEnsemble.proba_all(ensembles, features[kind])
            out.update({name: p[:, i] for i, name in enumerate(names)})
        else:  # a model of another make (tests): one by one
            out.update({name: e.proba(features[kind]) for name, e in zip(names, ensembles, strict=True)})
    return {name: out[name] for name in models if name in out}


def plausible_number(value: Any) -> bool:
    """A value the scorer may state as an invoice number on its own: at least three letters or
    digits, not all zeros ("00" from a "10:00" on a page that is no invoice at all). No dev or
    generated invoice has a shorter number; one the rule-based extractor found by its label stays."""
    text = "".join(ch for ch in str(value) if ch.isalnum())
    return len(text) >= 3 and any(ch not in "0" for ch in text)


def _may_state_number(value: Any, rule_value: Any) -> bool:
    """The rule-based invoice number is kept whatever its shape; another value must be plausible."""
    return value == rule_value or plausible_number(value)


# Fields whose values the scorer may state only when they pass a test (value, rule-based value):
# choose() drops the others from the ranking, and Scorer.apply does not work out their features.
_MAY_STATE: dict[str, Callable[[Any, Any], bool]] = {"invoice_number": _may_state_number}


def _may_state_any(names: list[str], fallback: dict[str, Any]) -> Callable[[Candidate], bool]:
    """Whether the scorer may state a candidate's value for one of the fields `names`."""
    def test(candidate: Candidate) -> bool:
        return any(_MAY_STATE[name](candidate.value, fallback.get(name)) for name in names)
    return test


def best_values(values: list[Any], p: np.ndarray) -> list[Choice]:
    """Distinct values, best first, each with the probability of its best occurrence."""
    best: dict[Any, float] = {}
    for value, prob in zip(values, p.tolist(), strict=True):
        if prob > best.get(value, -1.0):  # probabilities are >= 0: the first occurrence always counts
            best[value] = prob
    return sorted(best.items(), key=lambda kv: -kv[1])


def joint_money(choices: dict[str, list[Choice]], picked: dict[str, Choice | None],
                fallback: dict[str, Any] | None = None, slack: float = JOINT_SLACK) -> dict[str, Choice | None]:
    """Net + tax = gross where the document allows. When the independent choices do not add up,
    the most probable combination that does (of each field's top candidates and the rule-based
    value) wins if it is at most `slack` (log-probability) less likely: values that add up exactly
    rarely do so by chance, so consistency is evidence the per-field models cannot see. The slack
    is tuned on held-out documents (training/train.py) and shipped with the model."""
    def logp(choice: Choice | None) -> float:
        return math.log(max(choice[1], 1e-6)) if choice else math.log(0.5)

    total, sub, tax = (picked.get(n) for n in MONEY)
    if total and sub and tax and adds_up(Decimal(total[0]), Decimal(sub[0]), Decimal(tax[0])):
        return {}
    pools = []
    for name in MONEY:
        pool = choices[name][:JOINT_TOP]
        backup = (fallback or {}).get(name)
        if backup is not None and all(value != backup for value, _ in pool):
            pool = [*pool, (backup, dict(choices[name]).get(backup, 0.0))]
        pools.append(pool)
    independent = sum(logp(picked.get(n)) for n in MONEY)
    best: tuple[float, tuple[Choice, ...]] | None = None
    for combo in product(*pools):
        t, s, x = (Decimal(c[0]) for c in combo)
        if not adds_up(t, s, x):
            continue
        score = sum(math.log(max(c[1], 1e-6)) for c in combo)
        if best is None or score > best[0]:
            best = (score, combo)
    if best is None or best[0] < independent - slack:
        return {}
    return dict(zip(MONEY, best[1], strict=True))


def adds_up(total: Decimal, net: Decimal, tax: Decimal) -> bool:
    """Net + tax = gross within a cent, all of one sign (a credit or correction is negative
    throughout), the tax a plausible VAT share of the net. A zero tax is not taken: with it any
    amount 'adds up' with itself."""
    if total == 0 or tax == 0 or abs(net + tax - total) > Decimal("0.01"):
        return False
    sign = 1 if total > 0 else -1
    return net * sign > 0 and 0 < tax * sign <= net * sign * Decimal("0.3") + Decimal("0.01")


@lru_cache(maxsize=1)
def get_scorer() -> Scorer | None:
    """The shipped scorer, loaded once per process."""
    return Scorer.load()
