from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.http_receiver import Receiver

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT.parent / "shared" / "datasets"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(secret="test-secret-123").start()
    yield r
    r.stop()


def dataset(name: str) -> Path:
    """A folder of ../shared/datasets, or skip the test when it is not there."""
    path = DATASETS / name
    if not path.is_dir():
        pytest.skip(f"dataset {path} not available")
    return path
