"""How the ledger sits in a store: its port (``silkgate.store.ports.LedgerPort``), and a node
reader that serves level-0 hashes (leaf hashes) from the entries.

Only perfect subtrees of level >= 1 are stored as nodes: a leaf hash is one SHA-256 of
its entry, so keeping it would double the rows for nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext

from silkgate.ledger.merkle import NodeKey, leaf_hash
from silkgate.store.ports import LedgerPort

LedgerStore = LedgerPort  # the name the ledger modules use for their port


def transaction(store: object) -> AbstractContextManager[object]:
    """The store's write transaction if it has one (a bare ledger store may not)."""
    begin = getattr(store, "transaction", None)
    if begin is None:
        return nullcontext()
    tx: AbstractContextManager[object] = begin()
    return tx


def leaf_hashes(store: LedgerStore, start: int, end: int) -> list[bytes]:
    return [leaf_hash(e) for e in store.ledger_entries(start, end)]


def read_nodes(store: LedgerStore, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
    """Node hashes for `keys`; level-0 keys are hashed from their entries."""
    leaves = sorted({index for level, index in keys if level == 0})
    upper = [k for k in keys if k[0] > 0]
    out = store.ledger_nodes(upper) if upper else {}
    for start, end in _runs(leaves):
        for offset, h in enumerate(leaf_hashes(store, start, end)):
            out[(0, start + offset)] = h
    return out


def _runs(indices: Sequence[int]) -> list[tuple[int, int]]:
    """Consecutive runs of sorted indices as [start, end) ranges."""
    runs: list[tuple[int, int]] = []
    for i in indices:
        if runs and runs[-1][1] == i:
            runs[-1] = (runs[-1][0], i + 1)
        else:
            runs.append((i, i + 1))
    return runs
