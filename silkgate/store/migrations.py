"""Versioned schema migrations for the SQLite store.

Each step has a number (1, 2, 3, ...) and a list of SQL statements. Steps are applied in
order, each in its own transaction together with its row in ``schema_version``, so a crash
leaves the database at a whole version. Never edit a released step: append a new one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime

import msgspec

from silkgate.errors import StoreError


class Migration(msgspec.Struct, frozen=True):
    version: int
    description: str
    statements: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "registry, batches, counters, mailbox, receipts, ledger, outbox",
        (
            "CREATE TABLE participants (id TEXT PRIMARY KEY, data BLOB NOT NULL)",
            """CREATE TABLE agreements (
                id TEXT PRIMARY KEY, exporter TEXT NOT NULL, importer TEXT NOT NULL,
                data BLOB NOT NULL)""",
            "CREATE INDEX agreements_exporter ON agreements (exporter)",
            "CREATE INDEX agreements_importer ON agreements (importer)",
            """CREATE TABLE filings (
                id TEXT PRIMARY KEY, exporter TEXT NOT NULL, data BLOB NOT NULL)""",
            "CREATE INDEX filings_exporter ON filings (exporter)",
            """CREATE TABLE idempotency (
                scope TEXT NOT NULL, key TEXT NOT NULL, digest BLOB NOT NULL,
                batch_id TEXT NOT NULL, PRIMARY KEY (scope, key)) WITHOUT ROWID""",
            """CREATE TABLE batch_results (
                seq INTEGER PRIMARY KEY, batch_id TEXT NOT NULL UNIQUE,
                exporter TEXT NOT NULL, importer TEXT NOT NULL,
                committed_us INTEGER NOT NULL, data BLOB NOT NULL)""",
            "CREATE INDEX batch_results_time ON batch_results (committed_us, seq)",
            "CREATE INDEX batch_results_exporter ON batch_results (exporter, committed_us, seq)",
            "CREATE INDEX batch_results_importer ON batch_results (importer, committed_us, seq)",
            """CREATE TABLE subjects (
                exporter TEXT NOT NULL, year INTEGER NOT NULL, category TEXT NOT NULL,
                subject_hash BLOB NOT NULL,
                PRIMARY KEY (exporter, year, category, subject_hash)) WITHOUT ROWID""",
            # Running totals, so counting does not scan millions of subject rows.
            """CREATE TABLE subject_totals (
                exporter TEXT NOT NULL, year INTEGER NOT NULL, category TEXT NOT NULL,
                n INTEGER NOT NULL, PRIMARY KEY (exporter, year, category)) WITHOUT ROWID""",
            """CREATE TABLE envelopes (
                id TEXT PRIMARY KEY, batch_id TEXT NOT NULL, exporter TEXT NOT NULL,
                importer TEXT NOT NULL, state TEXT NOT NULL, created_us INTEGER NOT NULL,
                expires_us INTEGER NOT NULL, attempts INTEGER NOT NULL, data BLOB NOT NULL)""",
            "CREATE INDEX envelopes_order ON envelopes (created_us, id)",
            "CREATE INDEX envelopes_importer ON envelopes (importer, state, created_us, id)",
            "CREATE INDEX envelopes_exporter ON envelopes (exporter, created_us, id)",
            "CREATE INDEX envelopes_expiry ON envelopes (expires_us)",
            """CREATE TABLE receipts (
                envelope_id TEXT NOT NULL UNIQUE, batch_id TEXT NOT NULL, data BLOB NOT NULL)""",
            "CREATE INDEX receipts_batch ON receipts (batch_id)",
            "CREATE TABLE ledger_entries (idx INTEGER PRIMARY KEY, data BLOB NOT NULL)",
            """CREATE TABLE ledger_nodes (
                level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL,
                PRIMARY KEY (level, idx)) WITHOUT ROWID""",
            "CREATE TABLE checkpoints (size INTEGER PRIMARY KEY, note BLOB NOT NULL)",
            """CREATE TABLE outbox (
                seq INTEGER PRIMARY KEY AUTOINCREMENT, subject TEXT NOT NULL,
                message_id TEXT NOT NULL, payload BLOB NOT NULL)""",
        ),
    ),
    Migration(
        2,
        "regulatory sandbox: decision facts and sandbox documents",
        (
            """CREATE TABLE decision_facts (
                seq INTEGER PRIMARY KEY, time_us INTEGER NOT NULL, data BLOB NOT NULL)""",
            "CREATE INDEX decision_facts_time ON decision_facts (time_us, seq)",
            """CREATE TABLE sandbox_docs (
                kind TEXT NOT NULL, key TEXT NOT NULL, data BLOB NOT NULL,
                PRIMARY KEY (kind, key)) WITHOUT ROWID""",
        ),
    ),
    Migration(
        3,
        "push delivery registrations; request nonces shared by API processes",
        (
            """CREATE TABLE push_endpoints (
                importer TEXT PRIMARY KEY, url TEXT NOT NULL, created_us INTEGER NOT NULL)""",
            """CREATE TABLE nonces (
                nonce TEXT PRIMARY KEY, until_us INTEGER NOT NULL) WITHOUT ROWID""",
            "CREATE INDEX nonces_until ON nonces (until_us)",
        ),
    ),
    Migration(
        4,
        "aggregates over batches: outcomes and rules per batch (silkgate.store.stats)",
        (
            """CREATE TABLE batch_flows (
                batch_id TEXT NOT NULL, committed_us INTEGER NOT NULL, exporter TEXT NOT NULL,
                importer TEXT NOT NULL, origin TEXT NOT NULL, destination TEXT NOT NULL,
                outcome TEXT NOT NULL, records INTEGER NOT NULL, ledger_index INTEGER,
                PRIMARY KEY (batch_id, outcome)) WITHOUT ROWID""",
            # Covering: the regulator's whole-hub figures are read from the index alone.
            """CREATE INDEX batch_flows_time ON batch_flows (
                committed_us, origin, destination, outcome, records, ledger_index)""",
            "CREATE INDEX batch_flows_exporter ON batch_flows (exporter, committed_us)",
            "CREATE INDEX batch_flows_importer ON batch_flows (importer, committed_us)",
            """CREATE TABLE batch_rules (
                batch_id TEXT NOT NULL, committed_us INTEGER NOT NULL, exporter TEXT NOT NULL,
                importer TEXT NOT NULL, origin TEXT NOT NULL, rule_id TEXT NOT NULL,
                records INTEGER NOT NULL, PRIMARY KEY (batch_id, rule_id)) WITHOUT ROWID""",
            "CREATE INDEX batch_rules_time ON batch_rules (committed_us, origin, rule_id, records)",
            "CREATE INDEX batch_rules_exporter ON batch_rules (exporter, committed_us)",
            "CREATE INDEX batch_rules_importer ON batch_rules (importer, committed_us)",
            # Whole-hub totals per UTC day (and the ledger's top index per hour), kept with
            # the rows above: what a regulator's unfiltered view reads.
            """CREATE TABLE flow_days (
                day INTEGER NOT NULL, origin TEXT NOT NULL, destination TEXT NOT NULL,
                outcome TEXT NOT NULL, batches INTEGER NOT NULL, records INTEGER NOT NULL,
                PRIMARY KEY (day, origin, destination, outcome))""",
            """CREATE TABLE rule_days (
                day INTEGER NOT NULL, origin TEXT NOT NULL, rule_id TEXT NOT NULL,
                batches INTEGER NOT NULL, records INTEGER NOT NULL,
                PRIMARY KEY (day, origin, rule_id))""",
            "CREATE TABLE ledger_hours (hour INTEGER PRIMARY KEY, top INTEGER NOT NULL)",
        ),
    ),
)
STATS_VERSION = 4  # from this version on, every batch result has its rows in batch_flows/rules

LATEST_VERSION: int = MIGRATIONS[-1].version

_VERSION_TABLE = """CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)"""


def current_version(conn: sqlite3.Connection) -> int:
    """The highest applied version (0 for a fresh database)."""
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def migrate(conn: sqlite3.Connection, migrations: Sequence[Migration] = MIGRATIONS) -> int:
    """Bring the database up to the last of `migrations`; returns the resulting version.

    `conn` must be in autocommit mode (isolation_level=None): each step runs in its own
    BEGIN IMMEDIATE transaction and re-reads the version, so concurrent openers apply each
    step once. A database newer than `migrations` is refused rather than touched.
    """
    _check_sequence(migrations)
    latest = migrations[-1].version if migrations else 0
    conn.execute(_VERSION_TABLE)
    _refuse_newer(conn, latest)
    for step in migrations:
        if step.version <= current_version(conn):
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            if step.version > current_version(conn):
                _apply(conn, step)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return current_version(conn)


def _apply(conn: sqlite3.Connection, step: Migration) -> None:
    for statement in step.statements:
        conn.execute(statement)
    conn.execute(
        "INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)",
        (step.version, step.description, datetime.now(UTC).isoformat()),
    )


def _refuse_newer(conn: sqlite3.Connection, latest: int) -> None:
    applied = current_version(conn)
    if applied > latest:
        raise StoreError(
            f"database schema version {applied} is newer than this silkgate supports "
            f"({latest}); upgrade silkgate, or open a database made by this version"
        )


def _check_sequence(migrations: Sequence[Migration]) -> None:
    for expected, step in enumerate(migrations, start=1):
        if step.version != expected:
            raise StoreError(
                f"migration list out of order: expected {expected}, got {step.version}"
            )
