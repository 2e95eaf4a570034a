"""Shadow evaluation: each shadow version decides the same batch as the active one, in the
same pass, against counters it cannot write; the differences are counted by corridor,
product, exporter and (from → to) outcome, with a bounded sample of metadata per change.

A shadow's own cumulative counts live in a separate namespace of the counters (category
``shadow:<pack>@<version>:<category>``), so that its thresholds evolve as they would have
had it been active.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import msgspec

from silkgate.counters import CounterView
from silkgate.model import Decision
from silkgate.policy import BatchContext, BatchDecision, PolicyEngine, RecordInput
from silkgate.store.base import Store
from silkgate.store.ports import CounterPort, SandboxPort

DOC_KIND = "shadow_diff"
SAMPLES_PER_CHANGE = 20


class ChangeSample(msgspec.Struct, frozen=True, kw_only=True):
    batch_id: str
    record: int
    time: datetime
    exporter: str
    product: str
    corridor: str
    active_rules: tuple[str, ...]
    shadow_rules: tuple[str, ...]


class ShadowDiff(msgspec.Struct, kw_only=True):
    """Running differences between one shadow version and the active decisions."""

    version: str  # pack@version
    records: int = 0
    batches: int = 0
    changed: int = 0
    by_corridor: dict[str, int] = {}
    by_product: dict[str, int] = {}
    by_exporter: dict[str, int] = {}
    by_change: dict[str, int] = {}  # "allow→hold" -> records
    samples: dict[str, list[ChangeSample]] = {}
    first_at: datetime | None = None
    last_at: datetime | None = None
    failures: int = 0  # batches the shadow could not decide (live traffic went on)
    last_failure: str = ""


class ShadowCounters:
    """A read-only CounterView over a shadow's own counter namespace."""

    def __init__(self, store: CounterPort, prefix: str) -> None:
        self._store, self._prefix = store, prefix

    def known_subjects(
        self, exporter: str, year: int, category: str, subject_hashes: Sequence[bytes]
    ) -> set[bytes]:
        return self._store.known_subjects(exporter, year, self._prefix + category, subject_hashes)

    def subject_count(self, exporter: str, year: int, category: str) -> int:
        return self._store.subject_count(exporter, year, self._prefix + category)


def namespace(version_key: str) -> str:
    return f"shadow:{version_key}:"


def load_diff(store: SandboxPort, version_key: str) -> ShadowDiff:
    raw = store.get_sandbox_doc(DOC_KIND, version_key)
    return (
        ShadowDiff(version=version_key)
        if raw is None
        else msgspec.msgpack.decode(raw, type=ShadowDiff)
    )


def note_failure(store: SandboxPort, version_key: str, message: str) -> None:
    diff = load_diff(store, version_key)
    diff.failures += 1
    diff.last_failure = message[:500]
    store.put_sandbox_doc(DOC_KIND, version_key, msgspec.msgpack.encode(diff))


def evaluate_shadow(
    store: Store,
    version_key: str,
    engine: PolicyEngine,
    ctx: BatchContext,
    inputs: Sequence[RecordInput],
    active: BatchDecision,
    batch_id: str,
    subject_key: bytes,
    now: datetime,
) -> int:
    """Decide the batch with a shadow engine, keep its counts in its namespace, and add the
    differences to its stored diff. Joins the caller's transaction. Returns records changed."""
    prefix = namespace(version_key)
    view: CounterView = ShadowCounters(store, prefix)
    shadow = engine.decide_batch(ctx, inputs, view, subject_key)
    year = ctx.on.year
    for category, hashes in shadow.counted.items():
        store.add_subjects(ctx.exporter.id, year, prefix + category, hashes)
    diff = load_diff(store, version_key)
    corridor = f"{ctx.exporter.jurisdiction}-{ctx.importer.jurisdiction}"
    changed = 0
    for index, (a, s) in enumerate(zip(active.decisions, shadow.decisions, strict=True)):
        if a.outcome != s.outcome:
            changed += 1
            _record_change(diff, a, s, ctx, corridor, batch_id, index, now)
    diff.records += len(inputs)
    diff.batches += 1
    diff.changed += changed
    diff.first_at = diff.first_at or now
    diff.last_at = now
    store.put_sandbox_doc(DOC_KIND, version_key, msgspec.msgpack.encode(diff))
    return changed


def _record_change(
    diff: ShadowDiff,
    active: Decision,
    shadow: Decision,
    ctx: BatchContext,
    corridor: str,
    batch_id: str,
    index: int,
    now: datetime,
) -> None:
    change = f"{active.outcome}→{shadow.outcome}"
    for table, key in (
        (diff.by_corridor, corridor),
        (diff.by_product, ctx.product),
        (diff.by_exporter, ctx.exporter.id),
        (diff.by_change, change),
    ):
        table[key] = table.get(key, 0) + 1
    samples = diff.samples.setdefault(change, [])
    if len(samples) < SAMPLES_PER_CHANGE:
        samples.append(
            ChangeSample(
                batch_id=batch_id,
                record=index,
                time=now,
                exporter=ctx.exporter.id,
                product=ctx.product,
                corridor=corridor,
                active_rules=active.rule_ids,
                shadow_rules=shadow.rule_ids,
            )
        )
