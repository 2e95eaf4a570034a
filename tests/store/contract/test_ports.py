"""The ports split the Store exactly, and every implementation provides each port with the
protocol's signatures (checked at run time here, and by mypy through the assignments)."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from silkgate.store import MemoryStore, SqliteStore
from silkgate.store.base import Store
from silkgate.store.ports import (
    BatchPort,
    CounterPort,
    LedgerPort,
    MailboxPort,
    NoncePort,
    OutboxPort,
    RegistryPort,
    SandboxPort,
    StatsPort,
    Transactional,
)
from silkgate.store.postgres import PostgresStore

PORTS: list[type] = [
    RegistryPort,
    BatchPort,
    CounterPort,
    MailboxPort,
    LedgerPort,
    SandboxPort,
    OutboxPort,
    NoncePort,
    StatsPort,
    Transactional,
]
LIFECYCLE = {"close", "schema_version"}


def methods(cls: type) -> set[str]:
    """The methods a protocol class declares itself (not inherited ones)."""
    return {n for n, v in vars(cls).items() if callable(v) and not n.startswith("_")}


def all_methods(cls: type) -> set[str]:
    return {n for n in dir(cls) if not n.startswith("_") and callable(getattr(cls, n))}


def test_ports_partition_the_store() -> None:
    seen: dict[str, str] = {}
    for port in PORTS:
        for name in methods(port):
            assert name not in seen, f"{name} is in both {seen[name]} and {port.__name__}"
            seen[name] = port.__name__
    assert set(seen) | LIFECYCLE == all_methods(Store)
    assert methods(Store) == LIFECYCLE


def test_every_port_is_small() -> None:
    assert all(len(methods(p)) <= 16 for p in PORTS), {p.__name__: len(methods(p)) for p in PORTS}


@pytest.mark.parametrize("impl", [MemoryStore, SqliteStore, PostgresStore])
@pytest.mark.parametrize("port", PORTS, ids=lambda p: p.__name__)
def test_implementations_match_each_port(impl: type, port: type) -> None:
    for name in methods(port):
        want = inspect.signature(getattr(port, name))
        got = inspect.signature(getattr(impl, name))
        shape = [(p.name, p.kind, p.default) for p in want.parameters.values()]
        assert [(p.name, p.kind, p.default) for p in got.parameters.values()] == shape, (
            f"{impl.__name__}.{name}{got} does not match {port.__name__}.{name}{want}"
        )


def test_implementations_satisfy_each_port_statically(tmp_path: Path) -> None:
    # mypy checks these assignments; at run time they show both stores open and close.
    for made in (MemoryStore(), SqliteStore(tmp_path / "s.db")):
        registry: RegistryPort = made
        batches: BatchPort = made
        counters: CounterPort = made
        mailbox: MailboxPort = made
        ledger: LedgerPort = made
        sandbox: SandboxPort = made
        outbox: OutboxPort = made
        nonces: NoncePort = made
        stats: StatsPort = made
        tx: Transactional = made
        whole: Store = made
        assert len({id(p) for p in (registry, batches, counters, mailbox, ledger)}) == 1
        assert len({id(p) for p in (sandbox, outbox, nonces, stats, tx, whole)}) == 1
        made.close()
