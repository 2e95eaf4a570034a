"""BatchPort contract: batch results and idempotency keys (every implementation)."""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec
import pytest

from silkgate.errors import ConflictError, NotFoundError, StoreError
from silkgate.store.ports import BatchPort

from .builders import T0, batch


def test_idempotency(store: BatchPort) -> None:
    assert store.get_idempotency("p_ex", "key-1") is None
    store.put_idempotency("p_ex", "key-1", b"d1", "b_1")
    store.put_idempotency("p_ex", "key-1", b"d1", "b_1")  # same request again: fine
    assert store.get_idempotency("p_ex", "key-1") == (b"d1", "b_1")
    assert store.get_idempotency("p_other", "key-1") is None
    with pytest.raises(ConflictError, match="key-1"):
        store.put_idempotency("p_ex", "key-1", b"d2", "b_2")
    assert store.get_idempotency("p_ex", "key-1") == (b"d1", "b_1")


def test_batch_results_roundtrip_and_not_found(store: BatchPort) -> None:
    store.put_batch_result(batch("b_1", 0))
    assert store.get_batch_result("b_1") == batch("b_1", 0)
    with pytest.raises(NotFoundError, match="b_2"):
        store.get_batch_result("b_2")


def test_batch_results_newest_first_paging_filters(store: BatchPort) -> None:
    for i in range(7):
        store.put_batch_result(batch(f"b_{i}", i, exporter="p_x" if i % 2 else "p_y"))
    store.put_batch_result(batch("b_tie", 6))  # same time as b_6: later insert first
    ids = [r.batch_id for r in store.list_batch_results()]
    assert ids == ["b_tie", "b_6", "b_5", "b_4", "b_3", "b_2", "b_1", "b_0"]
    page = [r.batch_id for r in store.list_batch_results(limit=3, offset=2)]
    assert page == ["b_5", "b_4", "b_3"]
    assert [r.batch_id for r in store.list_batch_results(exporter="p_x")] == ["b_5", "b_3", "b_1"]
    assert store.list_batch_results(importer="p_none") == []
    assert store.list_batch_results(offset=100) == []


def test_batch_result_replace_keeps_one(store: BatchPort) -> None:
    store.put_batch_result(batch("b_1", 0))
    store.put_batch_result(batch("b_1", 5))
    assert [r.committed_at for r in store.list_batch_results()] == [T0 + timedelta(minutes=5)]


def test_naive_datetimes_are_refused(store: BatchPort) -> None:
    naive = datetime(2026, 1, 1)
    with pytest.raises(StoreError, match="naive"):
        store.put_batch_result(msgspec.structs.replace(batch("b_1", 0), committed_at=naive))
    assert store.list_batch_results() == []
