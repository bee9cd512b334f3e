"""Documents turned into what the scorer's models learn from: for each kind of candidate the
feature rows and the candidates' values, for each covered field the truth, and the rule-based
extractor's answer (the baseline every figure is compared with).

Featurized documents are cached on disk (training only) next to the read documents of devsets.py,
keyed by the document's bytes and the feature names, so a change to the features invalidates them.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

from inbox_ocr.training.devsets import FIELDS, Sample, cache_dir, canonical
from inbox_ocr.understand import analyze
from inbox_ocr.understand.candidates import Kind
from inbox_ocr.understand.features import FEATURE_NAMES
from inbox_ocr.understand.fields import rule_extraction
from inbox_ocr.understand.scorer import FIELD_KINDS, prepare


def _code_version() -> str:
    """Featurized documents depend on the understand stage's code and this module: any change to
    them (a candidate filter, a label, a feature) makes a new cache key."""
    here = Path(__file__).resolve()
    files = sorted((here.parents[1] / "understand").glob("*.py")) + [here]
    return hashlib.sha256(b"".join(p.read_bytes() for p in files)).hexdigest()[:12]


_VERSION = _code_version()


@dataclass
class DocFeatures:
    source: str
    group: str
    name: str
    truth: dict[str, str | None]  # canonical; a key that is missing means "not known", None "not shown"
    rule: dict[str, str | None]  # the product's values without the scorer, canonical (the baseline)
    values: dict[Kind, list[Any]]  # candidate values per kind, as the scorer sees them
    features: dict[Kind, np.ndarray]
    credit_note: bool = False  # the product states a credit note's amounts positive
    fallback: dict[str, Any] = field(default_factory=dict)  # the rule-based values the scorer falls back to

    def labels(self, field: str) -> np.ndarray | None:
        """1 for the candidates whose value is the truth; None when the truth is not known."""
        if field not in self.truth:
            return None
        want = self.truth[field]
        kind = FIELD_KINDS[field]
        return np.array([want is not None and canonical(field, v) == want for v in self.values[kind]], dtype=np.int8)


@lru_cache(maxsize=1)
def _generator_version() -> str:
    folder = Path(__file__).resolve().parent / "synth"
    return hashlib.sha256(b"".join(p.read_bytes() for p in sorted(folder.glob("*.py")))).hexdigest()[:16]


def _cache_key(sample: Sample) -> str:
    if sample.synth is not None and sample.data is None:  # named by its seed: no need to generate it first
        basis = f"synth:{sample.synth}:{_generator_version()}".encode()
    else:
        basis = sample.data if sample.data is not None else sample.path.read_bytes()  # type: ignore[union-attr]
    return f"{hashlib.sha256(basis).hexdigest()[:32]}.{sample.reading}.{_VERSION}.pkl"


def featurize(sample: Sample) -> DocFeatures:
    cached = cache_dir("features") / _cache_key(sample)
    if cached.exists():
        doc: DocFeatures = pickle.loads(cached.read_bytes())
        doc.source, doc.group, doc.name = sample.source, sample.group, sample.name
        if sample.synth is None:  # a dev set's truth file may have been corrected since
            doc.truth = _truth(sample)
        return doc
    sample = sample.generated()
    document = sample.document()
    rule = rule_extraction(document)
    analyzed = analyze(document, learned=False)  # the product's answer without the scorer: the baseline
    rule_values = {f: canonical(f, getattr(analyzed.fields, f)) for f in FIELDS}
    fallback = {f: rule.out.values.get(f) for f in FIELD_KINDS}
    credit = analyzed.classification.doc_type == "credit_note"
    if rule.ctx is None:
        empty: dict[Kind, Any] = {k: [] for k in FEATURE_NAMES}
        feats = {k: np.zeros((0, len(FEATURE_NAMES[k])), dtype=np.float32) for k in FEATURE_NAMES}
        doc = DocFeatures(sample.source, sample.group, sample.name, _truth(sample), rule_values, empty, feats,
                          credit, fallback)
    else:
        scored = prepare(rule)
        values = {kind: [c.value for c in cands] for kind, cands in scored.candidates.items()}
        doc = DocFeatures(sample.source, sample.group, sample.name, _truth(sample), rule_values, values,
                          scored.features, credit, fallback)
    cached.parent.mkdir(parents=True, exist_ok=True)
    cached.write_bytes(pickle.dumps(doc))
    return doc


def _truth(sample: Sample) -> dict[str, str | None]:
    """Canonical truth of the covered fields. Real dev sets only know what their files list (a
    missing value is unknown, not absent); a synthetic document knows every field."""
    out: dict[str, str | None] = {}
    for name in FIELDS:
        if name not in sample.truth:
            continue
        value = canonical(name, sample.truth[name])
        if value is None and sample.source != "synth":
            continue
        out[name] = value
    return out


def featurize_all(samples: Iterable[Sample], workers: int = 2) -> list[DocFeatures]:
    """Featurize in worker processes (OCR and PDF reading dominate); order is kept."""
    items = list(samples)
    if workers <= 1 or len(items) < 8:
        return [featurize(s) for s in items]
    with get_context("spawn").Pool(workers) as pool:
        return list(pool.imap(featurize, items, chunksize=4))


def iter_rows(docs: Iterable[DocFeatures], field: str) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """(document index, feature rows, labels) of every document whose truth for `field` is known."""
    kind = FIELD_KINDS[field]
    for index, doc in enumerate(docs):
        labels = doc.labels(field)
        if labels is not None and len(labels):
            yield index, doc.features[kind], labels
