"""The aggregate reads (StatsPort) and the backfill of the SQL stores, written once: SQLite
and PostgreSQL differ only in the parameter mark and the byte-order collation their SQL
names. Each store mixes this in and supplies `_rows`, `transaction` and `_put_stat_rows`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, ClassVar

from silkgate.model import BatchResult
from silkgate.store import stats
from silkgate.store._common import check_paging
from silkgate.store.rows import result_from_blob


class SqlStatsReads:
    _sql_mark: ClassVar[str]  # "?" or "%s"
    _sql_collate: ClassVar[str]  # the collation that orders by bytes

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        raise NotImplementedError  # the store's own read

    def transaction(self) -> AbstractContextManager[None]:
        raise NotImplementedError  # the store's own

    def _put_stat_rows(self, result: BatchResult) -> None:
        raise NotImplementedError  # the store's own write of a batch's aggregate rows

    def _backfill_stats(self) -> None:
        """Write the aggregate rows of batches committed before schema version 4."""
        after = 0
        while True:
            rows = self._rows(
                f"SELECT seq, data FROM batch_results WHERE seq > {self._sql_mark} "
                "ORDER BY seq LIMIT 500",
                (after,),
            )
            if not rows:
                return
            with self.transaction():
                for _, blob in rows:
                    self._put_stat_rows(result_from_blob(bytes(blob)))
            after = int(rows[-1][0])

    def flow_counts(
        self,
        *,
        since: datetime,
        until: datetime,
        exporter: str | None = None,
        importer: str | None = None,
        party: str | None = None,
        limit: int = 1000,
        offset: int = 0,
    ) -> list[stats.FlowCount]:
        rows = self._grouped(
            stats.flow_days_sql, stats.flow_counts_sql, since=since, until=until,
            exporter=exporter, importer=importer, party=party, limit=limit, offset=offset,
        )  # fmt: skip
        return [stats.flow_count(tuple(r)) for r in rows]

    def rule_counts(
        self,
        *,
        since: datetime,
        until: datetime,
        exporter: str | None = None,
        importer: str | None = None,
        party: str | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> list[stats.RuleCount]:
        rows = self._grouped(
            stats.rule_days_sql, stats.rule_counts_sql, since=since, until=until,
            exporter=exporter, importer=importer, party=party, limit=limit, offset=offset,
        )  # fmt: skip
        return [stats.rule_count(tuple(r)) for r in rows]

    def _grouped(
        self,
        days_sql: Callable[..., tuple[str, list[object]]],
        rows_sql: Callable[..., tuple[str, list[object]]],
        *,
        since: datetime,
        until: datetime,
        exporter: str | None,
        importer: str | None,
        party: str | None,
        limit: int,
        offset: int,
    ) -> list[Any]:
        """The whole-hub daily totals when they answer the question, else the per-batch
        rows grouped (stats.uses_rollup decides)."""
        check_paging(limit, offset)
        mark, collate = self._sql_mark, self._sql_collate
        if stats.uses_rollup(since, until, exporter, importer, party):
            sql, params = days_sql(
                mark, collate, since=since, until=until, limit=limit, offset=offset
            )
        else:
            sql, params = rows_sql(
                mark, collate, since=since, until=until, exporter=exporter, importer=importer,
                party=party, limit=limit, offset=offset,
            )  # fmt: skip
        return self._rows(sql, params)

    def ledger_growth(
        self, *, since: datetime, until: datetime, bucket_seconds: int, limit: int, offset: int = 0
    ) -> list[stats.SizePoint]:
        check_paging(limit, offset)
        stats.check_bucket(bucket_seconds)
        hourly = stats.hours_answer(since, until, bucket_seconds)
        growth = stats.growth_hours_sql if hourly else stats.growth_sql
        sql, params = growth(
            self._sql_mark, since=since, until=until, bucket_seconds=bucket_seconds,
            limit=limit, offset=offset,
        )  # fmt: skip
        return [stats.size_point(tuple(r), bucket_seconds) for r in self._rows(sql, params)]
