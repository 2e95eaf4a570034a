"""The store's ports: one small protocol per kind of state, and the values they hold.

A service takes the port it uses (the transparency log a ``LedgerPort``, the counters a
``CounterPort``, the mailbox a ``MailboxPort``, ...), and a service that must change
several kinds of state at once also takes ``Transactional``. ``silkgate.store.base.Store``
combines every port; ``MemoryStore`` and ``SqliteStore`` implement all of them, and so will
a PostgreSQL store. Each port has its contract suite in ``tests/store/contract/``, run
against every implementation.

Writes made inside ``with store.transaction():`` are atomic: all of them commit or none
does, whichever ports they go through. Reads inside a transaction see its own writes.
Outside a transaction each write commits on its own. Methods raise ``NotFoundError`` for a
missing object asked for by id, ``StoreError`` for failures of the backend.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Literal, Protocol, overload

import msgspec

from silkgate.model import Agreement, BatchResult, Filing, Finding, Participant, Receipt
from silkgate.store.stats import FlowCount, RuleCount, SizePoint

__all__ = [
    "BatchPort",
    "CounterPort",
    "DecisionFact",
    "EnvelopeState",
    "FactColumns",
    "LedgerPort",
    "MailboxPort",
    "NodeKey",
    "NoncePort",
    "OutboxMessage",
    "OutboxPort",
    "PushEndpoint",
    "RegistryPort",
    "SandboxPort",
    "StatsPort",
    "StoredEnvelope",
    "Transactional",
]

EnvelopeState = Literal["held", "pending", "acked", "rejected", "expired"]
# (level, index): the perfect subtree over leaves [index*2^level, (index+1)*2^level)
NodeKey = tuple[int, int]


class StoredEnvelope(msgspec.Struct, frozen=True, kw_only=True):
    """A sealed envelope as kept in the mailbox. `data` is the envelope's serialized bytes:
    sealed for the importer, so the hub cannot read it."""

    id: str
    batch_id: str
    exporter: str
    importer: str
    state: EnvelopeState
    created_at: datetime
    expires_at: datetime
    data: bytes
    attempts: int = 0


class PushEndpoint(msgspec.Struct, frozen=True, kw_only=True):
    """Where the hub pushes an importer's envelopes (one registration per importer)."""

    importer: str
    url: str
    created_at: datetime


class OutboxMessage(msgspec.Struct, frozen=True, kw_only=True):
    seq: int  # assigned by the store, increasing
    subject: str
    message_id: str  # deduplication id for the transport
    payload: bytes


class DecisionFact(msgspec.Struct, frozen=True, kw_only=True, array_like=True, gc=False):
    """The facts one record's decision used (regulatory sandbox). Never record contents:
    parties, corridor, product, purpose, finding paths and types, keyed subject hashes,
    counts, what was on file, the outcome and why. `seq` is assigned by the store
    (commit order). Untracked by the garbage collector (``gc=False``): its fields are
    strings, numbers, bytes, datetimes and tuples of them, which cannot form a cycle, and a
    batch makes one per record."""

    time: datetime
    batch_id: str
    record: int  # index of the record in its batch
    exporter: str
    importer: str
    origin: str
    destination: str
    product: str
    sector: str
    purpose: str
    instrument: str  # "none" when no agreement is in force
    ciio: bool
    transit: bool
    filings: tuple[str, ...]
    agreement_days: int | None
    tia_age_days: int | None
    gate: str  # deny-by-default rule id when the gate stopped the batch, else ""
    # (normalized path, finding type[, confidence when not high]): see finding_row
    findings: tuple[tuple[str, ...], ...]
    paths: tuple[str, ...]
    types: tuple[str, ...]
    categories: tuple[str, ...]
    subjects: tuple[bytes, ...]  # keyed hashes (HMAC-SHA256) of the record's subject keys
    counted: tuple[str, ...]  # categories this record's subjects were counted in
    pi_before: int
    pi_after: int
    sensitive_pi_before: int
    sensitive_pi_after: int
    outcome: str
    rule_ids: tuple[str, ...]
    policy_version: str
    tags: tuple[str, ...] = ()
    seq: int = 0
    # Registry facts (appended: rows written before them decode with these defaults)
    free_trade_zone: str = ""
    related: bool = False
    enterprise_size: str = "unknown"
    importer_authority: bool = False
    first_transfer_days: int | None = None


