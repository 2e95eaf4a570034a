"""The records are encoded once per submission: their canonical lines give the idempotency
digest and the envelope payloads. The payloads stay byte-identical to encoding the
transformed records; the digest keeps its meaning, and digests stored in the older form
still replay their batch."""

from __future__ import annotations

import gc
import hashlib
from pathlib import Path
from typing import Any, get_args

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.conftest import NOW
from pipeline.test_pipeline import batch_of, snapshot, synthetic
from silkgate.errors import ConflictError
from silkgate.flow.pipeline import EncodedRecords, _batch_digest, payload_lines
from silkgate.hub import Hub, LocalMailbox
from silkgate.mailbox.inbox import drain_inbox
from silkgate.model import (
    OBLIGATION_ACTIONS,
    OUTCOMES,
    Batch,
    Decision,
    Finding,
    Obligation,
    Outcome,
)
from silkgate.paths import format_path
from silkgate.registry.keys import load_key_file
from silkgate.seal.envelope import encode_records, join_record_lines, record_lines
from silkgate.transform import apply_obligations

KEY = b"k" * 32
OUTCOME_VALUES: tuple[Outcome, ...] = get_args(Outcome)

# Strings with the characters that could break a line-based form: newlines, other control
# characters, line and paragraph separators, non-ASCII.
text = st.text(alphabet=st.sampled_from('ab \n\r\t\x00\x1c\u2028\u2029é漢"\\'), max_size=8)
scalars: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**80), 2**80),
    st.floats(allow_nan=False, allow_infinity=False),
    text,
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=12,
)
records = st.lists(st.dictionaries(text, json_values, max_size=5), max_size=8)


@st.composite
def decided(draw: st.DrawFn) -> tuple[list[Any], list[Decision]]:
    """Records and a decision for each, with obligations on paths that exist (or not)."""
    recs = draw(records)
    decisions = []
    for record in recs:
        names = [*sorted(record), "absent"]
        obligations = draw(
            st.lists(
                st.builds(
                    Obligation,
                    action=st.sampled_from(OBLIGATION_ACTIONS),
                    path=st.sampled_from(names).map(lambda k: format_path([k])) | st.just("$[*]"),
                    finding_type=st.sampled_from([None, "phone", "person_name", "address"]),
                ),
                max_size=2,
            )
        )
        outcome: Outcome = draw(st.sampled_from(OUTCOME_VALUES))
        decisions.append(Decision(outcome=outcome, obligations=tuple(obligations)))
    return recs, decisions


@settings(max_examples=300, deadline=None)
@given(decided(), st.sampled_from([("allow", "allow_transformed"), ("hold",), OUTCOMES]))
def test_payload_from_lines_is_the_encoding_of_the_transformed_records(
    case: tuple[list[Any], list[Decision]], outcomes: tuple[str, ...]
) -> None:
    recs, decisions = case
    expected = encode_records(
        apply_obligations(r, d.obligations, pseudonym_key=KEY) if d.obligations else r
        for r, d in zip(recs, decisions, strict=True)
        if d.outcome in outcomes
    )
    lines = record_lines(encode_records(recs))
    assert len(lines) == len(recs)
    assert join_record_lines(payload_lines(recs, lines, decisions, outcomes, KEY)) == expected
    encoded = EncodedRecords.of(recs)
    count = sum(d.outcome in outcomes for d in decisions)
    assert encoded.part(decisions, outcomes, KEY) == (expected, count)
    assert encoded.part(decisions, outcomes, KEY) == (expected, count)  # lines kept: same


@settings(max_examples=100, deadline=None)
@given(records)
def test_a_part_with_every_record_unchanged_is_the_whole_payload(recs: list[Any]) -> None:
    encoded = EncodedRecords.of(recs)
    allowed = [Decision(outcome="allow")] * len(recs)
    assert encoded.part(allowed, ("allow",), KEY) == (encode_records(recs), len(recs))
    assert encoded.part(allowed, ("hold",), KEY) == (b"", 0)


@settings(max_examples=200, deadline=None)
@given(records)
def test_record_lines_split_a_payload_into_its_records(recs: list[Any]) -> None:
    payload = encode_records(recs)
    lines = record_lines(payload)
    assert lines == [encode_records([r]) for r in recs]
    assert join_record_lines(lines) == payload


