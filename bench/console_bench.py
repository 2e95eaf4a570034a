"""The console's aggregates on a large SQLite hub: corridor overview, rules fired and ledger
growth over a 30-day and a 366-day window, with N batches committed over a year.

    python bench/console_bench.py                 # 1,000,000 batches
    python bench/console_bench.py --batches 200000

The aggregate rows are written as `put_batch_result` writes them (silkgate.store.stats), in
bulk, straight into a fresh SQLite store, so that filling the store does not dominate; the
queries are the store's own (`flow_counts`, `rule_counts`, `ledger_growth`). Prints the
median of five runs of each query and the machine's load average.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from silkgate.model import BatchResult, Decision
from silkgate.store import SqliteStore
from silkgate.store._common import to_us
from silkgate.store.stats import DAY_US, FLOW_INSERT, HOUR_US, RULE_INSERT, insert_sql

START = datetime(2026, 1, 1, tzinfo=UTC)
CORRIDORS = [("CN", d) for d in ("VN", "TH", "MY", "SG", "ID", "PH", "KH", "LA", "MM", "BN")]
OUTCOMES = ("allow", "allow_transformed", "hold", "deny")
RULES = [f"cn.rule-{i}" for i in range(40)]
EXPORTERS = [f"cn-exporter-{i}" for i in range(200)]
ROLLUPS = (
    f"INSERT INTO flow_days SELECT committed_us / {DAY_US}, origin, destination, outcome, "
    "COUNT(*), SUM(records) FROM batch_flows GROUP BY 1, 2, 3, 4",
    f"INSERT INTO rule_days SELECT committed_us / {DAY_US}, origin, rule_id, COUNT(*), "
    "SUM(records) FROM batch_rules GROUP BY 1, 2, 3",
    f"INSERT INTO ledger_hours SELECT committed_us / {HOUR_US}, MAX(ledger_index) "
    "FROM batch_flows GROUP BY 1",
)
IMPORTERS = [f"importer-{i}" for i in range(100)]


def fill(store: SqliteStore, batches: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    year_us = 365 * 86_400 * 10**6
    flow_sql, rule_sql = insert_sql(FLOW_INSERT, "?", 9), insert_sql(RULE_INSERT, "?", 7)
    chunk = 50_000
    for first in range(0, batches, chunk):
        flows, rules = [], []
        for i in range(first, min(first + chunk, batches)):
            at = to_us(START) + (i * year_us) // batches
            origin, destination = rng.choice(CORRIDORS)
            exporter, importer = rng.choice(EXPORTERS), rng.choice(IMPORTERS)
            for outcome in rng.sample(OUTCOMES, rng.choice((1, 1, 1, 2))):
                flows.append(
                    (
                        f"b{i}",
                        at,
                        exporter,
                        importer,
                        origin,
                        destination,
                        outcome,
                        rng.randint(1, 500),
                        i,
                    )
                )
            for rule in rng.sample(RULES, rng.choice((1, 2, 3))):
                rules.append((f"b{i}", at, exporter, importer, origin, rule, rng.randint(1, 500)))
        with store.transaction():
            store._many(flow_sql, flows)  # bulk load, for the benchmark only
            store._many(rule_sql, rules)
    with store.transaction():  # the whole-hub totals, as put_batch_result keeps them
        for sql in ROLLUPS:
            store._run(sql)


def _result(i: int, at: datetime) -> BatchResult:
    decisions = [
        Decision(
            outcome=o,  # type: ignore[arg-type]
            rule_ids=(RULES[n], RULES[n + 1]),
            facts={"origin": "CN", "destination": "VN"},
        )
        for n, o in enumerate(("allow", "allow_transformed", "hold"))
    ]
    chosen = tuple(decisions[j % 3] for j in range(500))
    outcomes = {o: sum(d.outcome == o for d in chosen) for o in OUTCOMES}
    return BatchResult(
        batch_id=f"b{i}",
        exporter=EXPORTERS[1],
        importer=IMPORTERS[1],
        product="logistics.waybill",
        purpose="logistics_operations",
        records=500,
        outcomes=outcomes,
        decisions=chosen,
        envelope_id=None,
        held_id=None,
        ledger_index=i,
        policy_version="v1",
        committed_at=at,
    )


def median_ms(run: Callable[[], object], rounds: int = 5) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(Path(tmp) / "bench.db")
        started = time.perf_counter()
        fill(store, args.batches)
        print(f"filled {args.batches:,} batches in {time.perf_counter() - started:.1f} s")
        end = START + timedelta(days=365)
        month = (end - timedelta(days=30), end)
        year = (START, end)
        exporter = EXPORTERS[0]
        cases: list[tuple[str, Callable[[], object]]] = [
            (
                "corridors, 30 days",
                lambda: store.flow_counts(since=month[0], until=month[1], limit=5000),
            ),
            (
                "corridors, 366 days",
                lambda: store.flow_counts(since=year[0], until=year[1], limit=5000),
            ),
            (
                "corridors, 366 days, one exporter",
                lambda: store.flow_counts(
                    since=year[0], until=year[1], exporter=exporter, limit=5000
                ),
            ),
            ("rules, 30 days", lambda: store.rule_counts(since=month[0], until=month[1])),
            ("rules, 366 days", lambda: store.rule_counts(since=year[0], until=year[1])),
            (
                "ledger growth, 366 days by day",
                lambda: store.ledger_growth(
                    since=year[0], until=year[1], bucket_seconds=86_400, limit=5000
                ),
            ),
        ]
        for name, run in cases:
            print(f"{name:40s} {median_ms(run):9.1f} ms")
        puts = [
            _result(i, end - timedelta(hours=1)) for i in range(args.batches, args.batches + 500)
        ]
        # In one transaction, as the pipeline commits a batch: no fsync in the figures.
        started = time.perf_counter()
        with store.transaction():
            for result in puts:
                store.put_batch_result(result)
        each = (time.perf_counter() - started) / len(puts) * 10**6
        started = time.perf_counter()
        with store.transaction():
            for result in puts:
                store._put_stat_rows(result)  # again: replaces its rows, the worst case
        rows = (time.perf_counter() - started) / len(puts) * 10**6
        print(
            f"put_batch_result (500 records, 3 decisions): {each:,.0f} µs per batch, "
            f"of which the aggregate rows about {rows:,.0f} µs"
        )
        store.close()
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
