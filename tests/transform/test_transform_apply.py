"""Applying obligations to records; pseudonymization, generalization and paths."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from silkgate.errors import ConfigError, InputError
from silkgate.model import Obligation
from silkgate.transform import (
    apply_obligations,
    copy_json,
    format_path,
    generalize_value,
    is_token,
    parse_path,
    pseudonymize_value,
)

KEY = b"k" * 32
OTHER_KEY = b"o" * 32

RECORD: dict[str, Any] = {
    "waybill": "EE123456789CN",
    "consignee": {
        "name": "Nguyen Van An",
        "phone": "+84 912 345 678",
        "dob": "1990-05-17",
        "address": {"street": "12 Nguyen Trai", "city": "Ha Noi", "country": "VN"},
        "ip": "203.0.113.45",
        "location": {"lat": 21.028511, "lon": 105.804817},
    },
    "items": [{"name": "phone case", "sku": "A1"}, {"name": "cable", "sku": "B2"}],
}


def ob(action: str, path: str, finding_type: str | None = None) -> Obligation:
    return Obligation(action=action, path=path, finding_type=finding_type)  # type: ignore[arg-type]


def test_each_action_at_its_path() -> None:
    out = apply_obligations(
        RECORD,
        [
            ob("mask", "$['consignee']['phone']", "phone"),
            ob("pseudonymize", "$['consignee']['name']", "person_name"),
            ob("generalize", "$['consignee']['dob']", "date_of_birth"),
            ob("generalize", "$['consignee']['address']", "address"),
            ob("generalize", "$['consignee']['ip']", "ip_address"),
            ob("generalize", "$['consignee']['location']", "precise_location"),
            ob("drop", "$['items'][0]['name']"),
        ],
        pseudonym_key=KEY,
    )
    c = out["consignee"]
    assert c["phone"] == "+84 *** *** *78"
    assert re.fullmatch(r"pz_[0-9a-f]{24}", c["name"])
    assert c["dob"] == "1990"
    assert c["address"] == {"city": "Ha Noi", "country": "VN"}
    assert c["ip"] == "203.0.113.0/24"
    assert c["location"] == {"lat": 21.03, "lon": 105.8}
    assert out["items"] == [{"sku": "A1"}, {"name": "cable", "sku": "B2"}]
    assert out["waybill"] == "EE123456789CN"


def test_input_record_is_untouched() -> None:
    before = copy_json(RECORD)
    apply_obligations(RECORD, [ob("drop", "$['consignee']"), ob("mask", "$['waybill']")],
                      pseudonym_key=KEY)  # fmt: skip
    assert before == RECORD


def test_drop_in_array_sets_null_and_keeps_indices() -> None:
    out = apply_obligations(RECORD, [ob("drop", "$['items'][0]"),
                                     ob("mask", "$['items'][1]['name']")],
                            pseudonym_key=KEY)  # fmt: skip
    assert out["items"] == [None, {"name": "*****", "sku": "B2"}]


def test_wildcard_applies_to_every_element() -> None:
    out = apply_obligations(RECORD, [ob("drop", "$['items'][*]['sku']")], pseudonym_key=KEY)
    assert out["items"] == [{"name": "phone case"}, {"name": "cable"}]


def test_strongest_obligation_per_path_wins() -> None:
    path = "$['consignee']['phone']"
    out = apply_obligations(
        RECORD,
        [ob("mask", path, "phone"), ob("drop", path), ob("pseudonymize", path, "phone")],
        pseudonym_key=KEY,
    )
    assert "phone" not in out["consignee"]


def test_missing_paths_are_skipped() -> None:
    out = apply_obligations(
        RECORD,
        [ob("mask", "$['nope']['x']"), ob("drop", "$['items'][7]"), ob("mask", "$['waybill'][0]")],
        pseudonym_key=KEY,
    )
    assert out == RECORD


def test_root_path() -> None:
    assert apply_obligations("0912345678", [ob("mask", "$", "phone")], pseudonym_key=KEY) == (
        "********78"
    )
    assert apply_obligations(RECORD, [ob("drop", "$")], pseudonym_key=KEY) is None


def test_short_pseudonym_key_is_refused() -> None:
    with pytest.raises(ConfigError, match="at least 16"):
        apply_obligations(RECORD, [], pseudonym_key=b"short")


def test_invalid_path_is_an_input_error() -> None:
    with pytest.raises(InputError, match="invalid normalized path"):
        apply_obligations(RECORD, [ob("mask", "consignee.phone")], pseudonym_key=KEY)


# --- pseudonymization ------------------------------------------------------------------------


def test_pseudonyms_are_deterministic_per_key() -> None:
    a = pseudonymize_value("+84 912 345 678", KEY, "phone")
    assert a == pseudonymize_value("+84912345678", KEY, "phone")
    assert a != pseudonymize_value("+84 912 345 678", OTHER_KEY, "phone")
    assert pseudonymize_value("An.Nguyen@Example.com ", KEY) == pseudonymize_value(
        "an.nguyen@example.com", KEY
    )
    assert is_token(a)
    assert pseudonymize_value(a, KEY) == a
    assert pseudonymize_value(None, KEY) is None
    assert is_token(pseudonymize_value({"id": 1}, KEY))


@settings(max_examples=200, deadline=None)
@given(a=st.text(), b=st.text())
def test_distinct_values_get_distinct_tokens(a: str, b: str) -> None:
    assume(not is_token(a) and not is_token(b))
    same = " ".join(a.split()).casefold() == " ".join(b.split()).casefold()
    assert (pseudonymize_value(a, KEY) == pseudonymize_value(b, KEY)) == same


# --- generalization --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "finding_type", "expected"),
    [
        ("1990-05-17", "date_of_birth", "1990"),
        ("17/05/1990", "date_of_birth", "1990"),
        ("unknown", "date_of_birth", None),
        (21.028511, "precise_location", 21.03),
        ("21.028511,105.804817", "precise_location", "21.03,105.80"),
        ([105.804817, 21.028511], "precise_location", [105.8, 21.03]),
        ("12 Nguyen Trai, Thanh Xuan, Ha Noi, Vietnam", "address", "Ha Noi, Vietnam"),
        ("203.0.113.45", "ip_address", "203.0.113.0/24"),
        ("2001:db8:85a3:1:2:3:4:5", "ip_address", "2001:db8:85a3::/48"),
        ("not an ip", "ip_address", None),
        ("+84 912 345 678", "phone", "+84"),
        ("0912345678", "phone", None),
        ("an@example.vn", "email", "*@example.vn"),
        ("Nguyen Van An", "person_name", None),
    ],
)
def test_generalization(value: Any, finding_type: str, expected: Any) -> None:
    assert generalize_value(value, finding_type) == expected


@settings(max_examples=200, deadline=None)
@given(
    value=st.text()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.ip_addresses().map(str)
    | st.dates().map(str),
    finding_type=st.sampled_from(
        ["date_of_birth", "precise_location", "address", "ip_address", "phone", "email"]
    ),
)
def test_generalization_is_idempotent(value: Any, finding_type: str) -> None:
    once = generalize_value(value, finding_type)
    assert generalize_value(once, finding_type) == once


# --- paths and whole records -----------------------------------------------------------------

SEGMENTS = st.lists(st.text(max_size=6) | st.integers(0, 50), max_size=5)


@settings(max_examples=200, deadline=None)
@given(segments=SEGMENTS)
def test_normalized_paths_round_trip(segments: list[str | int]) -> None:
    assert parse_path(format_path(segments)) == tuple(segments)


def test_normalized_path_escapes() -> None:
    assert format_path(["a'b", "c\\d", "\n", "\x01"]) == "$['a\\'b']['c\\\\d']['\\n']['\\u0001']"


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=12,
)


def _paths(value: Any, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out += _paths(v, (*prefix, i))
    return out


@settings(max_examples=150, deadline=None)
@given(data=st.data(), record=JSON)
def test_any_obligations_leave_input_untouched_and_mask_is_idempotent(
    data: st.DataObject, record: Any
) -> None:
    paths = _paths(record)
    chosen = data.draw(st.lists(st.sampled_from(paths), max_size=4))
    actions = data.draw(st.lists(st.sampled_from(["mask", "pseudonymize", "generalize", "drop"]),
                                 min_size=len(chosen), max_size=len(chosen)))  # fmt: skip
    obligations = [ob(a, format_path(p), "phone") for a, p in zip(actions, chosen, strict=True)]
    before = copy_json(record)
    out = apply_obligations(record, obligations, pseudonym_key=KEY)
    assert record == before
    masks = [ob("mask", format_path(p), "phone") for p in chosen]
    once = apply_obligations(record, masks, pseudonym_key=KEY)
    assert apply_obligations(once, masks, pseudonym_key=KEY) == once
    assert out is not record or not isinstance(record, dict | list)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), record=JSON)
def test_shared_result_equals_the_full_copy_and_leaves_input_untouched(
    data: st.DataObject, record: Any
) -> None:
    """`share=True` copies only the way to each changed value: same result, same input."""
    paths = [*_paths(record), ("absent",), ("*",)]
    chosen = data.draw(st.lists(st.sampled_from(paths), max_size=4))
    obligations = [
        ob(
            data.draw(st.sampled_from(["mask", "pseudonymize", "generalize", "drop"])),
            "$[*]" + format_path(p[1:])[1:] if p[:1] == ("*",) else format_path(p),
            data.draw(st.sampled_from([None, "phone", "address", "date_of_birth"])),
        )
        for p in chosen
    ]
    before = copy_json(record)
    full = apply_obligations(record, obligations, pseudonym_key=KEY)
    shared = apply_obligations(record, obligations, pseudonym_key=KEY, share=True)
    assert record == before
    assert shared == full
    assert shared is not record or not isinstance(record, dict | list)


def test_shared_result_copies_only_the_way_to_a_change() -> None:
    out = apply_obligations(
        RECORD, [ob("mask", "$['consignee']['phone']", "phone")], pseudonym_key=KEY, share=True
    )
    assert out["consignee"]["phone"] != RECORD["consignee"]["phone"]
    assert out["consignee"] is not RECORD["consignee"]
    assert out["consignee"]["address"] is RECORD["consignee"]["address"]  # untouched: shared
    assert out["items"] is RECORD["items"]