def _reordered(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _reordered(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [_reordered(v) for v in value]
    return value


def _batch(recs: list[Any], **changes: Any) -> Batch:
    fields: dict[str, Any] = {
        "id": "b1", "exporter": "e", "importer": "i", "product": "generic.json",
        "purpose": "fulfilment", "records": recs, "idempotency_key": "k",
    }  # fmt: skip
    return Batch(**{**fields, **changes})


def _digest(batch: Batch) -> bytes:
    return _batch_digest(batch, hashlib.sha256(encode_records(batch.records)).digest())


@settings(max_examples=200, deadline=None)
@given(records)
def test_digest_ignores_key_order_and_the_batch_id(recs: list[Any]) -> None:
    same = _batch(_reordered(recs), id="b2", idempotency_key="other")
    assert _digest(_batch(recs)) == _digest(same)


@given(records, st.sampled_from(["exporter", "importer", "product", "purpose"]))
def test_digest_names_the_parties_product_and_purpose(recs: list[Any], name: str) -> None:
    value = "marketing" if name == "purpose" else "other"
    assert _digest(_batch(recs)) != _digest(_batch(recs, **{name: value}))


def test_digest_tells_records_apart_where_lines_would_merge() -> None:
    one = _batch([{"a": "x\n{}"}])
    two = _batch([{"a": "x"}, {}])
    assert _digest(one) != _digest(two)
    assert _digest(_batch([])) != _digest(_batch([{}]))


def _old_form(batch: Batch) -> bytes:
    """The digest as stored before the canonical-lines form (sorted-key orjson)."""
    body = [batch.exporter, batch.importer, batch.product, batch.purpose, batch.records]
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).digest()


def test_a_digest_stored_in_the_old_form_replays_the_same_batch(hub: Hub) -> None:
    recs = synthetic("ecommerce.order", "TH", 6)
    first = hub.pipeline.submit(batch_of("ecommerce.order", "TH", recs))
    old = batch_of("ecommerce.order", "TH", recs, key="k-old", bid="b-old")
    hub.store.put_idempotency(old.exporter, "k-old", _old_form(old), first.batch_id)
    before = snapshot(hub)

    again = batch_of("ecommerce.order", "TH", _reordered(recs), key="k-old", bid="b2")
    replayed = hub.pipeline.submit(again)
    assert replayed.replayed and replayed.batch_id == first.batch_id
    assert replayed.outcomes == first.outcomes
    with pytest.raises(ConflictError, match="k-old"):
        hub.pipeline.submit(batch_of("ecommerce.order", "TH", recs[:5], key="k-old", bid="b3"))
    assert snapshot(hub) == before


def _v2_form(batch: Batch) -> bytes:
    """The digest as stored before the payload was hashed once (v2): the payload itself
    after the canonical head line, written out here from its definition."""
    head = orjson.dumps([batch.exporter, batch.importer, batch.product, batch.purpose])
    body = b"silkgate/idempotency/v2\x00" + head + b"\n" + encode_records(batch.records)
    return hashlib.sha256(body).digest()


def test_a_digest_stored_in_the_v2_form_replays_the_same_batch(hub: Hub) -> None:
    recs = synthetic("ecommerce.order", "TH", 6)
    first = hub.pipeline.submit(batch_of("ecommerce.order", "TH", recs))
    old = batch_of("ecommerce.order", "TH", recs, key="k-v2", bid="b-v2")
    hub.store.put_idempotency(old.exporter, "k-v2", _v2_form(old), first.batch_id)
    assert _v2_form(old) != _digest(old)
    before = snapshot(hub)
    again = batch_of("ecommerce.order", "TH", _reordered(recs), key="k-v2", bid="b2")
    replayed = hub.pipeline.submit(again)
    assert replayed.replayed and replayed.batch_id == first.batch_id
    with pytest.raises(ConflictError, match="k-v2"):
        hub.pipeline.submit(batch_of("ecommerce.order", "TH", recs[:5], key="k-v2", bid="b3"))
    assert snapshot(hub) == before


def test_an_envelope_carrying_the_whole_payload_names_its_digest(hub: Hub, keys_dir: Path) -> None:
    """The payload is hashed once, for the idempotency digest and the envelope's header:
    the importer opens it (which checks the digest) and the header names the payload's
    SHA-256, hashed afresh here."""
    recs = synthetic("ecommerce.order", "TH", 6)
    result = hub.pipeline.submit(batch_of("ecommerce.order", "TH", recs, key="k-whole"))
    assert result.outcomes["allow"] == len(recs)  # every record whole: the payload is reused
    opened: list[tuple[Any, bytes]] = []
    keys = load_key_file(keys_dir / f"{result.importer}.json")
    drain_inbox(LocalMailbox(hub), keys, sink=lambda h, p: opened.append((h, p)), clock=lambda: NOW)
    [(header, payload)] = opened
    assert payload == encode_records(recs)
    assert header.payload_digest == hashlib.sha256(payload).digest()


def test_the_new_digest_is_stored_and_replays(hub: Hub) -> None:
    recs = synthetic("ecommerce.order", "TH", 6)
    batch = batch_of("ecommerce.order", "TH", recs, key="k-new")
    first = hub.pipeline.submit(batch)
    assert hub.store.get_idempotency(batch.exporter, "k-new") == (_digest(batch), first.batch_id)
    again = hub.pipeline.submit(batch_of("ecommerce.order", "TH", recs, key="k-new", bid="b2"))
    assert again.replayed and again.batch_id == first.batch_id


def test_delivered_payload_is_the_encoding_of_the_transformed_records(
    hub: Hub, keys_dir: Path
) -> None:
    recs = synthetic("logistics.waybill", "VN", 40)
    result = hub.pipeline.submit(batch_of("logistics.waybill", "VN", recs))
    assert any(d.obligations for d in result.decisions)  # some lines are encoded again
    assert any(d.outcome == "allow" and not d.obligations for d in result.decisions)
    payloads: list[bytes] = []
    keys = load_key_file(keys_dir / "vn-hanoi-carrier.json")
    drain_inbox(LocalMailbox(hub), keys, sink=lambda h, p: payloads.append(p), clock=lambda: NOW)
    expected = encode_records(
        apply_obligations(r, d.obligations, pseudonym_key=hub.pipeline.secrets.pseudonym_key)
        if d.obligations
        else r
        for r, d in zip(recs, result.decisions, strict=True)
        if d.outcome in ("allow", "allow_transformed")
    )
    assert payloads == [expected]


def test_findings_obligations_and_decisions_are_untracked_by_the_collector() -> None:
    """They are made per record in the hot path and hold nothing that refers back."""
    finding = Finding(path="$['a']", type="phone", detector="d", evidence=("key",))
    obligation = Obligation(action="mask", path="$['a']")
    decision = Decision(outcome="allow", obligations=(obligation,), facts={"counts": {}})
    assert not any(gc.is_tracked(v) for v in (finding, obligation, decision))
