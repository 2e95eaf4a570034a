"""Decision facts: for each record, what its decision used (never contents), and their
columnar form (Arrow tables, Parquet files, DuckDB queries) for analytics and replay."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import msgspec
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from silkgate.counters import SubjectHasher
from silkgate.errors import InputError
from silkgate.model import Batch, Decision
from silkgate.policy import BatchContext, BatchDecision, RecordInput
from silkgate.policy.engine import ContextFacts
from silkgate.store.base import DecisionFact

_STR = pa.string()
_STRS = pa.list_(pa.string())

FACT_SCHEMA = pa.schema(
    [
        pa.field(n, t)
        for n, t in [
            ("seq", pa.int64()),
            ("time", pa.timestamp("us", tz="UTC")),
            ("year", pa.int32()),
            ("batch_id", _STR),
            ("record", pa.int32()),
            ("exporter", _STR),
            ("importer", _STR),
            ("origin", _STR),
            ("destination", _STR),
            ("product", _STR),
            ("sector", _STR),
            ("purpose", _STR),
            ("instrument", _STR),
            ("ciio", pa.bool_()),
            ("transit", pa.bool_()),
            ("filings", _STR),  # comma-separated, sorted
            ("agreement_days", pa.int32()),
            ("tia_age_days", pa.int32()),
            ("gate", _STR),
            ("findings", _STR),  # JSON [[path, type], ...]: the record's shape
            ("paths", _STR),  # JSON [path, ...]
            ("types", _STRS),
            ("categories", _STRS),
            ("subjects", pa.list_(pa.binary())),
            ("counted", _STRS),
            ("pi_before", pa.int64()),
            ("pi_after", pa.int64()),
            ("sensitive_pi_before", pa.int64()),
            ("sensitive_pi_after", pa.int64()),
            ("outcome", _STR),
            ("rule_ids", _STRS),
            ("policy_version", _STR),
            ("tags", _STRS),
        ]
    ]
)


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
        **dataclasses.asdict(ContextFacts.of(ctx)),
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
        "findings": tuple((f.path, f.type) for f in record.findings),
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


def facts_table(rows: Iterable[DecisionFact]) -> pa.Table:
    """The columnar form of decision facts (schema FACT_SCHEMA), in the order given."""
    columns: dict[str, list[Any]] = {name: [] for name in FACT_SCHEMA.names}
    for r in rows:
        for name in _PLAIN:
            columns[name].append(getattr(r, name))
        columns["year"].append(r.time.year)
        columns["filings"].append(",".join(r.filings))
        columns["findings"].append(orjson.dumps(r.findings).decode())
        columns["paths"].append(orjson.dumps(r.paths).decode())
        for name in _LISTS:
            columns[name].append(list(getattr(r, name)))
    return pa.Table.from_pydict(columns, schema=FACT_SCHEMA)


_LISTS = ("types", "categories", "subjects", "counted", "rule_ids", "tags")
_DERIVED = {"year", "filings", "findings", "paths", *_LISTS}
_PLAIN = tuple(n for n in FACT_SCHEMA.names if n not in _DERIVED)


def write_parquet(table: pa.Table, path: str | Path) -> None:
    pq.write_table(table, str(path), compression="zstd")


def read_parquet(path: str | Path) -> pa.Table:
    try:
        table = pq.read_table(str(path))
    except (OSError, pa.ArrowInvalid) as exc:
        raise InputError(f"cannot read decision facts from {path}: {exc}") from None
    missing = set(FACT_SCHEMA.names) - set(table.column_names)
    if missing:
        raise InputError(
            f"{path} is not a decision-facts file (missing columns: {', '.join(sorted(missing))});"
            " export one with `silkgate sandbox facts export`"
        )
    return table


def query_facts(table: pa.Table, sql: str) -> list[dict[str, Any]]:
    """Run SQL over the facts (visible as the table `facts`) with DuckDB, in memory."""
    con = duckdb.connect()
    try:
        con.register("facts", table)
        result = con.execute(sql)
        names = [d[0] for d in result.description or ()]
        return [dict(zip(names, row, strict=True)) for row in result.fetchall()]
    except duckdb.Error as exc:
        raise InputError(f"facts query failed: {exc}") from None
    finally:
        con.close()