_FACT_FIELDS = frozenset(DecisionFact.__struct_fields__)
_FACT_REQUIRED = frozenset(f.name for f in msgspec.structs.fields(DecisionFact) if f.required)
_PER_FACT = frozenset(("record", "subjects"))


class FactColumns(Sequence[DecisionFact]):
    """One batch's decision facts, held by column as the sandbox makes them: the fields
    every fact shares (`common`), the fields of each distinct record shape and decision
    (`shapes`; fact i has shape `shape_of[i]`) and each fact's subject hashes; fact i's
    `record` is i. It reads as a sequence of DecisionFact; the SQL stores write it column by
    column without making one (silkgate.store.rows.facts_blob)."""

    __slots__ = ("common", "shape_of", "shapes", "subjects")

    def __init__(
        self,
        common: Mapping[str, object],
        shapes: Sequence[Mapping[str, object]],
        shape_of: Sequence[int],
        subjects: Sequence[tuple[bytes, ...]],
    ) -> None:
        if len(subjects) != len(shape_of):
            raise ValueError(f"{len(subjects)} subject tuples for {len(shape_of)} facts")
        named = set(common)
        for shape in shapes:
            if named & set(shape) or set(shape) != set(shapes[0]):
                raise ValueError("shapes must name the same fields, none of them common")
        named |= set(shapes[0]) if shapes else set()
        if named & (_PER_FACT | {"seq"}):
            raise ValueError(f"{sorted(named & (_PER_FACT | {'seq'}))} are each fact's own")
        if not named <= _FACT_FIELDS:
            raise ValueError(f"not decision fact fields: {sorted(named - _FACT_FIELDS)}")
        if shape_of and not named | _PER_FACT >= _FACT_REQUIRED:
            raise ValueError(f"fields missing: {sorted(_FACT_REQUIRED - named - _PER_FACT)}")
        if shape_of and not 0 <= min(shape_of) <= max(shape_of) < len(shapes):
            raise ValueError("a fact's shape index is out of range")
        self.common = common
        self.shapes = shapes
        self.shape_of = shape_of
        self.subjects = subjects

    def __len__(self) -> int:
        return len(self.shape_of)

    @overload
    def __getitem__(self, index: int) -> DecisionFact: ...

    @overload
    def __getitem__(self, index: slice) -> list[DecisionFact]: ...

    def __getitem__(self, index: int | slice) -> DecisionFact | list[DecisionFact]:
        if isinstance(index, slice):
            return [self[i] for i in range(len(self))[index]]
        i = range(len(self))[index]  # IndexError, as a list's
        shape = self.shapes[self.shape_of[i]]
        return DecisionFact(**self.common, **shape, record=i, subjects=self.subjects[i])  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[DecisionFact]:
        replace = msgspec.structs.replace
        templates = [
            DecisionFact(**self.common, **shape, record=0, subjects=())  # type: ignore[arg-type]
            for shape in self.shapes
        ]
        for i, (shape, subjects) in enumerate(zip(self.shape_of, self.subjects, strict=True)):
            yield replace(templates[shape], record=i, subjects=subjects)


class Transactional(Protocol):
    """Atomicity across ports: the writes of one ``with transaction():`` block, through any
    port of the same store, commit together or not at all."""

    def transaction(self) -> AbstractContextManager[None]:
        """Exclusive write transaction; re-entrant (a nested call joins the outer one)."""
        ...


