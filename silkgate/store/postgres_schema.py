"""Versioned schema migrations for the PostgreSQL store.

The same version numbers as the SQLite store's (silkgate.store.migrations): version N
holds the same tables on both engines, in each engine's dialect. Steps are applied in
order, each in its own transaction together with its row in ``schema_version``, under a
session advisory lock so that several nodes starting at once apply each step exactly
once. Never edit a released step: append a new one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import psycopg

from silkgate.errors import StoreError
from silkgate.store.migrations import LATEST_VERSION, Migration

MIGRATION_LOCK = 0x5116_6A7E_0000_0001  # the advisory lock key held while migrating

PG_MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "registry, batches, counters, mailbox, receipts, ledger, outbox",
        (
            "CREATE TABLE participants (id TEXT PRIMARY KEY, data BYTEA NOT NULL)",
            """CREATE TABLE agreements (
                id TEXT PRIMARY KEY, exporter TEXT NOT NULL, importer TEXT NOT NULL,
                data BYTEA NOT NULL)""",
            "CREATE INDEX agreements_exporter ON agreements (exporter)",
            "CREATE INDEX agreements_importer ON agreements (importer)",
            """CREATE TABLE filings (
                id TEXT PRIMARY KEY, exporter TEXT NOT NULL, data BYTEA NOT NULL)""",
            "CREATE INDEX filings_exporter ON filings (exporter)",
            """CREATE TABLE idempotency (
                scope TEXT NOT NULL, key TEXT NOT NULL, digest BYTEA NOT NULL,
                batch_id TEXT NOT NULL, PRIMARY KEY (scope, key))""",
            """CREATE TABLE batch_results (
                seq BIGSERIAL PRIMARY KEY, batch_id TEXT NOT NULL UNIQUE,
                exporter TEXT NOT NULL, importer TEXT NOT NULL,
                committed_us BIGINT NOT NULL, data BYTEA NOT NULL)""",
            "CREATE INDEX batch_results_time ON batch_results (committed_us, seq)",
            "CREATE INDEX batch_results_exporter ON batch_results (exporter, committed_us, seq)",
            "CREATE INDEX batch_results_importer ON batch_results (importer, committed_us, seq)",
            """CREATE TABLE subjects (
                exporter TEXT NOT NULL, year INTEGER NOT NULL, category TEXT NOT NULL,
                subject_hash BYTEA NOT NULL,
                PRIMARY KEY (exporter, year, category, subject_hash))""",
            """CREATE TABLE subject_totals (
                exporter TEXT NOT NULL, year INTEGER NOT NULL, category TEXT NOT NULL,
                n BIGINT NOT NULL, PRIMARY KEY (exporter, year, category))""",
            """CREATE TABLE envelopes (
                id TEXT PRIMARY KEY, batch_id TEXT NOT NULL, exporter TEXT NOT NULL,
                importer TEXT NOT NULL, state TEXT NOT NULL, created_us BIGINT NOT NULL,
                expires_us BIGINT NOT NULL, attempts INTEGER NOT NULL, data BYTEA NOT NULL)""",
            "CREATE INDEX envelopes_order ON envelopes (created_us, id)",
            "CREATE INDEX envelopes_importer ON envelopes (importer, state, created_us, id)",
            "CREATE INDEX envelopes_exporter ON envelopes (exporter, created_us, id)",
            "CREATE INDEX envelopes_expiry ON envelopes (expires_us)",
            """CREATE TABLE receipts (
                seq BIGSERIAL PRIMARY KEY, envelope_id TEXT NOT NULL UNIQUE,
                batch_id TEXT NOT NULL, data BYTEA NOT NULL)""",
            "CREATE INDEX receipts_batch ON receipts (batch_id)",
            "CREATE TABLE ledger_entries (idx BIGINT PRIMARY KEY, data BYTEA NOT NULL)",
            """CREATE TABLE ledger_nodes (
                level INTEGER NOT NULL, idx BIGINT NOT NULL, hash BYTEA NOT NULL,
                PRIMARY KEY (level, idx))""",
            "CREATE TABLE checkpoints (size BIGINT PRIMARY KEY, note BYTEA NOT NULL)",
            """CREATE TABLE outbox (
                seq BIGSERIAL PRIMARY KEY, subject TEXT NOT NULL,
                message_id TEXT NOT NULL, payload BYTEA NOT NULL)""",
        ),
    ),
    Migration(
        2,
        "regulatory sandbox: decision facts and sandbox documents",
        (
            """CREATE TABLE decision_facts (
                seq BIGSERIAL PRIMARY KEY, time_us BIGINT NOT NULL, data BYTEA NOT NULL)""",
            "CREATE INDEX decision_facts_time ON decision_facts (time_us, seq)",
            """CREATE TABLE sandbox_docs (
                kind TEXT NOT NULL, key TEXT NOT NULL, data BYTEA NOT NULL,
                PRIMARY KEY (kind, key))""",
        ),
    ),
    Migration(
        3,
        "push delivery registrations; request nonces shared by API processes",
        (
            """CREATE TABLE push_endpoints (
                importer TEXT PRIMARY KEY, url TEXT NOT NULL, created_us BIGINT NOT NULL)""",
            "CREATE TABLE nonces (nonce TEXT PRIMARY KEY, until_us BIGINT NOT NULL)",
            "CREATE INDEX nonces_until ON nonces (until_us)",
        ),
    ),
    Migration(
        4,
        "aggregates over batches: outcomes and rules per batch (silkgate.store.stats)",
        (
            """CREATE TABLE batch_flows (
                batch_id TEXT NOT NULL, committed_us BIGINT NOT NULL, exporter TEXT NOT NULL,
                importer TEXT NOT NULL, origin TEXT NOT NULL, destination TEXT NOT NULL,
                outcome TEXT NOT NULL, records BIGINT NOT NULL, ledger_index BIGINT,
                PRIMARY KEY (batch_id, outcome))""",
            # Covering: the regulator's whole-hub figures are read from the index alone.
            """CREATE INDEX batch_flows_time ON batch_flows (
                committed_us, origin, destination, outcome, records, ledger_index)""",
            "CREATE INDEX batch_flows_exporter ON batch_flows (exporter, committed_us)",
            "CREATE INDEX batch_flows_importer ON batch_flows (importer, committed_us)",
            """CREATE TABLE batch_rules (
                batch_id TEXT NOT NULL, committed_us BIGINT NOT NULL, exporter TEXT NOT NULL,
                importer TEXT NOT NULL, origin TEXT NOT NULL, rule_id TEXT NOT NULL,
                records BIGINT NOT NULL, PRIMARY KEY (batch_id, rule_id))""",
            "CREATE INDEX batch_rules_time ON batch_rules (committed_us, origin, rule_id, records)",
            "CREATE INDEX batch_rules_exporter ON batch_rules (exporter, committed_us)",
            "CREATE INDEX batch_rules_importer ON batch_rules (importer, committed_us)",
            # Whole-hub totals per UTC day (and the ledger's top index per hour), kept with
            # the rows above: what a regulator's unfiltered view reads.
            """CREATE TABLE flow_days (
                day BIGINT NOT NULL, origin TEXT NOT NULL, destination TEXT NOT NULL,
                outcome TEXT NOT NULL, batches BIGINT NOT NULL, records BIGINT NOT NULL,
                PRIMARY KEY (day, origin, destination, outcome))""",
            """CREATE TABLE rule_days (
                day BIGINT NOT NULL, origin TEXT NOT NULL, rule_id TEXT NOT NULL,
                batches BIGINT NOT NULL, records BIGINT NOT NULL,
                PRIMARY KEY (day, origin, rule_id))""",
            "CREATE TABLE ledger_hours (hour BIGINT PRIMARY KEY, top BIGINT NOT NULL)",
        ),
    ),
)

if PG_MIGRATIONS[-1].version != LATEST_VERSION:  # pragma: no cover - caught by every test
    raise StoreError("the PostgreSQL schema lags the SQLite schema: add the missing step")

TABLES = (
    "participants", "agreements", "filings", "idempotency", "batch_results", "subjects",
    "subject_totals", "envelopes", "receipts", "ledger_entries", "ledger_nodes", "checkpoints",
    "outbox", "decision_facts", "sandbox_docs", "push_endpoints", "nonces", "batch_flows",
    "batch_rules", "flow_days", "rule_days", "ledger_hours",
)  # fmt: skip

_VERSION_TABLE = """CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)"""


def current_version(conn: psycopg.Connection) -> int:
    """The highest applied version (0 for a fresh database)."""
    exists = conn.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return 0
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def migrate(conn: psycopg.Connection, migrations: Sequence[Migration] = PG_MIGRATIONS) -> int:
    """Bring the database up to the last of `migrations`; returns the resulting version.
    `conn` is in autocommit mode. A database newer than `migrations` is refused."""
    latest = migrations[-1].version if migrations else 0
    conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
    try:
        conn.execute(_VERSION_TABLE)
        applied = current_version(conn)
        if applied > latest:
            raise StoreError(
                f"database schema version {applied} is newer than this silkgate supports "
                f"({latest}); upgrade silkgate, or open a database made by this version"
            )
        for step in migrations:
            if step.version <= current_version(conn):
                continue
            with conn.transaction():
                for statement in step.statements:
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_version (version, description, applied_at) "
                    "VALUES (%s, %s, %s)",
                    (step.version, step.description, datetime.now(UTC).isoformat()),
                )
        return current_version(conn)
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
