"""The stored form of a group of decision facts (silkgate/store/rows.py): what is stored
once, and stored rows that do not decode."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from silkgate.errors import StoreError
from silkgate.store.ports import FactColumns
from silkgate.store.rows import fact_groups, facts_blob, facts_from_blob

from .contract.builders import T0, fact, fact_columns


def _group() -> list[Any]:
    one = fact("b_1", 0, T0)
    return [msgspec.structs.replace(one, record=i, subjects=(bytes([i]) * 32,)) for i in range(8)]


def test_fields_equal_in_every_fact_are_stored_once() -> None:
    group = _group()
    stored = msgspec.msgpack.decode(facts_blob(group))
    assert stored["n"] == 8
    assert stored["same"]["batch_id"] == "b_1"
    assert stored["same"]["exporter"] == "p_ex"
    assert set(stored["each"]) == {"record", "subjects"}
    assert "seq" not in stored["same"]  # assigned by the store, never stored
    assert len(facts_blob(group)) * 2 < len(msgspec.msgpack.encode(group))
    assert facts_from_blob(facts_blob(group), 100) == [
        msgspec.structs.replace(f, seq=100 + i) for i, f in enumerate(group)
    ]


def test_a_field_with_few_values_is_a_table() -> None:
    group = [msgspec.structs.replace(f, outcome=("allow", "hold")[f.record % 2]) for f in _group()]
    stored = msgspec.msgpack.decode(facts_blob(group))
    assert stored["table"]["outcome"] == [["allow", "hold"], [0, 1, 0, 1, 0, 1, 0, 1]]
    assert [f.outcome for f in facts_from_blob(facts_blob(group), 0)] == [f.outcome for f in group]


def test_an_empty_group_is_refused() -> None:
    with pytest.raises(StoreError, match="at least one"):
        facts_blob([])


def _tampered(change: Any) -> bytes:
    stored = msgspec.msgpack.decode(facts_blob(_group()))
    change(stored)
    return msgspec.msgpack.encode(stored)


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda s: s["each"].update(record=[0, 1]), "length"),
        (lambda s: s["table"].update(outcome=[["allow"], [0, 0, 0, 0, 0, 0, 0, 5]]), "twice"),
        (
            lambda s: (
                s["table"].update(gate=[[""], [0, 0, 0, 0, 0, 0, 0, 5]]) or s["same"].pop("gate")
            ),
            "index",
        ),
        (
            lambda s: (
                s["table"].update(gate=[[""], [0, 0, 0, 0, 0, 0, 0, -1]]) or s["same"].pop("gate")
            ),
            "index",
        ),
        (lambda s: s["table"].update(gate=[[""], [0, 0]]) or s["same"].pop("gate"), "length"),
        (lambda s: s["same"].update(colour="red"), "unknown fields"),
        (lambda s: s["same"].pop("exporter"), "exporter missing"),
        (lambda s: s["same"].update(exporter=7), "Expected `str`"),
        (lambda s: s.pop("table"), "not a group"),
    ],
)
def test_a_stored_group_that_does_not_decode_is_a_store_error(change: Any, why: str) -> None:
    with pytest.raises(StoreError, match="cannot be decoded") as caught:
        facts_from_blob(_tampered(change), 0)
    assert why in str(caught.value)


def test_garbage_and_old_rows_of_the_wrong_shape_are_store_errors() -> None:
    with pytest.raises(StoreError):
        facts_from_blob(b"\xc1", 0)
    with pytest.raises(StoreError):
        facts_from_blob(msgspec.msgpack.encode([[1, 2]]), 0)
    later = fact("b_2", 0, T0 + timedelta(seconds=1))
    assert facts_from_blob(msgspec.msgpack.encode([later]), 5) == [
        msgspec.structs.replace(later, seq=5)
    ]


_outcomes = st.lists(
    st.sampled_from(["allow", "hold", "deny", "transform"]), min_size=1, max_size=40
)


@settings(max_examples=60, deadline=None)
@given(outcomes=_outcomes, base=st.integers(min_value=0, max_value=2**40), data=st.data())
def test_facts_by_column_store_as_the_same_facts_one_by_one(
    outcomes: list[str], base: int, data: st.DataObject
) -> None:
    """The two ways into a stored row (FactColumns as the sandbox makes it, DecisionFacts one
    by one) decode to the same facts."""
    columns = fact_columns("b_1", T0, outcomes)
    # Shapes that differ in more than the outcome, or not at all, or only in some fields.
    shapes = [
        {
            **shape,
            "findings": data.draw(
                st.sampled_from([(), (("$.a", "phone"),), (("$.b", "email", "medium"),)])
            ),
        }
        for shape in columns.shapes
    ]
    none: list[tuple[bytes, ...]] = [()] * len(outcomes)
    subjects = data.draw(st.sampled_from([list(columns.subjects), none]))
    columns = FactColumns(columns.common, shapes, columns.shape_of, subjects)
    expected = [msgspec.structs.replace(f, seq=base + i) for i, f in enumerate(columns)]
    assert facts_from_blob(facts_blob(columns), base) == expected
    assert facts_from_blob(facts_blob(list(columns)), base) == expected
    assert [columns[i] for i in range(len(columns))] == list(columns)


def test_facts_by_column_index_and_slice_like_a_list() -> None:
    columns = fact_columns("b_1", T0, ["allow", "hold", "allow"])
    assert columns[-1] == list(columns)[2]
    assert columns[1:] == list(columns)[1:]
    with pytest.raises(IndexError):
        columns[3]
    assert fact_groups(columns) == [columns]
    assert fact_groups(FactColumns(columns.common, columns.shapes, [], [])) == []


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda c: (c.common, c.shapes, c.shape_of, c.subjects[:1]), "subject tuples"),
        (lambda c: (c.common, c.shapes, [0, 5], [(), ()]), "out of range"),
        (lambda c: ({**c.common, "outcome": "x"}, c.shapes, c.shape_of, c.subjects), "common"),
        (lambda c: ({**c.common, "colour": "red"}, c.shapes, c.shape_of, c.subjects), "colour"),
        (lambda c: ({**c.common, "record": 1}, c.shapes, c.shape_of, c.subjects), "record"),
        (
            lambda c: (
                {k: v for k, v in c.common.items() if k != "exporter"},
                c.shapes,
                c.shape_of,
                c.subjects,
            ),
            "exporter",
        ),
        (lambda c: (c.common, [c.shapes[0], {"gate": ""}], c.shape_of, c.subjects), "same fields"),
    ],
)
def test_facts_by_column_that_cannot_stand_for_facts_are_refused(change: Any, why: str) -> None:
    columns = fact_columns("b_1", T0, ["allow", "hold"])
    with pytest.raises(ValueError, match=why):
        FactColumns(*change(columns))
