"""SandboxPort contract: decision facts and sandbox documents (every implementation)."""

from __future__ import annotations

import itertools
import pickle
from datetime import datetime, timedelta
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from silkgate.store.base import Store
from silkgate.store.ports import DecisionFact, SandboxPort

from .builders import T0, fact, fact_columns


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


def test_facts_held_by_column_read_back_as_the_facts_they_stand_for(store: SandboxPort) -> None:
    """The sandbox hands the store a batch's facts by column (FactColumns); what comes back
    equals the same facts handed over one by one."""
    columns = fact_columns("b1", T0, ["allow", "hold", "allow", "deny", "allow"])
    one_by_one = list(columns)
    store.put_facts(columns)
    store.put_facts(one_by_one)
    got = [msgspec.structs.replace(f, seq=0) for f in store.iter_facts()]
    assert got == one_by_one + one_by_one
    assert [f.outcome for f in got[:5]] == ["allow", "hold", "allow", "deny", "allow"]
    assert [f.record for f in got[:5]] == [0, 1, 2, 3, 4]


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


# -- decision facts stored a group per row: any mix of shared and differing fields ------
_text = st.text(max_size=6)
_texts = st.lists(_text, max_size=3).map(tuple)
_ints = st.integers(-(2**63), 2**63 - 1)
_FACT_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "batch_id": _text, "record": _ints, "exporter": _text, "importer": _text,
    "origin": _text, "destination": _text, "product": _text, "sector": _text,
    "purpose": _text, "instrument": _text, "ciio": st.booleans(), "transit": st.booleans(),
    "filings": _texts, "agreement_days": st.none() | _ints, "tia_age_days": st.none() | _ints,
    "gate": _text, "findings": st.lists(_texts, max_size=3).map(tuple), "paths": _texts,
    "types": _texts, "categories": _texts,
    "subjects": st.lists(st.binary(max_size=33), max_size=3).map(tuple), "counted": _texts,
    "pi_before": _ints, "pi_after": _ints, "sensitive_pi_before": _ints,
    "sensitive_pi_after": _ints, "outcome": _text, "rule_ids": _texts,
    "policy_version": _text, "tags": _texts, "seq": _ints, "free_trade_zone": _text,
    "related": st.booleans(), "enterprise_size": _text, "importer_authority": st.booleans(),
    "first_transfer_days": st.none() | _ints,
}  # fmt: skip
_MODES = ("one object", "equal copies", "few values", "each its own")


@st.composite
def _fact_group(draw: st.DrawFn, at: datetime) -> list[DecisionFact]:
    """Facts of one batch (one time): each field one value shared by all (as one object or
    as equal copies), a few values, or a value of each fact's own."""
    n = draw(st.integers(1, 9))
    columns: dict[str, list[Any]] = {}
    for name, values in _FACT_VALUES.items():
        mode = draw(st.sampled_from(_MODES))
        if mode == "one object":
            columns[name] = [draw(values)] * n
        elif mode == "equal copies":
            one = draw(values)
            columns[name] = [pickle.loads(pickle.dumps(one)) for _ in range(n)]
        elif mode == "few values":
            pool = draw(st.lists(values, min_size=1, max_size=2))
            columns[name] = [draw(st.sampled_from(pool)) for _ in range(n)]
        else:
            columns[name] = [draw(values) for _ in range(n)]
    return [DecisionFact(time=at, **{k: c[i] for k, c in columns.items()}) for i in range(n)]


_windows = itertools.count(1)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_facts_round_trip_any_mix_of_shared_and_differing_fields(
    store: SandboxPort, data: st.DataObject
) -> None:
    since = T0 + timedelta(days=next(_windows))  # the store outlives examples: a fresh window
    groups = data.draw(st.integers(1, 3))
    written = []
    for g in range(groups):
        at = since + timedelta(seconds=g)
        batch = data.draw(_fact_group(at))
        store.put_facts(batch)
        written += batch
    got = list(store.iter_facts(since, since + timedelta(days=1)))
    unnumbered = msgspec.structs.replace
    assert [unnumbered(f, seq=0) for f in got] == [unnumbered(f, seq=0) for f in written]
    seqs = [f.seq for f in got]
    assert seqs == sorted(set(seqs))
