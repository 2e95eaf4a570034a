"""The Store contract: every test runs against every implementation (see `store` fixture)."""

from __future__ import annotations

import hashlib
import itertools
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from silkgate.errors import ConflictError, NotFoundError, StoreError
from silkgate.model import (
    Agreement,
    BatchResult,
    Decision,
    Filing,
    Obligation,
    Participant,
    Receipt,
)
from silkgate.store import LATEST_VERSION, PushEndpoint, Store, StoredEnvelope
from silkgate.store.base import DecisionFact, EnvelopeState, iter_all_envelopes

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def participant(pid: str, name: str = "Nanning Freight") -> Participant:
    return Participant(
        id=pid, name=name, jurisdiction="CN", roles=("exporter",), signing_key=b"k" * 32
    )


def agreement(aid: str, exporter: str = "p_ex", importer: str = "p_im") -> Agreement:
    return Agreement(
        id=aid,
        exporter=exporter,
        importer=importer,
        product="logistics.waybill",
        purpose="contract_performance",
        instrument="cn_standard_contract",
        valid_from=date(2026, 1, 1),
        valid_until=date(2027, 1, 1),
    )


def filing(fid: str, exporter: str = "p_ex") -> Filing:
    return Filing(
        id=fid,
        exporter=exporter,
        kind="standard_contract",
        recipient=None,
        valid_from=date(2026, 1, 1),
        reference="CAC-1",
    )


def batch(bid: str, minute: int, exporter: str = "p_ex", importer: str = "p_im") -> BatchResult:
    decision = Decision(
        outcome="allow_transformed",
        obligations=(Obligation(action="mask", path="$['phone']", finding_type="phone"),),
        rule_ids=("cn.art5.1",),
        citations=("Provisions Art. 5(1)",),
        policy_version="cn-2024.1",
        facts={"types": ["phone"], "count": 2},
    )
    return BatchResult(
        batch_id=bid,
        exporter=exporter,
        importer=importer,
        product="logistics.waybill",
        purpose="contract_performance",
        records=2,
        outcomes={"allow_transformed": 2},
        decisions=(decision, decision),
        envelope_id=f"e_{bid}",
        held_id=None,
        ledger_index=7,
        policy_version="cn-2024.1",
        committed_at=T0 + timedelta(minutes=minute),
    )


def envelope(
    eid: str,
    minute: int,
    *,
    importer: str = "p_im",
    exporter: str = "p_ex",
    state: EnvelopeState = "pending",
    expires_days: int = 30,
) -> StoredEnvelope:
    created = T0 + timedelta(minutes=minute)
    return StoredEnvelope(
        id=eid,
        batch_id=f"b_{eid}",
        exporter=exporter,
        importer=importer,
        state=state,
        created_at=created,
        expires_at=created + timedelta(days=expires_days),
        data=b"sealed:" + eid.encode(),
    )


def receipt(eid: str, bid: str = "b_1") -> Receipt:
    return Receipt(
        envelope_id=eid,
        batch_id=bid,
        importer="p_im",
        envelope_digest=hashlib.sha256(eid.encode()).digest(),
        received_at=T0,
        key_id="p_im#1",
        signature=b"s" * 64,
    )


def h(i: int) -> bytes:
    return hashlib.sha256(str(i).encode()).digest()


# -- registry -------------------------------------------------------------------------


def test_participants_crud(store: Store) -> None:
    store.put_participant(participant("p_b"))
    store.put_participant(participant("p_a"))
    store.put_participant(participant("p_b", name="renamed"))
    assert store.get_participant("p_b").name == "renamed"
    assert store.get_participant("p_a") == participant("p_a")
    assert [p.id for p in store.list_participants()] == ["p_a", "p_b"]
    with pytest.raises(NotFoundError, match="p_zz"):
        store.get_participant("p_zz")


