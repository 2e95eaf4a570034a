"""The Store protocol: the one source of truth (registry, batches, counters, mailbox,
receipts, ledger, sandbox, outbox, nonces), as the combination of the ports in
``silkgate.store.ports``.

Services take the narrowest port they use; ``Store`` is for what wires them (the hub, the
CLI) and for code that really touches every kind of state. Every implementation runs the
contract suites of tests/store/contract/. Writes made inside ``with store.transaction():``
are atomic: all of them commit or none does. Reads inside a transaction see its own
writes. Outside a transaction each write commits on its own. Methods raise
``NotFoundError`` for a missing object asked for by id, ``StoreError`` for failures of the
backend.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from silkgate.store.ports import (
    BatchPort,
    CounterPort,
    DecisionFact,
    EnvelopeState,
    FactColumns,
    LedgerPort,
    MailboxPort,
    NodeKey,
    NoncePort,
    OutboxMessage,
    OutboxPort,
    PushEndpoint,
    RegistryPort,
    SandboxPort,
    StatsPort,
    StoredEnvelope,
    Transactional,
)

__all__ = [
    "DecisionFact",
    "EnvelopeState",
    "FactColumns",
    "NodeKey",
    "OutboxMessage",
    "PushEndpoint",
    "Store",
    "StoredEnvelope",
    "iter_all_envelopes",
]


class Store(
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
    Protocol,
):
    """Every port of one store, plus its lifecycle."""

    def close(self) -> None: ...

    def schema_version(self) -> int: ...


def iter_all_envelopes(store: MailboxPort, **filters: str) -> Iterator[StoredEnvelope]:
    """Page through list_envelopes until exhausted."""
    after: str | None = None
    while True:
        page = store.list_envelopes(after=after, limit=500, **filters)  # type: ignore[arg-type]
        if not page:
            return
        yield from page
        after = page[-1].id
