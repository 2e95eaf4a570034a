"""The whole flow end to end on a real hub: classify, decide, transform, seal, ledger,
mailbox, receipts; idempotency; deny by default; bad input; atomicity."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec
import orjson
import pytest

from pipeline.conftest import NOW
from silkgate.demo import scenario
from silkgate.demo.synth import PRODUCT_OF_KIND, generate
from silkgate.errors import (
    ConflictError,
    InputError,
    NotFoundError,
    SchemaError,
    VerificationError,
)
from silkgate.hub import Hub, LocalMailbox
from silkgate.ledger import leaf_hash, verify_inclusion
from silkgate.mailbox.inbox import drain_inbox
from silkgate.model import Batch
from silkgate.registry.keys import load_key_file
from silkgate.seal.envelope import envelope_digest
from silkgate.seal.receipts import sign_receipt

KIND_OF_PRODUCT = {product: kind for kind, product in PRODUCT_OF_KIND.items()}


def synthetic(product: str, destination: str, n: int, seed: int = 3) -> list[Any]:
    out = []
    for record in generate(n * 12, seed=seed, kinds=[KIND_OF_PRODUCT[product]]):
        if record.product == product and record.destination == destination:
            out.append(record.record)
            if len(out) == n:
                return out
    raise AssertionError(f"synth made fewer than {n} {product} records to {destination}")


def batch_of(
    product: str, destination: str, records: list[Any], key: str | None = None, bid: str = "b1"
) -> Batch:
    exporter, purpose = scenario.ROUTES[product]
    return Batch(
        id=bid,
        exporter=exporter,
        importer=scenario.importer_for(destination),
        product=product,
        purpose=purpose,
        records=records,
        idempotency_key=key,
    )


def snapshot(hub: Hub) -> dict[str, Any]:
    """Everything a batch can write, to check that nothing changed."""
    store = hub.store
    return {
        "ledger": store.ledger_size(),
        "batches": len(store.list_batch_results(limit=10_000)),
        "envelopes": len(store.list_envelopes(limit=10_000)),
        "subjects": store.subject_counts(year=2026),
        "outbox": len(store.take_outbox(10_000)),
    }


def test_orders_flow_end_to_end_with_receipts(hub: Hub, keys_dir: Path) -> None:
    records = synthetic("ecommerce.order", "VN", 40)
    result = hub.pipeline.submit(batch_of("ecommerce.order", "VN", records))
    assert result.records == 40
    assert sum(result.outcomes.values()) == 40
    assert len(result.decisions) == 40
    assert all(d.rule_ids and d.policy_version for d in result.decisions)
    assert result.envelope_id is not None
    assert result.ledger_index == 0

    opened: list[bytes] = []
    keys = load_key_file(keys_dir / "vn-hanoi-carrier.json")
    summary = drain_inbox(
        LocalMailbox(hub),
        keys,
        sink=lambda header, payload: opened.append(payload),
        clock=hub.pipeline.clock,
    )
    assert summary.receipts == 1
    delivered = [orjson.loads(line) for line in b"".join(opened).splitlines()]
    assert len(delivered) == result.outcomes["allow"] + result.outcomes["allow_transformed"]
    receipt = hub.store.get_receipt(result.envelope_id)
    assert receipt.ledger_index == 1
    assert hub.store.get_envelope(result.envelope_id).state == "acked"

    checkpoint = hub.log.checkpoint()
    for index in (0, 1):
        entry = hub.store.ledger_entries(index, index + 1)[0]
        proof = hub.log.inclusion_proof(index, checkpoint.size)
        verify_inclusion(leaf_hash(entry), index, checkpoint.size, proof, checkpoint.root_hash)


def test_the_envelope_header_carries_the_whole_batch(hub: Hub, keys_dir: Path) -> None:
    """Outcome counts, policy version and tags are the batch's (all its records, crossing or
    not); the record count is the payload's."""
    records = synthetic("logistics.waybill", "VN", 30)
    result = hub.pipeline.submit(batch_of("logistics.waybill", "VN", records))
    headers: list[Any] = []
    keys = load_key_file(keys_dir / "vn-hanoi-carrier.json")
    drain_inbox(
        LocalMailbox(hub),
        keys,
        sink=lambda header, payload: headers.append((header, payload)),
        clock=hub.pipeline.clock,
    )
    [(header, payload)] = headers
    assert header.batch_id == result.batch_id
    assert header.outcomes == result.outcomes
    assert sum(header.outcomes.values()) == 30
    assert header.policy_version == result.policy_version
    assert list(header.tags) == sorted({t for d in result.decisions for t in d.tags})
    crossing = result.outcomes["allow"] + result.outcomes["allow_transformed"]
    assert header.record_count == crossing == len(payload.splitlines())


