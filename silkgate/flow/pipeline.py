"""The flow of one batch: validate -> classify -> decide -> transform -> seal -> commit.

Everything the pipeline needs from the outside world (store, clock, randomness, keys,
transport) is passed in. One batch is one store transaction: a batch is committed whole
(ledger leaf, counters, mailbox, idempotency key, outbox) or not at all.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import msgspec
import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from silkgate.canonical import canonical_json
from silkgate.clock import Clock, Random, new_id, system_clock, system_random
from silkgate.counters import PendingCounters, counting_year
from silkgate.errors import ConflictError, ForbiddenError
from silkgate.flow.decide import Decider, Prepared, note_transfer
from silkgate.ledger import TransparencyLog
from silkgate.ledger.leaves import BatchLeaf, append_leaf, envelope_ref, held_ref
from silkgate.mailbox.messages import queue_delivered
from silkgate.mailbox.service import MailboxService
from silkgate.model import (
    OUTCOMES,
    Batch,
    BatchResult,
    Decision,
    Participant,
    Receipt,
)
from silkgate.policy import BatchContext, PolicyEngine, RecordInput
from silkgate.registry.keys import current_hpke_key
from silkgate.seal.envelope import (
    encode_records,
    envelope_digest,
    join_record_lines,
    record_lines,
    seal_envelope,
)
from silkgate.seal.keys import hpke_public_from_bytes
from silkgate.store.base import Store, StoredEnvelope
from silkgate.transform import apply_obligations
from silkgate.transport.base import Transport

_DELIVERABLE = ("allow", "allow_transformed")


@dataclass(frozen=True)
class HubSecrets:
    """The hub's own keys: it signs checkpoints and envelope headers, hashes subjects for the
    counters and pseudonymizes fields. Participants' private keys are never here."""

    signing_key: Ed25519PrivateKey
    subject_key: bytes
    pseudonym_key: bytes


class StageTimings:
    """Seconds spent per stage, summed over batches (for the benchmark). ``timer``: elapsed
    time by default; the benchmark may pass ``time.process_time`` (CPU time, steadier on a
    shared machine, but blind to waiting for the disk)."""

    def __init__(self, timer: Callable[[], float] = time.perf_counter) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.timer = timer

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        timer = self.timer
        started = timer()
        try:
            yield
        finally:
            self.seconds[name] += timer() - started


