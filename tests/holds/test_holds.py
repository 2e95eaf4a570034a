"""Held batches on a real hub: listing, release, rejection, re-check, counters, ledger."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec
import orjson
import pytest

from silkgate.canonical import canonical_json
from silkgate.errors import ConflictError, ForbiddenError, InputError, NotFoundError
from silkgate.flow.holds import REJECT_KIND, RELEASE_KIND
from silkgate.hub import LocalMailbox
from silkgate.ledger.leaves import HoldRejectLeaf, HoldReleaseLeaf, decode_leaf
from silkgate.mailbox.inbox import drain_inbox
from silkgate.mailbox.service import run_purge
from silkgate.model import HUB_ACTOR, Batch
from silkgate.registry.keys import load_key_file

from .helpers import BROKER, PRODUCT, REGULATOR, World, make_world


def pull(world: World, importer: str) -> list[dict[str, object]]:
    """Pull, open and receipt everything waiting for `importer`; the records opened."""
    opened: list[bytes] = []
    keys = load_key_file(world.keys_dir / f"{importer}.json")
    sink = lambda _h, payload: opened.append(payload)  # noqa: E731
    drain_inbox(LocalMailbox(world.hub), keys, sink=sink, clock=world.clock)
    return [orjson.loads(line) for line in b"".join(opened).splitlines()]


def test_sensitive_declarations_without_a_filing_are_held_and_listed(world: World) -> None:
    result = world.held("MY")
    assert result.envelope_id is None
    [held] = world.holds.list_held()
    assert (held.envelope_id, held.batch_id) == (result.held_id, result.batch_id)
    assert (held.exporter, held.importer, held.records) == (BROKER, "my-kl-logistics", 4)
    [reason] = held.reasons
    assert reason.rule_ids == ("cn.art8.sensitive",) and reason.records == 4
    assert "standard_contract" in reason.requires
    assert any("Art. 8" in c for c in reason.citations)
    names = [r["consignee"]["name"] for r in world.declarations("MY", 4)]
    encoded = msgspec.json.encode(held).decode()
    assert not any(name in encoded for name in names)  # metadata only, never contents
    assert world.holds.list_held(exporter="cn-nanning-freight") == []
    assert world.counts() == {}  # held records are not counted


def test_release_delivers_like_any_envelope_and_counts_the_subjects(world: World) -> None:
    result = world.held("MY")
    assert result.held_id is not None
    world.clock.advance(days=3)
    assert pull(world, "my-kl-logistics") == []  # nothing while held

    action = world.release(result.held_id, by=REGULATOR, reason="urgent customs clearance")

    envelope = world.hub.store.get_envelope(result.held_id)
    assert envelope.state == "pending"
    assert envelope.expires_at == world.clock() + world.hub.pipeline.delivery_ttl
    assert action.action == "released" and action.records == 4 and action.by == REGULATOR
    assert world.counts() == {"pi": 4, "sensitive_pi": 4} == action.counted
    records = pull(world, "my-kl-logistics")
    assert records == world.declarations("MY", 4)  # exactly as submitted (held untransformed)
    receipt = world.hub.store.get_receipt(result.held_id)
    assert receipt.importer == "my-kl-logistics"
    assert world.hub.store.get_envelope(result.held_id).state == "acked"
    [leaf] = world.leaves(RELEASE_KIND)
    assert leaf["by"] == REGULATOR and "reason" not in leaf  # issue 11, finding 5
    assert world.holds.reason(hold_leaf(leaf)) == "urgent customs clearance"
    entries = world.hub.store.ledger_entries(0, world.hub.store.ledger_size())
    assert not any(b"urgent customs clearance" in e for e in entries)
    assert leaf["envelope_id"] == result.held_id and leaf["records"] == 4
    assert world.hub.log.verify_log().size == world.hub.store.ledger_size()


def test_release_queues_a_delivery_message(world: World) -> None:
    result = world.held("MY")
    assert result.held_id is not None
    world.hub.pipeline.transport = None  # keep the outbox message in the store to look at it
    world.holds.flush = lambda: 0
    world.release(result.held_id, by=REGULATOR, reason="ok")
    [message] = world.hub.store.take_outbox(10)
    assert message.subject == "silkgate.delivered.my-kl-logistics"
    assert orjson.loads(message.payload) == {
        "envelope_id": result.held_id,
        "batch_id": result.batch_id,
    }


def test_releasing_twice_is_a_conflict_and_changes_nothing(world: World) -> None:
    result = world.held("MY")
    assert result.held_id is not None
    world.release(result.held_id, by=REGULATOR, reason="ok")
    size = world.hub.store.ledger_size()
    with pytest.raises(ConflictError, match="is pending, not held"):
        world.release(result.held_id, by=REGULATOR, reason="again")
    with pytest.raises(ConflictError):
        world.reject(result.held_id, by=REGULATOR, reason="too late")
    assert world.hub.store.ledger_size() == size
    assert world.counts() == {"pi": 4, "sensitive_pi": 4}


def test_rejection_drops_the_data_counts_nothing_and_is_final(world: World) -> None:
    result = world.held("MY")
    assert result.held_id is not None
    action = world.reject(result.held_id, by=REGULATOR, reason="no legal basis")
    envelope = world.hub.store.get_envelope(result.held_id)
    assert envelope.state == "rejected" and envelope.data == b""
    assert action.action == "rejected" and action.counted == {} and action.expires_at is None
    assert world.counts() == {}
    assert pull(world, "my-kl-logistics") == []
    with pytest.raises(ConflictError, match="is rejected"):
        world.release(result.held_id, by=REGULATOR, reason="changed my mind")
    [leaf] = world.leaves(REJECT_KIND)
    assert (leaf["by"], leaf["records"]) == (REGULATOR, 4) and "reason" not in leaf
    assert world.holds.reason(hold_leaf(leaf)) == "no legal basis"
    assert world.holds.list_held() == []
    assert world.hub.log.verify_log().size == world.hub.store.ledger_size()


@pytest.mark.parametrize("who", [BROKER, "my-kl-logistics", "gx-info-port", "nobody"])
def test_only_a_regulator_may_release_or_reject(world: World, who: str) -> None:
    result = world.held("MY")
    assert result.held_id is not None
    with pytest.raises(ForbiddenError):
        world.release(result.held_id, by=who, reason="let me")
    with pytest.raises(ForbiddenError):
        world.reject(result.held_id, by=who, reason="let me")
    assert world.hub.store.get_envelope(result.held_id).state == "held"


def test_a_reason_is_required_and_unknown_envelopes_are_named(world: World) -> None:
    result = world.held("MY")
    assert result.held_id is not None
    with pytest.raises(InputError, match="reason is required"):
        world.release(result.held_id, by=REGULATOR, reason="  ")
    with pytest.raises(NotFoundError, match="env_nope"):
        world.release("env_nope", by=REGULATOR, reason="x")


def test_recheck_releases_exactly_the_batches_a_new_filing_covers(world: World) -> None:
    my = world.held("MY", n=3)
    my_again = world.held("MY", n=2, seed=9)
    indonesia = world.held("ID", n=3)
    first = world.holds.recheck(exporter=BROKER)
    assert (first.checked, first.released) == (3, 0)
    assert all("cn.art8.sensitive" in i.reason and not i.released for i in first.items)
    assert world.leaves(RELEASE_KIND) == []

    filing = world.file_contract("MY")
    report = world.holds.recheck(exporter=BROKER)

    released = {i.envelope_id for i in report.items if i.released}
    assert released == {my.held_id, my_again.held_id}
    [still] = [i for i in report.items if not i.released]
    assert still.envelope_id == indonesia.held_id and still.outcomes == {"hold": 3}
    assert "cn.art8.sensitive" in still.reason
    leaves = world.leaves(RELEASE_KIND)
    assert {leaf["envelope_id"] for leaf in leaves} == released
    for leaf in leaves:
        assert leaf["by"] == HUB_ACTOR and leaf["automatic"] is True
        assert leaf["filings"] == [filing.id]
        assert filing.id in world.holds.reason(hold_leaf(leaf))
    assert world.hub.store.get_envelope(str(indonesia.held_id)).state == "held"
    assert world.counts() == {"pi": 5, "sensitive_pi": 5}  # 3 + 2 consignees, ID's not
    assert len(pull(world, "my-kl-logistics")) == 5
    assert world.holds.recheck(exporter=BROKER).released == 0  # nothing left to release
    assert world.hub.log.verify_log().size == world.hub.store.ledger_size()


def test_recheck_of_another_exporter_leaves_these_holds_alone(world: World) -> None:
    result = world.held("MY")
    world.file_contract("MY")
    report = world.holds.recheck(exporter="cn-nanning-freight")
    assert report.checked == 0
    assert world.hub.store.get_envelope(str(result.held_id)).state == "held"


def test_recheck_counts_as_the_engine_would(world: World, tmp_path: Path) -> None:
    """Released by re-check, the subjects count exactly as if the filing had been there."""
    world.held("MY", n=6)
    world.file_contract("MY")
    assert world.holds.recheck().released == 1
    other = make_world(tmp_path / "other")
    try:
        other.file_contract("MY")
        assert other.submit("MY", n=6).outcomes["allow"] == 6
        assert world.counts() == other.counts() != {}
    finally:
        other.hub.close()


def test_release_counts_in_the_year_of_release(world: World) -> None:
    result = world.held("MY")
    world.clock.advance(days=240)  # 2027
    world.release(str(result.held_id), by=REGULATOR, reason="late release")
    found = world.hub.store.subject_counts(year=2027)
    assert found[(BROKER, "sensitive_pi")] == 4
    assert world.hub.store.subject_counts(year=2026) == {}


def test_holds_never_expire_and_only_held_envelopes_are_released_or_rejected(
    world: World,
) -> None:
    result = world.held("MY")
    held = str(result.held_id)
    world.clock.advance(days=400)
    run_purge(world.hub.store, world.clock(), timedelta(days=30))
    assert world.hub.store.get_envelope(held).state == "held"  # waits for a decision
    # An envelope in any other state (as an older hub may have left it) is refused.
    for state in ("pending", "acked", "rejected", "expired"):
        world.hub.store.set_envelope_state(held, state)
        for act in (world.release, world.reject):
            with pytest.raises(ConflictError, match=f"is {state}, not held"):
                act(held, by=REGULATOR, reason="x")
        assert world.hub.store.get_envelope(held).state == state
    assert world.leaves(RELEASE_KIND) == world.leaves(REJECT_KIND) == []


def test_only_the_held_part_of_a_mixed_batch_is_released_and_counted(world: World) -> None:
    first, *rest = world.declarations("MY", 3)
    for record in rest:  # no ID or passport number: non-sensitive PI, below the threshold
        record["consignee"] = {k: v for k, v in record["consignee"].items() if k in ("name",)}
    batch = Batch(
        id="b-mixed", exporter=BROKER, importer="my-kl-logistics", product=PRODUCT,
        purpose="customs_clearance", records=[first, *rest],
    )  # fmt: skip
    result = world.hub.pipeline.submit(batch)
    assert (result.outcomes["allow"], result.outcomes["hold"]) == (2, 1)
    assert result.envelope_id is not None and result.held_id is not None
    before = world.counts()
    assert before.get("sensitive_pi", 0) == 0
    [held] = world.holds.list_held()
    assert (held.records, held.batch_records) == (1, 3)
    action = world.release(result.held_id, by=REGULATOR, reason="reviewed")
    assert action.records == 1 and action.counted["sensitive_pi"] == 1
    assert world.counts()["sensitive_pi"] == 1
    assert len(pull(world, "my-kl-logistics")) == 3  # both envelopes, 2 + 1 records


def hold_leaf(entry: dict[str, Any]) -> HoldReleaseLeaf | HoldRejectLeaf:
    leaf = decode_leaf(canonical_json(entry))
    assert isinstance(leaf, HoldReleaseLeaf | HoldRejectLeaf)
    return leaf
