"""SandboxPort contract: decision facts and sandbox documents (every implementation)."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest

from silkgate.store.base import Store
from silkgate.store.ports import SandboxPort

from .builders import T0, fact


def test_facts_round_trip_in_commit_order(store: SandboxPort) -> None:
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


def test_facts_filtered_by_time_half_open(store: SandboxPort) -> None:
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


def test_sandbox_docs_insert_replace_list(store: SandboxPort) -> None:
    assert store.get_sandbox_doc("policy", "cn@1") is None
    store.put_sandbox_doc("policy", "cn@2", b"two")
    store.put_sandbox_doc("policy", "cn@1", b"one")
    store.put_sandbox_doc("policy", "cn@1", b"one again")
    store.put_sandbox_doc("cohort", "cn@1", b"other kind")
    assert store.get_sandbox_doc("policy", "cn@1") == b"one again"
    assert store.list_sandbox_docs("policy") == [("cn@1", b"one again"), ("cn@2", b"two")]
    assert store.list_sandbox_docs("none") == []
