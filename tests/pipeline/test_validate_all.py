"""A batch is validated with one schema call; its errors stay those of `validate`: the first
failing record, its index and path."""

from __future__ import annotations

import gc
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from silkgate.demo.synth import generate
from silkgate.errors import SchemaError
from silkgate.products import all_products, get_product

SAMPLES: dict[str, list[Any]] = {}
for sample in generate(400, seed=11):
    SAMPLES.setdefault(sample.product, []).append(sample.record)

# What a broken record may carry instead of a value: wrong types, nothing, or no object.
WRONG: list[Any] = [None, 84, "x", "12", 1.5, [], {}, True]


def _first_error(product_id: str, records: list[Any]) -> tuple[str, int | None, str | None] | None:
    product = get_product(product_id)
    for index, record in enumerate(records):
        try:
            product.validate(record, index=index)
        except SchemaError as exc:
            return str(exc), exc.record, exc.path
    return None


@st.composite
def broken_batches(draw: st.DrawFn) -> tuple[str, list[Any]]:
    product_id = draw(st.sampled_from(sorted(SAMPLES)))
    pool = SAMPLES[product_id]
    records = [dict(r) for r in draw(st.lists(st.sampled_from(pool), max_size=12))]
    for _ in range(draw(st.integers(0, 3))):
        if not records:
            break
        at = draw(st.integers(0, len(records) - 1))
        wrong = draw(st.sampled_from(WRONG))
        if draw(st.booleans()) or not isinstance(records[at], dict) or not records[at]:
            records[at] = wrong  # not an object at all
            continue
        node: Any = records[at]
        name = draw(st.sampled_from(sorted(node)))
        value = node[name]
        if isinstance(value, list) and value and isinstance(value[0], dict):
            items = node[name] = [dict(value[0]), *value[1:]]  # into a list: its first element
            node, name, value = items, 0, items[0]
        if isinstance(value, dict) and value and draw(st.booleans()):
            child = node[name] = dict(value)  # one level down: a nested field
            node = child
            name = draw(st.sampled_from(sorted(node)))
        if draw(st.booleans()):
            del node[name]
        else:
            node[name] = wrong
    return product_id, records


@settings(max_examples=300, deadline=None)
@given(broken_batches())
def test_validate_all_raises_what_validate_raises_first(case: tuple[str, list[Any]]) -> None:
    product_id, records = case
    expected = _first_error(product_id, records)
    if expected is None:
        get_product(product_id).validate_all(records)
        return
    with pytest.raises(SchemaError) as excinfo:
        get_product(product_id).validate_all(records)
    assert (str(excinfo.value), excinfo.value.record, excinfo.value.path) == expected


def test_every_product_accepts_its_own_samples_and_refuses_a_non_object() -> None:
    for product in all_products():
        records = SAMPLES.get(product.id, [{}]) if product.schema is not None else [{"a": 1}]
        product.validate_all(records)
        with pytest.raises(SchemaError) as excinfo:
            product.validate_all([*records, 7])
        assert excinfo.value.record == len(records) and excinfo.value.path == "$"


def test_validate_all_is_as_strict_as_validate() -> None:
    """A number written as a string deep in a record fails, named by record and path."""
    order = dict(SAMPLES["ecommerce.order"][0])
    order["items"] = [dict(order["items"][0], quantity="12")]
    with pytest.raises(SchemaError) as excinfo:
        get_product("ecommerce.order").validate_all([SAMPLES["ecommerce.order"][1], order])
    assert excinfo.value.record == 1
    assert excinfo.value.path == "$['items'][0]['quantity']"


def test_schema_values_are_untracked_by_the_collector() -> None:
    """Validation builds a batch of them at once: they would add collector passes."""
    for product_id, samples in SAMPLES.items():
        schema = get_product(product_id).schema
        assert schema is not None
        assert not gc.is_tracked(msgspec.convert(samples[0], schema))