@dataclass
class Pipeline:
    store: Store
    decider: Decider
    log: TransparencyLog
    secrets: HubSecrets
    transport: Transport | None = None
    clock: Clock = system_clock
    random: Random = system_random
    delivery_ttl: timedelta = timedelta(days=14)
    timings: StageTimings = field(default_factory=StageTimings)

    # ------------------------------------------------------------------ submission
    def submit(self, batch: Batch, *, caller: str | None = None) -> BatchResult:
        """Run one batch through the whole pipeline and commit it atomically.

        `caller` (the authenticated participant, if any) must be the exporter.
        Raises InputError/SchemaError for bad records, NotFoundError for unknown parties or
        products, ConflictError when an idempotency key is reused with a different batch.
        """
        if caller is not None and caller != batch.exporter:
            raise ForbiddenError(f"{caller} may not submit batches for exporter {batch.exporter}")
        with self.timings.stage("encode"):
            encoded = EncodedRecords.of(batch.records)
            # Only a submission under an idempotency key is compared with an earlier one.
            request_digest = (
                _batch_digest(batch, encoded.digest()) if batch.idempotency_key is not None else b""
            )
        replay = self._replayed(batch, request_digest)
        if replay is not None:
            return replay
        prepared = self._prepare(batch, self.clock().date())
        sandbox = self.decider.sandbox
        with self.timings.stage("transaction"), self.store.transaction():
            # Re-check inside the write lock: a concurrent twin may have just committed.
            replay = self._replayed(batch, request_digest)
            if replay is not None:
                return replay
            # The sandbox's engines, read once for the decision, the cohorts and the
            # observers; the parties and the context as they stand at commit.
            with nullcontext() if sandbox is None else sandbox.pinned():
                now = self.clock()
                engine, ctx, inputs = self._current(batch, prepared, now)
                result = self._decide_and_commit(
                    batch, encoded, engine, ctx, inputs, request_digest, now
                )
        self.flush_outbox()
        return result

    def check(
        self, batches: Sequence[Batch], progress: Callable[[int], None] | None = None
    ) -> list[list[Decision]]:
        """The dry run: what `submit` would decide for these batches, submitted in order now
        (same registry, counters, live engine, cohorts), with nothing written. Each batch
        sees the subjects the batches before it would have counted. `progress` is called
        with each batch's record count once it is decided."""
        counters = PendingCounters(self.store)
        out = []
        for batch in batches:
            now = self.clock()
            prepared = self._prepare(batch, now.date())
            engine, ctx, inputs = self._current(batch, prepared, now)
            _, applied = self.decider.decide(
                engine, ctx, inputs, batch_id=batch.id, now=now, commit=False, counters=counters
            )
            counters.commit(batch.exporter, counting_year(now.date()), applied.counted)
            out.append(applied.decisions)
            if progress is not None:
                progress(len(batch.records))
        return out

    def _prepare(self, batch: Batch, on: date) -> Prepared:
        """Validate and classify, outside the transaction (the expensive, pure part), and
        make the record inputs for the live engine and the day `on`. The parties are
        checked here too, so that a batch nobody may send is refused before classifying;
        `_current` reads them again."""
        decider, timer = self.decider, self.timings.stage
        exporter, _, product = decider.parties(
            batch.exporter, batch.importer, batch.product, batch.purpose
        )
        with timer("validate"):
            product.validate_all(batch.records)
        engine = decider.live_engine()
        with timer("classify"):
            return decider.prepare(engine, exporter, product, batch.records, on)

    def _current(
        self, batch: Batch, prepared: Prepared, now: datetime
    ) -> tuple[PolicyEngine, BatchContext, list[RecordInput]]:
        """What the decision depends on, read now: the parties (registered, active, in
        their roles), the live engine and the context (agreement in force, filings, first
        transfer). `submit` calls it inside the batch's transaction, so that a change
        committed while the batch was classified (a policy version activated or retired,
        an agreement revoked, a filing withdrawn or recorded, a participant deactivated)
        is decided with. The inputs of `prepared` are reused unless the engine version,
        the exporter's origin or the day changed meanwhile."""
        decider = self.decider
        exporter, importer, product = decider.parties(
            batch.exporter, batch.importer, batch.product, batch.purpose
        )
        engine = decider.live_engine()
        ctx = decider.context(
            exporter, importer, product.id, batch.purpose, now.date(), transit=batch.transit
        )
        return engine, ctx, decider.inputs_at(engine, ctx, prepared)

    def _decide_and_commit(
        self,
        batch: Batch,
        encoded: EncodedRecords,
        engine: PolicyEngine,
        ctx: BatchContext,
        inputs: list[RecordInput],
        request_digest: bytes,
        now: datetime,
    ) -> BatchResult:
        timer = self.timings.stage
        with timer("decide"):
            ordinary, decided = self.decider.decide(
                engine, ctx, inputs, batch_id=batch.id, now=now, commit=True
            )
        sandbox = self.decider.sandbox
        if sandbox is not None:  # observers: shadows, decision facts
            with timer("sandbox"):
                sandbox.observe(batch, ctx, inputs, ordinary, decided, now)
        importer = ctx.importer
        decisions = decided.decisions
        outcomes: Counter[str] = Counter(d.outcome for d in decisions)
        with timer("transform"):
            key = self.secrets.pseudonym_key
            deliver = encoded.part(decisions, _DELIVERABLE, key)
            held = encoded.part(decisions, ("hold",), key)
        tags = sorted({t for d in decisions for t in d.tags})
        counts = {o: outcomes.get(o, 0) for o in OUTCOMES}
        policy_version = decisions[0].policy_version if decisions else ""
        with timer("seal"):
            common = (batch, importer, counts, policy_version, tags)
            digest_of = encoded.digest_of
            envelope_id = self._seal_part(*common, deliver, "pending", digest_of(deliver[0]), now)
            held_id = self._seal_part(*common, held, "held", digest_of(held[0]), now)
        leaf = _batch_leaf(batch, outcomes, decided.policy_version, envelope_id, held_id, tags, now)
        ledger_index = append_leaf(self.log, leaf)
        if deliver[1]:  # data crossed: the flow's first transfer, if it is (VN Decree 356)
            note_transfer(self.store, batch.exporter, batch.importer, now.date())
        year = now.year
        for category, hashes in decided.counted.items():
            self.store.add_subjects(batch.exporter, year, category, hashes)
        result = BatchResult(
            batch_id=batch.id,
            exporter=batch.exporter,
            importer=batch.importer,
            product=batch.product,
            purpose=batch.purpose,
            records=len(batch.records),
            outcomes={o: outcomes.get(o, 0) for o in OUTCOMES},
            decisions=tuple(decisions),
            envelope_id=envelope_id[0] if envelope_id else None,
            held_id=held_id[0] if held_id else None,
            ledger_index=ledger_index,
            policy_version=decided.policy_version,
            committed_at=now,
        )
        self.store.put_batch_result(result)
        if batch.idempotency_key is not None:
            self.store.put_idempotency(
                batch.exporter, batch.idempotency_key, request_digest, batch.id
            )
        if envelope_id is not None:
            queue_delivered(self.store, batch.importer, envelope_id[0], batch.id)
        return result

    def _seal_part(
        self,
        batch: Batch,
        importer: Participant,
        outcomes: dict[str, int],
        policy_version: str,
        tags: list[str],
        part: tuple[bytes, int],
        state: str,
        payload_digest: bytes | None,
        now: datetime,
    ) -> tuple[str, str] | None:
        """Seal `part` (a payload and its record count) for the importer and put the
        envelope in the mailbox. `outcomes`, `policy_version` and `tags`: the whole batch's
        (both envelopes carry them); `payload_digest`: the payload's SHA-256 if known.
        Returns (envelope id, hex digest), or None when there is nothing to seal."""
        payload, record_count = part
        if not record_count:
            return None
        envelope_id = new_id("env", self.random)
        data = seal_envelope(
            envelope_id=envelope_id,
            batch_id=batch.id,
            exporter=batch.exporter,
            importer=batch.importer,
            product=batch.product,
            purpose=batch.purpose,
            outcomes=outcomes,
            policy_version=policy_version,
            record_count=record_count,
            payload=payload,
            created_at=now,
            recipient_public_key=hpke_public_from_bytes(current_hpke_key(importer, now)),
            hub_signing_key=self.secrets.signing_key,
            tags=tags,
            payload_digest=payload_digest,
        )
        self.store.put_envelope(
            StoredEnvelope(
                id=envelope_id,
                batch_id=batch.id,
                exporter=batch.exporter,
                importer=batch.importer,
                state="held" if state == "held" else "pending",
                created_at=now,
                expires_at=now + self.delivery_ttl,
                data=data,
            )
        )
        return envelope_id, envelope_digest(data).hex()

    # ------------------------------------------------------------------ receipts
    @property
    def mailbox(self) -> MailboxService:
        """The envelope state machine over this pipeline's store and ledger."""
        return MailboxService(self.store, self.log, self.clock, self.delivery_ttl)

    def acknowledge(self, receipt: Receipt, *, caller: str | None = None) -> Receipt:
        """Accept an importer's signed receipt: see MailboxService.acknowledge."""
        return self.mailbox.acknowledge(receipt, caller=caller)

    # ------------------------------------------------------------------ plumbing
    def flush_outbox(self) -> int:
        """Publish committed outbox messages (commit, then publish; ids deduplicate)."""
        if self.transport is None:
            return 0
        published, page = 0, 500
        while batch := self.store.take_outbox(page):
            for message in batch:
                self.transport.publish(message.subject, message.message_id, message.payload)
            self.store.delete_outbox([m.seq for m in batch])
            published += len(batch)
            if len(batch) < page:  # that was the last page: no need to ask again
                break
        return published

    def _replayed(self, batch: Batch, digest: bytes) -> BatchResult | None:
        if batch.idempotency_key is None:
            return None
        seen = self.store.get_idempotency(batch.exporter, batch.idempotency_key)
        if seen is None:
            return None
        first_digest, first_id = seen
        if first_digest != digest and first_digest not in _older_digests(batch):
            raise ConflictError(
                f"idempotency key {batch.idempotency_key!r} was already used by {batch.exporter} "
                f"for a different batch ({first_id}); use a new key for new data"
            )
        first = self.store.get_batch_result(first_id)
        return _with_replayed(first)


