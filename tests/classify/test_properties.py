"""Property tests: a valid identifier placed in any string field is found at that path;
business identifiers with valid check digits are never flagged."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from silkgate.classify import Classifier, checks
from silkgate.classify.keys import key_context
from silkgate.classify.paths import normalized_path
from silkgate.classify.registry import NO_CONTEXT
from silkgate.demo import synth

CLF = Classifier()

# Identifiers that speak for themselves (check digits, or formats no business code shares).
IDENTIFIERS: list[tuple[str, Any]] = [
    ("national_id", synth.cn_resident_id),
    ("national_id", synth.sg_nric),
    ("national_id", lambda r: _unambiguous_nik(r)),
    (
        "bank_card",
        lambda r: synth.luhn_complete("62" + "".join(str(r.randint(0, 9)) for _ in range(16))),
    ),
    ("phone", lambda r: synth.make_phone(r, r.choice(("CN", "VN", "TH", "MY", "SG", "ID")))),
    ("email", lambda r: f"user{r.randint(1, 10**6)}@example{r.randint(1, 99)}.com"),
    (
        "ip_address",
        lambda r: (
            f"{r.randint(1, 223)}.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}"
        ),
    ),
    ("precise_location", lambda r: f"{r.uniform(-60, 60):.6f},{r.uniform(-170, 170):.6f}"),
]


def _unambiguous_nik(rng: random.Random) -> str:
    """A NIK that is not also a valid card number (about 1 in 100 is: those go to the card)."""
    while True:
        nik = synth.id_nik(rng)
        if not checks.bank_card_valid(nik):
            return nik


BUSINESS: list[Any] = [
    synth.sscc,
    synth.gtin13,
    synth.gln,
    synth.container_no,
    synth.s10,
    synth.uscc,
    synth.uen,
    lambda r: synth.carrier_waybill(r)[1],
    synth.hs_code,
    synth._epc,
    lambda r: str(r.randint(1_700_000_000, 1_800_000_000)),
    lambda r: str(r.randint(1_700_000_000_000, 1_800_000_000_000)),
    lambda r: f"{r.uniform(0, 99999):.2f}",
]

# Plain keys: key names that announce a business identifier ("ean", "sku") are not scanned
# by design, and key names announcing a type change what is looked for.
keys = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_0123456789", min_size=1, max_size=8).filter(
    lambda k: key_context(None, k) == NO_CONTEXT and key_context(k, k) == NO_CONTEXT
)
json_leaf = st.one_of(st.integers(0, 100), st.sampled_from(["ok", "in_transit", "CN", ""]))
records = st.recursive(
    st.dictionaries(keys, json_leaf, min_size=1, max_size=4),
    lambda inner: st.dictionaries(
        keys, st.one_of(inner, st.lists(inner, min_size=1, max_size=2)), min_size=1, max_size=3
    ),
    max_leaves=10,
)


def _string_slots(value: Any, parts: list[str | int]) -> list[list[str | int]]:
    """Paths of every string or scalar leaf, where an identifier can be put."""
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _string_slots(v, [*parts, k])]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _string_slots(v, [*parts, i])]
    return [parts]


def _put(record: Any, parts: list[str | int], text: str) -> None:
    target = record
    for p in parts[:-1]:
        target = target[p]
    target[parts[-1]] = text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records, st.integers(0, 10**9), st.integers(0, len(IDENTIFIERS) - 1), st.data())
def test_identifier_in_any_string_field_is_found(
    record: dict[str, Any], seed: int, which: int, data: st.DataObject
) -> None:
    rng = random.Random(seed)
    ftype, make = IDENTIFIERS[which]
    slots = _string_slots(record, [])
    slot = data.draw(st.sampled_from(slots))
    value = make(rng)
    _put(record, slot, value)
    found = {(f.path, f.type) for f in CLF.classify(record).findings}
    assert (normalized_path(slot), ftype) in found, (value, found)


@settings(max_examples=150, deadline=None)
@given(records, st.integers(0, 10**9), st.data())
def test_business_identifiers_are_not_flagged(
    record: dict[str, Any], seed: int, data: st.DataObject
) -> None:
    rng = random.Random(seed)
    for slot in _string_slots(record, []):
        make = data.draw(st.sampled_from(BUSINESS))
        _put(record, slot, make(rng))
    assert CLF.classify(record).findings == ()
