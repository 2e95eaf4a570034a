"""Aggregates over committed batches (the console's corridor overview, rules fired, ledger
growth), and the rows each store keeps so that they are one SQL ``GROUP BY`` away.

When a store puts a batch result, it also writes the batch's `flow_rows` (one per outcome
the batch has records of, with the corridor and the batch's ledger index) and `rule_rows`
(one per rule a record's decision names). The aggregates group those rows; the memory store
groups the same rows in Python (`group_flows`, `group_rules`, `group_growth`), which is
also the reference the SQL stores are tested against. Pure: no I/O.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec

from silkgate.errors import StoreError
from silkgate.model import OUTCOMES, BatchResult
from silkgate.store._common import to_us

DAY_US = 86_400_000_000
HOUR_US = 3_600_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class FlowRow(msgspec.Struct, frozen=True, kw_only=True, array_like=True):
    """One outcome of one batch: how many of its records got it."""

    batch_id: str
    committed_us: int
    exporter: str
    importer: str
    origin: str
    destination: str
    outcome: str
    records: int
    ledger_index: int | None


class RuleRow(msgspec.Struct, frozen=True, kw_only=True, array_like=True):
    """One rule named by the decisions of one batch: how many of its records it decided."""

    batch_id: str
    committed_us: int
    exporter: str
    importer: str
    origin: str
    rule_id: str
    records: int


class FlowCount(msgspec.Struct, frozen=True, kw_only=True):
    """Batches and records of one outcome on one corridor on one UTC day. A batch counts
    once in each outcome it has records of."""

    day: date
    origin: str
    destination: str
    outcome: str
    batches: int
    records: int


class RuleCount(msgspec.Struct, frozen=True, kw_only=True):
    """How many records (and batches) a rule decided; `origin` is the exporters'
    jurisdiction, whose rule pack holds the rule."""

    origin: str
    rule_id: str
    records: int
    batches: int


class SizePoint(msgspec.Struct, frozen=True, kw_only=True):
    """The ledger's size right after the last batch committed in the bucket that starts at
    `time` (that batch's ledger index + 1)."""

    time: datetime
    size: int


def corridor(result: BatchResult) -> tuple[str, str]:
    """(origin, destination): the jurisdictions the decisions were made for."""
    for decision in result.decisions:
        origin, destination = decision.facts.get("origin"), decision.facts.get("destination")
        if isinstance(origin, str) and isinstance(destination, str):
            return origin, destination
    return "", ""


def flow_rows(result: BatchResult) -> list[FlowRow]:
    origin, destination = corridor(result)
    at = to_us(result.committed_at)
    return [
        FlowRow(
            batch_id=result.batch_id, committed_us=at, exporter=result.exporter,
            importer=result.importer, origin=origin, destination=destination, outcome=outcome,
            records=count, ledger_index=result.ledger_index,
        )
        for outcome in OUTCOMES
        if (count := result.outcomes.get(outcome, 0)) > 0
    ]  # fmt: skip


def rule_rows(result: BatchResult) -> list[RuleRow]:
    origin, _ = corridor(result)
    at = to_us(result.committed_at)
    # Records share a few decision objects: count those, then their rules.
    ids = list(map(id, result.decisions))
    shared = Counter(ids)
    by_id = dict(zip(ids, result.decisions, strict=True))
    counts: Counter[str] = Counter()
    for key, n in shared.items():
        for rule_id in dict.fromkeys(by_id[key].rule_ids):
            counts[rule_id] += n
    return [
        RuleRow(
            batch_id=result.batch_id, committed_us=at, exporter=result.exporter,
            importer=result.importer, origin=origin, rule_id=rule_id, records=n,
        )
        for rule_id, n in sorted(counts.items())
    ]  # fmt: skip


def check_bucket(bucket_seconds: int) -> None:
    if bucket_seconds <= 0:
        raise StoreError(f"bucket_seconds ({bucket_seconds}) must be positive")


def day_of(us: int) -> date:
    return (_EPOCH + timedelta(microseconds=(us // DAY_US) * DAY_US)).date()


def bucket_start(us: int, bucket_us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=(us // bucket_us) * bucket_us)


def day_us(day: date) -> int:
    return to_us(datetime(day.year, day.month, day.day, tzinfo=UTC))


def _matches(
    row: FlowRow | RuleRow,
    since_us: int,
    until_us: int,
    exporter: str | None,
    importer: str | None,
    party: str | None,
) -> bool:
    return (
        since_us <= row.committed_us < until_us
        and exporter in (None, row.exporter)
        and importer in (None, row.importer)
        and party in (None, row.exporter, row.importer)
    )


def group_flows(
    rows: Iterable[FlowRow],
    *,
    since: datetime,
    until: datetime,
    exporter: str | None = None,
    importer: str | None = None,
    party: str | None = None,
) -> list[FlowCount]:
    """Flow counts by (day, origin, destination, outcome), in that order."""
    low, high = to_us(since), to_us(until)
    batches: Counter[tuple[date, str, str, str]] = Counter()
    records: Counter[tuple[date, str, str, str]] = Counter()
    for row in rows:
        if _matches(row, low, high, exporter, importer, party):
            key = (day_of(row.committed_us), row.origin, row.destination, row.outcome)
            batches[key] += 1
            records[key] += row.records
    return [
        FlowCount(day=k[0], origin=k[1], destination=k[2], outcome=k[3], batches=n,
                  records=records[k])
        for k, n in sorted(batches.items())
    ]  # fmt: skip


def group_rules(
    rows: Iterable[RuleRow],
    *,
    since: datetime,
    until: datetime,
    exporter: str | None = None,
    importer: str | None = None,
    party: str | None = None,
) -> list[RuleCount]:
    """Rule counts, most records first (then by origin and rule id)."""
    low, high = to_us(since), to_us(until)
    batches: Counter[tuple[str, str]] = Counter()
    records: Counter[tuple[str, str]] = Counter()
    for row in rows:
        if _matches(row, low, high, exporter, importer, party):
            batches[(row.origin, row.rule_id)] += 1
            records[(row.origin, row.rule_id)] += row.records
    found = [
        RuleCount(origin=k[0], rule_id=k[1], records=records[k], batches=n)
        for k, n in batches.items()
    ]
    return sorted(found, key=rule_order)


def rule_order(count: RuleCount) -> tuple[int, str, str]:
    return -count.records, count.origin, count.rule_id


def group_growth(
    rows: Iterable[FlowRow], *, since: datetime, until: datetime, bucket_us: int
) -> list[SizePoint]:
    """The ledger's size after the last batch of each bucket with batches, oldest first."""
    low, high = to_us(since), to_us(until)
    top: dict[int, int] = {}
    for row in rows:
        if row.ledger_index is None or not low <= row.committed_us < high:
            continue
        bucket = row.committed_us // bucket_us
        top[bucket] = max(top.get(bucket, -1), row.ledger_index)
    return [
        SizePoint(time=bucket_start(b * bucket_us, bucket_us), size=i + 1)
        for b, i in sorted(top.items())
    ]


# -- SQL shared by the SQLite and PostgreSQL stores -------------------------------------
# `mark` is the driver's parameter marker ("?" or "%s"); `collate` makes text order the
# code-point order Python sorts by (BINARY in SQLite, "C" in PostgreSQL).

FLOW_INSERT = (
    "INSERT INTO batch_flows (batch_id, committed_us, exporter, importer, origin, destination, "
    "outcome, records, ledger_index) VALUES ({marks})"
)
RULE_INSERT = (
    "INSERT INTO batch_rules (batch_id, committed_us, exporter, importer, origin, rule_id, "
    "records) VALUES ({marks})"
)


def insert_sql(template: str, mark: str, columns: int) -> str:
    return template.format(marks=", ".join([mark] * columns))


def _where(
    mark: str,
    since: datetime,
    until: datetime,
    exporter: str | None,
    importer: str | None,
    party: str | None,
) -> tuple[str, list[object]]:
    clauses = [f"committed_us >= {mark}", f"committed_us < {mark}"]
    params: list[object] = [to_us(since), to_us(until)]
    for column, value in (("exporter", exporter), ("importer", importer)):
        if value is not None:
            clauses.append(f"{column} = {mark}")
            params.append(value)
    if party is not None:
        clauses.append(f"(exporter = {mark} OR importer = {mark})")
        params += [party, party]
    return " WHERE " + " AND ".join(clauses), params


def flow_counts_sql(
    mark: str,
    collate: str,
    *,
    since: datetime,
    until: datetime,
    exporter: str | None,
    importer: str | None,
    party: str | None,
    limit: int,
    offset: int,
) -> tuple[str, list[object]]:
    where, params = _where(mark, since, until, exporter, importer, party)
    order = ", ".join(f"{c} COLLATE {collate}" for c in ("origin", "destination", "outcome"))
    sql = (
        f"SELECT committed_us / {DAY_US} AS d, origin, destination, outcome, COUNT(*), "
        f"SUM(records) FROM batch_flows{where} GROUP BY d, origin, destination, outcome "
        f"ORDER BY d, {order} LIMIT {mark} OFFSET {mark}"
    )
    return sql, [*params, limit, offset]


def flow_count(row: tuple[Any, ...]) -> FlowCount:
    d, origin, destination, outcome, batches, records = row
    return FlowCount(
        day=day_of(int(d) * DAY_US),
        origin=str(origin),
        destination=str(destination),
        outcome=str(outcome),
        batches=int(batches),
        records=int(records),
    )


def rule_counts_sql(
    mark: str,
    collate: str,
    *,
    since: datetime,
    until: datetime,
    exporter: str | None,
    importer: str | None,
    party: str | None,
    limit: int,
    offset: int,
) -> tuple[str, list[object]]:
    where, params = _where(mark, since, until, exporter, importer, party)
    sql = (
        f"SELECT origin, rule_id, SUM(records) AS n, COUNT(*) FROM batch_rules{where} "
        f"GROUP BY origin, rule_id ORDER BY n DESC, origin COLLATE {collate}, "
        f"rule_id COLLATE {collate} LIMIT {mark} OFFSET {mark}"
    )
    return sql, [*params, limit, offset]


def rule_count(row: tuple[Any, ...]) -> RuleCount:
    origin, rule_id, records, batches = row
    return RuleCount(
        origin=str(origin),
        rule_id=str(rule_id),
        records=int(records),
        batches=int(batches),
    )


def growth_sql(
    mark: str, *, since: datetime, until: datetime, bucket_seconds: int, limit: int, offset: int
) -> tuple[str, list[object]]:
    check_bucket(bucket_seconds)
    bucket = bucket_seconds * 10**6
    sql = (
        f"SELECT committed_us / {bucket} AS b, MAX(ledger_index) FROM batch_flows "
        f"WHERE committed_us >= {mark} AND committed_us < {mark} "
        f"AND ledger_index IS NOT NULL GROUP BY b ORDER BY b LIMIT {mark} OFFSET {mark}"
    )
    return sql, [to_us(since), to_us(until), limit, offset]


def size_point(row: tuple[Any, ...], bucket_seconds: int) -> SizePoint:
    b, top = row
    bucket = bucket_seconds * 10**6
    return SizePoint(time=bucket_start(int(b) * bucket, bucket), size=int(top) + 1)


def stat_rows(result: BatchResult) -> tuple[list[FlowRow], list[RuleRow]]:
    """The batch's rows for batch_flows and batch_rules (`as_params` gives each's values
    in column order)."""
    return flow_rows(result), rule_rows(result)


def as_params(rows: Iterable[FlowRow | RuleRow]) -> list[tuple[Any, ...]]:
    return [msgspec.structs.astuple(r) for r in rows]


# -- whole-hub totals: per UTC day, and the ledger's top index per hour ------------------
# A store keeps them with the per-batch rows (in the same transaction), so that an
# unfiltered view reads one row per day and key instead of one per batch. A view narrowed
# to a party, or a window not on day (hour) boundaries, reads the per-batch rows.

FLOW_DAY_UPSERT = (
    "INSERT INTO flow_days (day, origin, destination, outcome, batches, records) "
    "VALUES ({marks}) ON CONFLICT (day, origin, destination, outcome) DO UPDATE SET "
    "batches = flow_days.batches + excluded.batches, "
    "records = flow_days.records + excluded.records"
)
RULE_DAY_UPSERT = (
    "INSERT INTO rule_days (day, origin, rule_id, batches, records) VALUES ({marks}) "
    "ON CONFLICT (day, origin, rule_id) DO UPDATE SET "
    "batches = rule_days.batches + excluded.batches, "
    "records = rule_days.records + excluded.records"
)
OLD_FLOWS = (
    "SELECT committed_us, origin, destination, outcome, records FROM batch_flows "
    "WHERE batch_id = {mark}"
)
OLD_RULES = "SELECT committed_us, origin, rule_id, records FROM batch_rules WHERE batch_id = {mark}"
HOUR_UPSERT = (
    "INSERT INTO ledger_hours (hour, top) VALUES ({mark}, {mark}) ON CONFLICT (hour) "
    "DO UPDATE SET top = {greatest}(ledger_hours.top, excluded.top)"
)
HOUR_DELETE = "DELETE FROM ledger_hours WHERE hour = {mark}"
HOUR_INSERT = (
    "INSERT INTO ledger_hours (hour, top) SELECT {mark}, m FROM (SELECT MAX(ledger_index) AS m "
    "FROM batch_flows WHERE committed_us >= {mark} AND committed_us < {mark}) AS t "
    "WHERE m IS NOT NULL"
)


class Rollup(msgspec.Struct, frozen=True, kw_only=True):
    """What putting one batch changes in the whole-hub totals."""

    flows: list[tuple[int, str, str, str, int, int]]  # day, origin, dest., outcome, +b, +r
    rules: list[tuple[int, str, str, int, int]]  # day, origin, rule id, +batches, +records
    tops: list[tuple[int, int]]  # (hour, ledger index): raise the hour's top to it
    hours: list[int]  # hours to recompute from the rows (the batch replaces earlier rows)
    replaces: bool  # the batch had rows already


def rollup(
    old_flows: Iterable[tuple[Any, ...]],
    old_rules: Iterable[tuple[Any, ...]],
    new_flows: Iterable[FlowRow],
    new_rules: Iterable[RuleRow],
) -> Rollup:
    """The deltas from a batch's rows as stored (`old_*`, from OLD_FLOWS and OLD_RULES;
    empty for a new batch) to its rows now (`new_*`, from `stat_rows`). Sorted, so
    concurrent writers lock in one order."""
    flows: Counter[tuple[int, str, str, str]] = Counter()
    flow_records: Counter[tuple[int, str, str, str]] = Counter()
    rules: Counter[tuple[int, str, str]] = Counter()
    rule_records: Counter[tuple[int, str, str]] = Counter()
    hours: set[int] = set()
    replaces = False
    for at, origin, destination, outcome, records in old_flows:
        replaces = True
        key = (int(at) // DAY_US, str(origin), str(destination), str(outcome))
        flows[key] -= 1
        flow_records[key] -= int(records)
        hours.add(int(at) // HOUR_US)
    for at, origin, rule_id, records in old_rules:
        replaces = True
        key3 = (int(at) // DAY_US, str(origin), str(rule_id))
        rules[key3] -= 1
        rule_records[key3] -= int(records)
    tops: dict[int, int] = {}
    for f in new_flows:
        key = (f.committed_us // DAY_US, f.origin, f.destination, f.outcome)
        flows[key] += 1
        flow_records[key] += f.records
        if f.ledger_index is not None:
            hour = f.committed_us // HOUR_US
            tops[hour] = max(tops.get(hour, -1), f.ledger_index)
    for r in new_rules:
        key3 = (r.committed_us // DAY_US, r.origin, r.rule_id)
        rules[key3] += 1
        rule_records[key3] += r.records
    return Rollup(
        flows=[
            (*k, flows[k], flow_records[k])
            for k in sorted(set(flows) | set(flow_records))
            if flows[k] or flow_records[k]
        ],
        rules=[
            (*k, rules[k], rule_records[k])
            for k in sorted(set(rules) | set(rule_records))
            if rules[k] or rule_records[k]
        ],
        # A new batch raises its hours' tops; a replaced one has its hours recomputed.
        tops=[] if replaces else sorted(tops.items()),
        hours=sorted(hours | set(tops)) if replaces else [],
        replaces=replaces,
    )


def hour_params(hour: int) -> tuple[list[object], list[object]]:
    """Parameters of HOUR_DELETE and HOUR_INSERT for one hour."""
    return [hour], [hour, hour * HOUR_US, (hour + 1) * HOUR_US]


def _aligned(since: datetime, until: datetime, unit_us: int) -> bool:
    return to_us(since) % unit_us == 0 and to_us(until) % unit_us == 0


def uses_rollup(
    since: datetime,
    until: datetime,
    exporter: str | None,
    importer: str | None,
    party: str | None,
) -> bool:
    """Whether the whole-hub daily totals answer this query exactly."""
    return (
        exporter is None and importer is None and party is None and _aligned(since, until, DAY_US)
    )


def flow_days_sql(
    mark: str, collate: str, *, since: datetime, until: datetime, limit: int, offset: int
) -> tuple[str, list[object]]:
    order = ", ".join(f"{c} COLLATE {collate}" for c in ("origin", "destination", "outcome"))
    sql = (
        "SELECT day, origin, destination, outcome, batches, records FROM flow_days "
        f"WHERE day >= {mark} AND day < {mark} AND batches > 0 "
        f"ORDER BY day, {order} LIMIT {mark} OFFSET {mark}"
    )
    return sql, [to_us(since) // DAY_US, to_us(until) // DAY_US, limit, offset]


def rule_days_sql(
    mark: str, collate: str, *, since: datetime, until: datetime, limit: int, offset: int
) -> tuple[str, list[object]]:
    sql = (
        "SELECT origin, rule_id, SUM(records) AS n, SUM(batches) AS b FROM rule_days "
        f"WHERE day >= {mark} AND day < {mark} GROUP BY origin, rule_id HAVING SUM(batches) > 0 "
        f"ORDER BY n DESC, origin COLLATE {collate}, rule_id COLLATE {collate} "
        f"LIMIT {mark} OFFSET {mark}"
    )
    return sql, [to_us(since) // DAY_US, to_us(until) // DAY_US, limit, offset]


def hours_answer(since: datetime, until: datetime, bucket_seconds: int) -> bool:
    """Whether the hourly tops answer a growth query exactly."""
    return bucket_seconds % 3600 == 0 and _aligned(since, until, HOUR_US)


def growth_hours_sql(
    mark: str, *, since: datetime, until: datetime, bucket_seconds: int, limit: int, offset: int
) -> tuple[str, list[object]]:
    check_bucket(bucket_seconds)
    per = bucket_seconds // 3600
    sql = (
        f"SELECT hour / {per} AS b, MAX(top) FROM ledger_hours WHERE hour >= {mark} "
        f"AND hour < {mark} GROUP BY b ORDER BY b LIMIT {mark} OFFSET {mark}"
    )
    return sql, [to_us(since) // HOUR_US, to_us(until) // HOUR_US, limit, offset]
