"""Experiment cohorts: the overlay decides in-scope traffic, tagged; caps hold exactly under
concurrent batches; the end date and the kill switch take effect on the next batch."""

from __future__ import annotations

import functools
import threading
from datetime import datetime, timedelta
from typing import Any

import orjson
import pytest
from msgspec.structs import replace

from silkgate.demo.synth import generate
from silkgate.errors import ConflictError, ForbiddenError, InputError
from silkgate.model import Batch, BatchResult
from silkgate.sandbox.auth import Approval
from silkgate.sandbox.cohorts import Cohort, CohortSpec, cohort_message, exit_report

from .helpers import OVERLAY, REGULATOR, World

EXPERIMENT = "gx-customs-trial"
TAG = f"sandbox:{EXPERIMENT}"


@functools.cache
def _customs(destination: str) -> tuple[Any, ...]:
    wanted = ("customs.declaration", destination)
    return tuple(s.record for s in generate(8000, seed=11) if (s.product, s.destination) == wanted)


def customs_records(n: int, destination: str = "MY") -> list[Any]:
    pool = _customs(destination)
    assert len(pool) >= n
    return list(pool[:n])


def customs_batch(bid: str, records: list[Any], importer: str = "my-kl-logistics") -> Batch:
    return Batch(
        id=bid, exporter="cn-pingxiang-broker", importer=importer,
        product="customs.declaration", purpose="customs_clearance", records=records,
    )  # fmt: skip


def create(world: World, start: datetime | None = None, end: datetime | None = None,
           **caps: int) -> Cohort:  # fmt: skip
    now = world.clock.now
    spec = CohortSpec(
        id=EXPERIMENT, title="customs declarations without a contract",
        members=("cn-pingxiang-broker",), products=("customs.declaration",),
        corridors=("CN-MY", "CN-ID"), overlay_yaml=OVERLAY,
        start=start or now, end=end or now + timedelta(days=30), **caps,
    )  # fmt: skip
    approval = world.approve(
        lambda by: cohort_message("create", EXPERIMENT, spec.message_body(), by)
    )
    return world.sandbox.cohorts.create(spec, approval)


def suspend(world: World, reason: str = "incident reported") -> Cohort:
    approval = world.approve(
        lambda by: cohort_message("suspend", EXPERIMENT, {"reason": reason}, by)
    )
    return world.sandbox.cohorts.suspend(EXPERIMENT, approval, reason)


def tagged(result: BatchResult) -> int:
    return sum(1 for d in result.decisions if TAG in d.tags)


def leaf(world: World, index: int | None) -> dict[str, Any]:
    assert index is not None
    value: dict[str, Any] = orjson.loads(world.hub.store.ledger_entries(index, index + 1)[0])
    return value


def test_in_scope_traffic_is_decided_by_the_overlay_and_tagged(world: World) -> None:
    create(world)
    records = customs_records(10)
    result = world.hub.pipeline.submit(customs_batch("b-in", records))
    assert tagged(result) == 10
    assert {d.outcome for d in result.decisions} == {"allow"}
    assert {d.rule_ids for d in result.decisions} == {("trial.customs.allow",)}
    assert leaf(world, result.ledger_index)["tags"] == [TAG]
    # Outside the scope: another corridor (no agreement to SG: still denied), another exporter.
    vn = world.hub.pipeline.submit(
        customs_batch("b-vn", customs_records(5, "VN"), "vn-hanoi-carrier")
    )
    assert tagged(vn) == 0
    report = exit_report(world.sandbox.cohorts.get(EXPERIMENT))
    assert report["flowed"]["records"] == 10 and report["flowed"]["batches"] == 1
    assert report["overlay_changed"] == {"hold→allow": 10}
    assert report["flowed"]["by_corridor"] == {"CN-MY": 10}
    assert report["flowed"]["individuals"] > 0


