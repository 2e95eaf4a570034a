"""PostgreSQL Store: the shared source of truth when several hub processes run at once.

psycopg 3 with a connection pool. Outside a transaction each method borrows a pooled
connection in autocommit mode, so each write commits on its own. ``transaction()`` pins one
pooled connection to the calling thread for the block (READ COMMITTED); nested blocks are
savepoints.

Exactness across processes does not come from one big lock (as SQLite's single writer
gives it) but from transaction-scoped advisory locks, taken by the reads a decision
depends on, inside a transaction, and held until it commits or rolls back
(docs/scale-out.md explains why each is enough):

- counters: ``known_subjects``/``subject_count``/``add_subjects`` lock (exporter, year), so
  two batches of one exporter decide and commit one after the other, each seeing the
  subjects the other counted; batches of different exporters run in parallel;
- ledger: ``ledger_size``/``ledger_append``/``latest_checkpoint`` lock the one ledger, so
  leaves get consecutive indexes in commit order and a checkpoint is signed over a tree no
  other transaction is extending;
- idempotency keys: ``get_idempotency`` locks (scope, key), so a concurrent twin waits for
  the first and then sees its batch;
- sandbox documents (cohort caps, shadow diffs, first transfers): ``get_sandbox_doc`` locks
  (kind, key) and shares (kind); ``list_sandbox_docs`` locks (kind) exclusively.

Under READ COMMITTED each statement sees everything committed before it began, so a read
made after taking the lock sees the last holder's writes. Nonces are one
``INSERT ... ON CONFLICT DO NOTHING``, exact by the primary key.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from typing import Any

import msgspec
import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from silkgate.errors import ConflictError, NotFoundError, StoreError
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
from silkgate.store.migrations import STATS_VERSION, Migration
from silkgate.store.postgres_schema import PG_MIGRATIONS, TABLES, current_version, migrate
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

_FACT_ROWS = 500  # decision-fact rows (one per batch, mostly) per round trip when streaming
_cursor_ids = itertools.count()
_RETRIES = 1  # extra tries after a connection the server dropped (see _begin, _rows)
_encoder = msgspec.msgpack.Encoder()


def lock_key(*parts: object) -> int:
    """A signed 64-bit advisory lock key for a named resource."""
    text = "\x1f".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "big", signed=True)


LEDGER_LOCK = lock_key("silkgate", "ledger")


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    head, sep, tail = url.partition("@")
    if not sep or "://" not in head:
        return url
    scheme, _, userinfo = head.partition("://")
    return f"{scheme}://{userinfo.split(':', 1)[0]}@{tail}"


class AdvisoryLeadership:
    """The lead of `role` among every process on one database: a session advisory lock on
    a connection of its own (see silkgate.store.leader). The session ends with the
    process or its connection, and the lock with it."""

    def __init__(self, url: str, role: str, *, timeout: float = 10.0) -> None:
        self.url, self.role, self.timeout = url, role, timeout
        self.key = lock_key("leader", role)
        self._conn: psycopg.Connection | None = None
        self._leading = False
        self._mutex = threading.Lock()  # a round and a shutdown's release

    @property
    def leading(self) -> bool:
        return self._leading

    @property
    def backend_pid(self) -> int | None:
        """The PostgreSQL backend of the leader's session (None when not connected)."""
        return None if self._conn is None or self._conn.closed else self._conn.info.backend_pid

    def lead(self) -> bool:
        with self._mutex:
            return self._lead()

    def _lead(self) -> bool:
        if self._leading and self._conn is not None:
            try:
                self._conn.execute("SELECT 1")  # the same session: the lock is still ours
                return True
            except psycopg.Error:
                self._drop()  # the session is gone, and the lock with it
                return False  # a round out, so that another process can take over
        try:
            if self._conn is None or self._conn.closed:
                self._conn = psycopg.connect(
                    self.url,
                    autocommit=True,
                    connect_timeout=max(1, int(self.timeout)),
                    application_name=f"silkgate {self.role} leader pid {os.getpid()}",
                    # a dead peer is noticed in ~10 s rather than the system's hours
                    keepalives=1,
                    keepalives_idle=5,
                    keepalives_interval=2,
                    keepalives_count=3,
                    options=f"-c statement_timeout={int(self.timeout * 1000)}",
                )
            row = self._conn.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()
        except psycopg.Error as exc:
            self._drop()
            raise StoreError(
                f"cannot ask PostgreSQL {redact(self.url)} for the {self.role} lead: {exc}"
            ) from exc
        self._leading = bool(row and row[0])
        return self._leading

    def release(self) -> None:
        with self._mutex:
            if self._leading and self._conn is not None:
                # at once: the end of the session would release it too, a moment later
                with contextlib.suppress(psycopg.Error):
                    self._conn.execute("SELECT pg_advisory_unlock(%s)", (self.key,))
            self._drop()

    def _drop(self) -> None:
        self._leading = False
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(psycopg.Error):
                conn.close()


