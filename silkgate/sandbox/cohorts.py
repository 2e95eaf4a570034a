"""Experiment cohorts: a regulator admits participants to a time-boxed trial in which a
relaxed overlay pack decides their in-scope traffic, capped in records and distinct
individuals, with every such decision tagged ``sandbox:<experiment>``.

Caps are checked and consumed inside the batch's store transaction, so concurrent batches
never overshoot them; a batch that would overshoot is decided by the ordinary rules and the
experiment is suspended. Reaching the end date suspends it too; a regulator can suspend it
at once (kill switch), which takes effect on the next batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import msgspec

from silkgate.clock import Clock, Random, system_random
from silkgate.counters import SubjectHasher
from silkgate.errors import ConflictError, InputError, NotFoundError
from silkgate.ledger import TransparencyLog
from silkgate.ledger.leaves import SandboxLeaf, append_leaf
from silkgate.ledger.notes import keep_note
from silkgate.policy import BatchContext, BatchDecision, Pack, PolicyEngine, RecordInput
from silkgate.sandbox.auth import Approval, action_message, verify_approval
from silkgate.sandbox.lifecycle import bump_generation, hold_generation
from silkgate.sandbox.packs import pack_from_text, text_digest
from silkgate.store.base import Store
from silkgate.store.ports import SandboxPort

DOC_KIND = "cohort"
_ID_OK = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_.")


class CohortSpec(msgspec.Struct, frozen=True, kw_only=True):
    """What a regulator asks for. Empty `products`/`corridors` = any; corridors are written
    ``CN-VN`` (origin-destination); a cap of None = no cap."""

    id: str
    title: str = ""
    members: tuple[str, ...]
    products: tuple[str, ...] = ()
    corridors: tuple[str, ...] = ()
    overlay_yaml: str
    max_records: int | None = None
    max_individuals: int | None = None
    start: datetime
    end: datetime

    def message_body(self) -> dict[str, Any]:
        body = msgspec.to_builtins(self)
        body["overlay_yaml"] = text_digest(self.overlay_yaml)
        return dict(body)


class Incident(msgspec.Struct, frozen=True, kw_only=True):
    at: datetime
    kind: str  # cap_reached, ended, kill_switch
    detail: str
    batch_id: str = ""


class Cohort(msgspec.Struct, kw_only=True):
    spec: CohortSpec
    overlay_pack: str
    overlay_sha256: str
    state: str = "active"  # active | suspended
    reason: str = ""
    created_by: str
    created_at: datetime
    records: int = 0
    individuals: int = 0
    batches: int = 0
    flowed: dict[str, int] = {}  # overlay outcome -> records
    changes: dict[str, int] = {}  # "hold→allow" (ordinary → overlay) -> records
    by_product: dict[str, int] = {}
    by_corridor: dict[str, int] = {}
    incidents: list[Incident] = []
    ledger_indexes: list[int] = []

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def tag(self) -> str:
        return f"sandbox:{self.spec.id}"

    def in_scope(self, ctx: BatchContext) -> bool:
        s = self.spec
        corridor = f"{ctx.exporter.jurisdiction}-{ctx.importer.jurisdiction}"
        return (
            ctx.exporter.id in s.members
            and (not s.products or ctx.product in s.products)
            and (not s.corridors or corridor in s.corridors)
        )


def cohort_message(action: str, cohort_id: str, body: dict[str, Any], by: str) -> bytes:
    return action_message(f"cohort.{action}", {"cohort": cohort_id, "by": by, **body})


class CohortManager:
    def __init__(
        self,
        store: Store,
        log: TransparencyLog,
        clock: Clock,
        check: Callable[[Pack], None] = lambda pack: None,
        random: Random = system_random,
    ) -> None:
        """`check` raises PolicyError if the overlay cannot join the active packs."""
        self.store, self.log, self.clock, self.check = store, log, clock, check
        self.random = random

    def get(self, cohort_id: str) -> Cohort:
        raw = self.store.get_sandbox_doc(DOC_KIND, cohort_id)
        if raw is None:
            raise NotFoundError(f"no experiment {cohort_id!r}; see `silkgate sandbox cohort list`")
        return msgspec.msgpack.decode(raw, type=Cohort)

    def all(self) -> list[Cohort]:
        return [msgspec.msgpack.decode(r, type=Cohort)
                for _, r in self.store.list_sandbox_docs(DOC_KIND)]  # fmt: skip

    def create(self, spec: CohortSpec, approval: Approval) -> Cohort:
        pack = _check_spec(spec)
        self.check(pack_from_text(spec.overlay_yaml, f"overlay of {spec.id}"))
        verify_approval(
            self.store, approval,
            cohort_message("create", spec.id, spec.message_body(), approval.by), self.clock(),
        )  # fmt: skip
        cohort = Cohort(
            spec=spec, overlay_pack=pack, overlay_sha256=text_digest(spec.overlay_yaml),
            created_by=approval.by, created_at=self.clock(),
        )  # fmt: skip
        with self.store.transaction():
            hold_generation(self.store)
            if self.store.get_sandbox_doc(DOC_KIND, spec.id) is not None:
                raise ConflictError(f"experiment {spec.id!r} exists already; choose another id")
            self._ledger(cohort, "create", approval.by, approval, spec.message_body())
            save(self.store, cohort)
            bump_generation(self.store)
        return cohort

    def suspend(self, cohort_id: str, approval: Approval, reason: str = "") -> Cohort:
        """Kill switch: takes effect on the next batch."""
        verify_approval(
            self.store, approval,
            cohort_message("suspend", cohort_id, {"reason": reason}, approval.by), self.clock(),
        )  # fmt: skip
        with self.store.transaction():
            cohort = self.get(cohort_id)
            if cohort.state != "active":
                raise ConflictError(f"experiment {cohort_id!r} is already {cohort.state}")
            detail = reason or f"suspended by {approval.by}"
            suspend(cohort, "kill_switch", detail, self.clock(), "")
            why = keep_note(self.store, detail, self.random)  # the text stays off the ledger
            self._ledger(cohort, "suspend", approval.by, approval, {"reason_commitment": why})
            save(self.store, cohort)
        return cohort

    def _ledger(
        self, cohort: Cohort, action: str, by: str, approval: Approval | None,
        body: dict[str, Any],
    ) -> None:  # fmt: skip
        cohort.ledger_indexes.append(ledger_event(self.log, cohort, action, by, approval, body,
                                                  self.clock()))  # fmt: skip


def ledger_event(
    log: TransparencyLog,
    cohort: Cohort,
    action: str,
    by: str,
    approval: Approval | None,
    body: dict[str, Any],
    now: datetime,
) -> int:
    leaf = SandboxLeaf(
        action=f"cohort.{action}", cohort=cohort.id, by=by,
        key_id=approval.key_id if approval else "", time=now,
        signature=approval.signature.hex() if approval else "", detail=body,
    )  # fmt: skip
    return append_leaf(log, leaf)


def save(store: SandboxPort, cohort: Cohort) -> None:
    store.put_sandbox_doc(DOC_KIND, cohort.id, msgspec.msgpack.encode(cohort))


def suspend(cohort: Cohort, kind: str, detail: str, now: datetime, batch_id: str) -> None:
    cohort.state = "suspended"
    cohort.reason = detail
    cohort.incidents.append(Incident(at=now, kind=kind, detail=detail, batch_id=batch_id))


def _check_spec(spec: CohortSpec) -> str:
    if not spec.id or set(spec.id) - _ID_OK:
        raise InputError(f"experiment id {spec.id!r}: use lower-case letters, digits, - _ .")
    if not spec.members:
        raise InputError("an experiment needs at least one member (participant id)")
    if spec.end <= spec.start:
        raise InputError("the experiment's end must be after its start")
    for cap in (spec.max_records, spec.max_individuals):
        if cap is not None and cap < 0:
            raise InputError("caps must not be negative")
    pack = pack_from_text(spec.overlay_yaml, f"overlay of {spec.id}")
    if pack.overlay_of is None:
        raise InputError(
            f"pack {pack.id!r} is not an overlay (no `overlay_of:`); a cohort relaxes an "
            "existing pack through an overlay"
        )
    return pack.id


# ---------------------------------------------------------------------- in the batch
def apply_cohorts(
    store: Store,
    log: TransparencyLog,
    engines: dict[str, PolicyEngine],
    ctx: BatchContext,
    inputs: Sequence[RecordInput],
    base: BatchDecision,
    batch_id: str,
    subject_key: bytes,
    now: datetime,
    *,
    commit: bool = True,
) -> BatchDecision:
    """Within the batch's transaction: the first active experiment in scope decides the
    batch with its overlay, if its caps allow the whole batch. Returns the decisions.
    Without `commit` (a dry run) nothing is written: caps are looked at, not consumed."""
    for _, raw in store.list_sandbox_docs(DOC_KIND):
        cohort = msgspec.msgpack.decode(raw, type=Cohort)
        if cohort.state != "active" or not cohort.in_scope(ctx) or now < cohort.spec.start:
            continue
        if now >= cohort.spec.end:
            if commit:
                _auto_suspend(store, log, cohort, "ended", "end date reached", now, batch_id)
            continue
        engine = engines.get(cohort.id)
        if engine is None:
            continue
        decided = _admit(store, log, cohort, engine, ctx, inputs, base, batch_id,
                         subject_key, now, commit)  # fmt: skip
        if decided is not None:
            return decided
    return base


def _admit(
    store: Store,
    log: TransparencyLog,
    cohort: Cohort,
    engine: PolicyEngine,
    ctx: BatchContext,
    inputs: Sequence[RecordInput],
    base: BatchDecision,
    batch_id: str,
    subject_key: bytes,
    now: datetime,
    commit: bool,
) -> BatchDecision | None:
    space = f"cohort:{cohort.id}"
    hasher = SubjectHasher(subject_key)
    hashes = list(dict.fromkeys(hasher(s) for r in inputs for s in r.subjects))
    new = len(hashes) - len(store.known_subjects(space, 0, "individuals", hashes))
    over = _over_cap(cohort, len(inputs), new)
    if over:
        detail = f"{over}: batch {batch_id} of {len(inputs)} records not admitted"
        if commit:
            _auto_suspend(store, log, cohort, "cap_reached", detail, now, batch_id)
        return None
    overlay = engine.decide_batch(ctx, inputs, store, subject_key)
    tagged = [msgspec.structs.replace(d, tags=(*d.tags, cohort.tag)) for d in overlay.decisions]
    if not commit:
        return BatchDecision(tagged, overlay.counted, overlay.policy_version)
    store.add_subjects(space, 0, "individuals", hashes)
    _account(cohort, ctx, base, tagged, new)
    full = _over_cap(cohort, 1, 0)
    if full:
        _auto_suspend(store, log, cohort, "cap_reached", full.replace("would exceed", "reached"),
                      now, batch_id)  # fmt: skip
    else:
        save(store, cohort)
    return BatchDecision(tagged, overlay.counted, overlay.policy_version)


def _over_cap(cohort: Cohort, records: int, individuals: int) -> str:
    spec = cohort.spec
    if spec.max_records is not None and cohort.records + records > spec.max_records:
        return f"record cap {spec.max_records} would exceed"
    if spec.max_individuals is not None and cohort.individuals + individuals > spec.max_individuals:
        return f"individual cap {spec.max_individuals} would exceed"
    return ""


def _account(
    cohort: Cohort, ctx: BatchContext, base: BatchDecision, tagged: list[Any], new: int
) -> None:
    corridor = f"{ctx.exporter.jurisdiction}-{ctx.importer.jurisdiction}"
    cohort.records += len(tagged)
    cohort.individuals += new
    cohort.batches += 1
    cohort.by_product[ctx.product] = cohort.by_product.get(ctx.product, 0) + len(tagged)
    cohort.by_corridor[corridor] = cohort.by_corridor.get(corridor, 0) + len(tagged)
    for before, after in zip(base.decisions, tagged, strict=True):
        cohort.flowed[after.outcome] = cohort.flowed.get(after.outcome, 0) + 1
        if before.outcome != after.outcome:
            change = f"{before.outcome}→{after.outcome}"
            cohort.changes[change] = cohort.changes.get(change, 0) + 1


def _auto_suspend(
    store: Store, log: TransparencyLog, cohort: Cohort, kind: str, detail: str,
    now: datetime, batch_id: str,
) -> None:  # fmt: skip
    suspend(cohort, kind, detail, now, batch_id)
    cohort.ledger_indexes.append(
        ledger_event(
            log, cohort, "suspend", "hub", None, {"reason": detail, "batch": batch_id}, now
        )
    )
    save(store, cohort)


def exit_report(cohort: Cohort) -> dict[str, Any]:
    """What flowed, what the overlay changed, and the incidents."""
    spec = cohort.spec
    return {
        "id": spec.id, "title": spec.title, "state": cohort.state, "reason": cohort.reason,
        "members": list(spec.members), "products": list(spec.products),
        "corridors": list(spec.corridors), "overlay": cohort.overlay_pack,
        "overlay_sha256": cohort.overlay_sha256, "start": spec.start, "end": spec.end,
        "caps": {"records": spec.max_records, "individuals": spec.max_individuals},
        "flowed": {"records": cohort.records, "individuals": cohort.individuals,
                   "batches": cohort.batches, "outcomes": dict(cohort.flowed),
                   "by_product": dict(cohort.by_product),
                   "by_corridor": dict(cohort.by_corridor)},
        "overlay_changed": dict(cohort.changes),
        "incidents": [msgspec.to_builtins(i) for i in cohort.incidents],
        "ledger_indexes": list(cohort.ledger_indexes),
        "created_by": cohort.created_by, "created_at": cohort.created_at,
    }  # fmt: skip
