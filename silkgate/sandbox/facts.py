"""Decision facts: for each record, what its decision used (never contents), and their
columnar form (Arrow tables, Parquet files, DuckDB queries) for analytics and replay."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import msgspec

from silkgate.counters import SubjectHasher
from silkgate.model import Batch, Decision
from silkgate.policy import BatchContext, BatchDecision, RecordInput
from silkgate.policy.engine import ContextFacts
from silkgate.store.base import DecisionFact
from silkgate.store.ports import finding_row


def facts_for_batch(
    batch: Batch,
    ctx: BatchContext,
    inputs: Sequence[RecordInput],
    decided: BatchDecision,
    subject_key: bytes,
    now: datetime,
) -> list[DecisionFact]:
    """One fact row per record: the batch's context, the record's shape and keyed subject
    hashes, and the decision. Pure: no I/O."""
    hasher = SubjectHasher(subject_key)
    common: dict[str, Any] = {
        "time": now,
        "batch_id": batch.id,
        "exporter": ctx.exporter.id,
        "importer": ctx.importer.id,
        **{k: v for k, v in dataclasses.asdict(ContextFacts.of(ctx)).items() if k in _STORED},
    }
    template = DecisionFact(**common, **_EMPTY)
    # One template per (decision, shape): each record's fact only adds its index and subjects.
    shared: dict[tuple[int, Any], DecisionFact] = {}
    known = _known_hashes(inputs, decided, hasher)
    replace = msgspec.structs.replace
    out = []
    for index, (record, decision) in enumerate(zip(inputs, decided.decisions, strict=True)):
        key = (id(decision), (record.findings, record.paths))
        shaped = shared.get(key)
        if shaped is None:
            shaped = shared[key] = replace(template, **_shape_fields(record, decision))
        subjects = known[index] if known is not None else ()
        if len(subjects) != len(record.subjects):
            subjects = tuple(map(hasher, record.subjects))
        out.append(replace(shaped, record=index, subjects=subjects))
    return out


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


_STORED = frozenset(f.name for f in msgspec.structs.fields(DecisionFact))

_EMPTY: dict[str, Any] = {
    "record": 0, "gate": "", "findings": (), "paths": (), "types": (), "categories": (),
    "subjects": (), "counted": (), "pi_before": 0, "pi_after": 0, "sensitive_pi_before": 0,
    "sensitive_pi_after": 0, "outcome": "", "rule_ids": (), "policy_version": "",
}  # fmt: skip


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