class RegistryPort(Protocol):
    """Participants, agreements and filings."""

    def put_participant(self, participant: Participant) -> None:
        """Insert or replace by id."""
        ...

    def get_participant(self, participant_id: str) -> Participant: ...

    def list_participants(
        self, *, after: str | None = None, limit: int | None = None
    ) -> list[Participant]:
        """In order of id (by code point); with `after`, only ids after it; at most `limit`
        (a page of a listing: the next page is the one after the last id)."""
        ...

    def put_agreement(self, agreement: Agreement) -> None: ...

    def get_agreement(self, agreement_id: str) -> Agreement: ...

    def list_agreements(
        self,
        *,
        exporter: str | None = None,
        importer: str | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> list[Agreement]:
        """Those of `exporter` and `importer` (when given), paged as list_participants."""
        ...

    def put_filing(self, filing: Filing) -> None: ...

    def get_filing(self, filing_id: str) -> Filing:
        """NotFoundError when no filing has this id."""
        ...

    def list_filings(
        self, *, exporter: str | None = None, after: str | None = None, limit: int | None = None
    ) -> list[Filing]:
        """Those of `exporter` (when given), paged as list_participants."""
        ...


class BatchPort(Protocol):
    """Batch results and the idempotency keys of submissions."""

    def get_idempotency(self, scope: str, key: str) -> tuple[bytes, str] | None:
        """(request digest, batch id) recorded for this caller scope and key, if any."""
        ...

    def put_idempotency(self, scope: str, key: str, digest: bytes, batch_id: str) -> None: ...

    def put_batch_result(self, result: BatchResult) -> None: ...

    def get_batch_result(self, batch_id: str) -> BatchResult: ...

    def list_batch_results(
        self,
        *,
        exporter: str | None = None,
        importer: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[BatchResult]:
        """Newest first."""
        ...


class CounterPort(Protocol):
    """Distinct data subjects per exporter, calendar year and category (keyed hashes)."""

    def known_subjects(
        self, exporter: str, year: int, category: str, subject_hashes: Sequence[bytes]
    ) -> set[bytes]:
        """The subset of `subject_hashes` already counted."""
        ...

    def add_subjects(
        self, exporter: str, year: int, category: str, subject_hashes: Sequence[bytes]
    ) -> int:
        """Record subjects (duplicates ignored); returns how many were new."""
        ...

    def subject_count(self, exporter: str, year: int, category: str) -> int: ...

    def subject_counts(self, *, year: int) -> dict[tuple[str, str], int]:
        """(exporter, category) -> distinct subjects in that year."""
        ...


class MailboxPort(Protocol):
    """Sealed envelopes, importers' push endpoints and the receipts importers sign."""

    # -- envelopes
    def put_envelope(self, envelope: StoredEnvelope) -> None: ...

    def get_envelope(self, envelope_id: str) -> StoredEnvelope: ...

    def list_envelopes(
        self,
        *,
        importer: str | None = None,
        exporter: str | None = None,
        state: EnvelopeState | None = None,
        limit: int = 100,
        after: str | None = None,
    ) -> list[StoredEnvelope]:
        """Oldest first; `after` is an envelope id for paging (exclusive)."""
        ...

    def set_envelope_state(
        self, envelope_id: str, state: EnvelopeState, *, attempts: int | None = None
    ) -> None: ...

    def drop_envelope_data(
        self, envelope_ids: Sequence[str], *, state: EnvelopeState, new_state: EnvelopeState
    ) -> int:
        """Drop the sealed data of those of `envelope_ids` still in `state` and still holding
        data, moving them to `new_state` (retention; a compare-and-set, so an envelope
        acknowledged meanwhile is left alone); returns how many changed."""
        ...

    # -- push endpoints
    def put_push_endpoint(self, endpoint: PushEndpoint) -> None:
        """Insert or replace the importer's registration."""
        ...

    def get_push_endpoint(self, importer: str) -> PushEndpoint: ...

    def delete_push_endpoint(self, importer: str) -> bool:
        """Remove the importer's registration; False if it had none."""
        ...

    def list_push_endpoints(self) -> list[PushEndpoint]:
        """By importer id."""
        ...

    # -- receipts
    def put_receipt(self, receipt: Receipt) -> None: ...

    def get_receipt(self, envelope_id: str) -> Receipt: ...

    def list_receipts(self, *, batch_id: str | None = None, limit: int = 1000) -> list[Receipt]: ...


class LedgerPort(Protocol):
    """The transparency ledger: entries, perfect-subtree node hashes, checkpoints."""

    def ledger_size(self) -> int: ...

    def ledger_append(self, entries: Sequence[bytes], nodes: Mapping[NodeKey, bytes]) -> int:
        """Append leaf entries (their canonical bytes) and the new perfect-subtree node hashes
        computed for them; returns the index of the first appended entry."""
        ...

    def ledger_nodes(self, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
        """Node hashes for the keys that exist (missing keys are absent from the result)."""
        ...

    def ledger_entries(self, start: int, end: int) -> list[bytes]:
        """Entries with start <= index < end."""
        ...

    def put_checkpoint(self, size: int, note: bytes) -> None: ...

    def latest_checkpoint(self) -> tuple[int, bytes] | None: ...

    def get_checkpoint(self, size: int) -> bytes: ...


class SandboxPort(Protocol):
    """The regulatory sandbox: decision facts and sandbox documents."""

    def put_facts(self, rows: Sequence[DecisionFact]) -> None:
        """Append decision facts (their `seq` is ignored and assigned in commit order)."""
        ...

    def iter_facts(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> Iterator[DecisionFact]:
        """Facts with since <= time < until (None = unbounded), in commit order."""
        ...

    def put_sandbox_doc(self, kind: str, key: str, data: bytes) -> None:
        """Insert or replace one sandbox document (policy versions, shadow diffs, cohorts)."""
        ...

    def get_sandbox_doc(self, kind: str, key: str, *, shared: bool = False) -> bytes | None:
        """One sandbox document, or None. Inside a transaction the read also guards the
        document until commit (on PostgreSQL a lock; SQLite and memory have one writer):
        by default against every other transaction that reads or writes it (a read that a
        write of the same document follows); with `shared`, only against writers, so
        readers do not wait for each other. Never write a document read `shared` in the
        same transaction."""
        ...

    def list_sandbox_docs(self, kind: str) -> list[tuple[str, bytes]]:
        """(key, data) of every document of this kind, by key."""
        ...


class OutboxPort(Protocol):
    """Messages committed with their state, published afterwards (commit, then publish)."""

    def put_outbox(self, subject: str, message_id: str, payload: bytes) -> None: ...

    def take_outbox(self, limit: int = 100) -> list[OutboxMessage]: ...

    def delete_outbox(self, seqs: Sequence[int]) -> None: ...


class NoncePort(Protocol):
    """Replay protection: request nonces, shared by every API process on the store."""

    def remember_nonce(self, nonce: str, until: datetime) -> bool:
        """Record a request nonce until `until`; False if it is already recorded."""
        ...

    def purge_nonces(self, *, expired_before: datetime) -> int:
        """Forget nonces recorded until a time before `expired_before`; returns count."""
        ...


class StatsPort(Protocol):
    """Aggregates over committed batches, computed by the store (SQL ``GROUP BY`` over rows
    written with each batch result: silkgate.store.stats), never by loading every batch.
    Times select on commit time, `since` <= t < `until`. `exporter` and `importer` narrow
    to one party's batches (both: batches between the two); `party` to batches in which it
    is the exporter or the importer."""

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
        """Batches and records by (UTC day, origin, destination, outcome), in that order."""
        ...

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
        """Records and batches per (origin, rule id), most records first."""
        ...

    def ledger_growth(
        self, *, since: datetime, until: datetime, bucket_seconds: int, limit: int, offset: int = 0
    ) -> list[SizePoint]:
        """Per bucket of `bucket_seconds` (from the epoch, UTC) in which batches were
        committed: the ledger size after its last batch. Oldest first."""
        ...


def finding_row(finding: Finding) -> tuple[str, ...]:
    """A finding as a decision fact keeps it: path, type, and its confidence unless high."""
    if finding.confidence == "high":
        return finding.path, finding.type
    return finding.path, finding.type, finding.confidence


def finding_of_row(row: Sequence[str], detector: str) -> Finding:
    """The finding a decision fact kept (what the policy needs: path, type, confidence)."""
    confidence = row[2] if len(row) > 2 else "high"
    return Finding(path=row[0], type=row[1], detector=detector, confidence=confidence)  # type: ignore[arg-type]
