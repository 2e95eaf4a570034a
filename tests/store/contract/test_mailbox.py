"""MailboxPort contract: envelopes, retention, push endpoints, receipts (every implementation)."""

from __future__ import annotations

from datetime import datetime

import msgspec
import pytest

from silkgate.errors import NotFoundError, StoreError
from silkgate.store.base import Store, iter_all_envelopes
from silkgate.store.ports import MailboxPort

from .builders import Boom, envelope, push, receipt

# -- envelopes ----------------------------------------------------------------------


def test_envelope_roundtrip_and_not_found(store: MailboxPort) -> None:
    store.put_envelope(envelope("e_1", 0))
    assert store.get_envelope("e_1") == envelope("e_1", 0)
    with pytest.raises(NotFoundError, match="e_2"):
        store.get_envelope("e_2")
    with pytest.raises(NotFoundError):
        store.set_envelope_state("e_2", "acked")


def test_envelope_listing_oldest_first_filters(store: MailboxPort) -> None:
    store.put_envelope(envelope("e_c", 2, importer="p_vn"))
    store.put_envelope(envelope("e_a", 0, importer="p_th"))
    store.put_envelope(envelope("e_b", 1, importer="p_vn", state="held"))
    store.put_envelope(envelope("e_d", 1, importer="p_vn", exporter="p_y"))
    assert [e.id for e in store.list_envelopes()] == ["e_a", "e_b", "e_d", "e_c"]
    assert [e.id for e in store.list_envelopes(importer="p_vn")] == ["e_b", "e_d", "e_c"]
    assert [e.id for e in store.list_envelopes(exporter="p_y")] == ["e_d"]
    assert [e.id for e in store.list_envelopes(importer="p_vn", state="pending")] == [
        "e_d",
        "e_c",
    ]


def test_envelope_paging_with_after(store: MailboxPort) -> None:
    for i in range(25):
        store.put_envelope(envelope(f"e_{i:02d}", i // 3))  # equal times: id breaks ties
    pages: list[list[str]] = []
    after: str | None = None
    while page := store.list_envelopes(limit=10, after=after):
        pages.append([e.id for e in page])
        after = page[-1].id
    assert [len(p) for p in pages] == [10, 10, 5]
    flat = [eid for page_ids in pages for eid in page_ids]
    assert flat == [f"e_{i:02d}" for i in range(25)]
    assert [e.id for e in iter_all_envelopes(store)] == flat
    with pytest.raises(NotFoundError):
        store.list_envelopes(after="e_missing")


def test_envelope_state_transitions(store: MailboxPort) -> None:
    store.put_envelope(envelope("e_1", 0, state="held"))
    store.set_envelope_state("e_1", "pending")
    store.set_envelope_state("e_1", "pending", attempts=2)
    assert (store.get_envelope("e_1").state, store.get_envelope("e_1").attempts) == ("pending", 2)
    store.set_envelope_state("e_1", "acked")  # attempts kept when not given
    got = store.get_envelope("e_1")
    assert (got.state, got.attempts, got.data) == ("acked", 2, b"sealed:e_1")
    assert [e.id for e in store.list_envelopes(state="acked")] == ["e_1"]
    assert store.list_envelopes(state="pending") == []


def test_naive_datetimes_are_refused(store: MailboxPort) -> None:
    naive = datetime(2026, 1, 1)
    with pytest.raises(StoreError, match="naive"):
        store.put_envelope(msgspec.structs.replace(envelope("e_1", 0), created_at=naive))
    assert store.list_envelopes() == []


# -- retention ----------------------------------------------------------------------


def test_drop_envelope_data_is_a_compare_and_set(store: MailboxPort) -> None:
    store.put_envelope(envelope("e_pending", 0))
    store.put_envelope(envelope("e_acked", 1, state="acked"))
    store.put_envelope(envelope("e_held", 2, state="held"))
    ids = ["e_pending", "e_acked", "e_held", "e_missing"]
    assert store.drop_envelope_data(ids, state="pending", new_state="expired") == 1
    assert store.drop_envelope_data(ids, state="acked", new_state="acked") == 1
    pending, acked, held = (store.get_envelope(e) for e in ids[:3])
    assert (pending.state, pending.data) == ("expired", b"")
    assert (acked.state, acked.data) == ("acked", b"")
    assert held == envelope("e_held", 2, state="held")
    # Already dropped: nothing more to do.
    assert store.drop_envelope_data(ids, state="acked", new_state="acked") == 0
    assert store.drop_envelope_data([], state="pending", new_state="expired") == 0


def test_drop_envelope_data_many(store: Store) -> None:
    with store.transaction():
        for i in range(1200):
            store.put_envelope(envelope(f"e_{i:04}", i))
    ids = [f"e_{i:04}" for i in range(0, 1200, 2)]
    assert store.drop_envelope_data(ids, state="pending", new_state="expired") == 600
    assert len(store.list_envelopes(state="expired", limit=2000)) == 600


# -- push endpoints -----------------------------------------------------------------


def test_push_endpoints_crud(store: MailboxPort) -> None:
    assert store.list_push_endpoints() == []
    with pytest.raises(NotFoundError, match="push endpoint"):
        store.get_push_endpoint("p_im")
    store.put_push_endpoint(push("p_im"))
    store.put_push_endpoint(push("p_a", "https://a.example/"))
    store.put_push_endpoint(push("p_im", "https://hook.example/v2"))  # replaces
    assert store.get_push_endpoint("p_im") == push("p_im", "https://hook.example/v2")
    assert [p.importer for p in store.list_push_endpoints()] == ["p_a", "p_im"]
    assert store.delete_push_endpoint("p_im") is True
    assert store.delete_push_endpoint("p_im") is False
    assert store.list_push_endpoints() == [push("p_a", "https://a.example/")]


def test_push_endpoint_rolls_back(store: Store) -> None:
    with pytest.raises(Boom), store.transaction():
        store.put_push_endpoint(push("p_im"))
        raise Boom
    assert store.list_push_endpoints() == []


# -- receipts -----------------------------------------------------------------------


def test_receipts(store: MailboxPort) -> None:
    store.put_receipt(receipt("e_2", "b_1"))
    store.put_receipt(receipt("e_1", "b_1"))
    store.put_receipt(receipt("e_3", "b_2"))
    assert store.get_receipt("e_1") == receipt("e_1", "b_1")
    assert [r.envelope_id for r in store.list_receipts()] == ["e_2", "e_1", "e_3"]
    assert [r.envelope_id for r in store.list_receipts(batch_id="b_1")] == ["e_2", "e_1"]
    assert [r.envelope_id for r in store.list_receipts(limit=1)] == ["e_2"]
    with pytest.raises(NotFoundError, match="e_9"):
        store.get_receipt("e_9")
