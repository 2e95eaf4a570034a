"""Upgrading a database of schema version 3 that already holds batches: migration 4 adds
the aggregate tables, and opening the store writes the rows of every batch committed
before, so the console's aggregates count them (SQLite and PostgreSQL)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import TypedDict

import psycopg
from scale.servers import PostgresServer, fresh_database

from silkgate.model import BatchResult
from silkgate.store import SqliteStore, Store
from silkgate.store.stats import flow_rows, group_flows, group_rules, rule_rows

from .contract.builders import batch


class Span(TypedDict):
    since: datetime
    until: datetime


WIDE = Span(since=datetime(2000, 1, 1, tzinfo=UTC), until=datetime(2100, 1, 1, tzinfo=UTC))
DOWNGRADE = [
    "DROP TABLE batch_flows",
    "DROP TABLE batch_rules",
    "DROP TABLE flow_days",
    "DROP TABLE rule_days",
    "DROP TABLE ledger_hours",
    "DELETE FROM schema_version WHERE version = 4",
]


def _batches(store: Store, n: int) -> list[BatchResult]:
    made = [batch(f"b_{i}", i, exporter=f"p_{i % 3}") for i in range(n)]
    for result in made:
        store.put_batch_result(result)
    return made


def _check(store: Store, made: list[BatchResult]) -> None:
    flows = [row for r in made for row in flow_rows(r)]
    rules = [row for r in made for row in rule_rows(r)]
    assert store.flow_counts(**WIDE, limit=10_000) == group_flows(flows, **WIDE)
    assert store.rule_counts(**WIDE) == group_rules(rules, **WIDE)
    assert sum(f.records for f in store.flow_counts(**WIDE, limit=10_000)) == 2 * len(made)


def test_sqlite_upgrade_backfills(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = SqliteStore(path)
    made = _batches(store, 1234)  # more than one backfill page
    store.close()
    with sqlite3.connect(path) as conn:
        for statement in DOWNGRADE:
            conn.execute(statement)
    reopened = SqliteStore(path)
    try:
        assert reopened.schema_version() == 4
        _check(reopened, made)
    finally:
        reopened.close()


def test_a_fresh_or_current_database_is_not_backfilled_again(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = SqliteStore(path)
    made = _batches(store, 3)
    store.close()
    with sqlite3.connect(path) as conn:  # rows written since are the only ones there
        conn.execute("DELETE FROM batch_flows WHERE batch_id = 'b_0'")
    again = SqliteStore(path)
    try:
        rows = again.flow_counts(**WIDE, party="p_im")  # read from the per-batch rows
        assert sum(f.batches for f in rows) == len(made) - 1
        assert sum(f.records for f in rows) == 2 * (len(made) - 1)
    finally:
        again.close()


def test_postgres_upgrade_backfills(postgres_server: PostgresServer) -> None:
    from silkgate.store.postgres import PostgresStore

    url = fresh_database(postgres_server, "backfill")  # its own: never the shared pool's
    first = PostgresStore(url, max_size=2)
    try:
        made = _batches(first, 612)
    finally:
        first.close()
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in DOWNGRADE:
            conn.execute(statement)
    reopened = PostgresStore(url, max_size=2)
    try:
        assert reopened.schema_version() == 4
        _check(reopened, made)
    finally:
        reopened.close()


def test_an_empty_upgrade_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    SqliteStore(path).close()
    with sqlite3.connect(path) as conn:
        for statement in DOWNGRADE:
            conn.execute(statement)
    reopened = SqliteStore(path)
    assert reopened.flow_counts(**WIDE) == []
    reopened.close()
