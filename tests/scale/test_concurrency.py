"""Several hub nodes on one PostgreSQL database committing at once: the counters, the
ledger, idempotency keys and nonces come out exactly as one node committing the same
batches one after the other would leave them."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sandbox.helpers import T0, StepClock, World, demo_batches, move, propose

from scale.hubs import (
    EXPORTER,
    NOW,
    SENSITIVE_THRESHOLD,
    batch,
    clone_data_dir,
    declarations,
    make_data_dir,
    open_node,
    outcome_view,
    seed,
    seed_like,
)
from scale.servers import PostgresServer, fresh_database
from silkgate.clock import system_random
from silkgate.demo.runner import batches_of, register_cast
from silkgate.demo.synth import generate
from silkgate.flow.pipeline import StageTimings
from silkgate.hub import Hub, open_hub
from silkgate.model import Batch, BatchResult


def _wait_for(condition: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


def run_all(jobs: list[Callable[[], Any]]) -> list[Any]:
    """Run each job in its own thread, released together; re-raise the first failure."""
    start = threading.Barrier(len(jobs))
    out: list[Any] = [None] * len(jobs)
    errors: list[BaseException] = []

    def work(i: int) -> None:
        start.wait()
        try:
            out[i] = jobs[i]()
        except BaseException as exc:  # reported below
            errors.append(exc)

    # daemon: a stuck job must not keep the test process alive after the failure below
    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(len(jobs))]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 240  # each job waits at most 60 s for an event or the store
    for t in threads:
        t.join(timeout=max(0.0, deadline - time.monotonic()))
    stuck = [t.name for t in threads if t.is_alive()]
    assert not stuck, f"jobs still running after 4 minutes (deadlock?): {stuck}"
    if errors:
        raise errors[0]
    return out


@pytest.fixture
def nodes(postgres_server: PostgresServer, tmp_path: Path) -> Iterator[list[Hub]]:
    url = fresh_database(postgres_server, "concurrency")
    data = make_data_dir(tmp_path, url)
    opened = [open_node(data) for _ in range(3)]
    yield opened
    for hub in opened:
        hub.close()


class SlowStage(StageTimings):
    """Pipeline timings that also sleep in one stage."""

    def __init__(self, name: str, seconds: float) -> None:
        super().__init__()
        self.name, self.seconds_slow = name, seconds

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        with super().stage(name):
            yield
            if name == self.name:
                time.sleep(self.seconds_slow)


def index_of(result: BatchResult) -> int:
    assert result.ledger_index is not None
    return result.ledger_index


def test_concurrent_exporter_near_a_threshold_equals_a_serial_replay(
    nodes: list[Hub], tmp_path: Path
) -> None:
    first = nodes[0]
    seed(first, tmp_path / "keys", sensitive_before=SENSITIVE_THRESHOLD - 8)
    leaves_before = first.store.ledger_size()
    batches = [batch(f"b{i:02d}", declarations(4, seed=100 + i)) for i in range(12)]
    # 12 batches over 3 nodes x 2 threads each, all released at once.
    jobs: list[Callable[[], Any]] = [
        partial(nodes[i % 3].pipeline.submit, b) for i, b in enumerate(batches)
    ]
    results: list[BatchResult] = run_all(jobs)

    # One ledger: consecutive indexes, one per batch, and the log verifies.
    indexes = sorted(index_of(r) for r in results)
    assert indexes == list(range(leaves_before, leaves_before + len(batches)))
    first.log.verify_log()
    first.log.checkpoint()
    assert first.log.verify_log().size == leaves_before + len(batches)

    # The threshold was reached: records were held for it, and held ones are not counted.
    final = first.store.subject_count(EXPORTER, NOW.year, "sensitive_pi")
    assert SENSITIVE_THRESHOLD - 8 < final < SENSITIVE_THRESHOLD
    assert sum(r.outcomes["hold"] for r in results) > 0

    # A serial replay, in commit (ledger) order, on a fresh store decides the same.
    replay_dir = clone_data_dir(first.data_dir, tmp_path, f"sqlite:///{tmp_path / 'r.db'}")
    replay = open_node(replay_dir)
    try:
        seed_like(first, replay, SENSITIVE_THRESHOLD - 8, NOW.year)
        by_index = sorted(zip(results, batches, strict=True), key=lambda rb: index_of(rb[0]))
        for result, submitted in by_index:
            again = replay.pipeline.submit(submitted)
            assert outcome_view(again) == outcome_view(result), submitted.id
        assert replay.store.subject_counts(year=NOW.year) == first.store.subject_counts(
            year=NOW.year
        )
    finally:
        replay.close()


def test_twins_with_one_idempotency_key_commit_once(nodes: list[Hub], tmp_path: Path) -> None:
    seed(nodes[0], tmp_path / "keys", sensitive_before=0)
    size = nodes[0].store.ledger_size()
    twin = batch("b-twin", declarations(3, seed=7), key="order-77")
    results: list[BatchResult] = run_all([partial(hub.pipeline.submit, twin) for hub in nodes * 2])
    assert {r.ledger_index for r in results} == {size}
    assert {r.envelope_id for r in results} == {results[0].envelope_id}
    assert nodes[1].store.ledger_size() == size + 1
    assert len(nodes[2].store.list_envelopes(limit=100)) == 1


def test_a_nonce_is_accepted_by_exactly_one_node(nodes: list[Hub]) -> None:
    until = NOW + timedelta(minutes=5)
    for n in range(20):
        nonce = f"nonce-{n}"
        accepted = run_all([partial(hub.store.remember_nonce, nonce, until) for hub in nodes * 2])
        assert accepted.count(True) == 1


def test_two_nodes_committing_at_once_store_facts_in_ledger_order(
    nodes: list[Hub], tmp_path: Path
) -> None:
    """Replay reads the decision facts in seq order; under concurrent nodes that order is the
    ledger's (commit) order, batch by batch, and every record of every batch is there."""
    seed(nodes[0], tmp_path / "keys", sensitive_before=0)
    before = nodes[0].store.ledger_size()
    # The demo mix: three exporters, so batches do not all wait at one exporter's counters.
    batches = list(batches_of(iter(generate(240, seed=3)), 15, system_random))[:16]
    assert len({b.exporter for b in batches}) == 3
    pair = nodes[:2]
    # One node is slow between writing a batch's facts and appending its leaf (a loaded
    # machine): the other node's batches overtake its batches there.
    pair[0].pipeline.timings = SlowStage("seal", 0.05)
    results: list[BatchResult] = run_all(
        [partial(pair[i % 2].pipeline.submit, b) for i, b in enumerate(batches)]
    )
    in_ledger = [r.batch_id for r in sorted(results, key=index_of)]
    assert sorted(index_of(r) for r in results) == list(range(before, before + len(batches)))
    facts = list(nodes[1].store.iter_facts())
    in_facts = list(dict.fromkeys(f.batch_id for f in facts))
    assert in_facts == in_ledger
    seqs = [f.seq for f in facts]
    assert seqs == sorted(set(seqs))  # strictly increasing: the order a reader pages in
    expected = [(r.batch_id, i) for r in sorted(results, key=index_of) for i in range(r.records)]
    assert [(f.batch_id, f.record) for f in facts] == expected