def test_a_receipt_dated_outside_the_envelope_life_is_refused(hub: Hub, keys_dir: Path) -> None:
    records = synthetic("ecommerce.order", "VN", 3)
    result = hub.pipeline.submit(batch_of("ecommerce.order", "VN", records))
    assert result.envelope_id is not None
    keys = load_key_file(keys_dir / "vn-hanoi-carrier.json")
    envelope = hub.store.get_envelope(result.envelope_id)
    backdated = sign_receipt(
        envelope_id=envelope.id,
        batch_id=envelope.batch_id,
        importer="vn-hanoi-carrier",
        envelope_digest=envelope_digest(envelope.data),
        received_at=NOW - timedelta(days=3),
        signing_key=keys.current_signing(NOW)[1],
    )
    with pytest.raises(InputError, match="outside the envelope's life"):
        hub.pipeline.acknowledge(backdated)
    assert hub.store.get_envelope(envelope.id).state == "pending"


def test_a_forged_second_receipt_is_refused(hub: Hub, keys_dir: Path) -> None:
    records = synthetic("ecommerce.order", "VN", 3)
    result = hub.pipeline.submit(batch_of("ecommerce.order", "VN", records))
    assert result.envelope_id is not None
    keys = load_key_file(keys_dir / "vn-hanoi-carrier.json")
    drain_inbox(LocalMailbox(hub), keys, clock=hub.pipeline.clock)
    first = hub.store.get_receipt(result.envelope_id)
    forged = msgspec.structs.replace(first, signature=bytes(64), ledger_index=None)
    with pytest.raises(VerificationError):
        hub.pipeline.acknowledge(forged)
    genuine_again = msgspec.structs.replace(first, ledger_index=None)
    assert hub.pipeline.acknowledge(genuine_again) == first


def test_ledger_entries_hold_no_record_contents(hub: Hub) -> None:
    records = synthetic("logistics.waybill", "TH", 20)
    hub.pipeline.submit(batch_of("logistics.waybill", "TH", records))
    entry = hub.store.ledger_entries(0, 1)[0].decode()
    for record in records:
        assert record["consignee"]["name"] not in entry
        assert record["consignee"].get("phone", "\x00") not in entry


def test_envelopes_at_rest_hold_no_plaintext(hub: Hub) -> None:
    records = synthetic("logistics.waybill", "VN", 20)
    result = hub.pipeline.submit(batch_of("logistics.waybill", "VN", records))
    envelopes = hub.store.list_envelopes(limit=100)
    assert [e.id for e in envelopes] == [result.envelope_id]  # the loop below checks one
    for envelope in envelopes:
        for record in records:
            assert record["consignee"]["name"].encode() not in envelope.data
            assert record["consignee"]["name"].encode() in orjson.dumps(record)


def test_idempotent_resubmission_commits_nothing_new(hub: Hub) -> None:
    records = synthetic("ecommerce.order", "TH", 10)
    first = hub.pipeline.submit(batch_of("ecommerce.order", "TH", records, key="k-1"))
    before = snapshot(hub)
    again = hub.pipeline.submit(batch_of("ecommerce.order", "TH", records, key="k-1", bid="b2"))
    assert again.replayed
    assert again.batch_id == first.batch_id
    assert again.outcomes == first.outcomes
    assert snapshot(hub) == before


