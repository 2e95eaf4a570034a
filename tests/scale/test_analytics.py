"""Sandbox analytics at scale: the same traffic, committed by two nodes at once on
PostgreSQL and one after the other (in the ledger's order) on SQLite, gives the same
decision facts, the same facts queries and the same replay, record by record; the facts
are read from PostgreSQL through a server-side cursor into Arrow, and a Parquet export
streams them in chunks."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from sandbox.helpers import cn_variant, demo_batches

from scale.hubs import NOW, clone_data_dir, make_data_dir, open_node, outcome_view, seed, seed_like
from scale.servers import PostgresServer, fresh_database
from scale.test_concurrency import run_all
from silkgate.hub import Hub
from silkgate.model import BatchResult
from silkgate.sandbox.analytics import (
    fact_batches,
    facts_table,
    query_facts,
    read_parquet,
    write_facts,
)
from silkgate.sandbox.replay import ReplayReport, replay

CANDIDATES: dict[str, dict[str, int | str]] = {
    "lower-art5-4": {"pi_contract_from": 300, "parcel_products": "[]"},
    "lower-sensitive": {"sensitive_assessment_from": 20, "pi_contract_from": 700},
}
QUERY = (
    "SELECT exporter, destination, outcome, count(*) AS n, max(pi_after) AS pi "
    "FROM facts GROUP BY ALL ORDER BY ALL"
)


@pytest.fixture(scope="module")
def both(postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """(PostgreSQL hub, SQLite hub) after the same traffic."""
    root = tmp_path_factory.mktemp("analytics")
    data = make_data_dir(root, fresh_database(postgres_server, "analytics"))
    nodes = [open_node(data), open_node(data)]
    seed(nodes[0], root / "keys", sensitive_before=0)
    batches = demo_batches(records=2400, batch_size=80, seed=7)
    jobs: list[Callable[[], Any]] = [
        partial(nodes[i % 2].pipeline.submit, b) for i, b in enumerate(batches)
    ]
    # Four threads at a time over the two nodes, so commits interleave across nodes.
    results: list[BatchResult] = []
    for start in range(0, len(jobs), 4):
        results += run_all(jobs[start : start + 4])
    serial = open_node(clone_data_dir(data, root, f"sqlite:///{root / 'serial.db'}"))
    seed_like(nodes[0], serial, 0, NOW.year)
    by_id = {b.id: b for b in batches}
    for result in sorted(results, key=lambda r: r.ledger_index or 0):
        again = serial.pipeline.submit(by_id[result.batch_id])
        assert outcome_view(again) == outcome_view(result)
    nodes[1].close()
    yield nodes[0], serial
    nodes[0].close()
    serial.close()


def without_seq(table: pa.Table) -> pa.Table:
    return table.drop_columns(["seq"])


def test_facts_on_postgres_equal_facts_on_sqlite(both: tuple[Hub, Hub]) -> None:
    pg, lite = both
    on_pg, on_lite = facts_table(pg.store.iter_facts()), facts_table(lite.store.iter_facts())
    assert on_pg.num_rows == on_lite.num_rows > 1000
    assert without_seq(on_pg).equals(without_seq(on_lite))
    seq = [s for s in on_pg["seq"].to_pylist() if s is not None]
    assert len(seq) == on_pg.num_rows and seq == sorted(set(seq))  # commit order
    assert query_facts(on_pg, QUERY) == query_facts(on_lite, QUERY)
    held = query_facts(on_pg, "SELECT count(*) AS n FROM facts WHERE outcome = 'hold'")
    assert held[0]["n"] > 0  # the traffic reached decisions the counters drive


def test_a_window_reads_the_same_facts(both: tuple[Hub, Hub]) -> None:
    pg, lite = both
    window = (NOW, NOW.replace(microsecond=1))
    assert without_seq(facts_table(pg.store.iter_facts(*window))).equals(
        without_seq(facts_table(lite.store.iter_facts(*window)))
    )
    assert list(pg.store.iter_facts(NOW.replace(microsecond=1))) == []


@pytest.mark.parametrize("name", sorted(CANDIDATES))
def test_replay_on_postgres_equals_replay_on_sqlite_record_by_record(
    both: tuple[Hub, Hub], tmp_path: Path, name: str
) -> None:
    pg, lite = both
    pack = tmp_path / "candidate.yaml"
    pack.write_text(cn_variant(f"2026.9-{name}", **CANDIDATES[name]), encoding="utf-8")
    exported = tmp_path / "facts.parquet"
    assert write_facts(pg.store.iter_facts(), exported) > 1000
    reports: list[ReplayReport] = [
        replay([pack], facts_table(pg.store.iter_facts()), keep_outcomes=True),
        replay([pack], exported, keep_outcomes=True),  # the Parquet export
        replay([pack], facts_table(lite.store.iter_facts()), keep_outcomes=True),
    ]
    first = reports[0]
    assert first.changed > 0 and first.keys is not None
    for other in reports[1:]:
        assert other.keys == first.keys
        assert other.outcomes == first.outcomes
        assert other.verdicts == first.verdicts
        assert other.to_json() == first.to_json()


def test_the_parquet_export_streams_in_chunks(both: tuple[Hub, Hub], tmp_path: Path) -> None:
    pg, _ = both
    chunks = list(fact_batches(pg.store.iter_facts(), chunk=400))
    total = facts_table(pg.store.iter_facts())
    assert [c.num_rows for c in chunks[:-1]] == [400] * (len(chunks) - 1)
    assert pa.Table.from_batches(chunks).equals(total)
    path = tmp_path / "f.parquet"
    assert write_facts(pg.store.iter_facts(), path) == total.num_rows
    assert read_parquet(path).equals(total)
