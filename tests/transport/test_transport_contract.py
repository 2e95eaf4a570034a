"""The Transport contract (JetStream work-queue semantics), run on every implementation."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from silkgate.errors import ConfigError, TransportError
from silkgate.transport import InProcessTransport, Message, Transport, open_transport

Advance = Callable[[float], None]


def ids(messages: list[Message]) -> list[str]:
    return [m.message_id for m in messages]


def test_publish_fetch_ack(transport: Transport) -> None:
    assert transport.publish("batch.submitted", "m1", b"one")
    assert transport.publish("batch.submitted", "m2", b"two")
    got = transport.fetch("batch.submitted")
    assert [(m.subject, m.message_id, m.payload, m.delivery) for m in got] == [
        ("batch.submitted", "m1", b"one", 1),
        ("batch.submitted", "m2", b"two", 1),
    ]
    for m in got:
        transport.ack(m)
        transport.ack(m)  # acking twice is harmless
    assert transport.fetch("batch.submitted") == []


def test_fetch_respects_max_and_order(transport: Transport) -> None:
    for i in range(5):
        transport.publish("work", f"m{i}", b"")
    assert ids(transport.fetch("work", max_messages=2)) == ["m0", "m1"]
    assert ids(transport.fetch("work", max_messages=10)) == ["m2", "m3", "m4"]
    with pytest.raises(TransportError, match="max_messages"):
        transport.fetch("work", max_messages=0)


def test_in_flight_messages_are_not_fetched_twice(transport: Transport) -> None:
    transport.publish("work", "m1", b"")
    assert ids(transport.fetch("work")) == ["m1"]
    assert transport.fetch("work") == []


def test_subjects_are_separate(transport: Transport) -> None:
    transport.publish("a.x", "m1", b"")
    transport.publish("b.x", "m2", b"")
    assert ids(transport.fetch("b.x")) == ["m2"]
    assert ids(transport.fetch("a.x")) == ["m1"]


def test_duplicate_message_id_is_dropped(transport: Transport) -> None:
    assert transport.publish("work", "same", b"first")
    assert not transport.publish("work", "same", b"second")
    got = transport.fetch("work")
    assert [(m.message_id, m.payload) for m in got] == [("same", b"first")]
    transport.ack(got[0])
    assert not transport.publish("work", "same", b"third")  # still inside the window
    assert transport.fetch("work") == []


_round = iter(range(10**9))


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(0, 20), max_size=40))
def test_each_id_delivered_once_in_first_publish_order(
    transport: Transport, published: list[int]
) -> None:
    subject = f"prop.r{next(_round)}"  # the transport outlives examples: fresh subject each
    accepted = [transport.publish(subject, f"{subject}.{i}", b"%d" % i) for i in published]
    unique = list(dict.fromkeys(published))
    assert sum(accepted) == len(unique)
    got = transport.fetch(subject, max_messages=100)
    assert [m.payload for m in got] == [b"%d" % i for i in unique]


def test_dedupe_window_expires(
    transport: Transport, advance: Advance, dedupe_window: float
) -> None:
    transport.publish("work", "m1", b"")
    transport.ack(transport.fetch("work")[0])
    advance(dedupe_window * 1.5)
    assert transport.publish("work", "m1", b"again")
    # Waits for the first message (returns as soon as it is there): a no-wait pull right
    # after the publish came back empty once on a loaded CI machine (NATS, 2026-11-30).
    assert [m.payload for m in transport.fetch("work", timeout=10)] == [b"again"]


def test_unacked_message_is_redelivered_after_ack_wait(
    transport: Transport, advance: Advance, ack_wait: float
) -> None:
    transport.publish("work", "m1", b"p")
    transport.publish("work", "m2", b"q")
    first = transport.fetch("work")
    transport.ack(first[1])
    advance(ack_wait * 0.5)
    assert transport.fetch("work") == []  # not yet
    advance(ack_wait * 0.8)
    again = transport.fetch("work")
    assert [(m.message_id, m.payload, m.delivery) for m in again] == [("m1", b"p", 2)]
    advance(ack_wait * 1.3)
    third = transport.fetch("work")
    assert [(m.message_id, m.delivery) for m in third] == [("m1", 3)]
    transport.ack(third[0])
    advance(ack_wait * 1.3)
    assert transport.fetch("work") == []


def test_redelivered_message_comes_before_newer_ones(
    transport: Transport, advance: Advance, ack_wait: float
) -> None:
    transport.publish("work", "old", b"")
    transport.fetch("work")
    transport.publish("work", "new", b"")
    advance(ack_wait * 1.3)
    assert ids(transport.fetch("work")) == ["old", "new"]


def test_wildcard_fetch_matches_prefix(transport: Transport) -> None:
    # Patterns fetched from one transport do not overlap (a JetStream work queue allows
    # one consumer per subject): see the in-process test below for overlapping ones.
    transport.publish("deliver.vn.p1", "m1", b"")
    transport.publish("deliver.th", "m2", b"")
    transport.publish("deliverx.vn", "m3", b"")
    transport.publish("deliver", "m4", b"")
    transport.publish("deliver.vn.p2", "m5", b"")
    assert ids(transport.fetch("deliver.vn.>")) == ["m1", "m5"]
    assert ids(transport.fetch("deliver.th.>")) == []  # '>' needs at least one more token
    assert ids(transport.fetch("deliver.th")) == ["m2"]
    assert ids(transport.fetch("deliverx.>")) == ["m3"]
    assert ids(transport.fetch("deliver")) == ["m4"]


@pytest.mark.parametrize("subject", ["", "a..b", "a.>.b", "a>", "a b"])
def test_invalid_subjects_are_refused(transport: Transport, subject: str) -> None:
    with pytest.raises(TransportError, match="invalid subject"):
        transport.fetch(subject)


def test_publish_refuses_wildcards(transport: Transport) -> None:
    with pytest.raises(TransportError, match="invalid subject"):
        transport.publish("a.>", "m1", b"")


def test_timeout_returns_empty(transport: Transport) -> None:
    assert transport.fetch("idle", timeout=0.05) == []
    assert transport.fetch("idle", timeout=0.0) == []


def test_waiting_fetch_wakes_on_publish(transport: Transport) -> None:
    waiting = threading.Event()
    got: list[Message] = []

    def consumer() -> None:
        waiting.set()
        got.extend(transport.fetch("jobs.>", timeout=30.0))

    thread = threading.Thread(target=consumer)
    thread.start()
    waiting.wait()
    transport.publish("jobs.one", "m1", b"x")
    thread.join()  # returns when the message arrives, not after 30 s
    assert ids(got) == ["m1"]


def test_concurrent_consumers_share_without_duplicates(transport: Transport) -> None:
    for i in range(200):
        transport.publish("work", f"m{i}", b"")
    seen: list[str] = []
    lock = threading.Lock()

    def consumer() -> None:
        while batch := transport.fetch("work", max_messages=7):
            for m in batch:
                transport.ack(m)
            with lock:
                seen.extend(ids(batch))

    threads = [threading.Thread(target=consumer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(seen) == sorted(f"m{i}" for i in range(200))


def test_closed_transport_refuses_work(transport: Transport) -> None:
    transport.close()
    with pytest.raises(TransportError, match="closed"):
        transport.publish("work", "m1", b"")
    with pytest.raises(TransportError, match="closed"):
        transport.fetch("work")


# -- in-process specifics -------------------------------------------------------------


def test_in_process_wildcards_may_overlap() -> None:
    transport = InProcessTransport()
    transport.publish("deliver.vn.p1", "m1", b"")
    transport.publish("deliver.th", "m2", b"")
    transport.publish("deliverx.vn", "m3", b"")
    transport.publish("deliver.vn.p2", "m5", b"")
    assert ids(transport.fetch("deliver.vn.>")) == ["m1", "m5"]
    assert ids(transport.fetch("deliver.>")) == ["m2"]
    assert ids(transport.fetch(">")) == ["m3"]


def test_dedupe_remembers_at_most_max_ids() -> None:
    transport = InProcessTransport(dedupe_max=3, clock=lambda: 0.0)
    for i in range(4):
        assert transport.publish("work", f"m{i}", b"")
    assert not transport.publish("work", "m3", b"")
    assert transport.publish("work", "m0", b"")  # forgotten: the oldest of four


def test_open_transport() -> None:
    assert isinstance(open_transport("inproc:"), InProcessTransport)
    with pytest.raises(ConfigError, match="nats"):
        open_transport("amqp://localhost:5672")


def test_waiting_fetch_wakes_for_redelivery_on_real_clock() -> None:
    transport = InProcessTransport(ack_wait=0.05)
    transport.publish("work", "m1", b"")
    assert ids(transport.fetch("work")) == ["m1"]
    again = transport.fetch("work", timeout=30.0)  # returns once ack_wait has passed
    assert [(m.message_id, m.delivery) for m in again] == [("m1", 2)]