def test_idempotency_key_reused_with_other_records_conflicts(hub: Hub) -> None:
    records = synthetic("ecommerce.order", "TH", 10)
    hub.pipeline.submit(batch_of("ecommerce.order", "TH", records, key="k-1"))
    before = snapshot(hub)
    with pytest.raises(ConflictError, match="k-1"):
        hub.pipeline.submit(batch_of("ecommerce.order", "TH", records[:5], key="k-1", bid="b2"))
    assert snapshot(hub) == before


def test_no_agreement_means_deny_and_nothing_delivered(hub: Hub) -> None:
    records = synthetic("customs.declaration", "SG", 10)
    result = hub.pipeline.submit(batch_of("customs.declaration", "SG", records))
    assert result.outcomes["deny"] == 10
    assert result.envelope_id is None and result.held_id is None
    assert hub.store.list_envelopes(importer="sg-3pl", limit=10) == []
    assert all(d.outcome == "deny" for d in result.decisions)


def test_record_failing_schema_names_record_and_path_and_commits_nothing(hub: Hub) -> None:
    records = synthetic("logistics.waybill", "VN", 5)
    broken = msgspec.json.decode(msgspec.json.encode(records))
    broken[3]["destination"] = {"country": 84}
    before = snapshot(hub)
    with pytest.raises(SchemaError) as excinfo:
        hub.pipeline.submit(batch_of("logistics.waybill", "VN", broken))
    assert excinfo.value.record == 3
    assert excinfo.value.path == "$['destination']['country']"
    assert "record 3" in str(excinfo.value)
    assert snapshot(hub) == before


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("exporter", "cn-nobody", "unknown exporter 'cn-nobody'"),
        ("importer", "vn-nobody", "unknown importer 'vn-nobody'"),
        ("product", "logistics.teleport", "unknown data product 'logistics.teleport'"),
    ],
)
def test_unknown_party_or_product_is_a_clear_error(
    hub: Hub, field: str, value: str, message: str
) -> None:
    batch = batch_of("logistics.waybill", "VN", synthetic("logistics.waybill", "VN", 2))
    setattr(batch, field, value)
    before = snapshot(hub)
    with pytest.raises(NotFoundError, match=message):
        hub.pipeline.submit(batch)
    assert snapshot(hub) == before


def test_unknown_purpose_is_refused(hub: Hub) -> None:
    batch = batch_of("logistics.waybill", "VN", synthetic("logistics.waybill", "VN", 2))
    batch.purpose = "curiosity"  # type: ignore[assignment]
    with pytest.raises(InputError, match="unknown purpose 'curiosity'"):
        hub.pipeline.submit(batch)


class _FailingOutboxStore:
    """Fault injection: a real store whose outbox write fails, i.e. a crash in the last
    write of a batch's transaction."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def put_outbox(self, *args: Any, **kwargs: Any) -> None:
        raise OSError("disk unplugged")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def test_a_crash_inside_the_batch_transaction_leaves_nothing_behind(hub: Hub) -> None:
    records = synthetic("logistics.waybill", "VN", 30)
    before = snapshot(hub)
    real_store = hub.pipeline.store
    hub.pipeline.store = _FailingOutboxStore(real_store)
    with pytest.raises(OSError, match="disk unplugged"):
        hub.pipeline.submit(batch_of("logistics.waybill", "VN", records, key="crash"))
    hub.pipeline.store = real_store
    assert snapshot(hub) == before
    # and the same batch goes through afterwards, exactly once
    result = hub.pipeline.submit(batch_of("logistics.waybill", "VN", records, key="crash"))
    assert not result.replayed
    assert hub.store.ledger_size() == before["ledger"] + 1


def test_counters_count_distinct_subjects_once(hub: Hub) -> None:
    records = synthetic("logistics.waybill", "MY", 30)
    hub.pipeline.submit(batch_of("logistics.waybill", "MY", records, bid="b1"))
    counts = hub.store.subject_counts(year=2026)
    hub.pipeline.submit(batch_of("logistics.waybill", "MY", records, bid="b2"))
    assert hub.store.subject_counts(year=2026) == counts