def test_agreements_filters_and_not_found(store: Store) -> None:
    store.put_agreement(agreement("a_1", "p_x", "p_vn"))
    store.put_agreement(agreement("a_2", "p_x", "p_th"))
    store.put_agreement(agreement("a_3", "p_y", "p_vn"))
    assert store.get_agreement("a_2") == agreement("a_2", "p_x", "p_th")
    assert [a.id for a in store.list_agreements()] == ["a_1", "a_2", "a_3"]
    assert [a.id for a in store.list_agreements(exporter="p_x")] == ["a_1", "a_2"]
    assert [a.id for a in store.list_agreements(importer="p_vn")] == ["a_1", "a_3"]
    assert [a.id for a in store.list_agreements(exporter="p_y", importer="p_vn")] == ["a_3"]
    assert store.list_agreements(exporter="p_none") == []
    with pytest.raises(NotFoundError):
        store.get_agreement("a_9")


def test_filings(store: Store) -> None:
    store.put_filing(filing("f_2", "p_x"))
    store.put_filing(filing("f_1", "p_y"))
    assert store.list_filings() == [filing("f_1", "p_y"), filing("f_2", "p_x")]
    assert store.list_filings(exporter="p_x") == [filing("f_2", "p_x")]


# -- idempotency and batches ----------------------------------------------------------


def test_idempotency(store: Store) -> None:
    assert store.get_idempotency("p_ex", "key-1") is None
    store.put_idempotency("p_ex", "key-1", b"d1", "b_1")
    store.put_idempotency("p_ex", "key-1", b"d1", "b_1")  # same request again: fine
    assert store.get_idempotency("p_ex", "key-1") == (b"d1", "b_1")
    assert store.get_idempotency("p_other", "key-1") is None
    with pytest.raises(ConflictError, match="key-1"):
        store.put_idempotency("p_ex", "key-1", b"d2", "b_2")
    assert store.get_idempotency("p_ex", "key-1") == (b"d1", "b_1")


def test_batch_results_roundtrip_and_not_found(store: Store) -> None:
    store.put_batch_result(batch("b_1", 0))
    assert store.get_batch_result("b_1") == batch("b_1", 0)
    with pytest.raises(NotFoundError, match="b_2"):
        store.get_batch_result("b_2")


def test_batch_results_newest_first_paging_filters(store: Store) -> None:
    for i in range(7):
        store.put_batch_result(batch(f"b_{i}", i, exporter="p_x" if i % 2 else "p_y"))
    store.put_batch_result(batch("b_tie", 6))  # same time as b_6: later insert first
    ids = [r.batch_id for r in store.list_batch_results()]
    assert ids == ["b_tie", "b_6", "b_5", "b_4", "b_3", "b_2", "b_1", "b_0"]
    page = [r.batch_id for r in store.list_batch_results(limit=3, offset=2)]
    assert page == ["b_5", "b_4", "b_3"]
    assert [r.batch_id for r in store.list_batch_results(exporter="p_x")] == ["b_5", "b_3", "b_1"]
    assert store.list_batch_results(importer="p_none") == []
    assert store.list_batch_results(offset=100) == []


def test_batch_result_replace_keeps_one(store: Store) -> None:
    store.put_batch_result(batch("b_1", 0))
    store.put_batch_result(batch("b_1", 5))
    assert [r.committed_at for r in store.list_batch_results()] == [T0 + timedelta(minutes=5)]


def test_naive_datetimes_are_refused(store: Store) -> None:
    naive = datetime(2026, 1, 1)
    with pytest.raises(StoreError, match="naive"):
        store.put_envelope(msgspec.structs.replace(envelope("e_1", 0), created_at=naive))
    with pytest.raises(StoreError, match="naive"):
        store.put_batch_result(msgspec.structs.replace(batch("b_1", 0), committed_at=naive))
    assert store.list_envelopes() == [] and store.list_batch_results() == []


# -- counters -------------------------------------------------------------------------


