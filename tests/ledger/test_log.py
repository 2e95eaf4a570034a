"""TransparencyLog over every Store implementation (and over a bare ledger store)."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest

from ledger.helpers import ORIGIN, BareLedgerStore, entries, fixed_clock, key
from silkgate.errors import LedgerVerificationError, NotFoundError
from silkgate.ledger import (
    ProofBundle,
    TransparencyLog,
    leaf_hash,
    open_checkpoint,
    parse_vkey,
    verify_bundle,
    verify_consistency,
    verify_inclusion,
)
from silkgate.ledger.merkle import NodeKey, root_of
from silkgate.store import Store


def make_log(store: Store | BareLedgerStore) -> TransparencyLog:
    return TransparencyLog(store, ORIGIN, key("log"), fixed_clock)


def test_append_returns_first_index_and_roots_match_rfc(store: Store) -> None:
    log = make_log(store)
    data = entries(0, 300)
    firsts = [log.append(data[a:b]) for a, b in [(0, 1), (1, 7), (7, 8), (8, 256), (256, 300)]]
    assert firsts == [0, 1, 7, 8, 256]
    hashes = [leaf_hash(e) for e in data]
    for size in (0, 1, 2, 7, 8, 255, 256, 257, 300):
        assert log.root(size) == root_of(hashes[:size])


def test_append_nothing_changes_nothing(store: Store) -> None:
    log = make_log(store)
    log.append(entries(0, 3))
    assert log.append([]) == 3
    assert log.size() == 3


def test_append_rolls_back_with_the_callers_transaction(store: Store) -> None:
    log = make_log(store)
    log.append(entries(0, 5))
    with pytest.raises(RuntimeError), store.transaction():
        log.append(entries(5, 5))
        raise RuntimeError("the caller's other write failed")
    assert log.size() == 5
    assert log.append(entries(5, 2)) == 5
    log.verify_log()


def test_proofs_verify_for_every_index_and_size(store: Store) -> None:
    log = make_log(store)
    log.append(entries(0, 40))
    for size in range(1, 41):
        root = log.root(size)
        for index in range(size):
            proof = log.inclusion_proof(index, size)
            verify_inclusion(leaf_hash(entries(index, 1)[0]), index, size, proof, root)
        for size1 in range(1, size + 1):
            proof = log.consistency_proof(size1, size)
            verify_consistency(size1, size, proof, log.root(size1), root)


def test_proofs_out_of_range_are_not_found(store: Store) -> None:
    log = make_log(store)
    log.append(entries(0, 4))
    with pytest.raises(NotFoundError):
        log.inclusion_proof(4, 4)
    with pytest.raises(NotFoundError):
        log.inclusion_proof(0, 5)
    with pytest.raises(NotFoundError):
        log.consistency_proof(0, 4)
    with pytest.raises(NotFoundError):
        log.prove(4)


def test_checkpoint_is_a_signed_c2sp_note(store: Store) -> None:
    log = make_log(store)
    log.append(entries(0, 10))
    cp = log.checkpoint()
    assert cp.size == 10 and cp.root_hash == log.root(10)
    text, sigs = cp.note.split("\n\n")
    assert text.split("\n") == [ORIGIN, "10", cp.note.split("\n")[2]]
    assert sigs.startswith(f"\u2014 {ORIGIN} ")
    assert open_checkpoint(cp.note, parse_vkey(log.vkey)) == cp
    assert log.latest_checkpoint() == cp
    assert log.checkpoint() == cp  # no growth, no new signature


def test_vkey_format(store: Store) -> None:
    log = make_log(store)
    name, key_id, _material = log.vkey.split("+", 2)
    assert name == ORIGIN and len(key_id) == 8
    assert parse_vkey(log.vkey).public_key == key("log").public_key().public_bytes_raw()


def test_checkpoint_refuses_a_tree_that_lost_leaves() -> None:
    store = BareLedgerStore()
    log = make_log(store)
    log.append(entries(0, 10))
    log.checkpoint()
    del store.entries[8:]
    with pytest.raises(LedgerVerificationError, match="lost"):
        log.checkpoint()


def test_checkpoint_refuses_a_rewritten_history() -> None:
    store = BareLedgerStore()
    log = make_log(store)
    log.append(entries(0, 10))
    log.checkpoint()
    # Rewrite the tree: a forked log with different entries but the old checkpoint.
    forked = BareLedgerStore()
    forked.checkpoints = dict(store.checkpoints)
    fork = make_log(forked)
    fork.append([b"evil", *entries(1, 11)])
    with pytest.raises(LedgerVerificationError, match="does not reproduce"):
        fork.checkpoint()
    assert forked.latest_checkpoint() == store.latest_checkpoint()


def test_checkpoint_refuses_a_tampered_node() -> None:
    store = BareLedgerStore()
    log = make_log(store)
    log.append(entries(0, 8))
    log.checkpoint()
    log.append(entries(8, 8))
    store.nodes[(3, 0)] = b"\x00" * 32
    with pytest.raises(LedgerVerificationError):
        log.checkpoint()
    with pytest.raises(LedgerVerificationError, match="stored node"):
        log.verify_log()


def test_prove_gives_a_bundle_that_verifies_offline(store: Store) -> None:
    log = make_log(store)
    log.append(entries(0, 21))
    bundle = log.prove(13)
    assert bundle.tree_size == 21 and bundle.entry == entries(13, 1)[0]
    again = ProofBundle.from_json(bundle.to_json())
    assert again == bundle
    verify_bundle(again, None, log.vkey)
    verify_bundle(again, log.get_checkpoint(21).note, log.vkey)


def test_prove_uses_the_latest_checkpoint_or_signs_one(store: Store) -> None:
    log = make_log(store)
    log.append(entries(0, 5))
    log.checkpoint()
    log.append(entries(5, 5))
    assert log.prove(4).tree_size == 5
    assert log.prove(7).tree_size == 10


def test_verify_log_recomputes_everything(store: Store) -> None:
    log = make_log(store)
    for n in (1, 2, 5, 100, 37):
        log.append(entries(log.size(), n))
    log.checkpoint()
    log.append(entries(log.size(), 9))
    report = log.verify_log(chunk=16)
    assert report.size == 154 and report.checkpoint_size == 145
    assert report.root_hash == root_of([leaf_hash(e) for e in entries(0, 154)])


def test_verify_log_detects_a_changed_entry() -> None:
    store = BareLedgerStore()
    log = make_log(store)
    log.append(entries(0, 20))
    log.checkpoint()
    store.entries[3] = b"changed"
    with pytest.raises(LedgerVerificationError):
        log.verify_log()


def test_verify_log_detects_a_forged_checkpoint() -> None:
    store = BareLedgerStore()
    log = make_log(store)
    log.append(entries(0, 20))
    log.checkpoint()
    note = store.checkpoints[20].decode().replace(f"{ORIGIN}\n20", f"{ORIGIN}\n20", 1)
    store.checkpoints[20] = note.replace("\n\n", "\nextension\n\n").encode()
    with pytest.raises(LedgerVerificationError, match="does not verify"):
        log.verify_log()


def test_log_works_over_a_bare_ledger_store() -> None:
    log = make_log(BareLedgerStore())
    assert log.append(entries(0, 3)) == 0
    assert log.checkpoint().size == 3
    verify_bundle(log.prove(2), None, log.vkey)
    log.verify_log()


class CountingStore(BareLedgerStore):
    """A bare ledger store that counts the node keys and entries read."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def ledger_nodes(self, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
        self.reads += len(keys)
        return super().ledger_nodes(keys)

    def ledger_entries(self, start: int, end: int) -> list[bytes]:
        self.reads += end - start
        return super().ledger_entries(start, end)