@dataclass
class EncodedRecords:
    """A batch's records encoded once (encode_records), and hashed at most once: the
    idempotency digest covers the payload's SHA-256, which is also the payload digest of an
    envelope that reuses the payload whole (one carrying every record unchanged); other
    envelopes carry the lines of the records no obligation changes."""

    records: Sequence[Any]
    payload: bytes
    _lines: list[bytes] | None = None
    _digest: bytes | None = None

    @classmethod
    def of(cls, records: Sequence[Any]) -> EncodedRecords:
        return cls(records, encode_records(records))

    def digest(self) -> bytes:
        """SHA-256 of the payload."""
        if self._digest is None:
            self._digest = hashlib.sha256(self.payload).digest()
        return self._digest

    def digest_of(self, payload: bytes) -> bytes | None:
        """SHA-256 of `payload` if it is this payload (a part returned whole), else None."""
        return self.digest() if payload is self.payload else None

    def part(
        self, decisions: Sequence[Decision], outcomes: tuple[str, ...], pseudonym_key: bytes
    ) -> tuple[bytes, int]:
        """The payload of the records decided one of `outcomes`, after their obligations,
        and how many records it holds: the bytes of encode_records(those records)."""
        if all(d.outcome in outcomes and not d.obligations for d in decisions):
            return self.payload, len(decisions)
        if not any(d.outcome in outcomes for d in decisions):
            return b"", 0
        if self._lines is None:
            self._lines = record_lines(self.payload)
        lines = payload_lines(self.records, self._lines, decisions, outcomes, pseudonym_key)
        return join_record_lines(lines), len(lines)