def test_counters_distinct_and_separate(store: Store) -> None:
    assert store.add_subjects("p_x", 2026, "pi", [h(1), h(2), h(2), h(3)]) == 3
    assert store.add_subjects("p_x", 2026, "pi", [h(3), h(4)]) == 1
    assert store.add_subjects("p_x", 2026, "pi", []) == 0
    assert store.add_subjects("p_x", 2027, "pi", [h(1)]) == 1
    assert store.add_subjects("p_x", 2026, "sensitive_pi", [h(1)]) == 1
    assert store.add_subjects("p_y", 2026, "pi", [h(1)]) == 1
    assert store.subject_count("p_x", 2026, "pi") == 4
    assert store.subject_count("p_x", 2025, "pi") == 0
    assert store.known_subjects("p_x", 2026, "pi", [h(0), h(1), h(4), h(9)]) == {h(1), h(4)}
    assert store.known_subjects("p_x", 2027, "pi", [h(2)]) == set()
    assert store.subject_counts(year=2026) == {
        ("p_x", "pi"): 4,
        ("p_x", "sensitive_pi"): 1,
        ("p_y", "pi"): 1,
    }
    assert store.subject_counts(year=2024) == {}


def test_known_subjects_thousands_per_call(store: Store) -> None:
    added = [h(i) for i in range(0, 6000, 2)]
    assert store.add_subjects("p_x", 2026, "pi", added) == 3000
    asked = [h(i) for i in range(6000)]
    assert store.known_subjects("p_x", 2026, "pi", asked) == set(added)
    assert store.subject_count("p_x", 2026, "pi") == 3000


_exporters = itertools.count()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.lists(st.integers(0, 40), max_size=15), max_size=6))
def test_add_subjects_counts_distinct(store: Store, batches: list[list[int]]) -> None:
    exporter = f"p_{next(_exporters)}"  # the store outlives examples: a fresh exporter each
    seen: set[int] = set()
    for chunk in batches:
        new = store.add_subjects(exporter, 2026, "pi", [h(i) for i in chunk])
        assert new == len(set(chunk) - seen)
        seen |= set(chunk)
    assert store.subject_count(exporter, 2026, "pi") == len(seen)
    assert store.known_subjects(exporter, 2026, "pi", [h(i) for i in range(41)]) == {
        h(i) for i in seen
    }


# -- mailbox --------------------------------------------------------------------------


def test_envelope_roundtrip_and_not_found(store: Store) -> None:
    store.put_envelope(envelope("e_1", 0))
    assert store.get_envelope("e_1") == envelope("e_1", 0)
    with pytest.raises(NotFoundError, match="e_2"):
        store.get_envelope("e_2")
    with pytest.raises(NotFoundError):
        store.set_envelope_state("e_2", "acked")


def test_envelope_listing_oldest_first_filters(store: Store) -> None:
    store.put_envelope(envelope("e_c", 2, importer="p_vn"))
    store.put_envelope(envelope("e_a", 0, importer="p_th"))
    store.put_envelope(envelope("e_b", 1, importer="p_vn", state="held"))
    store.put_envelope(envelope("e_d", 1, importer="p_vn", exporter="p_y"))
    assert [e.id for e in store.list_envelopes()] == ["e_a", "e_b", "e_d", "e_c"]
    assert [e.id for e in store.list_envelopes(importer="p_vn")] == ["e_b", "e_d", "e_c"]
    assert [e.id for e in store.list_envelopes(exporter="p_y")] == ["e_d"]
    assert [e.id for e in store.list_envelopes(importer="p_vn", state="pending")] == [
        "e_d",
        "e_c",
    ]


