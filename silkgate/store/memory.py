"""In-memory Store: the reference implementation and the fast test double.

One RLock serializes everything; a transaction holds it from start to end, so other threads
never see half of one. Atomicity comes from an undo log: every write pushes a closure that
reverses it, and an exception escaping a transaction block replays the log back to where
that block started.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Protocol, TypeVar

import msgspec

from silkgate.errors import ConflictError, NotFoundError, StoreError
from silkgate.model import Agreement, BatchResult, Filing, Participant, Receipt
from silkgate.store._common import check_paging, to_us
from silkgate.store.base import (
    DecisionFact,
    EnvelopeState,
    NodeKey,
    OutboxMessage,
    PushEndpoint,
    StoredEnvelope,
)
from silkgate.store.migrations import LATEST_VERSION
from silkgate.store.stats import (
    FlowCount,
    RuleCount,
    SizePoint,
    check_bucket,
    flow_rows,
    group_flows,
    group_growth,
    group_rules,
    rule_rows,
)

K = TypeVar("K")
V = TypeVar("V")
_MISSING: Any = object()

SubjectKey = tuple[str, int, str]


class MemoryStore:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._depth = 0
        self._undo: list[Callable[[], None]] = []
        self._closed = False
        self._participants: dict[str, Participant] = {}
        self._agreements: dict[str, Agreement] = {}
        self._filings: dict[str, Filing] = {}
        self._idempotency: dict[tuple[str, str], tuple[bytes, str]] = {}
        # batch id -> (insertion seq, result); seq breaks ties between equal times.
        self._batches: dict[str, tuple[int, BatchResult]] = {}
        self._batch_seq = 0
        self._subjects: dict[SubjectKey, set[bytes]] = {}
        self._envelopes: dict[str, StoredEnvelope] = {}
        self._receipts: dict[str, Receipt] = {}
        self._entries: list[bytes] = []
        self._nodes: dict[NodeKey, bytes] = {}
        self._checkpoints: dict[int, bytes] = {}
        self._outbox: dict[int, OutboxMessage] = {}
        self._outbox_seq = 0
        self._facts: list[DecisionFact] = []
        self._docs: dict[tuple[str, str], bytes] = {}
        self._push: dict[str, PushEndpoint] = {}
        self._nonces: dict[str, int] = {}  # nonce -> until (microseconds since the epoch)

    # -- lifecycle ---------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._lock:
            self._check_open()
            mark = len(self._undo)
            self._depth += 1
            try:
                yield
            except BaseException:
                self._rollback_to(mark)
                raise
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self._undo.clear()  # committed (or fully rolled back)

    def close(self) -> None:
        with self._lock:
            self._closed = True

    def schema_version(self) -> int:
        return LATEST_VERSION

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("store is closed")

    def _rollback_to(self, mark: int) -> None:
        while len(self._undo) > mark:
            self._undo.pop()()

    def _set(self, table: dict[K, V], key: K, value: V) -> None:
        """Write with undo. Only called inside transaction()."""
        old = table.get(key, _MISSING)
        table[key] = value
        self._undo.append(lambda: _restore(table, key, old))

    def _delete(self, table: dict[K, V], key: K) -> None:
        old = table.pop(key, _MISSING)
        self._undo.append(lambda: _restore(table, key, old))

    # -- registry ----------------------------------------------------------------------
    def put_participant(self, participant: Participant) -> None:
        with self.transaction():
            self._set(self._participants, participant.id, participant)

    def get_participant(self, participant_id: str) -> Participant:
        with self._lock:
            return _get(self._participants, participant_id, "participant")

    def list_participants(
        self, *, after: str | None = None, limit: int | None = None
    ) -> list[Participant]:
        with self._lock:
            return _id_page(self._participants.values(), after, limit)

    def put_agreement(self, agreement: Agreement) -> None:
        with self.transaction():
            self._set(self._agreements, agreement.id, agreement)

    def get_filing(self, filing_id: str) -> Filing:
        with self._lock:
            return _get(self._filings, filing_id, "filing")

    def get_agreement(self, agreement_id: str) -> Agreement:
        with self._lock:
            return _get(self._agreements, agreement_id, "agreement")

    def list_agreements(
        self,
        *,
        exporter: str | None = None,
        importer: str | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> list[Agreement]:
        with self._lock:
            found = (
                a
                for a in self._agreements.values()
                if (exporter is None or a.exporter == exporter)
                and (importer is None or a.importer == importer)
            )
            return _id_page(found, after, limit)

    def put_filing(self, filing: Filing) -> None:
        with self.transaction():
            self._set(self._filings, filing.id, filing)

    def list_filings(
        self, *, exporter: str | None = None, after: str | None = None, limit: int | None = None
    ) -> list[Filing]:
        with self._lock:
            found = (f for f in self._filings.values() if exporter in (None, f.exporter))
            return _id_page(found, after, limit)

    # -- batches and idempotency -------------------------------------------------------
    def get_idempotency(self, scope: str, key: str) -> tuple[bytes, str] | None:
        with self._lock:
            return self._idempotency.get((scope, key))

    def put_idempotency(self, scope: str, key: str, digest: bytes, batch_id: str) -> None:
        with self.transaction():
            existing = self._idempotency.get((scope, key))
            if existing is not None and existing != (digest, batch_id):
                raise ConflictError(_idempotency_conflict(scope, key, existing[1]))
            self._set(self._idempotency, (scope, key), (digest, batch_id))

    def put_batch_result(self, result: BatchResult) -> None:
        to_us(result.committed_at)  # reject naive times here too, as the SQLite store does
        with self.transaction():
            old = self._batches.get(result.batch_id)
            if old is None:
                self._set_batch_seq(self._batch_seq + 1)
            seq = old[0] if old else self._batch_seq
            self._set(self._batches, result.batch_id, (seq, result))

    def _set_batch_seq(self, value: int) -> None:
        old = self._batch_seq
        self._batch_seq = value
        self._undo.append(lambda: setattr(self, "_batch_seq", old))

    def get_batch_result(self, batch_id: str) -> BatchResult:
        with self._lock:
            return _get(self._batches, batch_id, "batch")[1]

    def list_batch_results(
        self,
        *,
        exporter: str | None = None,
        importer: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[BatchResult]:
        check_paging(limit, offset)
        with self._lock:
            rows = [
                (to_us(r.committed_at), seq, r)
                for seq, r in self._batches.values()
                if exporter in (None, r.exporter) and importer in (None, r.importer)
            ]
        rows.sort(key=lambda t: (t[0], t[1]), reverse=True)
        return [r for _, _, r in rows[offset : offset + limit]]

    # -- counters ----------------------------------------------------------------------
    def known_subjects(
        self, exporter: str, year: int, category: str, subject_hashes: Sequence[bytes]
    ) -> set[bytes]:
        with self._lock:
            seen = self._subjects.get((exporter, year, category), set())
            return {h for h in subject_hashes if h in seen}

    def add_subjects(
        self, exporter: str, year: int, category: str, subject_hashes: Sequence[bytes]
    ) -> int:
        with self.transaction():
            key = (exporter, year, category)
            if key not in self._subjects:
                self._set(self._subjects, key, set())
            seen = self._subjects[key]
            new = set(subject_hashes) - seen
            seen.update(new)
            self._undo.append(lambda: seen.difference_update(new))
            return len(new)

    def subject_count(self, exporter: str, year: int, category: str) -> int:
        with self._lock:
            return len(self._subjects.get((exporter, year, category), ()))

    def subject_counts(self, *, year: int) -> dict[tuple[str, str], int]:
        with self._lock:
            return {
                (exporter, category): len(hashes)
                for (exporter, y, category), hashes in self._subjects.items()
                if y == year and hashes
            }

    # -- mailbox -----------------------------------------------------------------------
    def put_envelope(self, envelope: StoredEnvelope) -> None:
        to_us(envelope.created_at)
        to_us(envelope.expires_at)
        with self.transaction():
            self._set(self._envelopes, envelope.id, envelope)

    def get_envelope(self, envelope_id: str) -> StoredEnvelope:
        with self._lock:
            return _get(self._envelopes, envelope_id, "envelope")

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
        with self._lock:
            start = _envelope_order(_get(self._envelopes, after, "envelope")) if after else None
            found = [
                e
                for e in self._envelopes.values()
                if importer in (None, e.importer)
                and exporter in (None, e.exporter)
                and state in (None, e.state)
                and (start is None or _envelope_order(e) > start)
            ]
        found.sort(key=_envelope_order)
        return found[:limit]

    def set_envelope_state(
        self, envelope_id: str, state: EnvelopeState, *, attempts: int | None = None
    ) -> None:
        with self.transaction():
            old = _get(self._envelopes, envelope_id, "envelope")
            new_attempts = old.attempts if attempts is None else attempts
            new = _replace(old, state=state, attempts=new_attempts)
            self._set(self._envelopes, envelope_id, new)

    def drop_envelope_data(
        self, envelope_ids: Sequence[str], *, state: EnvelopeState, new_state: EnvelopeState
    ) -> int:
        with self.transaction():
            changed = 0
            for envelope_id in envelope_ids:
                e = self._envelopes.get(envelope_id)
                if e is not None and e.state == state and e.data:
                    self._set(self._envelopes, e.id, _replace(e, state=new_state, data=b""))
                    changed += 1
            return changed

    # -- push delivery -----------------------------------------------------------------
    def put_push_endpoint(self, endpoint: PushEndpoint) -> None:
        to_us(endpoint.created_at)
        with self.transaction():
            self._set(self._push, endpoint.importer, endpoint)

    def get_push_endpoint(self, importer: str) -> PushEndpoint:
        with self._lock:
            return _get(self._push, importer, "push endpoint of importer")

    def delete_push_endpoint(self, importer: str) -> bool:
        with self.transaction():
            if importer not in self._push:
                return False
            self._delete(self._push, importer)
            return True

    def list_push_endpoints(self) -> list[PushEndpoint]:
        with self._lock:
            return [self._push[k] for k in sorted(self._push)]

    # -- replay protection -------------------------------------------------------------
    def remember_nonce(self, nonce: str, until: datetime) -> bool:
        until_us = to_us(until)
        with self.transaction():
            if nonce in self._nonces:
                return False
            self._set(self._nonces, nonce, until_us)
            return True

    def purge_nonces(self, *, expired_before: datetime) -> int:
        cutoff = to_us(expired_before)
        with self.transaction():
            stale = [n for n, until in self._nonces.items() if until < cutoff]
            for nonce in stale:
                self._delete(self._nonces, nonce)
            return len(stale)

    # -- receipts ----------------------------------------------------------------------
    def put_receipt(self, receipt: Receipt) -> None:
        with self.transaction():
            self._set(self._receipts, receipt.envelope_id, receipt)

    def get_receipt(self, envelope_id: str) -> Receipt:
        with self._lock:
            return _get(self._receipts, envelope_id, "receipt for envelope")

    def list_receipts(self, *, batch_id: str | None = None, limit: int = 1000) -> list[Receipt]:
        check_paging(limit)
        with self._lock:
            found = [r for r in self._receipts.values() if batch_id in (None, r.batch_id)]
        return found[:limit]

    # -- ledger ------------------------------------------------------------------------
    def ledger_size(self) -> int:
        with self._lock:
            return len(self._entries)

    def ledger_append(self, entries: Sequence[bytes], nodes: Mapping[NodeKey, bytes]) -> int:
        with self.transaction():
            for key, digest in nodes.items():
                old = self._nodes.get(key)
                if old is not None and old != digest:
                    raise StoreError(f"ledger node {key} already stored with a different hash")
            first = len(self._entries)
            self._entries.extend(entries)
            self._undo.append(lambda: self._entries.__delitem__(slice(first, None)))
            for key, digest in nodes.items():
                self._set(self._nodes, key, digest)
            return first

    def ledger_nodes(self, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
        with self._lock:
            return {k: self._nodes[k] for k in keys if k in self._nodes}

    def ledger_entries(self, start: int, end: int) -> list[bytes]:
        with self._lock:
            return self._entries[max(start, 0) : max(end, 0)]

    def put_checkpoint(self, size: int, note: bytes) -> None:
        with self.transaction():
            self._set(self._checkpoints, size, note)

    def latest_checkpoint(self) -> tuple[int, bytes] | None:
        with self._lock:
            if not self._checkpoints:
                return None
            size = max(self._checkpoints)
            return size, self._checkpoints[size]

    def get_checkpoint(self, size: int) -> bytes:
        with self._lock:
            return _get(self._checkpoints, size, "checkpoint of size")

    # -- regulatory sandbox ------------------------------------------------------------
    def put_facts(self, rows: Sequence[DecisionFact]) -> None:
        with self.transaction():
            first = len(self._facts)
            self._facts.extend(
                msgspec.structs.replace(r, seq=first + i + 1) for i, r in enumerate(rows)
            )
            self._undo.append(lambda: self._facts.__delitem__(slice(first, None)))

    def iter_facts(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> Iterator[DecisionFact]:
        low = to_us(since) if since is not None else None
        high = to_us(until) if until is not None else None
        with self._lock:
            rows = list(self._facts)
        for row in rows:
            t = to_us(row.time)
            if (low is None or t >= low) and (high is None or t < high):
                yield row

    def put_sandbox_doc(self, kind: str, key: str, data: bytes) -> None:
        with self.transaction():
            self._set(self._docs, (kind, key), data)

    def get_sandbox_doc(self, kind: str, key: str, *, shared: bool = False) -> bytes | None:
        with self._lock:
            return self._docs.get((kind, key))

    def list_sandbox_docs(self, kind: str) -> list[tuple[str, bytes]]:
        with self._lock:
            return sorted((k, d) for (kd, k), d in self._docs.items() if kd == kind)

    # -- outbox ------------------------------------------------------------------------
    def put_outbox(self, subject: str, message_id: str, payload: bytes) -> None:
        with self.transaction():
            old_seq = self._outbox_seq
            self._outbox_seq += 1
            self._undo.append(lambda: setattr(self, "_outbox_seq", old_seq))
            msg = OutboxMessage(
                seq=self._outbox_seq, subject=subject, message_id=message_id, payload=payload
            )
            self._set(self._outbox, msg.seq, msg)

    def take_outbox(self, limit: int = 100) -> list[OutboxMessage]:
        check_paging(limit)
        with self._lock:
            return [self._outbox[s] for s in sorted(self._outbox)[:limit]]

    def delete_outbox(self, seqs: Sequence[int]) -> None:
        with self.transaction():
            for seq in seqs:
                self._delete(self._outbox, seq)

    # -- aggregates (silkgate.store.stats): the same rows the SQL stores keep, grouped here
    def _stat_results(self) -> list[BatchResult]:
        with self._lock:
            return [result for _, result in self._batches.values()]

    def flow_counts(
        self,
        *,
        since: datetime,
        until: datetime,
        exporter: str | None = None,
        importer: str | None = None,
        party: str | None = None,
        limit: int = 1000,
        offset: int = 0,
    ) -> list[FlowCount]:
        check_paging(limit, offset)
        rows = (row for r in self._stat_results() for row in flow_rows(r))
        found = group_flows(
            rows, since=since, until=until, exporter=exporter, importer=importer, party=party
        )
        return found[offset : offset + limit]

    def rule_counts(
        self,
        *,
        since: datetime,
        until: datetime,
        exporter: str | None = None,
        importer: str | None = None,
        party: str | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> list[RuleCount]:
        check_paging(limit, offset)
        rows = (row for r in self._stat_results() for row in rule_rows(r))
        found = group_rules(
            rows, since=since, until=until, exporter=exporter, importer=importer, party=party
        )
        return found[offset : offset + limit]

    def ledger_growth(
        self, *, since: datetime, until: datetime, bucket_seconds: int, limit: int, offset: int = 0
    ) -> list[SizePoint]:
        check_paging(limit, offset)
        check_bucket(bucket_seconds)
        rows = (row for r in self._stat_results() for row in flow_rows(r))
        found = group_growth(rows, since=since, until=until, bucket_us=bucket_seconds * 10**6)
        return found[offset : offset + limit]


def _restore(table: dict[Any, Any], key: Any, old: Any) -> None:
    if old is _MISSING:
        table.pop(key, None)
    else:
        table[key] = old


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


R = TypeVar("R", bound=_HasId)


def _id_page(rows: Iterable[R], after: str | None, limit: int | None) -> list[R]:
    """In order of id, those after `after`, at most `limit` (the SQL stores' id_page)."""
    ordered = sorted((r for r in rows if after is None or r.id > after), key=lambda r: r.id)
    return ordered if limit is None else ordered[:limit]


def _get(table: Mapping[K, V], key: K, what: str) -> V:
    try:
        return table[key]
    except KeyError:
        raise NotFoundError(f"no {what} {key!r}") from None


def _envelope_order(e: StoredEnvelope) -> tuple[int, str]:
    return to_us(e.created_at), e.id


def _replace(e: StoredEnvelope, **changes: Any) -> StoredEnvelope:
    return msgspec.structs.replace(e, **changes)


def _idempotency_conflict(scope: str, key: str, batch_id: str) -> str:
    return (
        f"idempotency key {key!r} of {scope!r} was already used for batch {batch_id!r} "
        "with a different request; use a new key for a different request"
    )