def payload_lines(
    records: Sequence[Any],
    lines: Sequence[bytes],
    decisions: Sequence[Decision],
    outcomes: tuple[str, ...],
    pseudonym_key: bytes,
) -> list[bytes]:
    """The payload lines (encode_records, one per record) of the records decided one of
    `outcomes`, after their obligations. `lines`: the records' lines as submitted
    (record_lines); a record without obligations keeps its line, so only the records an
    obligation changes are encoded again."""
    out = []
    for record, line, decision in zip(records, lines, decisions, strict=True):
        if decision.outcome not in outcomes:
            continue
        if decision.obligations:
            changed = apply_obligations(
                record, decision.obligations, pseudonym_key=pseudonym_key, share=True
            )
            line = encode_records((changed,))
        out.append(line)
    return out


_DIGEST_CONTEXT = b"silkgate/idempotency/v3\x00"
_DIGEST_CONTEXT_V2 = b"silkgate/idempotency/v2\x00"


def _batch_digest(batch: Batch, payload_digest: bytes) -> bytes:
    """What identifies a submission for idempotency: parties, product, purpose, records.
    `payload_digest`: SHA-256 of the records' canonical NDJSON (encode_records, which sorts
    keys, so key order does not matter): the payload is hashed once, for this and for the
    envelope. The head is one canonical line of fixed meaning before a fixed-size digest."""
    return hashlib.sha256(_DIGEST_CONTEXT + _digest_head(batch) + payload_digest).digest()


def _digest_head(batch: Batch) -> bytes:
    """The parties, product and purpose as one canonical line, its newline included."""
    return canonical_json([batch.exporter, batch.importer, batch.product, batch.purpose]) + b"\n"


def _older_digests(batch: Batch) -> tuple[bytes | None, ...]:
    """The forms an idempotency key may have been stored with by earlier versions (v2:
    the payload itself after the head; v1: sorted-key orjson), so that it still replays."""
    return _batch_digest_v2(batch), _batch_digest_v1(batch)


def _batch_digest_v2(batch: Batch) -> bytes:
    body = _DIGEST_CONTEXT_V2 + _digest_head(batch) + encode_records(batch.records)
    return hashlib.sha256(body).digest()


def _batch_digest_v1(batch: Batch) -> bytes | None:
    """The digest as stored before the canonical-lines form (sorted-key orjson of parties,
    product, purpose and records): keys stored then still replay their batch. None when
    that form cannot encode the records (integers beyond 64 bits), so it matches nothing."""
    body = [batch.exporter, batch.importer, batch.product, batch.purpose, batch.records]
    try:
        return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).digest()
    except orjson.JSONEncodeError:
        return None


def _batch_leaf(
    batch: Batch,
    outcomes: Counter[str],
    policy_version: str,
    envelope: tuple[str, str] | None,
    held: tuple[str, str] | None,
    tags: list[str],
    now: datetime,
) -> BatchLeaf:
    """The ledger entry of a batch: metadata and digests, never contents. A held envelope
    is named by a commitment to its digest (silkgate.ledger.leaves.held_commitment)."""
    return BatchLeaf(
        batch_id=batch.id,
        exporter=batch.exporter,
        importer=batch.importer,
        product=batch.product,
        purpose=batch.purpose,
        records=len(batch.records),
        outcomes={o: outcomes.get(o, 0) for o in OUTCOMES},
        policy_version=policy_version,
        delivered=envelope_ref(envelope),
        held=held_ref(held),
        tags=tags,
        time=now,
    )


def _with_replayed(result: BatchResult) -> BatchResult:
    return msgspec.structs.replace(result, replayed=True)
