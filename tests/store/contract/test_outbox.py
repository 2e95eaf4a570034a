"""OutboxPort contract: commit, then publish (every implementation)."""

from __future__ import annotations

from silkgate.store.ports import OutboxPort


def test_outbox(store: OutboxPort) -> None:
    assert store.take_outbox() == []
    for i in range(5):
        store.put_outbox(f"batch.{i}", f"m_{i}", b"p%d" % i)
    taken = store.take_outbox(limit=3)
    assert [m.message_id for m in taken] == ["m_0", "m_1", "m_2"]
    assert [m.seq for m in taken] == sorted({m.seq for m in taken})
    assert taken[1].subject == "batch.1" and taken[1].payload == b"p1"
    assert store.take_outbox(limit=3) == taken  # taking does not remove
    store.delete_outbox([m.seq for m in taken])
    store.delete_outbox([taken[0].seq])  # deleting twice is harmless
    rest = store.take_outbox()
    assert [m.message_id for m in rest] == ["m_3", "m_4"]
    assert rest[0].seq > taken[-1].seq
    store.put_outbox("batch.5", "m_5", b"")
    assert store.take_outbox()[-1].seq > rest[-1].seq
