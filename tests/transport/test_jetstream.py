"""What is particular to the NATS JetStream transport (its contract runs in
test_transport_contract.py): shared consumers across processes, refused overlaps, URLs,
surviving a server restart."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator

import pytest
from scale.servers import NatsServer

from silkgate.errors import ConfigError, TransportError
from silkgate.transport import open_transport
from silkgate.transport.jetstream import JetStreamTransport

_n = itertools.count()


@pytest.fixture
def names() -> tuple[str, str]:
    n = next(_n)
    return f"J{n}", f"j{n}"


@pytest.fixture
def pair(nats_server: NatsServer, names: tuple[str, str]) -> Iterator[list[JetStreamTransport]]:
    stream, prefix = names
    made = [
        JetStreamTransport(nats_server.url, stream=stream, prefix=prefix, ack_wait=2.0)
        for _ in range(2)
    ]
    yield made
    for t in made:
        t.close()


def test_two_processes_share_one_work_queue(pair: list[JetStreamTransport]) -> None:
    a, b = pair
    for i in range(50):
        assert a.publish("deliver.vn", f"m{i}", b"%d" % i)
    assert not b.publish("deliver.vn", "m7", b"again")  # the id dedupes across publishers
    seen: list[str] = []
    while True:
        got = a.fetch("deliver.vn", max_messages=6) + b.fetch("deliver.vn", max_messages=5)
        if not got:
            break
        for m in got:
            (a if len(seen) % 2 else b).ack(m)  # any process may ack what it was given
        seen += [m.message_id for m in got]
    assert sorted(seen) == sorted(f"m{i}" for i in range(50))


def test_overlapping_patterns_are_refused_with_advice(pair: list[JetStreamTransport]) -> None:
    a, _ = pair
    a.fetch("deliver.>")
    with pytest.raises(TransportError, match="must not overlap"):
        a.fetch("deliver.vn")


def test_open_transport_reads_the_url(nats_server: NatsServer, names: tuple[str, str]) -> None:
    stream, prefix = names
    made = open_transport(f"{nats_server.url}?stream={stream}&prefix={prefix}&ack_wait=5")
    assert isinstance(made, JetStreamTransport)
    assert (made.stream, made.prefix) == (stream, prefix)
    made.close()
    with pytest.raises(ConfigError, match="unknown option"):
        open_transport(f"{nats_server.url}?streem=x")
    with pytest.raises(ConfigError, match="bad number"):
        open_transport(f"{nats_server.url}?ack_wait=soon")


def test_unreachable_server_is_a_transport_error() -> None:
    with pytest.raises(TransportError):
        JetStreamTransport("nats://127.0.0.1:1", connect_timeout=0.5)


def test_messages_survive_a_server_restart(nats_server: NatsServer, names: tuple[str, str]) -> None:
    stream, prefix = names
    t = JetStreamTransport(nats_server.url, stream=stream, prefix=prefix, ack_wait=2.0)
    try:
        t.publish("work", "before", b"1")
        nats_server.restart()
        published = False
        for _ in range(100):  # the client reconnects on its own
            try:
                published = t.publish("work", "after", b"2")
                break
            except TransportError:
                time.sleep(0.1)
        assert published
        got = t.fetch("work", timeout=5.0)
        assert [m.message_id for m in got] == ["before", "after"]
    finally:
        t.close()
