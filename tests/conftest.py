"""Shared fixtures.

`store` runs a test once per Store implementation; `transport` (with `advance`, which moves
the transport's clock forward) once per Transport implementation. Tests written against these
fixtures are the contract every implementation must pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from scale.servers import PostgresServer, start_postgres

from silkgate.store import MemoryStore, SqliteStore, Store
from silkgate.transport import InProcessTransport, Transport

STORE_KINDS = ["memory", "sqlite", "postgres"]
TRANSPORT_KINDS = ["inproc"]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One throwaway PostgreSQL cluster per test session (per xdist worker)."""
    server = start_postgres()
    yield server
    server.destroy()


@pytest.fixture(scope="session")
def postgres_store(postgres_server: PostgresServer) -> Iterator[Store]:
    from silkgate.store.postgres import PostgresStore

    made = PostgresStore(postgres_server.url, max_size=8)
    yield made
    made.close()


@pytest.fixture(params=STORE_KINDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A fresh, empty store of each kind (SQLite in a file under tmp_path; PostgreSQL one
    database per session, emptied before each test)."""
    if request.param == "postgres":
        shared = request.getfixturevalue("postgres_store")
        shared.truncate_all()
        yield shared
        return
    made: Store = MemoryStore() if request.param == "memory" else SqliteStore(tmp_path / "s.db")
    yield made
    made.close()


class ManualClock:
    """A monotonic clock that only moves when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


ACK_WAIT = 30.0  # seconds; the transports under test redeliver after this long


@pytest.fixture(params=TRANSPORT_KINDS)
def transport_env(
    request: pytest.FixtureRequest,
) -> Iterator[tuple[Transport, Callable[[float], None]]]:
    clock = ManualClock()
    made = InProcessTransport(ack_wait=ACK_WAIT, dedupe_window=120.0, clock=clock)
    yield made, clock.advance
    made.close()


@pytest.fixture
def transport(transport_env: tuple[Transport, Callable[[float], None]]) -> Transport:
    return transport_env[0]


@pytest.fixture
def ack_wait() -> float:
    """Seconds after which the `transport` fixture redelivers an unacked message."""
    return ACK_WAIT


@pytest.fixture
def advance(transport_env: tuple[Transport, Callable[[float], None]]) -> Callable[[float], None]:
    """Move the transport's clock forward by some seconds (real sleep for external servers)."""
    return transport_env[1]
