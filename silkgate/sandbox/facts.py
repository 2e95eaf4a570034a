"""Decision facts: for each record, what its decision used (never contents), and their
columnar form (Arrow tables, Parquet files, DuckDB queries) for analytics and replay."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from silkgate.counters import SubjectHasher
from silkgate.model import Batch, Decision
from silkgate.policy import BatchContext, BatchDecision, RecordInput
from silkgate.policy.engine import ContextFacts
from silkgate.store.base import DecisionFact, FactColumns
from silkgate.store.ports import finding_row


def facts_for_batch(
    batch: Batch,
    ctx: BatchContext,
    inputs: Sequence[RecordInput],
    decided: BatchDecision,
    subject_key: bytes,
    now: datetime,
) -> FactColumns:
    """One fact per record: the batch's context, the record's shape and keyed subject
    hashes, and the decision; held by column (the batch's fields once, each distinct shape
    and decision once). Pure: no I/O."""
    hasher = SubjectHasher(subject_key)
    common: dict[str, Any] = {
        "time": now,
        "batch_id": batch.id,
        "exporter": ctx.exporter.id,
        "importer": ctx.importer.id,
        **_context_fields(ContextFacts.of(ctx)),
    }
    # One shape per (decision, findings, paths): most records of a batch share a few. The
    # engine's shapes tell equal findings and paths apart by identity, without hashing them.
    shape_at: dict[tuple[int, Any], int] = {}
    shapes: list[dict[str, Any]] = []
    shape_of: list[int] = []
    subjects: list[tuple[bytes, ...]] = []
    known = _known_hashes(inputs, decided, hasher)
    engine_shapes = decided.shapes
    if engine_shapes is not None and len(engine_shapes) != len(inputs):
        engine_shapes = None
    for index, (record, decision) in enumerate(zip(inputs, decided.decisions, strict=True)):
        if engine_shapes is not None:
            key: tuple[int, Any] = (id(decision), id(engine_shapes[index]))
        else:
            key = (id(decision), (record.findings, record.paths))
        at = shape_at.get(key)
        if at is None:
            at = shape_at[key] = len(shapes)
            shapes.append(_shape_fields(record, decision))
        shape_of.append(at)
        hashes = known[index] if known is not None else ()
        if len(hashes) != len(record.subjects):
            hashes = tuple(map(hasher, record.subjects))
        subjects.append(hashes)
    return FactColumns(common, shapes, shape_of, subjects)


def _known_hashes(
    inputs: Sequence[RecordInput], decided: BatchDecision, hasher: SubjectHasher
) -> list[tuple[bytes, ...]] | None:
    """The subject hashes the engine already computed, if they were keyed like ours: one is
    checked against `hasher` (a different key would not match); None when unusable."""
    known = decided.subject_hashes
    if known is None or len(known) != len(inputs):
        return None
    for record, hashes in zip(inputs, known, strict=True):
        if hashes:
            same = len(hashes) == len(record.subjects) and hasher(record.subjects[0]) == hashes[0]
            return known if same else None
    return known


_STORED = frozenset(DecisionFact.__struct_fields__)


def _context_fields(facts: ContextFacts) -> dict[str, Any]:
    """The context's fields a decision fact stores (its values are immutable: no deep copy,
    unlike dataclasses.asdict)."""
    return {f.name: getattr(facts, f.name) for f in dataclasses.fields(facts) if f.name in _STORED}


def _shape_fields(record: RecordInput, decision: Decision) -> dict[str, Any]:
    """The fields shared by every record of one shape decided the same way."""
    facts = decision.facts
    counts = facts.get("counts", {})
    pi = counts.get("pi", {})
    spi = counts.get("sensitive_pi", {})
    gated = "gate" in facts
    return {
        "gate": decision.rule_ids[0] if gated and decision.rule_ids else "",
        "findings": tuple(map(finding_row, record.findings)),
        "paths": tuple(record.paths),
        "types": tuple(sorted({f.type for f in record.findings})),
        "categories": tuple(facts.get("categories", ())),
        "counted": tuple(facts.get("counted", ())),
        "pi_before": int(pi.get("before", 0)),
        "pi_after": int(pi.get("after", 0)),
        "sensitive_pi_before": int(spi.get("before", 0)),
        "sensitive_pi_after": int(spi.get("after", 0)),
        "outcome": decision.outcome,
        "rule_ids": decision.rule_ids,
        "policy_version": decision.policy_version,
        "tags": decision.tags,
    }
