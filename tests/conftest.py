"""Shared fixtures.

`store` runs a test once per Store implementation; `transport` (with `advance`, which moves
the transport's clock forward) once per Transport implementation. Tests written against these
fixtures are the contract every implementation must pass.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from scale.servers import NatsServer, PostgresServer, start_nats, start_postgres

from silkgate.store import MemoryStore, SqliteStore, Store
from silkgate.transport import InProcessTransport, Transport

# Every test server listens on loopback: a proxy set in the environment (as on some CI
# machines) must never carry those requests, in this process or in the CLIs it starts.
_LOOPBACK = "127.0.0.1,localhost,::1"
for _name in ("NO_PROXY", "no_proxy"):
    os.environ[_name] = ",".join(filter(None, [os.environ.get(_name), _LOOPBACK]))

# Tests never fail on timing (shared, noisy machines): no per-example deadline anywhere.
# In CI every property test is derandomized (the same examples on every run), so a CI
# failure reproduces with CI=true on any machine; elsewhere each run explores new examples.
_IN_CI = os.environ.get("CI") == "true"
settings.register_profile(
    "silkgate", deadline=None, derandomize=_IN_CI, **({"database": None} if _IN_CI else {})
)
settings.load_profile("silkgate")

STORE_KINDS = ["memory", "sqlite", "postgres"]
TRANSPORT_KINDS = ["inproc", "nats"]


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


ACK_WAIT = 30.0  # seconds; the in-process transport under test redelivers after this long
DEDUPE_WINDOW = 120.0
# NATS runs on real time: short enough for the suite, long enough to stay out of the noise.
NATS_ACK_WAIT = 1.0
NATS_DEDUPE_WINDOW = 1.5
_streams = itertools.count()


@pytest.fixture(scope="session")
def nats_server() -> Iterator[NatsServer]:
    """One throwaway nats-server (JetStream on) per test session (per xdist worker)."""
    server = start_nats()
    yield server
    server.destroy()


@pytest.fixture(params=TRANSPORT_KINDS)
def transport_env(
    request: pytest.FixtureRequest,
) -> Iterator[tuple[Transport, Callable[[float], None], float, float]]:
    """(transport, advance, ack_wait, dedupe_window): advance moves the in-process clock,
    or sleeps for NATS; each NATS test gets its own stream."""
    if request.param == "nats":
        from silkgate.transport.jetstream import JetStreamTransport

        server: NatsServer = request.getfixturevalue("nats_server")
        n = next(_streams)
        made: Transport = JetStreamTransport(
            server.url,
            stream=f"T{n}",
            prefix=f"t{n}",
            ack_wait=NATS_ACK_WAIT,
            dedupe_window=NATS_DEDUPE_WINDOW,
        )
        yield made, time.sleep, NATS_ACK_WAIT, NATS_DEDUPE_WINDOW
        made.close()
        return
    clock = ManualClock()
    inproc = InProcessTransport(ack_wait=ACK_WAIT, dedupe_window=DEDUPE_WINDOW, clock=clock)
    yield inproc, clock.advance, ACK_WAIT, DEDUPE_WINDOW
    inproc.close()


@pytest.fixture
def transport(
    transport_env: tuple[Transport, Callable[[float], None], float, float],
) -> Transport:
    return transport_env[0]


@pytest.fixture
def ack_wait(transport_env: tuple[Transport, Callable[[float], None], float, float]) -> float:
    """Seconds after which the `transport` fixture redelivers an unacked message."""
    return transport_env[2]


@pytest.fixture
def dedupe_window(
    transport_env: tuple[Transport, Callable[[float], None], float, float],
) -> float:
    """Seconds for which the `transport` fixture remembers a message id."""
    return transport_env[3]


@pytest.fixture
def advance(
    transport_env: tuple[Transport, Callable[[float], None], float, float],
) -> Callable[[float], None]:
    """Move the transport's clock forward by some seconds (real sleep for external servers)."""
    return transport_env[1]
