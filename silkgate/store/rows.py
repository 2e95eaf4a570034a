"""Rows and blobs <-> model values, shared by the SQL stores (SQLite and PostgreSQL): the
envelope and push-endpoint columns, batch results in their compact stored form, decision
facts grouped into stored rows, and the WHERE clause of the list filters."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

import msgspec

from silkgate.errors import StoreError
from silkgate.model import BatchResult, Decision
from silkgate.store._common import from_us, to_us
from silkgate.store.base import DecisionFact, PushEndpoint, StoredEnvelope

T = TypeVar("T")
FACTS_PER_ROW = 2**20  # fact seq = stored row seq * this + index in the row
ENVELOPE_COLUMNS = "id, batch_id, exporter, importer, state, created_us, expires_us, attempts, data"


def envelope_row(e: StoredEnvelope) -> tuple[Any, ...]:
    """The values of ENVELOPE_COLUMNS, in that order (envelope_from_row's inverse)."""
    return (e.id, e.batch_id, e.exporter, e.importer, e.state, to_us(e.created_at),
            to_us(e.expires_at), e.attempts, e.data)  # fmt: skip


def envelope_from_row(row: Sequence[Any]) -> StoredEnvelope:
    """A StoredEnvelope from the columns ENVELOPE_COLUMNS names, in that order."""
    id_, batch_id, exporter, importer, state, created, expires, attempts, data = row
    return StoredEnvelope(
        id=str(id_),
        batch_id=str(batch_id),
        exporter=str(exporter),
        importer=str(importer),
        state=state,
        created_at=from_us(int(created)),
        expires_at=from_us(int(expires)),
        attempts=int(attempts),
        data=bytes(data),
    )


def push_endpoint_from_row(row: Sequence[Any]) -> PushEndpoint:
    """A PushEndpoint from (importer, url, created_us)."""
    importer, url, created = row
    return PushEndpoint(importer=str(importer), url=str(url), created_at=from_us(int(created)))


def where_equal(placeholder: str, **columns: object) -> tuple[str, list[object]]:
    """A WHERE clause matching every column whose value is not None, with the driver's
    `placeholder` (``?`` or ``%s``), and its parameters."""
    used = {c: v for c, v in columns.items() if v is not None}
    if not used:
        return "", []
    clause = " AND ".join(f"{c} = {placeholder}" for c in used)
    return " WHERE " + clause, list(used.values())


def fact_groups(facts: Sequence[DecisionFact]) -> list[list[DecisionFact]]:
    """Runs of facts with the same time (a batch): one stored row each."""
    groups: list[list[DecisionFact]] = []
    for fact in facts:
        if groups and groups[-1][0].time == fact.time:
            groups[-1].append(fact)
        else:
            groups.append([fact])
    if any(len(g) >= FACTS_PER_ROW for g in groups):
        raise StoreError(f"at most {FACTS_PER_ROW - 1} decision facts per batch")
    return groups


# A batch result as stored: most records of a batch share a few decisions, so each distinct
# decision is stored once (`decision_table`) and each record names its own by position
# (`decision_index`). Rows written before this form carry `decisions` in full; both decode.
# The compact form has no `decisions`, so an older reader fails loudly instead of misreading.
_StoredBatchResult: Any = msgspec.defstruct(
    "_StoredBatchResult",
    [
        *(
            (f.name, f.type) if f.required else (f.name, f.type, f.default)
            for f in msgspec.structs.fields(BatchResult)
            if f.name != "decisions"
        ),
        ("decisions", tuple[Decision, ...] | None, None),
        ("decision_table", tuple[Decision, ...], ()),
        ("decision_index", tuple[int, ...], ()),
    ],
    kw_only=True,
    frozen=True,
    omit_defaults=True,
)
_RESULT_FIELDS = tuple(f for f in BatchResult.__struct_fields__ if f != "decisions")


def compact_result(result: BatchResult) -> Any:
    """The stored form of a batch result (each distinct decision once)."""
    positions: dict[int, int] = {}
    table: list[Decision] = []
    index: list[int] = []
    for decision in result.decisions:
        at = positions.get(id(decision))
        if at is None:
            at = positions[id(decision)] = len(table)
            table.append(decision)
        index.append(at)
    fields = {name: getattr(result, name) for name in _RESULT_FIELDS}
    return _StoredBatchResult(**fields, decision_table=tuple(table), decision_index=tuple(index))


def result_from_blob(blob: bytes) -> BatchResult:
    """A batch result from its stored form (compact or, for older rows, full)."""
    stored = decode_blob(blob, _StoredBatchResult)
    decisions = stored.decisions
    if decisions is None:
        table = stored.decision_table
        try:
            decisions = tuple([table[i] for i in stored.decision_index])
        except IndexError:
            raise StoreError("stored BatchResult cannot be decoded: bad decision index") from None
    fields = {name: getattr(stored, name) for name in _RESULT_FIELDS}
    return BatchResult(**fields, decisions=decisions)


def decode_blob(blob: bytes, kind: type[T]) -> T:
    """A msgpack blob as `kind`; a blob that does not decode is a StoreError."""
    try:
        return msgspec.msgpack.decode(blob, type=kind)
    except msgspec.DecodeError as exc:
        raise StoreError(f"stored {kind.__name__} cannot be decoded: {exc}") from exc
