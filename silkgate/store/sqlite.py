"""SQLite Store: the embedded default and the home of the ledger.

WAL mode with ``synchronous=FULL``: a commit is on disk when ``transaction()`` returns.
One connection guarded by one RLock (SQLite serializes writers anyway); the outermost
``transaction()`` is ``BEGIN IMMEDIATE`` so the write lock is taken up front and the
transaction never fails half-way on a lock upgrade. Nested blocks are savepoints. Structs are
msgpack blobs next to the indexed columns the queries filter on.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from silkgate.errors import ConfigError, ConflictError, NotFoundError, StoreError
from silkgate.model import Agreement, BatchResult, Filing, Participant, Receipt
from silkgate.store import stats
from silkgate.store._common import check_paging, to_us
from silkgate.store.base import (
    DecisionFact,
    EnvelopeState,
    NodeKey,
    OutboxMessage,
    PushEndpoint,
    StoredEnvelope,
)
from silkgate.store.migrations import (
    MIGRATIONS,
    STATS_VERSION,
    Migration,
    current_version,
    migrate,
)
from silkgate.store.registry_sql import SqlRegistryReads
from silkgate.store.rows import (
    ENVELOPE_COLUMNS,
    FACTS_PER_ROW,
    compact_result,
    decode_blob,
    envelope_from_row,
    envelope_row,
    fact_groups,
    facts_blob,
    facts_from_blob,
    push_endpoint_from_row,
    result_from_blob,
    where_equal,
)
from silkgate.store.stats_sql import SqlStatsReads

T = TypeVar("T")
_FACT_PAGE = 100  # rows of decision facts (one per batch) read per query
_CHUNK = 500  # rows per IN-list; well under SQLite's bound-parameter limit
_encoder = msgspec.msgpack.Encoder()
PAGE_SIZE = 4096  # bytes, for a new database (see _configure)
CACHE_KIB = 2000  # page cache per connection, KiB (SQLite's default)


class SqliteStore(SqlStatsReads, SqlRegistryReads):
    _sql_mark = "?"
    _sql_collate = "BINARY"

    def __init__(self, path: str | Path, *, migrations: Sequence[Migration] = MIGRATIONS) -> None:
        """Open (creating if needed) the database at `path` and apply pending migrations.

        `migrations` exists for tests of the upgrade path; callers leave it alone.
        """
        self.path = str(path)
        _check_parent(self.path)
        self._lock = threading.RLock()
        self._depth = 0
        try:
            self._conn = sqlite3.connect(
                self.path, check_same_thread=False, isolation_level=None, timeout=30.0
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open SQLite database {self.path}: {exc}") from exc
        try:
            self._configure()
            with _translate(self.path):
                known = self._conn.execute(
                    "SELECT 1 FROM sqlite_master WHERE name = 'schema_version'"
                ).fetchone()
                before = current_version(self._conn) if known else 0
                after = migrate(self._conn, migrations)
            if 0 < before < STATS_VERSION <= after:
                self._backfill_stats()
        except BaseException:
            self._conn.close()
            raise

    def _configure(self) -> None:
        with _translate(self.path):
            # A page size takes effect only in a database with nothing in it yet (and before
            # WAL mode is entered): an existing database keeps the one it was created with.
            if self._conn.execute("PRAGMA page_count").fetchone()[0] == 0:
                self._conn.execute(f"PRAGMA page_size={PAGE_SIZE}")
            self._conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
            self._conn.execute("PRAGMA journal_mode=WAL")
            # FULL: the WAL is fsynced on every commit, so the ledger survives power loss.
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute("PRAGMA foreign_keys=ON")

    # -- lifecycle ---------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._lock:
            depth = self._depth
            self._run("BEGIN IMMEDIATE" if depth == 0 else f"SAVEPOINT sp{depth}")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth = depth
                self._undo(depth)
                raise
            self._depth = depth
            self._finish(depth)

    def _undo(self, depth: int) -> None:
        if depth == 0:
            self._run("ROLLBACK")
        else:
            self._run(f"ROLLBACK TO sp{depth}")
            self._run(f"RELEASE sp{depth}")

    def _finish(self, depth: int) -> None:
        if depth > 0:
            self._run(f"RELEASE sp{depth}")
            return
        try:
            self._run("COMMIT")
        except BaseException:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def schema_version(self) -> int:
        with self._lock, _translate(self.path):
            return current_version(self._conn)

    # -- low-level helpers (all SQL goes through these, under the lock) -----------------
    def _run(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        with self._lock, _translate(self.path):
            return self._conn.execute(sql, params)

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._lock, _translate(self.path):
            return self._conn.execute(sql, params).fetchall()

    def _many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self._lock, _translate(self.path):
            self._conn.executemany(sql, rows)

    def _one(self, sql: str, params: Sequence[Any], what: str, key: object) -> Any:
        rows = self._rows(sql, params)
        if not rows:
            raise NotFoundError(f"no {what} {key!r}")
        return rows[0]

    # -- registry ----------------------------------------------------------------------
    def put_participant(self, participant: Participant) -> None:
        self._run(
            "INSERT OR REPLACE INTO participants (id, data) VALUES (?, ?)",
            (participant.id, _encoder.encode(participant)),
        )

    def get_participant(self, participant_id: str) -> Participant:
        row = self._one(
            "SELECT data FROM participants WHERE id = ?",
            (participant_id,),
            "participant",
            participant_id,
        )
        return decode_blob(row[0], Participant)

    def put_agreement(self, agreement: Agreement) -> None:
        self._run(
            "INSERT OR REPLACE INTO agreements (id, exporter, importer, data) VALUES (?, ?, ?, ?)",
            (agreement.id, agreement.exporter, agreement.importer, _encoder.encode(agreement)),
        )

    def get_agreement(self, agreement_id: str) -> Agreement:
        row = self._one(
            "SELECT data FROM agreements WHERE id = ?", (agreement_id,), "agreement", agreement_id
        )
        return decode_blob(row[0], Agreement)

    def put_filing(self, filing: Filing) -> None:
        self._run(
            "INSERT OR REPLACE INTO filings (id, exporter, data) VALUES (?, ?, ?)",
            (filing.id, filing.exporter, _encoder.encode(filing)),
        )

    def get_idempotency(self, scope: str, key: str) -> tuple[bytes, str] | None:
        rows = self._rows(
            "SELECT digest, batch_id FROM idempotency WHERE scope = ? AND key = ?", (scope, key)
        )
        return (bytes(rows[0][0]), str(rows[0][1])) if rows else None

    def put_idempotency(self, scope: str, key: str, digest: bytes, batch_id: str) -> None:
        with self.transaction():
            existing = self.get_idempotency(scope, key)
            if existing is not None and existing != (digest, batch_id):
                raise ConflictError(
                    f"idempotency key {key!r} of {scope!r} was already used for batch "
                    f"{existing[1]!r} with a different request; use a new key for a "
                    "different request"
                )
            self._run(
                "INSERT OR REPLACE INTO idempotency (scope, key, digest, batch_id) "
                "VALUES (?, ?, ?, ?)",
                (scope, key, digest, batch_id),
            )

    def put_batch_result(self, result: BatchResult) -> None:
        row = (
            result.exporter,
            result.importer,
            to_us(result.committed_at),
            _encoder.encode(compact_result(result)),
            result.batch_id,
        )
        with self.transaction():
            added = self._run(
                "INSERT INTO batch_results (exporter, importer, committed_us, data, batch_id) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (batch_id) DO NOTHING",
                row,
            ).rowcount
            if added != 1:  # stored before: replaced, with its aggregate rows
                self._run(
                    "UPDATE batch_results SET exporter = ?, importer = ?, committed_us = ?, "
                    "data = ? WHERE batch_id = ?",
                    row,
                )
            self._put_stat_rows(result, new=added == 1)

    def get_batch_result(self, batch_id: str) -> BatchResult:
        row = self._one(
            "SELECT data FROM batch_results WHERE batch_id = ?", (batch_id,), "batch", batch_id
        )
        return result_from_blob(row[0])

    def list_batch_results(
        self,
        *,
        exporter: str | None = None,
        importer: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[BatchResult]:
        check_paging(limit, offset)
        where, params = where_equal("?", exporter=exporter, importer=importer)
        rows = self._rows(
            f"SELECT data FROM batch_results{where} "
            "ORDER BY committed_us DESC, seq DESC LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return [result_from_blob(r[0]) for r in rows]

    # -- counters ----------------------------------------------------------------------
    def known_subjects(
        self, exporter: str, year: int, category: str, subject_hashes: Sequence[bytes]
    ) -> set[bytes]:
        found: set[bytes] = set()
        unique = list(dict.fromkeys(subject_hashes))
        for chunk in _chunks(unique, _CHUNK):
            marks = ",".join("?" * len(chunk))
            rows = self._rows(
                "SELECT subject_hash FROM subjects WHERE exporter = ? AND year = ? "
                f"AND category = ? AND subject_hash IN ({marks})",
                [exporter, year, category, *chunk],
            )
            found.update(bytes(r[0]) for r in rows)
        return found

    def add_subjects(
        self, exporter: str, year: int, category: str, subject_hashes: Sequence[bytes]
    ) -> int:
        with self.transaction():
            before = self._conn.total_changes
            self._many(
                "INSERT OR IGNORE INTO subjects (exporter, year, category, subject_hash) "
                "VALUES (?, ?, ?, ?)",
                ((exporter, year, category, h) for h in subject_hashes),
            )
            new = self._conn.total_changes - before
            if new:
                self._run(
                    "INSERT INTO subject_totals (exporter, year, category, n) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (exporter, year, category) DO UPDATE SET n = n + excluded.n",
                    (exporter, year, category, new),
                )
            return new

    def subject_count(self, exporter: str, year: int, category: str) -> int:
        rows = self._rows(
            "SELECT n FROM subject_totals WHERE exporter = ? AND year = ? AND category = ?",
            (exporter, year, category),
        )
        return int(rows[0][0]) if rows else 0

    def subject_counts(self, *, year: int) -> dict[tuple[str, str], int]:
        rows = self._rows(
            "SELECT exporter, category, n FROM subject_totals WHERE year = ? AND n > 0", (year,)
        )
        return {(str(e), str(c)): int(n) for e, c, n in rows}

    # -- mailbox -----------------------------------------------------------------------
    def put_envelope(self, envelope: StoredEnvelope) -> None:
        self._run(
            "INSERT OR REPLACE INTO envelopes (id, batch_id, exporter, importer, state, "
            "created_us, expires_us, attempts, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            envelope_row(envelope),
        )

    def get_envelope(self, envelope_id: str) -> StoredEnvelope:
        row = self._one(
            f"SELECT {ENVELOPE_COLUMNS} FROM envelopes WHERE id = ?",
            (envelope_id,),
            "envelope",
            envelope_id,
        )
        return envelope_from_row(row)

    def list_envelopes(
        self,
        *,
        importer: str | None = None,
        exporter: str | None = None,
        state: EnvelopeState | None = None,
        limit: int = 100,
        after: str | None = None,
    ) -> list[StoredEnvelope]:
        check_paging(limit)
        with self._lock:  # the cursor row and the page must come from one snapshot
            where, params = where_equal("?", importer=importer, exporter=exporter, state=state)
            if after is not None:
                cursor = self._one(
                    "SELECT created_us, id FROM envelopes WHERE id = ?", (after,), "envelope", after
                )
                where += (" AND" if where else " WHERE") + " (created_us, id) > (?, ?)"
                params = [*params, cursor[0], cursor[1]]
            rows = self._rows(
                f"SELECT {ENVELOPE_COLUMNS} FROM envelopes{where} ORDER BY created_us, id LIMIT ?",
                [*params, limit],
            )
        return [envelope_from_row(r) for r in rows]

    def set_envelope_state(
        self, envelope_id: str, state: EnvelopeState, *, attempts: int | None = None
    ) -> None:
        cur = self._run(
            "UPDATE envelopes SET state = ?, attempts = COALESCE(?, attempts) WHERE id = ?",
            (state, attempts, envelope_id),
        )
        if cur.rowcount == 0:
            raise NotFoundError(f"no envelope {envelope_id!r}")

    def drop_envelope_data(
        self, envelope_ids: Sequence[str], *, state: EnvelopeState, new_state: EnvelopeState
    ) -> int:
        changed = 0
        with self.transaction():
            for chunk in _chunks(list(envelope_ids), _CHUNK):
                marks = ",".join("?" * len(chunk))
                cur = self._run(
                    "UPDATE envelopes SET data = X'', state = ? "
                    f"WHERE id IN ({marks}) AND state = ? AND length(data) > 0",
                    [new_state, *chunk, state],
                )
                changed += int(cur.rowcount)
        return changed

    # -- push delivery -----------------------------------------------------------------
    def put_push_endpoint(self, endpoint: PushEndpoint) -> None:
        self._run(
            "INSERT OR REPLACE INTO push_endpoints (importer, url, created_us) VALUES (?, ?, ?)",
            (endpoint.importer, endpoint.url, to_us(endpoint.created_at)),
        )

    def get_push_endpoint(self, importer: str) -> PushEndpoint:
        row = self._one(
            "SELECT importer, url, created_us FROM push_endpoints WHERE importer = ?",
            (importer,),
            "push endpoint of importer",
            importer,
        )
        return push_endpoint_from_row(row)

    def delete_push_endpoint(self, importer: str) -> bool:
        cur = self._run("DELETE FROM push_endpoints WHERE importer = ?", (importer,))
        return int(cur.rowcount) > 0

    def list_push_endpoints(self) -> list[PushEndpoint]:
        rows = self._rows("SELECT importer, url, created_us FROM push_endpoints ORDER BY importer")
        return [push_endpoint_from_row(r) for r in rows]

    # -- replay protection -------------------------------------------------------------
    def remember_nonce(self, nonce: str, until: datetime) -> bool:
        # One statement: atomic across every process sharing the database file.
        cur = self._run(
            "INSERT OR IGNORE INTO nonces (nonce, until_us) VALUES (?, ?)", (nonce, to_us(until))
        )
        return int(cur.rowcount) == 1

    def purge_nonces(self, *, expired_before: datetime) -> int:
        cur = self._run("DELETE FROM nonces WHERE until_us < ?", (to_us(expired_before),))
        return int(cur.rowcount)

    # -- receipts ----------------------------------------------------------------------
    def put_receipt(self, receipt: Receipt) -> None:
        self._run(
            "INSERT INTO receipts (envelope_id, batch_id, data) VALUES (?, ?, ?) "
            "ON CONFLICT (envelope_id) DO UPDATE SET batch_id = excluded.batch_id, "
            "data = excluded.data",
            (receipt.envelope_id, receipt.batch_id, _encoder.encode(receipt)),
        )

    def get_receipt(self, envelope_id: str) -> Receipt:
        row = self._one(
            "SELECT data FROM receipts WHERE envelope_id = ?",
            (envelope_id,),
            "receipt for envelope",
            envelope_id,
        )
        return decode_blob(row[0], Receipt)

    def list_receipts(self, *, batch_id: str | None = None, limit: int = 1000) -> list[Receipt]:
        check_paging(limit)
        where, params = where_equal("?", batch_id=batch_id)
        rows = self._rows(
            f"SELECT data FROM receipts{where} ORDER BY rowid LIMIT ?", [*params, limit]
        )
        return [decode_blob(r[0], Receipt) for r in rows]

    # -- ledger ------------------------------------------------------------------------
    def ledger_size(self) -> int:
        rows = self._rows("SELECT MAX(idx) FROM ledger_entries")
        return 0 if rows[0][0] is None else int(rows[0][0]) + 1

    def ledger_append(self, entries: Sequence[bytes], nodes: Mapping[NodeKey, bytes]) -> int:
        with self.transaction():
            first = self.ledger_size()
            self._many(
                "INSERT INTO ledger_entries (idx, data) VALUES (?, ?)",
                zip(range(first, first + len(entries)), entries, strict=True),
            )
            self._put_nodes(nodes)
            return first

    def _put_nodes(self, nodes: Mapping[NodeKey, bytes]) -> None:
        rows = [(level, idx, digest) for (level, idx), digest in nodes.items()]
        try:
            with self._lock:
                self._conn.executemany(
                    "INSERT INTO ledger_nodes (level, idx, hash) VALUES (?, ?, ?)", rows
                )
        except sqlite3.IntegrityError:
            # Some nodes exist already: fine if identical, fatal if they differ.
            stored = self.ledger_nodes(list(nodes))
            for key, digest in stored.items():
                if digest != nodes[key]:
                    raise StoreError(
                        f"ledger node {key} already stored with a different hash"
                    ) from None
            self._many(
                "INSERT OR IGNORE INTO ledger_nodes (level, idx, hash) VALUES (?, ?, ?)", rows
            )

    def ledger_nodes(self, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
        found: dict[NodeKey, bytes] = {}
        with self._lock, _translate(self.path):
            query = "SELECT hash FROM ledger_nodes WHERE level = ? AND idx = ?"
            for level, idx in keys:
                row = self._conn.execute(query, (level, idx)).fetchone()
                if row is not None:
                    found[(level, idx)] = bytes(row[0])
        return found

    def ledger_entries(self, start: int, end: int) -> list[bytes]:
        rows = self._rows(
            "SELECT data FROM ledger_entries WHERE idx >= ? AND idx < ? ORDER BY idx", (start, end)
        )
        return [bytes(r[0]) for r in rows]

    def put_checkpoint(self, size: int, note: bytes) -> None:
        self._run("INSERT OR REPLACE INTO checkpoints (size, note) VALUES (?, ?)", (size, note))

    def latest_checkpoint(self) -> tuple[int, bytes] | None:
        rows = self._rows("SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1")
        return (int(rows[0][0]), bytes(rows[0][1])) if rows else None

    def get_checkpoint(self, size: int) -> bytes:
        row = self._one(
            "SELECT note FROM checkpoints WHERE size = ?", (size,), "checkpoint of size", size
        )
        return bytes(row[0])

    # -- regulatory sandbox ------------------------------------------------------------
    def put_facts(self, rows: Sequence[DecisionFact]) -> None:
        # One row per run of facts with the same time (a batch): far fewer inserts.
        groups = fact_groups(rows)
        self._many(
            "INSERT INTO decision_facts (time_us, data) VALUES (?, ?)",
            ((to_us(g[0].time), facts_blob(g)) for g in groups),
        )

    def iter_facts(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> Iterator[DecisionFact]:
        low = to_us(since) if since is not None else -(2**62)
        high = to_us(until) if until is not None else 2**62
        after = 0
        while True:
            rows = self._rows(
                "SELECT seq, data FROM decision_facts WHERE seq > ? AND time_us >= ? "
                "AND time_us < ? ORDER BY seq LIMIT ?",
                (after, low, high, _FACT_PAGE),
            )
            for seq, blob in rows:
                yield from facts_from_blob(blob, int(seq) * FACTS_PER_ROW)
            if len(rows) < _FACT_PAGE:
                return
            after = int(rows[-1][0])

    def put_sandbox_doc(self, kind: str, key: str, data: bytes) -> None:
        self._run(
            "INSERT OR REPLACE INTO sandbox_docs (kind, key, data) VALUES (?, ?, ?)",
            (kind, key, data),
        )

    def get_sandbox_doc(self, kind: str, key: str, *, shared: bool = False) -> bytes | None:
        rows = self._rows("SELECT data FROM sandbox_docs WHERE kind = ? AND key = ?", (kind, key))
        return bytes(rows[0][0]) if rows else None

    def list_sandbox_docs(self, kind: str) -> list[tuple[str, bytes]]:
        rows = self._rows("SELECT key, data FROM sandbox_docs WHERE kind = ? ORDER BY key", (kind,))
        return [(str(k), bytes(d)) for k, d in rows]

    # -- outbox ------------------------------------------------------------------------
    def put_outbox(self, subject: str, message_id: str, payload: bytes) -> None:
        self._run(
            "INSERT INTO outbox (subject, message_id, payload) VALUES (?, ?, ?)",
            (subject, message_id, payload),
        )

    def take_outbox(self, limit: int = 100) -> list[OutboxMessage]:
        check_paging(limit)
        rows = self._rows(
            "SELECT seq, subject, message_id, payload FROM outbox ORDER BY seq LIMIT ?", (limit,)
        )
        return [
            OutboxMessage(seq=int(s), subject=str(sub), message_id=str(m), payload=bytes(p))
            for s, sub, m, p in rows
        ]

    def delete_outbox(self, seqs: Sequence[int]) -> None:
        """Forget published messages. On its own (not inside a caller's transaction) this
        commit is not fsynced (``synchronous=NORMAL`` for it): losing it in a power failure
        only means the sweep publishes those messages again, and message ids deduplicate.
        The next FULL commit makes it durable with everything before it (WAL order)."""
        with self._lock:
            relaxed = self._depth == 0
            if relaxed:
                self._run("PRAGMA synchronous=NORMAL")
            try:
                with self.transaction():
                    self._many("DELETE FROM outbox WHERE seq = ?", ((s,) for s in seqs))
            finally:
                if relaxed:
                    self._run("PRAGMA synchronous=FULL")

    # -- aggregates (silkgate.store.stats) ----------------------------------------------
    def _put_stat_rows(self, result: BatchResult, *, new: bool = False) -> None:
        """The batch's aggregate rows, replacing any it had, and the whole-hub totals.
        `new`: the batch result was not stored before, so it has no aggregate rows yet (they
        are only written with it) and there are none to read."""
        batch = (result.batch_id,)
        old_flows = [] if new else self._rows(stats.OLD_FLOWS.format(mark="?"), batch)
        old_rules = [] if new else self._rows(stats.OLD_RULES.format(mark="?"), batch)
        flows, rules = stats.stat_rows(result)
        change = stats.rollup(old_flows, old_rules, flows, rules)
        if change.replaces:
            self._run("DELETE FROM batch_flows WHERE batch_id = ?", batch)
            self._run("DELETE FROM batch_rules WHERE batch_id = ?", batch)
        self._many(stats.insert_sql(stats.FLOW_INSERT, "?", 9), stats.as_params(flows))
        self._many(stats.insert_sql(stats.RULE_INSERT, "?", 7), stats.as_params(rules))
        self._many(stats.insert_sql(stats.FLOW_DAY_UPSERT, "?", 6), change.flows)
        self._many(stats.insert_sql(stats.RULE_DAY_UPSERT, "?", 5), change.rules)
        self._many(stats.HOUR_UPSERT.format(mark="?", greatest="MAX"), change.tops)
        for hour in change.hours:
            delete, insert = stats.hour_params(hour)
            self._run(stats.HOUR_DELETE.format(mark="?"), delete)
            self._run(stats.HOUR_INSERT.format(mark="?"), insert)


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _check_parent(path: str) -> None:
    if path == ":memory:" or path.startswith("file:"):
        return
    parent = Path(path).parent
    if not parent.is_dir():
        raise ConfigError(
            f"directory {parent} for the database {path} does not exist; "
            "create it (or run `silkgate init`) first"
        )


@contextmanager
def _translate(path: str) -> Iterator[None]:
    """Backend failures become StoreError, naming the database."""
    try:
        yield
    except sqlite3.Error as exc:
        raise StoreError(f"SQLite error on {path}: {exc}") from exc
