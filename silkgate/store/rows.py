"""Rows and blobs <-> model values, shared by the SQL stores (SQLite and PostgreSQL): the
envelope and push-endpoint columns, batch results in their compact stored form, decision
facts grouped into stored rows, and the WHERE clause of the list filters."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import groupby, repeat
from operator import attrgetter
from typing import Any, TypeVar

import msgspec
from msgspec import NODEFAULT

from silkgate.errors import StoreError
from silkgate.model import BatchResult, Decision
from silkgate.store._common import from_us, to_us
from silkgate.store.base import DecisionFact, FactColumns, PushEndpoint, StoredEnvelope

T = TypeVar("T")
FACTS_PER_ROW = 2**20  # fact seq = stored row seq * this + index in the row
_encoder = msgspec.msgpack.Encoder()
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


def id_page(
    sql: str,
    params: list[object],
    placeholder: str,
    collate: str,
    after: str | None,
    limit: int | None,
) -> tuple[str, list[object]]:
    """`sql` (a SELECT with its WHERE clause, if any, from where_equal) narrowed to ids after
    `after`, in order of id by code point (`collate`: the store's byte-order collation), at
    most `limit` rows: one page of a registry listing."""
    if after is not None:
        sql += (
            " AND " if " WHERE " in sql else " WHERE "
        ) + f"id COLLATE {collate} > {placeholder}"
        params = [*params, after]
    sql += f" ORDER BY id COLLATE {collate}"
    if limit is not None:
        sql += f" LIMIT {placeholder}"
        params = [*params, limit]
    return sql, params


def where_equal(placeholder: str, **columns: object) -> tuple[str, list[object]]:
    """A WHERE clause matching every column whose value is not None, with the driver's
    `placeholder` (``?`` or ``%s``), and its parameters."""
    used = {c: v for c, v in columns.items() if v is not None}
    if not used:
        return "", []
    clause = " AND ".join(f"{c} = {placeholder}" for c in used)
    return " WHERE " + clause, list(used.values())


def fact_groups(facts: Sequence[DecisionFact]) -> list[Sequence[DecisionFact]]:
    """Runs of facts with the same time (a batch): one stored row each."""
    if isinstance(facts, FactColumns):  # one batch's, already by column
        groups: list[Sequence[DecisionFact]] = [facts] if len(facts) else []
    else:
        groups = [list(run) for _, run in groupby(facts, key=_time)]
    if any(len(g) >= FACTS_PER_ROW for g in groups):
        raise StoreError(f"at most {FACTS_PER_ROW - 1} decision facts per batch")
    return groups


_time = attrgetter("time")


# A group of decision facts as stored (one row): column by column, as a msgpack map
#   {"n": facts, "same": {field: value}, "each": {field: [value per fact]},
#    "table": {field: [[distinct values], [index per fact]]}}
# A field equal in every fact of the group (the batch's parties, corridor, product,
# agreement, policy version...) is stored once in "same"; a field with few distinct values
# (the record's shape and decision: findings, types, outcome, rule ids) once per distinct
# value in "table"; any other (the record index, the subject hashes) in "each". `seq` is not
# stored: it is the row's seq * FACTS_PER_ROW + the fact's index. Rows written before this
# form hold a msgpack array of whole facts; both decode.
_FACT_FIELDS: tuple[str, ...] = DecisionFact.__struct_fields__
_FACT_DEFAULTS = {
    f.name: f.default for f in msgspec.structs.fields(DecisionFact) if f.default is not NODEFAULT
}
_FACT_PARTS = frozenset(("n", "same", "each", "table"))


class _Group:
    """The three parts of a stored group, filled field by field."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.same: dict[str, Any] = {}
        self.each: dict[str, Any] = {}
        self.table: dict[str, Any] = {}

    def place(self, name: str, column: Sequence[Any]) -> None:
        """One field, given its value in every fact."""
        n, first = self.n, column[0]
        if column.count(first) == n:
            self.same[name] = first
            return
        try:
            distinct = dict.fromkeys(column)
        except TypeError:  # an unhashable value (not of the field's type): stored as is
            self.each[name] = list(column)
            return
        if len(distinct) == 1:  # equal values that are not one object
            self.same[name] = first
        elif len(distinct) * 2 > n:
            self.each[name] = list(column)
        else:
            at = {value: i for i, value in enumerate(distinct)}
            self.table[name] = (list(distinct), list(map(at.__getitem__, column)))

    def place_indexed(self, name: str, values: list[Any], index: list[int]) -> None:
        """One field, given its distinct values (two or more) and each fact's among them."""
        if len(values) * 2 <= self.n:
            self.table[name] = (values, index)
        else:
            self.each[name] = list(map(values.__getitem__, index))

    def encode(self) -> bytes:
        parts = {"n": self.n, "same": self.same, "each": self.each, "table": self.table}
        return _encoder.encode(parts)


def facts_blob(group: Sequence[DecisionFact]) -> bytes:
    """The stored form of one group of facts (see fact_groups): column by column."""
    n = len(group)
    if n == 0:
        raise StoreError("a stored group of decision facts holds at least one")
    if isinstance(group, FactColumns):
        return _columns_blob(group)
    stored = _Group(n)
    columns = zip(*map(msgspec.structs.astuple, group), strict=True)
    for name, column in zip(_FACT_FIELDS, columns, strict=True):
        if name != "seq":
            stored.place(name, column)
    return stored.encode()


def _columns_blob(facts: FactColumns) -> bytes:
    """facts_blob of facts held by column: each field of the shapes is compared across the
    few shapes, not across every fact."""
    n = len(facts)
    stored = _Group(n)
    stored.same.update(facts.common)
    stored.place("record", range(n))
    stored.place("subjects", facts.subjects)
    shapes, shape_of = facts.shapes, facts.shape_of
    indexes: dict[tuple[int, ...], list[int]] = {}  # fields of one pattern share the index
    for name in shapes[0]:
        values = [shape[name] for shape in shapes]
        try:
            distinct = dict.fromkeys(values)
        except TypeError:
            stored.place(name, [values[s] for s in shape_of])
            continue
        if len(distinct) == 1:
            stored.same[name] = values[0]
            continue
        at = {value: i for i, value in enumerate(distinct)}
        of_shape = tuple(map(at.__getitem__, values))
        index = indexes.get(of_shape)
        if index is None:
            index = indexes[of_shape] = list(map(of_shape.__getitem__, shape_of))
        stored.place_indexed(name, list(distinct), index)
    return stored.encode()


def facts_from_blob(blob: bytes, base: int) -> list[DecisionFact]:
    """The facts of one stored row (either form), numbered from `base`."""
    try:
        stored = msgspec.msgpack.decode(blob)
    except msgspec.DecodeError as exc:
        raise StoreError(f"stored decision facts cannot be decoded: {exc}") from exc
    if isinstance(stored, list):  # the form before columns: whole facts
        replace = msgspec.structs.replace
        old = decode_blob(blob, list[DecisionFact])
        return [replace(fact, seq=base + i) for i, fact in enumerate(old)]
    try:
        rows = list(zip(*_fact_columns(stored, base), strict=True))
        return msgspec.convert(rows, list[DecisionFact])
    except IndexError:
        raise StoreError("stored decision facts cannot be decoded: bad index") from None
    except (msgspec.ValidationError, ValueError, TypeError, KeyError) as exc:
        raise StoreError(f"stored decision facts cannot be decoded: {exc}") from exc


def _fact_columns(stored: Any, base: int) -> list[Iterable[Any]]:
    """One iterable per DecisionFact field (in order) from a stored column-wise group."""
    if not isinstance(stored, dict) or set(stored) != _FACT_PARTS:
        raise ValueError("not a group of decision facts")
    n: int = stored["n"]
    same: dict[str, Any] = stored["same"]
    each: dict[str, Any] = stored["each"]
    table: dict[str, Any] = stored["table"]
    named = [*same, *each, *table]
    unknown = set(named) - set(_FACT_FIELDS)
    if unknown:
        raise ValueError(f"unknown fields {sorted(unknown)} (written by a newer silkgate?)")
    if len(named) != len(set(named)):
        raise ValueError("a field stored twice")
    columns: list[Iterable[Any]] = []
    for name in _FACT_FIELDS:
        if name == "seq":
            columns.append(range(base, base + n))
        elif name in same:
            columns.append(repeat(same[name], n))
        elif name in each or name in table:
            if name in each:
                column = each[name]
            else:
                values, index = table[name]
                if min(index, default=0) < 0:
                    raise IndexError(f"field {name}: bad index")
                column = [values[i] for i in index]
            if len(column) != n:
                raise ValueError(f"field {name}: {len(column)} values for {n} facts (length)")
            columns.append(column)
        elif name in _FACT_DEFAULTS:
            columns.append(repeat(_FACT_DEFAULTS[name], n))
        else:
            raise ValueError(f"field {name} missing")
    return columns


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
    # By identity, in C loops: records decided alike share one Decision object.
    ids = list(map(id, result.decisions))
    first = dict(zip(ids, result.decisions, strict=True))  # each id's object, first order
    positions = {key: at for at, key in enumerate(first)}
    table = list(first.values())
    index = list(map(positions.__getitem__, ids))
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