def test_envelope_paging_with_after(store: Store) -> None:
    for i in range(25):
        store.put_envelope(envelope(f"e_{i:02d}", i // 3))  # equal times: id breaks ties
    pages: list[list[str]] = []
    after: str | None = None
    while page := store.list_envelopes(limit=10, after=after):
        pages.append([e.id for e in page])
        after = page[-1].id
    assert [len(p) for p in pages] == [10, 10, 5]
    flat = [eid for page_ids in pages for eid in page_ids]
    assert flat == [f"e_{i:02d}" for i in range(25)]
    assert [e.id for e in iter_all_envelopes(store)] == flat
    with pytest.raises(NotFoundError):
        store.list_envelopes(after="e_missing")


def test_envelope_state_transitions(store: Store) -> None:
    store.put_envelope(envelope("e_1", 0, state="held"))
    store.set_envelope_state("e_1", "pending")
    store.set_envelope_state("e_1", "pending", attempts=2)
    assert (store.get_envelope("e_1").state, store.get_envelope("e_1").attempts) == ("pending", 2)
    store.set_envelope_state("e_1", "acked")  # attempts kept when not given
    got = store.get_envelope("e_1")
    assert (got.state, got.attempts, got.data) == ("acked", 2, b"sealed:e_1")
    assert [e.id for e in store.list_envelopes(state="acked")] == ["e_1"]
    assert store.list_envelopes(state="pending") == []


def test_purge_drops_data_of_expired_only(store: Store) -> None:
    store.put_envelope(envelope("e_old", 0, expires_days=1))
    store.put_envelope(envelope("e_acked", 0, expires_days=1, state="acked"))
    store.put_envelope(envelope("e_new", 0, expires_days=10))
    cutoff = T0 + timedelta(days=5)
    assert store.purge_envelopes(expired_before=cutoff) == 2
    old, acked, new = (store.get_envelope(e) for e in ("e_old", "e_acked", "e_new"))
    assert (old.state, old.data) == ("expired", b"")
    assert (acked.state, acked.data) == ("acked", b"")
    assert new == envelope("e_new", 0, expires_days=10)
    assert store.purge_envelopes(expired_before=cutoff) == 0


# -- receipts -------------------------------------------------------------------------


def test_receipts(store: Store) -> None:
    store.put_receipt(receipt("e_2", "b_1"))
    store.put_receipt(receipt("e_1", "b_1"))
    store.put_receipt(receipt("e_3", "b_2"))
    assert store.get_receipt("e_1") == receipt("e_1", "b_1")
    assert [r.envelope_id for r in store.list_receipts()] == ["e_2", "e_1", "e_3"]
    assert [r.envelope_id for r in store.list_receipts(batch_id="b_1")] == ["e_2", "e_1"]
    assert [r.envelope_id for r in store.list_receipts(limit=1)] == ["e_2"]
    with pytest.raises(NotFoundError, match="e_9"):
        store.get_receipt("e_9")


# -- ledger ---------------------------------------------------------------------------


def test_ledger_append_entries_nodes(store: Store) -> None:
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


def test_ledger_node_rewrite_identical_ok_different_refused(store: Store) -> None:
    store.ledger_append([b"a"], {(0, 0): h(0)})
    assert store.ledger_append([b"b"], {(0, 0): h(0), (0, 1): h(1)}) == 1
    with pytest.raises(StoreError, match="different hash"):
        store.ledger_append([b"c"], {(0, 2): h(2), (0, 1): h(99)})
    assert store.ledger_size() == 2  # the refused append left nothing behind
    assert store.ledger_nodes([(0, 1), (0, 2)]) == {(0, 1): h(1)}


def test_ledger_large_batch(store: Store) -> None:
    entries = [f"leaf {i}".encode() for i in range(2000)]
    nodes = {(0, i): h(i) for i in range(2000)}
    assert store.ledger_append(entries, nodes) == 0
    assert store.ledger_entries(1500, 1503) == entries[1500:1503]
    assert store.ledger_nodes([(0, 1999)]) == {(0, 1999): h(1999)}


def test_checkpoints(store: Store) -> None:
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


# -- outbox ---------------------------------------------------------------------------


def test_outbox(store: Store) -> None:
    assert store.take_outbox() == []
    for i in range(5):
        store.put_outbox(f"batch.{i}", f"m_{i}", b"p%d" % i)
    taken = store.take_outbox(limit=3)
    assert [m.message_id for m in taken] == ["m_0", "m_1", "m_2"]
    assert [m.seq for m in taken] == sorted({m.seq for m in taken})
    assert taken[1].subject == "batch.1" and taken[1].payload == b"p1"
    assert store.take_outbox(limit=3) == taken  # taking does not remove
    store.delete_outbox([m.seq for m in taken])
    store.delete_outbox([taken[0].seq])  # deleting twice is harmless
    rest = store.take_outbox()
    assert [m.message_id for m in rest] == ["m_3", "m_4"]
    assert rest[0].seq > taken[-1].seq
    store.put_outbox("batch.5", "m_5", b"")
    assert store.take_outbox()[-1].seq > rest[-1].seq


# -- transactions ---------------------------------------------------------------------


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
    "purge_envelopes": lambda s: s.purge_envelopes(expired_before=T0 + timedelta(days=9)),
    "put_receipt": lambda s: s.put_receipt(receipt("e_1")),
    "ledger_append": lambda s: s.ledger_append([b"leaf1"], {(0, 1): h(1), (1, 0): h(9)}),
    "put_checkpoint": lambda s: s.put_checkpoint(2, b"cp2"),
    "put_outbox": lambda s: s.put_outbox("s", "m_1", b"y"),
    "delete_outbox": lambda s: s.delete_outbox([m.seq for m in s.take_outbox()]),
}


class Boom(Exception):
    pass


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


# -- concurrency ----------------------------------------------------------------------


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


# -- regulatory sandbox: decision facts and sandbox documents ---------------------------


def fact(batch_id: str, record: int, at: datetime, outcome: str = "allow") -> DecisionFact:
    return DecisionFact(
        time=at,
        batch_id=batch_id,
        record=record,
        exporter="p_ex",
        importer="p_im",
        origin="CN",
        destination="VN",
        product="logistics.waybill",
        sector="logistics",
        purpose="logistics_operations",
        instrument="cn_standard_contract",
        ciio=False,
        transit=False,
        filings=("standard_contract",),
        agreement_days=10,
        tia_age_days=None,
        gate="",
        findings=(("$['consignee']['phone']", "phone"),),
        paths=(),
        types=("phone",),
        categories=("pi",),
        subjects=(h(record),),
        counted=("pi",),
        pi_before=record,
        pi_after=record + 1,
        sensitive_pi_before=0,
        sensitive_pi_after=0,
        outcome=outcome,
        rule_ids=("cn.art5-4.below-threshold",),
        policy_version="v1",
        tags=("sandbox:exp-1",),
    )


def test_facts_round_trip_in_commit_order(store: Store) -> None:
    later = [fact("b2", i, T0 + timedelta(hours=1)) for i in range(3)]
    earlier = [fact("b1", i, T0) for i in range(2)]
    store.put_facts(later)
    store.put_facts(earlier)
    got = list(store.iter_facts())
    assert [(f.batch_id, f.record) for f in got] == [
        ("b2", 0), ("b2", 1), ("b2", 2), ("b1", 0), ("b1", 1)
    ]  # fmt: skip
    assert [f.seq for f in got] == sorted(f.seq for f in got)
    assert len({f.seq for f in got}) == 5
    assert msgspec.structs.replace(got[0], seq=0) == later[0]


def test_facts_filtered_by_time_half_open(store: Store) -> None:
    store.put_facts([fact("b", i, T0 + timedelta(minutes=i)) for i in range(5)])
    window = list(store.iter_facts(T0 + timedelta(minutes=1), T0 + timedelta(minutes=3)))
    assert [f.record for f in window] == [1, 2]
    assert [f.record for f in store.iter_facts(since=T0 + timedelta(minutes=4))] == [4]
    assert [f.record for f in store.iter_facts(until=T0 + timedelta(minutes=1))] == [0]


def test_facts_roll_back_with_their_transaction(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.put_facts([fact("b", 0, T0)])
        store.put_sandbox_doc("cohort", "exp-1", b"x")
        raise RuntimeError("abort")
    assert list(store.iter_facts()) == []
    assert store.get_sandbox_doc("cohort", "exp-1") is None


def test_sandbox_docs_insert_replace_list(store: Store) -> None:
    assert store.get_sandbox_doc("policy", "cn@1") is None
    store.put_sandbox_doc("policy", "cn@2", b"two")
    store.put_sandbox_doc("policy", "cn@1", b"one")
    store.put_sandbox_doc("policy", "cn@1", b"one again")
    store.put_sandbox_doc("cohort", "cn@1", b"other kind")
    assert store.get_sandbox_doc("policy", "cn@1") == b"one again"
    assert store.list_sandbox_docs("policy") == [("cn@1", b"one again"), ("cn@2", b"two")]
    assert store.list_sandbox_docs("none") == []


# -- retention ------------------------------------------------------------------------


def test_drop_envelope_data_is_a_compare_and_set(store: Store) -> None:
    store.put_envelope(envelope("e_pending", 0))
    store.put_envelope(envelope("e_acked", 1, state="acked"))
    store.put_envelope(envelope("e_held", 2, state="held"))
    ids = ["e_pending", "e_acked", "e_held", "e_missing"]
    assert store.drop_envelope_data(ids, state="pending", new_state="expired") == 1
    assert store.drop_envelope_data(ids, state="acked", new_state="acked") == 1
    pending, acked, held = (store.get_envelope(e) for e in ids[:3])
    assert (pending.state, pending.data) == ("expired", b"")
    assert (acked.state, acked.data) == ("acked", b"")
    assert held == envelope("e_held", 2, state="held")
    # Already dropped: nothing more to do.
    assert store.drop_envelope_data(ids, state="acked", new_state="acked") == 0
    assert store.drop_envelope_data([], state="pending", new_state="expired") == 0


def test_drop_envelope_data_many(store: Store) -> None:
    with store.transaction():
        for i in range(1200):
            store.put_envelope(envelope(f"e_{i:04}", i))
    ids = [f"e_{i:04}" for i in range(0, 1200, 2)]
    assert store.drop_envelope_data(ids, state="pending", new_state="expired") == 600
    assert len(store.list_envelopes(state="expired", limit=2000)) == 600


# -- push delivery --------------------------------------------------------------------


def push(importer: str, url: str = "https://hook.example/in") -> PushEndpoint:
    return PushEndpoint(importer=importer, url=url, created_at=T0)


def test_push_endpoints_crud(store: Store) -> None:
    assert store.list_push_endpoints() == []
    with pytest.raises(NotFoundError, match="push endpoint"):
        store.get_push_endpoint("p_im")
    store.put_push_endpoint(push("p_im"))
    store.put_push_endpoint(push("p_a", "https://a.example/"))
    store.put_push_endpoint(push("p_im", "https://hook.example/v2"))  # replaces
    assert store.get_push_endpoint("p_im") == push("p_im", "https://hook.example/v2")
    assert [p.importer for p in store.list_push_endpoints()] == ["p_a", "p_im"]
    assert store.delete_push_endpoint("p_im") is True
    assert store.delete_push_endpoint("p_im") is False
    assert store.list_push_endpoints() == [push("p_a", "https://a.example/")]


def test_push_endpoint_rolls_back(store: Store) -> None:
    with pytest.raises(Boom), store.transaction():
        store.put_push_endpoint(push("p_im"))
        raise Boom
    assert store.list_push_endpoints() == []


# -- replay protection ----------------------------------------------------------------


def test_nonces_are_remembered_once_until_purged(store: Store) -> None:
    until = T0 + timedelta(minutes=5)
    assert store.remember_nonce("n1", until) is True
    assert store.remember_nonce("n1", until + timedelta(days=1)) is False
    assert store.remember_nonce("n2", until + timedelta(minutes=5)) is True
    assert store.purge_nonces(expired_before=until) == 0  # strictly before
    assert store.purge_nonces(expired_before=until + timedelta(seconds=1)) == 1
    assert store.remember_nonce("n1", until) is True  # forgotten, so accepted again
    assert store.remember_nonce("n2", until) is False


def test_nonce_rolls_back_with_its_transaction(store: Store) -> None:
    with pytest.raises(Boom), store.transaction():
        assert store.remember_nonce("n1", T0) is True
        raise Boom
    assert store.remember_nonce("n1", T0) is True


def test_concurrent_nonces_are_accepted_once(store: Store) -> None:
    accepted: list[bool] = []
    lock = threading.Lock()

    def race() -> None:
        won = store.remember_nonce("shared", T0)
        with lock:
            accepted.append(won)

    threads = [threading.Thread(target=race) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(accepted) == [False] * 7 + [True]
