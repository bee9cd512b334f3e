from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.http_receiver import Receiver

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ROOT.parent / "shared" / "datasets"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[object]:
    """A PostgreSQL server started for this test session on loopback (tests/postgres_server.py)."""
    from tests.postgres_server import Postgres, binaries

    if binaries() is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    server = Postgres.start()
    yield server
    server.close()


@pytest.fixture
def postgres_url(postgres_server: object) -> str:
    """The URL of a fresh, empty database on the session's PostgreSQL server."""
    return postgres_server.new_database()  # type: ignore[attr-defined, no-any-return]


@pytest.fixture(scope="session")
def redis_server() -> Iterator[object]:
    """A Redis started for this test session on loopback (tests/redis_server.py)."""
    import shutil

    from tests.redis_server import Redis

    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    server = Redis.start()
    yield server
    server.close()


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