class _Local(threading.local):
    conn: psycopg.Connection | None = None
    # advisory locks taken, per open (sub)transaction: a lock taken inside a savepoint
    # that rolls back is released by PostgreSQL, so its set goes with it
    held: list[set[tuple[int, bool]]]
    # provisional seqs of decision-fact rows inserted before the ledger lock was held, per
    # open (sub)transaction: renumbered under that lock at commit (see _sequence_facts)
    unsequenced: list[list[int]]

    def __init__(self) -> None:
        self.held = []
        self.unsequenced = []

    def enter(self) -> None:
        self.held.append(set())
        self.unsequenced.append([])

    def leave(self, *, keep: bool) -> None:
        """Close the innermost savepoint: its locks and rows go to the enclosing level if it
        was released (`keep`), or vanish with it if it rolled back."""
        held, rows = self.held.pop(), self.unsequenced.pop()
        if keep:
            self.held[-1] |= held
            self.unsequenced[-1] += rows


class PostgresStore(SqlStatsReads, SqlRegistryReads):
    _sql_mark = "%s"
    _sql_collate = '"C"'

    def __init__(
        self,
        url: str,
        *,
        min_size: int = 1,
        max_size: int = 8,
        timeout: float = 30.0,
        migrations: Sequence[Migration] = PG_MIGRATIONS,
        apply_migrations: bool = True,
    ) -> None:
        """Connect to the database at `url` (``postgresql://user@host:port/db``) and apply
        pending migrations (unless `apply_migrations` is False: then the schema must be
        current, as after ``silkgate migrate``)."""
        self.url = url
        self._where = redact(url)
        self._local = _Local()
        self._pool = ConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            timeout=timeout,
            kwargs={"autocommit": True},
            open=False,
            name="silkgate",
        )
        try:
            with self._translate():
                self._pool.open(wait=True, timeout=timeout)
                with self._pool.connection() as conn:
                    before = current_version(conn)
                    if apply_migrations:
                        migrate(conn, migrations)
                    version = current_version(conn)
            latest = migrations[-1].version if migrations else 0
            if version != latest:
                raise StoreError(
                    f"database {self._where} is at schema version {version}, this silkgate "
                    f"needs {latest}: run `silkgate migrate`"
                )
            if 0 < before < STATS_VERSION <= version:
                self._backfill_stats()
        except BaseException:
            self._pool.close()
            raise

    # -- lifecycle ---------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[None]:
        local = self._local
        conn = local.conn
        if conn is not None:
            local.enter()
            try:
                with self._translate(), conn.transaction():  # a savepoint
                    yield
            except BaseException:
                local.leave(keep=False)
                raise
            local.leave(keep=True)
            return
        with self._translate():
            conn, tx = self._begin()
            local.conn, local.held, local.unsequenced = conn, [set()], [[]]
            try:
                try:
                    yield
                    self._sequence_facts()
                except BaseException as exc:
                    tx.__exit__(type(exc), exc, exc.__traceback__)
                    raise
                tx.__exit__(None, None, None)
            finally:
                local.conn, local.held, local.unsequenced = None, [], []
                self._pool.putconn(conn)

    def _begin(self) -> tuple[psycopg.Connection, AbstractContextManager[psycopg.Transaction]]:
        """A pooled connection with a transaction begun. A pooled connection the server
        dropped while it was idle (a restart, a failover) fails at BEGIN, before anything
        was sent: it is discarded and one more is tried."""
        for attempt in range(_RETRIES + 1):
            conn = self._pool.getconn()
            tx = conn.transaction()
            try:
                tx.__enter__()
            except psycopg.OperationalError:
                self._pool.putconn(conn)  # the pool discards a broken connection
                if attempt == _RETRIES:
                    raise
                self._pool.check()  # and the other idle ones the server dropped
                continue
            return conn, tx
        raise AssertionError("unreachable")

    def close(self) -> None:
        self._pool.close()

    def schema_version(self) -> int:
        with self._cursor() as conn:
            return current_version(conn)

    def truncate_all(self) -> None:
        """Empty every table (tests reuse one database); keeps the schema."""
        self._pool.check()  # drop pooled connections a server restart has cut
        with self._cursor() as conn:
            conn.execute(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY")

    # -- low-level helpers -------------------------------------------------------------
    @contextmanager
    def _translate(self) -> Iterator[None]:
        try:
            yield
        except psycopg.errors.DeadlockDetected as exc:
            raise StoreError(
                f"PostgreSQL {self._where} broke a deadlock between two transactions; "
                f"retry the request: {exc}"
            ) from exc
        except psycopg.Error as exc:
            raise StoreError(f"PostgreSQL error on {self._where}: {exc}") from exc
        except PoolTimeout as exc:
            raise StoreError(
                f"no connection to PostgreSQL {self._where} within the pool timeout: {exc}"
            ) from exc

    @contextmanager
    def _cursor(self) -> Iterator[psycopg.Connection]:
        conn = self._local.conn
        if conn is not None:
            with self._translate():
                yield conn
            return
        with self._translate(), self._pool.connection() as pooled:
            yield pooled

    def _run(self, sql: str, params: Sequence[Any] = ()) -> int:
        with self._cursor() as conn:
            return conn.execute(sql, params).rowcount

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        """A read; outside a transaction it is tried again once on a connection the
        server dropped (reads are safe to repeat; writes are not retried here)."""
        for attempt in range(_RETRIES + 1):
            try:
                with self._cursor() as conn:
                    return conn.execute(sql, params).fetchall()
            except StoreError as exc:
                lost = isinstance(exc.__cause__, psycopg.OperationalError)
                if attempt == _RETRIES or self._local.conn is not None or not lost:
                    raise
                self._pool.check()
        raise AssertionError("unreachable")

    def _one(self, sql: str, params: Sequence[Any], what: str, key: object) -> Any:
        rows = self._rows(sql, params)
        if not rows:
            raise NotFoundError(f"no {what} {key!r}")
        return rows[0]

    def _for_share(self) -> str:
        # Inside a transaction a registry read locks the rows it read (FOR SHARE) until the
        # transaction ends: a batch is decided with the participants, agreements and filings
        # it read, and a change to them waits for the batch to commit (docs/scale-out.md).
        return " FOR SHARE" if self._local.conn is not None else ""

    def _holds(self, key: int) -> bool:
        return any((key, False) in held for held in self._local.held)

    def _lock(self, key: int, *, shared: bool = False) -> None:
        """Take a transaction-scoped advisory lock, if inside a transaction."""
        local = self._local
        conn = local.conn
        if conn is None:
            return
        mark = (key, shared)  # a shared and an exclusive lock on one key are two locks
        if any(mark in held for held in local.held):
            return  # already held by this transaction
        fn = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
        with self._translate():
            conn.execute(f"SELECT {fn}(%s)", (key,))
        local.held[-1].add(mark)

    # -- registry ----------------------------------------------------------------------
    def put_participant(self, participant: Participant) -> None:
        self._run(
            "INSERT INTO participants (id, data) VALUES (%s, %s) "
            "ON CONFLICT (id) DO UPDATE SET data = excluded.data",
            (participant.id, _encoder.encode(participant)),
        )

    def get_participant(self, participant_id: str) -> Participant:
        row = self._one(
            "SELECT data FROM participants WHERE id = %s" + self._for_share(),
            (participant_id,),
            "participant",
            participant_id,
        )
        return decode_blob(row[0], Participant)

    def put_agreement(self, agreement: Agreement) -> None:
        self._run(
            "INSERT INTO agreements (id, exporter, importer, data) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (id) DO UPDATE SET exporter = excluded.exporter, "
            "importer = excluded.importer, data = excluded.data",
            (agreement.id, agreement.exporter, agreement.importer, _encoder.encode(agreement)),
        )

    def get_agreement(self, agreement_id: str) -> Agreement:
        row = self._one(
            "SELECT data FROM agreements WHERE id = %s", (agreement_id,), "agreement", agreement_id
        )
        return decode_blob(row[0], Agreement)

    def put_filing(self, filing: Filing) -> None:
        self._run(
            "INSERT INTO filings (id, exporter, data) VALUES (%s, %s, %s) "
            "ON CONFLICT (id) DO UPDATE SET exporter = excluded.exporter, data = excluded.data",
            (filing.id, filing.exporter, _encoder.encode(filing)),
        )

    def get_idempotency(self, scope: str, key: str) -> tuple[bytes, str] | None:
        self._lock(lock_key("idem", scope, key))
        rows = self._rows(
            "SELECT digest, batch_id FROM idempotency WHERE scope = %s AND key = %s",
            (scope, key),
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
                "INSERT INTO idempotency (scope, key, digest, batch_id) VALUES (%s, %s, %s, %s) "
                "ON CONFLICT (scope, key) DO UPDATE SET digest = excluded.digest, "
                "batch_id = excluded.batch_id",
                (scope, key, digest, batch_id),
            )

    def put_batch_result(self, result: BatchResult) -> None:
        with self.transaction():
            # xmax is 0 in a row this statement inserted, set in one it updated.
            (inserted,) = self._rows(
                "INSERT INTO batch_results (batch_id, exporter, importer, committed_us, data) "
                "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (batch_id) DO UPDATE SET "
                "exporter = excluded.exporter, importer = excluded.importer, "
                "committed_us = excluded.committed_us, data = excluded.data "
                "RETURNING (xmax = 0)",
                (
                    result.batch_id,
                    result.exporter,
                    result.importer,
                    to_us(result.committed_at),
                    _encoder.encode(compact_result(result)),
                ),
            )[0]
            self._put_stat_rows(result, new=bool(inserted))

    def get_batch_result(self, batch_id: str) -> BatchResult:
        row = self._one(
            "SELECT data FROM batch_results WHERE batch_id = %s", (batch_id,), "batch", batch_id
        )
        return result_from_blob(bytes(row[0]))

    def list_batch_results(
        self,
        *,
        exporter: str | None = None,
        importer: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[BatchResult]:
        check_paging(limit, offset)
        where, params = where_equal("%s", exporter=exporter, importer=importer)
        rows = self._rows(
            f"SELECT data FROM batch_results{where} "
            "ORDER BY committed_us DESC, seq DESC LIMIT %s OFFSET %s",
            [*params, limit, offset],
        )
        return [result_from_blob(bytes(r[0])) for r in rows]

    # -- counters ----------------------------------------------------------------------
    def _lock_counter(self, exporter: str, year: int) -> None:
        self._lock(lock_key("counter", exporter, year))

    def known_subjects(
        self, exporter: str, year: int, category: str, subject_hashes: Sequence[bytes]
    ) -> set[bytes]:
        self._lock_counter(exporter, year)
        unique = list(dict.fromkeys(bytes(h) for h in subject_hashes))
        if not unique:
            return set()
        rows = self._rows(
            "SELECT subject_hash FROM subjects WHERE exporter = %s AND year = %s "
            "AND category = %s AND subject_hash = ANY(%s)",
            (exporter, year, category, unique),
        )
        return {bytes(r[0]) for r in rows}

    def add_subjects(
        self, exporter: str, year: int, category: str, subject_hashes: Sequence[bytes]
    ) -> int:
        with self.transaction():
            self._lock_counter(exporter, year)
            unique = list(dict.fromkeys(bytes(h) for h in subject_hashes))
            if not unique:
                return 0
            new = self._run(
                "INSERT INTO subjects (exporter, year, category, subject_hash) "
                "SELECT %s, %s, %s, h FROM unnest(%s::bytea[]) AS h ON CONFLICT DO NOTHING",
                (exporter, year, category, unique),
            )
            if new:
                self._run(
                    "INSERT INTO subject_totals (exporter, year, category, n) "
                    "VALUES (%s, %s, %s, %s) ON CONFLICT (exporter, year, category) "
                    "DO UPDATE SET n = subject_totals.n + excluded.n",
                    (exporter, year, category, new),
                )
            return new

    def subject_count(self, exporter: str, year: int, category: str) -> int:
        self._lock_counter(exporter, year)
        rows = self._rows(
            "SELECT n FROM subject_totals WHERE exporter = %s AND year = %s AND category = %s",
            (exporter, year, category),
        )
        return int(rows[0][0]) if rows else 0

    def subject_counts(self, *, year: int) -> dict[tuple[str, str], int]:
        rows = self._rows(
            "SELECT exporter, category, n FROM subject_totals WHERE year = %s AND n > 0", (year,)
        )
        return {(str(e), str(c)): int(n) for e, c, n in rows}

    # -- mailbox -----------------------------------------------------------------------
    def put_envelope(self, envelope: StoredEnvelope) -> None:
        self._run(
            "INSERT INTO envelopes (id, batch_id, exporter, importer, state, created_us, "
            "expires_us, attempts, data) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (id) DO UPDATE SET batch_id = excluded.batch_id, "
            "exporter = excluded.exporter, importer = excluded.importer, "
            "state = excluded.state, created_us = excluded.created_us, "
            "expires_us = excluded.expires_us, attempts = excluded.attempts, data = excluded.data",
            envelope_row(envelope),
        )

    def get_envelope(self, envelope_id: str) -> StoredEnvelope:
        row = self._one(
            f"SELECT {ENVELOPE_COLUMNS} FROM envelopes WHERE id = %s",
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
        where, params = where_equal("%s", importer=importer, exporter=exporter, state=state)
        if after is not None:
            # The cursor row and the page in one statement: one snapshot.
            self._one("SELECT 1 FROM envelopes WHERE id = %s", (after,), "envelope", after)
            where += (" AND" if where else " WHERE") + (
                " (created_us, id) > (SELECT created_us, id FROM envelopes WHERE id = %s)"
            )
            params = [*params, after]
        rows = self._rows(
            f"SELECT {ENVELOPE_COLUMNS} FROM envelopes{where} ORDER BY created_us, id LIMIT %s",
            [*params, limit],
        )
        return [envelope_from_row(r) for r in rows]

    def set_envelope_state(
        self, envelope_id: str, state: EnvelopeState, *, attempts: int | None = None
    ) -> None:
        changed = self._run(
            "UPDATE envelopes SET state = %s, attempts = COALESCE(%s, attempts) WHERE id = %s",
            (state, attempts, envelope_id),
        )
        if changed == 0:
            raise NotFoundError(f"no envelope {envelope_id!r}")

    def drop_envelope_data(
        self, envelope_ids: Sequence[str], *, state: EnvelopeState, new_state: EnvelopeState
    ) -> int:
        if not envelope_ids:
            return 0
        return self._run(
            "UPDATE envelopes SET data = ''::bytea, state = %s "
            "WHERE id = ANY(%s) AND state = %s AND length(data) > 0",
            (new_state, list(envelope_ids), state),
        )

    # -- push delivery -----------------------------------------------------------------
    def put_push_endpoint(self, endpoint: PushEndpoint) -> None:
        self._run(
            "INSERT INTO push_endpoints (importer, url, created_us) VALUES (%s, %s, %s) "
            "ON CONFLICT (importer) DO UPDATE SET url = excluded.url, "
            "created_us = excluded.created_us",
            (endpoint.importer, endpoint.url, to_us(endpoint.created_at)),
        )

    def get_push_endpoint(self, importer: str) -> PushEndpoint:
        row = self._one(
            "SELECT importer, url, created_us FROM push_endpoints WHERE importer = %s",
            (importer,),
            "push endpoint of importer",
            importer,
        )
        return push_endpoint_from_row(row)

    def delete_push_endpoint(self, importer: str) -> bool:
        return self._run("DELETE FROM push_endpoints WHERE importer = %s", (importer,)) > 0

    def list_push_endpoints(self) -> list[PushEndpoint]:
        rows = self._rows("SELECT importer, url, created_us FROM push_endpoints ORDER BY importer")
        return [push_endpoint_from_row(r) for r in rows]

    # -- replay protection -------------------------------------------------------------
    def remember_nonce(self, nonce: str, until: datetime) -> bool:
        # One statement, exact across every process by the primary key.
        return (
            self._run(
                "INSERT INTO nonces (nonce, until_us) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                (nonce, to_us(until)),
            )
            == 1
        )

    def purge_nonces(self, *, expired_before: datetime) -> int:
        return self._run("DELETE FROM nonces WHERE until_us < %s", (to_us(expired_before),))

    # -- receipts ----------------------------------------------------------------------
    def put_receipt(self, receipt: Receipt) -> None:
        self._run(
            "INSERT INTO receipts (envelope_id, batch_id, data) VALUES (%s, %s, %s) "
            "ON CONFLICT (envelope_id) DO UPDATE SET batch_id = excluded.batch_id, "
            "data = excluded.data",
            (receipt.envelope_id, receipt.batch_id, _encoder.encode(receipt)),
        )

    def get_receipt(self, envelope_id: str) -> Receipt:
        row = self._one(
            "SELECT data FROM receipts WHERE envelope_id = %s",
            (envelope_id,),
            "receipt for envelope",
            envelope_id,
        )
        return decode_blob(bytes(row[0]), Receipt)

    def list_receipts(self, *, batch_id: str | None = None, limit: int = 1000) -> list[Receipt]:
        check_paging(limit)
        where, params = where_equal("%s", batch_id=batch_id)
        rows = self._rows(
            f"SELECT data FROM receipts{where} ORDER BY seq LIMIT %s", [*params, limit]
        )
        return [decode_blob(bytes(r[0]), Receipt) for r in rows]

    # -- ledger ------------------------------------------------------------------------
    def ledger_size(self) -> int:
        self._lock(LEDGER_LOCK)
        rows = self._rows("SELECT MAX(idx) FROM ledger_entries")
        return 0 if rows[0][0] is None else int(rows[0][0]) + 1

    def ledger_append(self, entries: Sequence[bytes], nodes: Mapping[NodeKey, bytes]) -> int:
        with self.transaction():
            first = self.ledger_size()  # takes the ledger lock
            if entries:
                self._run(
                    "INSERT INTO ledger_entries (idx, data) "
                    "SELECT * FROM unnest(%s::bigint[], %s::bytea[])",
                    (list(range(first, first + len(entries))), [bytes(e) for e in entries]),
                )
            self._put_nodes(nodes)
            return first

    def _put_nodes(self, nodes: Mapping[NodeKey, bytes]) -> None:
        if not nodes:
            return
        stored = self.ledger_nodes(list(nodes))
        for key, digest in stored.items():
            if digest != nodes[key]:
                raise StoreError(f"ledger node {key} already stored with a different hash")
        fresh = [(k, v) for k, v in nodes.items() if k not in stored]
        if fresh:
            self._run(
                "INSERT INTO ledger_nodes (level, idx, hash) "
                "SELECT * FROM unnest(%s::int[], %s::bigint[], %s::bytea[]) "
                "ON CONFLICT DO NOTHING",
                ([k[0] for k, _ in fresh], [k[1] for k, _ in fresh], [v for _, v in fresh]),
            )

    def ledger_nodes(self, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
        if not keys:
            return {}
        rows = self._rows(
            "SELECT n.level, n.idx, n.hash FROM ledger_nodes n "
            "JOIN unnest(%s::int[], %s::bigint[]) AS k(level, idx) "
            "ON n.level = k.level AND n.idx = k.idx",
            ([k[0] for k in keys], [k[1] for k in keys]),
        )
        return {(int(level), int(idx)): bytes(digest) for level, idx, digest in rows}

    def ledger_entries(self, start: int, end: int) -> list[bytes]:
        rows = self._rows(
            "SELECT data FROM ledger_entries WHERE idx >= %s AND idx < %s ORDER BY idx",
            (start, end),
        )
        return [bytes(r[0]) for r in rows]

    def put_checkpoint(self, size: int, note: bytes) -> None:
        self._lock(LEDGER_LOCK)
        self._run(
            "INSERT INTO checkpoints (size, note) VALUES (%s, %s) "
            "ON CONFLICT (size) DO UPDATE SET note = excluded.note",
            (size, note),
        )

    def latest_checkpoint(self) -> tuple[int, bytes] | None:
        self._lock(LEDGER_LOCK)
        rows = self._rows("SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1")
        return (int(rows[0][0]), bytes(rows[0][1])) if rows else None

    def get_checkpoint(self, size: int) -> bytes:
        row = self._one(
            "SELECT note FROM checkpoints WHERE size = %s", (size,), "checkpoint of size", size
        )
        return bytes(row[0])

    # -- regulatory sandbox ------------------------------------------------------------
    def put_facts(self, rows: Sequence[DecisionFact]) -> None:
        groups = fact_groups(rows)
        if not groups:
            return
        if self._local.conn is None:  # a transaction of its own, for the numbering
            with self.transaction():
                self.put_facts(rows)
            return
        # One statement: all or nothing without a savepoint of its own.
        seqs = self._rows(
            "INSERT INTO decision_facts (time_us, data) "
            "SELECT t, d FROM unnest(%s::bigint[], %s::bytea[]) WITH ORDINALITY AS u(t, d, o) "
            "ORDER BY o RETURNING seq",
            ([to_us(g[0].time) for g in groups], [facts_blob(g) for g in groups]),
        )
        if not self._holds(LEDGER_LOCK):
            self._local.unsequenced[-1] += sorted(int(r[0]) for r in seqs)

    def _sequence_facts(self) -> None:
        """Just before the outermost commit: give the fact rows this transaction inserted
        before it held the ledger lock new seqs, taken under that lock. The lock is held
        until the commit, so seqs follow commit order (and ledger order: a batch's leaf
        is appended under the same lock), and a reader paging by seq never finds a row
        appear behind one it has already passed."""
        pending = self._local.unsequenced[0]
        if not pending:
            return
        old = sorted(pending)
        self._lock(LEDGER_LOCK)
        with self._cursor() as conn:
            if len(old) == 1:  # the usual case: one row per batch, one statement
                conn.execute(
                    "UPDATE decision_facts SET seq = "
                    "nextval(pg_get_serial_sequence('decision_facts', 'seq')) WHERE seq = %s",
                    (old[0],),
                )
            else:
                fresh = conn.execute(
                    "SELECT nextval(pg_get_serial_sequence('decision_facts', 'seq')) "
                    "FROM generate_series(1, %s)",
                    (len(old),),
                ).fetchall()
                conn.execute(
                    "UPDATE decision_facts d SET seq = u.new FROM "
                    "unnest(%s::bigint[], %s::bigint[]) AS u(old, new) WHERE d.seq = u.old",
                    (old, sorted(int(r[0]) for r in fresh)),
                )
        pending.clear()

    def iter_facts(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> Iterator[DecisionFact]:
        """One statement through a server-side cursor: the facts committed when it began
        (one snapshot), streamed `_FACT_ROWS` rows per round trip, in seq (commit) order."""
        low = to_us(since) if since is not None else -(2**62)
        high = to_us(until) if until is not None else 2**62
        sql = (
            "SELECT seq, data FROM decision_facts WHERE time_us >= %s AND time_us < %s ORDER BY seq"
        )
        with self._stream(sql, (low, high)) as rows:
            for seq, blob in rows:
                try:
                    yield from facts_from_blob(bytes(blob), int(seq) * FACTS_PER_ROW)
                except StoreError as exc:
                    raise StoreError(f"row {seq}: {exc}") from exc

    @contextmanager
    def _stream(self, sql: str, params: Sequence[Any]) -> Iterator[Iterator[tuple[Any, ...]]]:
        """The rows of one query through a server-side (named) cursor, fetched
        `_FACT_ROWS` at a time: inside the caller's transaction, or in a read-only one of
        its own on a pooled connection held while the rows are read."""
        name = f"silkgate_stream_{threading.get_ident()}_{next(_cursor_ids)}"
        conn = self._local.conn
        with self._translate(), contextlib.ExitStack() as stack:
            if conn is None:
                conn = stack.enter_context(self._pool.connection())
                stack.enter_context(conn.transaction())
                conn.execute("SET TRANSACTION READ ONLY")
            cursor = stack.enter_context(conn.cursor(name=name))
            cursor.itersize = _FACT_ROWS
            cursor.execute(sql, params)
            yield iter(cursor)

    def put_sandbox_doc(self, kind: str, key: str, data: bytes) -> None:
        self._lock(lock_key("doc", kind), shared=True)
        self._lock(lock_key("doc", kind, key))
        self._run(
            "INSERT INTO sandbox_docs (kind, key, data) VALUES (%s, %s, %s) "
            "ON CONFLICT (kind, key) DO UPDATE SET data = excluded.data",
            (kind, key, data),
        )

    def get_sandbox_doc(self, kind: str, key: str, *, shared: bool = False) -> bytes | None:
        self._lock(lock_key("doc", kind), shared=True)
        if not (shared and self._holds(lock_key("doc", kind, key))):
            self._lock(lock_key("doc", kind, key), shared=shared)
        rows = self._rows("SELECT data FROM sandbox_docs WHERE kind = %s AND key = %s", (kind, key))
        return bytes(rows[0][0]) if rows else None

    def list_sandbox_docs(self, kind: str) -> list[tuple[str, bytes]]:
        self._lock(lock_key("doc", kind))
        rows = self._rows(
            "SELECT key, data FROM sandbox_docs WHERE kind = %s ORDER BY key", (kind,)
        )
        return [(str(k), bytes(d)) for k, d in rows]

    # -- outbox ------------------------------------------------------------------------
    def put_outbox(self, subject: str, message_id: str, payload: bytes) -> None:
        self._run(
            "INSERT INTO outbox (subject, message_id, payload) VALUES (%s, %s, %s)",
            (subject, message_id, payload),
        )

    def take_outbox(self, limit: int = 100) -> list[OutboxMessage]:
        check_paging(limit)
        rows = self._rows(
            "SELECT seq, subject, message_id, payload FROM outbox ORDER BY seq LIMIT %s", (limit,)
        )
        return [
            OutboxMessage(seq=int(s), subject=str(sub), message_id=str(m), payload=bytes(p))
            for s, sub, m, p in rows
        ]

    def delete_outbox(self, seqs: Sequence[int]) -> None:
        if seqs:
            self._run("DELETE FROM outbox WHERE seq = ANY(%s)", (list(seqs),))

    # -- aggregates (silkgate.store.stats) ----------------------------------------------

    def _put_stat_rows(self, result: BatchResult, *, new: bool = False) -> None:
        """The batch's aggregate rows, replacing any it had, and the whole-hub totals
        (upserts in key order, so concurrent writers cannot deadlock on them). `new`: the
        batch result was not stored before, so it has no aggregate rows yet to read."""
        batch = (result.batch_id,)
        with self._cursor() as conn:
            old_flows = (
                [] if new else conn.execute(stats.OLD_FLOWS.format(mark="%s"), batch).fetchall()
            )
            old_rules = (
                [] if new else conn.execute(stats.OLD_RULES.format(mark="%s"), batch).fetchall()
            )
            flows, rules = stats.stat_rows(result)
            change = stats.rollup(old_flows, old_rules, flows, rules)
            if change.replaces:
                conn.execute("DELETE FROM batch_flows WHERE batch_id = %s", batch)
                conn.execute("DELETE FROM batch_rules WHERE batch_id = %s", batch)
            writes: list[tuple[str, Sequence[Sequence[Any]]]] = [
                (stats.insert_sql(stats.FLOW_INSERT, "%s", 9), stats.as_params(flows)),
                (stats.insert_sql(stats.RULE_INSERT, "%s", 7), stats.as_params(rules)),
                (stats.insert_sql(stats.FLOW_DAY_UPSERT, "%s", 6), change.flows),
                (stats.insert_sql(stats.RULE_DAY_UPSERT, "%s", 5), change.rules),
                (stats.HOUR_UPSERT.format(mark="%s", greatest="GREATEST"), change.tops),
            ]
            with conn.cursor() as cur:
                for sql, rows in writes:
                    if rows:
                        cur.executemany(sql, rows)
            for hour in change.hours:
                delete, insert = stats.hour_params(hour)
                conn.execute(stats.HOUR_DELETE.format(mark="%s"), delete)
                conn.execute(stats.HOUR_INSERT.format(mark="%s"), insert)
