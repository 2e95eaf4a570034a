"""The registry's listings (RegistryPort's list_* methods) of the SQL stores, written once:
SQLite and PostgreSQL differ only in the parameter mark and the byte-order collation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from silkgate.errors import NotFoundError
from silkgate.model import Agreement, Filing, Participant
from silkgate.store.rows import decode_blob, id_page, where_equal


class SqlRegistryReads:
    _sql_mark: ClassVar[str]  # "?" or "%s"
    _sql_collate: ClassVar[str]  # the collation that orders by bytes

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        raise NotImplementedError  # the store's own read

    def _for_share(self) -> str:
        """What a registry read inside a transaction appends to keep the rows it read from
        changing until the transaction ends ("" where one writer at a time does that)."""
        return ""

    def list_participants(
        self, *, after: str | None = None, limit: int | None = None
    ) -> list[Participant]:
        sql, params = self._page("SELECT data FROM participants", [], after, limit)
        sql += self._for_share()
        return [decode_blob(r[0], Participant) for r in self._rows(sql, params)]

    def list_agreements(
        self,
        *,
        exporter: str | None = None,
        importer: str | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> list[Agreement]:
        where, params = where_equal(self._sql_mark, exporter=exporter, importer=importer)
        sql, params = self._page(f"SELECT data FROM agreements{where}", params, after, limit)
        sql += self._for_share()
        return [decode_blob(r[0], Agreement) for r in self._rows(sql, params)]

    def list_filings(
        self, *, exporter: str | None = None, after: str | None = None, limit: int | None = None
    ) -> list[Filing]:
        where, params = where_equal(self._sql_mark, exporter=exporter)
        sql, params = self._page(f"SELECT data FROM filings{where}", params, after, limit)
        sql += self._for_share()
        return [decode_blob(r[0], Filing) for r in self._rows(sql, params)]

    def get_filing(self, filing_id: str) -> Filing:
        rows = self._rows(f"SELECT data FROM filings WHERE id = {self._sql_mark}", (filing_id,))
        if not rows:
            raise NotFoundError(f"no filing {filing_id!r}")
        return decode_blob(rows[0][0], Filing)

    def _page(
        self, sql: str, params: list[object], after: str | None, limit: int | None
    ) -> tuple[str, list[object]]:
        return id_page(sql, params, self._sql_mark, self._sql_collate, after, limit)
