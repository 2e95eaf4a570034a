"""Transactional contract: writes through any port commit together or not at all; nesting;
concurrency (every implementation)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from silkgate.store import LATEST_VERSION
from silkgate.store.base import Store

from .builders import (
    T0,
    Boom,
    agreement,
    batch,
    envelope,
    fact,
    filing,
    h,
    participant,
    push,
    receipt,
)


def seed(store: Store) -> None:
    """Some committed state every kind of write below can modify."""
    store.put_participant(participant("p_ex"))
    store.put_agreement(agreement("a_1"))
    store.put_filing(filing("f_1"))
    store.put_idempotency("p_ex", "k0", b"d", "b_0")
    store.put_batch_result(batch("b_0", 0))
    store.add_subjects("p_ex", 2026, "pi", [h(0)])
    store.put_envelope(envelope("e_0", 0, expires_days=1))
    store.put_receipt(receipt("e_0"))
    store.ledger_append([b"leaf0"], {(0, 0): h(0)})
    store.put_checkpoint(1, b"cp1")
    store.put_outbox("s", "m_0", b"x")
    store.put_push_endpoint(push("p_im"))
    store.put_facts([fact("b_0", 0, T0)])
    store.put_sandbox_doc("policy", "cn@1", b"one")


def snapshot(store: Store) -> dict[str, Any]:
    """Everything observable through the protocol, for before/after comparison."""
    return {
        "participants": store.list_participants(),
        "agreements": store.list_agreements(),
        "filings": store.list_filings(),
        "idem": [store.get_idempotency("p_ex", k) for k in ("k0", "k1")],
        "batches": store.list_batch_results(),
        "counts": store.subject_counts(year=2026),
        "known": store.known_subjects("p_ex", 2026, "pi", [h(0), h(1), h(2)]),
        "envelopes": store.list_envelopes(),
        "receipts": store.list_receipts(),
        "ledger": (store.ledger_size(), store.ledger_entries(0, 10)),
        "nodes": store.ledger_nodes([(0, 0), (0, 1), (1, 0)]),
        "checkpoint": store.latest_checkpoint(),
        "outbox": store.take_outbox(),
        "push": store.list_push_endpoints(),
        "facts": list(store.iter_facts()),
        "docs": store.list_sandbox_docs("policy"),
    }


WRITES: dict[str, Callable[[Store], object]] = {
    "put_participant": lambda s: s.put_participant(participant("p_new")),
    "replace_participant": lambda s: s.put_participant(participant("p_ex", name="changed")),
    "put_agreement": lambda s: s.put_agreement(agreement("a_2")),
    "put_filing": lambda s: s.put_filing(filing("f_2")),
    "put_idempotency": lambda s: s.put_idempotency("p_ex", "k1", b"d", "b_1"),
    "put_batch_result": lambda s: s.put_batch_result(batch("b_1", 1)),
    "add_subjects": lambda s: s.add_subjects("p_ex", 2026, "pi", [h(1), h(2)]),
    "add_subjects_new_key": lambda s: s.add_subjects("p_new", 2026, "pi", [h(1)]),
    "put_envelope": lambda s: s.put_envelope(envelope("e_1", 1)),
    "set_envelope_state": lambda s: s.set_envelope_state("e_0", "acked", attempts=3),
    "put_receipt": lambda s: s.put_receipt(receipt("e_1")),
    "ledger_append": lambda s: s.ledger_append([b"leaf1"], {(0, 1): h(1), (1, 0): h(9)}),
    "put_checkpoint": lambda s: s.put_checkpoint(2, b"cp2"),
    "put_outbox": lambda s: s.put_outbox("s", "m_1", b"y"),
    "delete_outbox": lambda s: s.delete_outbox([m.seq for m in s.take_outbox()]),
    "put_push_endpoint": lambda s: s.put_push_endpoint(push("p_new")),
    "replace_push_endpoint": lambda s: s.put_push_endpoint(push("p_im", "https://x.example/")),
    "delete_push_endpoint": lambda s: s.delete_push_endpoint("p_im"),
    "drop_envelope_data": lambda s: s.drop_envelope_data(
        ["e_0"], state="pending", new_state="expired"
    ),
    "put_facts": lambda s: s.put_facts([fact("b_1", 0, T0)]),
    "put_sandbox_doc": lambda s: s.put_sandbox_doc("policy", "cn@2", b"two"),
    "replace_sandbox_doc": lambda s: s.put_sandbox_doc("policy", "cn@1", b"changed"),
}
# Nonces are left out: reading one (remember_nonce) writes it; test_nonces.py covers their
# rollback.


@pytest.mark.parametrize("write", list(WRITES))
def test_exception_rolls_back_every_kind_of_write(store: Store, write: str) -> None:
    seed(store)
    before = snapshot(store)
    with pytest.raises(Boom), store.transaction():
        WRITES[write](store)
        assert snapshot(store) != before  # the write is visible inside its transaction
        raise Boom
    assert snapshot(store) == before


def test_all_writes_in_one_transaction_commit_or_vanish_together(store: Store) -> None:
    seed(store)
    before = snapshot(store)
    with pytest.raises(Boom), store.transaction():
        for write in WRITES.values():
            write(store)
        raise Boom
    assert snapshot(store) == before
    with store.transaction():
        for write in WRITES.values():
            write(store)
    after = snapshot(store)
    assert after["ledger"][0] == 2 and store.get_participant("p_ex").name == "changed"
    assert store.take_outbox() == []  # put_outbox then delete_outbox both committed


def test_nested_transactions(store: Store) -> None:
    with store.transaction():
        store.put_participant(participant("p_outer"))
        with store.transaction():
            store.put_participant(participant("p_inner"))
        assert store.get_participant("p_inner").id == "p_inner"
    assert {p.id for p in store.list_participants()} == {"p_outer", "p_inner"}

    with pytest.raises(Boom), store.transaction():
        store.put_participant(participant("p_a"))
        with store.transaction():
            store.put_participant(participant("p_b"))
        raise Boom  # the outer failure undoes the finished inner block too
    assert {p.id for p in store.list_participants()} == {"p_outer", "p_inner"}


def test_failed_inner_block_undone_outer_continues(store: Store) -> None:
    with store.transaction():
        store.add_subjects("p_x", 2026, "pi", [h(1)])
        with pytest.raises(Boom), store.transaction():
            store.add_subjects("p_x", 2026, "pi", [h(2), h(3)])
            store.ledger_append([b"x"], {(0, 0): h(0)})
            raise Boom
        store.add_subjects("p_x", 2026, "pi", [h(4)])
    assert store.subject_count("p_x", 2026, "pi") == 2
    assert store.known_subjects("p_x", 2026, "pi", [h(i) for i in range(5)]) == {h(1), h(4)}
    assert store.ledger_size() == 0


def test_schema_version_is_latest(store: Store) -> None:
    assert store.schema_version() == LATEST_VERSION >= 1


def test_concurrent_transactions_count_exactly(store: Store) -> None:
    threads, rounds, per_round = 4, 15, 20
    returned: list[int] = []
    lock = threading.Lock()

    def work(t: int) -> None:
        for r in range(rounds):
            # Overlapping ranges: every thread re-adds half of what its neighbour adds.
            hashes = [h(t * 150 + r * 10 + i) for i in range(per_round)]
            with store.transaction():
                known = store.known_subjects("p_x", 2026, "pi", hashes)
                new = store.add_subjects("p_x", 2026, "pi", hashes)
                assert new == len(set(hashes) - known)
                store.ledger_append([b"t%d" % t], {})
            with lock:
                returned.append(new)

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    expected = {
        t * 150 + r * 10 + i for t in range(threads) for r in range(rounds) for i in range(20)
    }
    assert store.subject_count("p_x", 2026, "pi") == len(expected)
    assert sum(returned) == len(expected)
    assert store.ledger_size() == threads * rounds
    assert len(store.ledger_entries(0, threads * rounds)) == threads * rounds
