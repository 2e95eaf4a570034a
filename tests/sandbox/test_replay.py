"""Replay over stored decision facts equals running the candidate live, record by record."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from silkgate.errors import InputError
from silkgate.policy import PolicyEngine
from silkgate.sandbox.analytics import facts_table, query_facts, read_parquet, write_parquet
from silkgate.sandbox.packs import candidate_engine
from silkgate.sandbox.replay import replay

from .helpers import T0, World, cn_variant, demo_batches, make_world

CANDIDATES: dict[str, dict[str, int | str]] = {
    "lower-art5-4": {"pi_contract_from": 300, "parcel_products": "[]"},
    "lower-sensitive": {"sensitive_assessment_from": 20, "pi_contract_from": 700},
    # ID numbers as ordinary PI: categories, counting pools and rules all move at once.
    "ids-as-pi": {"id_document_category": "pi", "pi_contract_from": 150},
}


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[World, list[tuple[str, int, str]]]:
    root = tmp_path_factory.mktemp("recorded")
    world = make_world(root, "hub")
    results = [world.hub.pipeline.submit(b) for b in demo_batches()]
    outcomes = [(r.batch_id, i, str(d.outcome)) for r in results for i, d in enumerate(r.decisions)]
    return world, outcomes


@pytest.mark.parametrize("name", sorted(CANDIDATES))
def test_replay_equals_live_record_by_record(
    recorded: tuple[World, list[tuple[str, int, str]]], tmp_path: Path, name: str
) -> None:
    world, _ = recorded
    pack = tmp_path / "candidate.yaml"
    pack.write_text(cn_variant(f"2026.9-{name}", **CANDIDATES[name]), encoding="utf-8")
    live_world = make_world(
        tmp_path, "live", engine=candidate_engine([pack], PolicyEngine.default())
    )
    try:
        live = [live_world.hub.pipeline.submit(b) for b in demo_batches()]
    finally:
        live_world.hub.close()
    expected = [(r.batch_id, i, d.outcome) for r in live for i, d in enumerate(r.decisions)]
    report = replay([pack], facts_table(world.hub.store.iter_facts()), keep_outcomes=True)
    assert report.outcomes is not None and report.keys is not None
    got = [(b, i, o) for (b, i), o in zip(report.keys, report.outcomes, strict=True)]
    assert got == expected
    assert report.records == len(expected)
    assert report.changed > 0
    assert sum(report.by_change.values()) == report.changed
    for breakdown in (report.by_corridor, report.by_product, report.by_exporter):
        assert sum(breakdown.values()) == report.changed


def test_replay_of_the_active_packs_changes_nothing(
    recorded: tuple[World, list[tuple[str, int, str]]], tmp_path: Path
) -> None:
    world, outcomes = recorded
    shipped = tmp_path / "cn.yaml"
    shipped.write_text(cn_variant("2024.3.2"), encoding="utf-8")
    report = replay([shipped], facts_table(world.hub.store.iter_facts()))
    assert (report.records, report.changed) == (len(outcomes), 0)
    assert report.rounds == 1


def test_window_keeps_the_year_s_counts_and_reports_only_its_records(
    recorded: tuple[World, list[tuple[str, int, str]]], tmp_path: Path
) -> None:
    world, _ = recorded
    pack = tmp_path / "candidate.yaml"
    pack.write_text(cn_variant("2026.9-w", pi_contract_from=300), encoding="utf-8")
    table = facts_table(world.hub.store.iter_facts())
    full = replay([pack], table, keep_outcomes=True)
    times = sorted({f.time for f in world.hub.store.iter_facts()})
    since, until = times[len(times) // 3], times[2 * len(times) // 3]
    part = replay([pack], table, since, until, keep_outcomes=True)
    assert part.outcomes is not None and part.keys is not None and full.keys is not None
    in_window = {(f.batch_id, f.record) for f in world.hub.store.iter_facts(since, until)}
    assert set(part.keys) == in_window and part.records == len(in_window)
    by_key = dict(zip(full.keys, full.outcomes or [], strict=True))
    assert part.outcomes == [by_key[k] for k in part.keys]


def test_parquet_round_trip_and_duckdb_queries(
    recorded: tuple[World, list[tuple[str, int, str]]], tmp_path: Path
) -> None:
    world, outcomes = recorded
    path = tmp_path / "facts.parquet"
    write_parquet(facts_table(world.hub.store.iter_facts()), path)
    table = read_parquet(path)
    assert table.num_rows == len(outcomes)
    rows = query_facts(
        table, "SELECT outcome, count(*) AS n FROM facts GROUP BY outcome ORDER BY outcome"
    )
    expected: dict[str, int] = {}
    for _, _, outcome in outcomes:
        expected[outcome] = expected.get(outcome, 0) + 1
    assert {r["outcome"]: r["n"] for r in rows} == expected
    pack = tmp_path / "candidate.yaml"
    pack.write_text(cn_variant("2026.9-p", pi_contract_from=300), encoding="utf-8")
    assert replay([pack], path).to_json() == replay([pack], table).to_json()
    with pytest.raises(InputError, match="not a decision-facts file"):
        bad = tmp_path / "bad.parquet"
        write_parquet(table.select(["seq", "time"]), bad)
        read_parquet(bad)


def test_facts_are_written_with_the_batch(
    recorded: tuple[World, list[tuple[str, int, str]]],
) -> None:
    world, outcomes = recorded
    facts = list(world.hub.store.iter_facts())
    assert [(f.batch_id, f.record, f.outcome) for f in facts] == outcomes
    assert all(len(h) == 32 for f in facts for h in f.subjects)
    assert all(f.time > T0 and f.time < T0 + timedelta(days=1) for f in facts)
    denied = [f for f in facts if f.outcome == "deny"]
    assert denied and all(f.gate == "gate.no-agreement" for f in denied)