def test_proofs_and_appends_read_o_log_n_nodes() -> None:
    store = CountingStore()
    log = make_log(store)
    size = 100_003
    for start in range(0, size, 10_000):
        log.append(entries(start, min(10_000, size - start)))
    bound = 2 * size.bit_length()
    for index in (0, 1, 4097, 65_535, 99_999, size - 1):
        store.reads = 0
        log.inclusion_proof(index, size)
        assert store.reads <= bound
    store.reads = 0
    log.consistency_proof(54_321, size)
    assert store.reads <= bound
    store.reads = 0
    log.append(entries(size, 1))
    assert store.reads <= bound


def test_concurrent_appenders_keep_the_sequence(store: Store) -> None:
    log = make_log(store)
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for n in range(30):
                with store.transaction():
                    log.append([b"w%d-%d" % (worker, n), b"w%d-%d'" % (worker, n)])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert log.size() == 240
    stored = store.ledger_entries(0, 240)
    for i in range(0, 240, 2):
        assert stored[i + 1] == stored[i] + b"'"  # each batch stayed contiguous
    log.checkpoint()
    log.verify_log()


class _CountingTransactions:
    """A store that counts the write transactions opened through it."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.opened = 0

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)

    def transaction(self) -> object:
        self.opened += 1
        return self._store.transaction()


def test_a_checkpoint_read_of_an_unchanged_tree_takes_no_write_lock(store: Store) -> None:
    counting = _CountingTransactions(store)
    log = TransparencyLog(counting, ORIGIN, key("log"), fixed_clock)  # type: ignore[arg-type]
    log.append(entries(0, 9))
    opened = counting.opened
    signed = log.checkpoint()  # the tree grew: signs, under the write lock
    assert counting.opened == opened + 1
    for _ in range(3):
        assert log.checkpoint() == signed
    assert counting.opened == opened + 1
    log.append(entries(9, 1))
    assert log.checkpoint().size == 10 and counting.opened == opened + 3


def test_a_tampered_node_is_refused_even_when_the_tree_has_not_grown() -> None:
    store = BareLedgerStore()
    log = make_log(store)
    log.append(entries(0, 8))
    log.checkpoint()
    store.nodes[(3, 0)] = b"\x00" * 32
    with pytest.raises(LedgerVerificationError, match="does not reproduce"):
        log.checkpoint()
