"""Fixtures of the fault tests: one real Dovecot for the module, an admin client, a receiver."""

from __future__ import annotations

import contextlib
import itertools
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from imapclient import IMAPClient

from tests.faults.harness import kill_leftovers
from tests.http_receiver import Receiver
from tests.integration.conftest import admin_client
from tests.integration.dovecot import DOVECOT, Dovecot

_counter = itertools.count(1)


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    """A Dovecot of this module's own: fault tests restart it, others must not notice."""
    if not Path(DOVECOT).exists() and not shutil.which("dovecot"):
        pytest.skip("Dovecot is not installed (apt-get install dovecot-imapd)")
    server = Dovecot.start()
    yield server
    server.close()


@pytest.fixture
def admin(dovecot: Dovecot) -> Iterator[IMAPClient]:
    holder: list[IMAPClient] = [admin_client(dovecot)]
    yield holder[0]
    with contextlib.suppress(Exception):
        holder[0].shutdown()


@pytest.fixture(autouse=True)
def no_daemon_left_behind() -> Iterator[None]:
    """Whatever happens in a test (an assertion, a timeout), no daemon it spawned outlives it."""
    yield
    kill_leftovers()


@pytest.fixture
def base() -> str:
    return f"F{next(_counter)}"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(secret="fault-hook-secret").start()
    yield r
    r.stop()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = str(Path(__file__).parent)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.integration)