@pytest.mark.parametrize(("cap", "admitted"), [(250, 250), (120, 100)])
def test_record_cap_holds_exactly_under_concurrent_batches(
    world: World, cap: int, admitted: int
) -> None:
    create(world, max_records=cap)
    records = customs_records(50)
    results: list[BatchResult] = []
    lock = threading.Lock()

    def send(thread: int) -> None:
        for i in range(3):
            result = world.hub.pipeline.submit(customs_batch(f"b-{thread}-{i}", records))
            with lock:
                results.append(result)

    threads = [threading.Thread(target=send, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 12
    assert sum(tagged(r) for r in results) == admitted
    assert all(tagged(r) in (0, 50) for r in results)  # a batch is admitted whole or not at all
    cohort = world.sandbox.cohorts.get(EXPERIMENT)
    assert cohort.records == admitted and cohort.state == "suspended"
    assert f"record cap {cap}" in cohort.reason
    assert [i.kind for i in cohort.incidents] == ["cap_reached"]
    untagged = [d for r in results for d in r.decisions if TAG not in d.tags]
    assert {d.outcome for d in untagged} == {"hold"}  # the ordinary rules again
    assert leaf(world, cohort.ledger_indexes[-1])["action"] == "cohort.suspend"


def test_individual_cap_is_never_exceeded(world: World) -> None:
    create(world, max_individuals=25)
    records = customs_records(60)
    results = [world.hub.pipeline.submit(customs_batch(f"b{i}", records[i * 6 : i * 6 + 6]))
               for i in range(10)]  # fmt: skip
    cohort = world.sandbox.cohorts.get(EXPERIMENT)
    admitted = {r.batch_id for r in results if tagged(r)}
    facts = list(world.hub.store.iter_facts())
    distinct = {h for f in facts if f.batch_id in admitted for h in f.subjects}
    assert cohort.individuals == len(distinct) <= 25
    refused = next(r.batch_id for r in results if not tagged(r))
    more = {h for f in facts if f.batch_id == refused for h in f.subjects}
    assert len(distinct | more) > 25
    assert cohort.state == "suspended" and "individual cap 25" in cohort.reason
    assert all(
        tagged(r) == 0
        for r in results[results.index(next(x for x in results if x.batch_id == refused)) :]
    )


def test_kill_switch_takes_effect_on_the_next_batch(world: World) -> None:
    create(world)
    records = customs_records(8)
    first = world.hub.pipeline.submit(customs_batch("b1", records))
    assert tagged(first) == 8
    cohort = suspend(world)
    assert cohort.state == "suspended" and cohort.reason == "incident reported"
    entries = world.hub.store.ledger_entries(0, world.hub.store.ledger_size())
    assert not any(b"incident reported" in e for e in entries)  # a commitment only
    second = world.hub.pipeline.submit(customs_batch("b2", records))
    assert tagged(second) == 0 and {d.outcome for d in second.decisions} == {"hold"}
    event = leaf(world, cohort.ledger_indexes[-1])
    assert (event["action"], event["by"]) == ("cohort.suspend", "cn-gx-data-authority")
    assert event["signature"]
    assert [i.kind for i in cohort.incidents] == ["kill_switch"]
    with pytest.raises(ConflictError, match="already suspended"):
        suspend(world)


def test_start_and_end_dates_bound_the_experiment(world: World) -> None:
    now = world.clock.now
    create(world, start=now + timedelta(minutes=10), end=now + timedelta(minutes=20))
    records = customs_records(4)
    assert tagged(world.hub.pipeline.submit(customs_batch("early", records))) == 0
    world.clock.now = now + timedelta(minutes=11)
    assert tagged(world.hub.pipeline.submit(customs_batch("during", records))) == 4
    world.clock.now = now + timedelta(minutes=21)
    assert tagged(world.hub.pipeline.submit(customs_batch("late", records))) == 0
    cohort = world.sandbox.cohorts.get(EXPERIMENT)
    assert cohort.state == "suspended" and cohort.reason == "end date reached"
    assert [i.kind for i in cohort.incidents] == ["ended"]


def approve_create(world: World, spec: CohortSpec, who: str = REGULATOR) -> Approval:
    def message(by: str) -> bytes:
        return cohort_message("create", spec.id, spec.message_body(), by)

    return world.approve(message, who)


def test_creating_needs_a_regulator_and_a_valid_spec(world: World) -> None:
    now = world.clock.now
    spec = CohortSpec(
        id="x1", members=("cn-pingxiang-broker",), overlay_yaml=OVERLAY, start=now,
        end=now + timedelta(days=1),
    )  # fmt: skip
    with pytest.raises(ForbiddenError, match="not an active regulator"):
        world.sandbox.cohorts.create(spec, approve_create(world, spec, "cn-nanning-freight"))
    base = OVERLAY.replace("overlay_of: cn\n", "jurisdiction: CN\n")
    for bad, words in [
        (replace(spec, id="Bad Id"), "experiment id"),
        (replace(spec, end=now), "end must be after"),
        (replace(spec, members=()), "at least one member"),
        (replace(spec, overlay_yaml=base), "not an overlay"),
    ]:
        with pytest.raises(InputError, match=words):
            world.sandbox.cohorts.create(bad, approve_create(world, bad))
    create(world)
    with pytest.raises(ConflictError, match="exists already"):
        create(world)
