"""LedgerPort contract: entries, node hashes, checkpoints (every implementation)."""

from __future__ import annotations

import pytest

from silkgate.errors import NotFoundError, StoreError
from silkgate.store.ports import LedgerPort

from .builders import h


def test_ledger_append_entries_nodes(store: LedgerPort) -> None:
    assert store.ledger_size() == 0
    assert store.ledger_append([b"a", b"b"], {(0, 0): h(0), (0, 1): h(1), (1, 0): h(10)}) == 0
    assert store.ledger_append([b"c"], {(0, 2): h(2)}) == 2
    assert store.ledger_size() == 3
    assert store.ledger_entries(0, 3) == [b"a", b"b", b"c"]
    assert store.ledger_entries(1, 2) == [b"b"]
    assert store.ledger_entries(2, 10) == [b"c"]
    assert store.ledger_entries(3, 3) == []
    got = store.ledger_nodes([(1, 0), (0, 2), (1, 1), (5, 0)])
    assert got == {(1, 0): h(10), (0, 2): h(2)}


def test_ledger_node_rewrite_identical_ok_different_refused(store: LedgerPort) -> None:
    store.ledger_append([b"a"], {(0, 0): h(0)})
    assert store.ledger_append([b"b"], {(0, 0): h(0), (0, 1): h(1)}) == 1
    with pytest.raises(StoreError, match="different hash"):
        store.ledger_append([b"c"], {(0, 2): h(2), (0, 1): h(99)})
    assert store.ledger_size() == 2  # the refused append left nothing behind
    assert store.ledger_nodes([(0, 1), (0, 2)]) == {(0, 1): h(1)}


def test_ledger_large_batch(store: LedgerPort) -> None:
    entries = [f"leaf {i}".encode() for i in range(2000)]
    nodes = {(0, i): h(i) for i in range(2000)}
    assert store.ledger_append(entries, nodes) == 0
    assert store.ledger_entries(1500, 1503) == entries[1500:1503]
    assert store.ledger_nodes([(0, 1999)]) == {(0, 1999): h(1999)}


def test_checkpoints(store: LedgerPort) -> None:
    assert store.latest_checkpoint() is None
    store.put_checkpoint(2, b"note 2")
    store.put_checkpoint(10, b"note 10")
    store.put_checkpoint(5, b"note 5")
    assert store.latest_checkpoint() == (10, b"note 10")
    assert store.get_checkpoint(5) == b"note 5"
    store.put_checkpoint(5, b"note 5 + cosignature")
    assert store.get_checkpoint(5) == b"note 5 + cosignature"
    with pytest.raises(NotFoundError):
        store.get_checkpoint(3)