def _regulator_and_traffic(
    server: PostgresServer, tmp_path: Path, name: str
) -> tuple[Hub, World, Hub]:
    """Two nodes on one fresh database: the regulator's (with the cast registered) and one
    carrying traffic, each on its own clock."""
    data = make_data_dir(tmp_path, fresh_database(server, name))
    clock = StepClock()
    regulator_node = open_hub(data, clock=clock)
    world = World(regulator_node, clock, tmp_path / "keys")
    register_cast(regulator_node, world.keys_dir, T0.date())
    return regulator_node, world, open_hub(data, clock=StepClock())


def test_a_policy_transition_amid_batches_of_two_nodes_does_not_deadlock(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    """Batches read the sandbox generation shared, then take the ledger; a transition bumps
    the generation. It takes the generation first (hold_generation): were it to take it
    after its ledger leaf, a batch in flight and the transition would wait for each other
    and PostgreSQL would abort one of them."""
    regulator_node, world, traffic = _regulator_and_traffic(postgres_server, tmp_path, "transition")
    before = traffic.store.ledger_size()
    batches = demo_batches(records=1200, batch_size=40, seed=3)
    moved: list[str] = []

    def regulate() -> None:
        version = propose(world)
        for state in ("shadow", "active"):
            version = move(world, version, state)
            moved.append(version.state)

    try:
        jobs: list[Callable[[], Any]] = [
            partial(lambda part: [traffic.pipeline.submit(b) for b in part], batches[i::3])
            for i in range(3)
        ]
        run_all([*jobs, regulate])
        assert moved == ["shadow", "active"]
        # a leaf per batch and per transition (draft, shadow, active)
        assert traffic.store.ledger_size() == before + len(batches) + 3
        results = traffic.store.list_batch_results(limit=100)
        assert {r.batch_id for r in results} == {b.id for b in batches}
        regulator_node.log.verify_log()
    finally:
        traffic.close()
        regulator_node.close()


def test_an_experiment_created_and_suspended_amid_batches_of_two_nodes(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    """Creating a cohort bumps the sandbox generation, as a policy transition does, and
    takes it first (hold_generation). Amid batches committing on another node: no deadlock,
    and in ledger order the experiment decides exactly the batches between its `create` and
    `suspend` leaves (before: untagged, between: every record tagged, after: untagged)."""
    from sandbox.test_cohorts import TAG, create, customs_batch, suspend

    regulator_node, world, traffic = _regulator_and_traffic(postgres_server, tmp_path, "cohorts")
    pool = [
        s.record
        for s in generate(8000, seed=11)
        if (s.product, s.destination) == ("customs.declaration", "MY")
    ]
    batches = [customs_batch(f"c{i:02d}", pool[i * 5 : i * 5 + 5]) for i in range(30)]
    assert all(len(b.records) == 5 for b in batches)
    events: dict[str, int] = {}
    created, suspended = threading.Event(), threading.Event()

    def regulate(before: int) -> None:
        # Each step waits for a few batches, then acts while others are in flight.
        _wait_for(lambda: traffic.store.ledger_size() >= before + 6)
        events["create"] = create(world, start=T0 - timedelta(days=1)).ledger_indexes[-1]
        created.set()
        _wait_for(lambda: traffic.store.ledger_size() >= events["create"] + 7)
        events["suspend"] = suspend(world).ledger_indexes[-1]
        suspended.set()

    def submit(part: list[Batch]) -> list[BatchResult]:
        out = []
        for i, b in enumerate(part):
            if i in (3, 6):  # some of each thread's batches wait for each event
                assert (created if i == 3 else suspended).wait(timeout=60)
            out.append(traffic.pipeline.submit(b))
        return out

    try:
        before = traffic.store.ledger_size()
        jobs: list[Callable[[], Any]] = [partial(submit, batches[i::3]) for i in range(3)]
        results = [r for part in run_all([*jobs, partial(regulate, before)])[:3] for r in part]
        assert traffic.store.ledger_size() == before + len(batches) + 2
        windows = {"before": 0, "between": 0, "after": 0}
        for result in results:
            tagged = sum(1 for d in result.decisions if TAG in d.tags)
            if index_of(result) < events["create"]:
                windows["before"] += 1
                assert tagged == 0, result.batch_id
            elif index_of(result) < events["suspend"]:
                windows["between"] += 1
                assert tagged == result.records, result.batch_id
            else:
                windows["after"] += 1
                assert tagged == 0, result.batch_id
        assert sum(windows.values()) == len(batches) and min(windows.values()) >= 6, windows
        regulator_node.log.verify_log()
    finally:
        traffic.close()
        regulator_node.close()
