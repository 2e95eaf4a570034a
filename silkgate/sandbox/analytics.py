"""Decision facts as columns: the Arrow schema, Parquet files and SQL (DuckDB) over them.

Imported on use only (replay, facts queries and exports): opening a hub does not load
pyarrow or DuckDB.

The facts come from the store's `iter_facts`, in commit order; on PostgreSQL that is one
statement streamed through a server-side cursor (silkgate.store.postgres), so replay and
queries read a consistent snapshot without loading the rows first. The columns are built
`CHUNK` facts at a time into Arrow record batches (`fact_batches`): a table holds only
columns, and `write_facts` streams them into a Parquet file in bounded memory, which DuckDB
(`query_facts`) and replay (`read_parquet`) read back.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from silkgate.errors import InputError
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
            ("free_trade_zone", _STR),
            ("related", pa.bool_()),
            ("enterprise_size", _STR),
            ("importer_authority", pa.bool_()),
            ("first_transfer_days", pa.int32()),
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


CHUNK = 65_536  # facts per Arrow record batch


def facts_table(rows: Iterable[DecisionFact]) -> pa.Table:
    """The columnar form of decision facts (schema FACT_SCHEMA), in the order given."""
    return pa.Table.from_batches(list(fact_batches(rows)), schema=FACT_SCHEMA)


def fact_batches(rows: Iterable[DecisionFact], chunk: int = CHUNK) -> Iterator[pa.RecordBatch]:
    """The facts as Arrow record batches of at most `chunk` rows, in the order given."""
    it = iter(rows)
    while block := list(itertools.islice(it, chunk)):
        yield _record_batch(block)


def _record_batch(rows: list[DecisionFact]) -> pa.RecordBatch:
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
    return pa.RecordBatch.from_pydict(columns, schema=FACT_SCHEMA)


def write_facts(rows: Iterable[DecisionFact], path: str | Path) -> int:
    """Stream facts into a Parquet file, `CHUNK` at a time; returns how many."""
    written = 0
    with pq.ParquetWriter(str(path), FACT_SCHEMA, compression="zstd") as out:
        for batch in fact_batches(rows):
            out.write_batch(batch)
            written += batch.num_rows
    return written


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
