"""Findings 2 and 6 of issue #11: the push worker.

2. It read the receiver's whole answer (400 MiB added ~800 MB to the process), its 10 s
   timeout was per read, not per push (a receiver dribbling a byte every 2 s held the single
   push thread 40 s and stalled pushes to every importer), and its backoff lived in memory.
6. The SSRF guard resolved the name, then the connection resolved it again (DNS rebinding
   reached 127.0.0.1), and IPv6 forms embedding IPv4 passed as public.
The receivers here are real HTTP servers on 127.0.0.1 (tests/security/rawserver.py)."""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any

import httpx
import pytest
from api.cast import PRODUCT, PURPOSE, Env, waybill

from security.rawserver import Behaviour, raw_server
from silkgate.errors import InputError
from silkgate.mailbox.delivery import (
    DeliveryWorker,
    PushPolicy,
    check_push_url,
    is_public_address,
    resolve_push_destination,
    send_push,
)
from silkgate.transport import InProcessTransport

LOCAL = frozenset({"127.0.0.1"})
FAST = PushPolicy(timeout=2.0, deadline=2.0, max_response_bytes=65536, allow_hosts=LOCAL,
                  backoff=60.0, max_attempts=5)  # fmt: skip


def _request(url: str) -> httpx.Request:
    return httpx.Request("POST", url, content=b"sealed", headers={"Content-Type": "x/y"})


def test_a_huge_answer_is_cut_at_the_cap_not_read_whole() -> None:
    with raw_server(Behaviour(mode="huge")) as (port, b):
        started = time.monotonic()
        result = send_push(_request(f"http://127.0.0.1:{port}/in"), "127.0.0.1", FAST)
        assert not result.ok and "over 65536 bytes" in result.detail
        assert time.monotonic() - started < 2.0
    assert b.sent < 32 * 1024 * 1024  # the hub hung up long before 200 MiB


def test_a_declared_huge_answer_is_refused_without_reading_it() -> None:
    with raw_server(Behaviour(mode="declared")) as (port, _):
        result = send_push(_request(f"http://127.0.0.1:{port}/in"), "127.0.0.1", FAST)
    assert not result.ok and "419430400 bytes" in result.detail


@pytest.mark.parametrize("mode", ["dribble-head", "dribble-body"])
def test_a_dribbling_receiver_is_cut_at_the_push_deadline(mode: str) -> None:
    policy = replace(FAST, timeout=5.0, deadline=1.0)  # each byte arrives well within 5 s
    with raw_server(Behaviour(mode=mode, pause=0.1)) as (port, _):
        started = time.monotonic()
        result = send_push(_request(f"http://127.0.0.1:{port}/in"), "127.0.0.1", policy)
        took = time.monotonic() - started
    assert not result.ok and "within 1 s" in result.detail
    assert took < 1.6  # the deadline, not 5 s per byte


# -- the pool -------------------------------------------------------------------------------


@dataclass
class Worker:
    env: Env
    transport: InProcessTransport
    tclock: list[float]

    def make(self, policy: PushPolicy = FAST) -> DeliveryWorker:
        hub = self.env.hub
        return DeliveryWorker(
            hub.store, self.transport, hub.secrets.signing_key, self.env.clock, policy=policy
        )

    def register(self, importer: str, url: str) -> None:
        response = self.env.clients[importer].request(
            "POST", "/v1/mailbox/push", body={"url": url}, check=False
        )
        assert response.status_code == 201, response.text

    def submit(self, exporter: str, importer: str) -> str:
        result = self.env.clients[exporter].submit_batch(
            importer, PRODUCT, [waybill(1, "VN" if importer == "vn-importer" else "TH")],
            purpose=PURPOSE,
        )  # fmt: skip
        assert result.envelope_id is not None
        return result.envelope_id

    def redeliver(self) -> None:
        self.tclock[0] += 31.0


@pytest.fixture
def worker(env: Env) -> Iterator[Worker]:
    tclock = [0.0]
    transport = InProcessTransport(ack_wait=30.0, clock=lambda: tclock[0])
    env.hub.transport.close()
    env.hub.transport = env.hub.pipeline.transport = transport
    yield Worker(env, transport, tclock)


def test_one_slow_receiver_does_not_stall_pushes_to_others(worker: Worker) -> None:
    policy = replace(FAST, timeout=5.0, deadline=3.0)
    with raw_server(Behaviour(mode="dribble-head", pause=0.1)) as (slow_port, slow), \
            raw_server(Behaviour(mode="ok")) as (fast_port, fast):  # fmt: skip
        worker.register("vn-importer", f"http://127.0.0.1:{slow_port}/in")
        worker.register("th-other-importer", f"http://127.0.0.1:{fast_port}/in")
        worker.submit("cn-exporter", "vn-importer")
        worker.submit("cn-other-exporter", "th-other-importer")
        pushing = worker.make(policy)
        with ThreadPoolExecutor(2) as pool:
            started = time.monotonic()
            futures = pushing.dispatch(pool)
            assert len(futures) == 2
            assert fast.arrived.wait(2.0), "the fast receiver waited for the slow one"
            assert slow.arrived.wait(2.0)
            assert time.monotonic() - started < 2.0
            # a second batch for the slow importer waits for its first push: no second
            # worker, no second connection to it at the same time
            worker.submit("cn-exporter", "vn-importer")
            assert pushing.dispatch(pool) == []
            assert len(slow.heads) == 1
            outcomes = [f.result(timeout=20) for f in futures]
        assert sum(outcomes, start=type(outcomes[0])()) == {"delivered": 1, "failed": 2}
        assert len(slow.heads) == 2


def test_the_backoff_survives_a_restart(worker: Worker) -> None:
    with raw_server(Behaviour(mode="status", status=503)) as (port, b):
        worker.register("vn-importer", f"http://127.0.0.1:{port}/in")
        envelope_id = worker.submit("cn-exporter", "vn-importer")
        assert worker.make().run_once() == {"failed": 1}
        restarted = worker.make()  # a new process: nothing in memory
        worker.redeliver()
        assert restarted.run_once() == {"deferred": 1}
        assert len(b.heads) == 1  # not pushed again before its time
        b.status = 200
        worker.env.clock.advance(61)
        worker.redeliver()
        assert worker.make().run_once() == {"delivered": 1}
        assert worker.env.hub.store.get_envelope(envelope_id).attempts == 2


# -- one resolution, the address that was checked ---------------------------------------------


def test_the_push_connects_to_the_checked_address_with_the_names_host_header(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[str] = []
    real = socket.getaddrinfo

    def recording(host: Any, *args: Any, **kwargs: Any) -> Any:
        asked.append(str(host))
        return real(host, *args, **kwargs)

    calls: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        return ["127.0.0.1"]

    monkeypatch.setattr(socket, "getaddrinfo", recording)
    with raw_server(Behaviour(mode="ok")) as (port, b):
        url = f"http://receiver.test:{port}/in"
        address = resolve_push_destination(url, {"receiver.test"}, resolve)
        result = send_push(_request(url), address, FAST)
    assert result.ok, result.detail
    assert calls == ["receiver.test"]  # resolved once
    assert "receiver.test" not in asked  # and never again by the connection
    assert f"host: receiver.test:{port}".encode() in b.heads[0].lower()


def test_a_rebinding_name_is_refused_on_the_one_resolution_that_counts() -> None:
    answers = iter([["93.184.215.14"], ["127.0.0.1"]])

    def rebinding(host: str, port: int) -> list[str]:
        return next(answers)

    # first answer public: the push would go to exactly that address ...
    assert (
        resolve_push_destination("https://rebind.example/in", set(), rebinding) == "93.184.215.14"
    )
    # ... and the next resolution (a later push) pointing inside is refused
    with pytest.raises(InputError, match="not public"):
        resolve_push_destination("https://rebind.example/in", set(), rebinding)


def test_every_address_of_a_name_must_be_public() -> None:
    def mixed(host: str, port: int) -> list[str]:
        return ["93.184.215.14", "::ffff:10.0.0.1"]

    with pytest.raises(InputError, match="not public"):
        resolve_push_destination("https://mixed.example/in", set(), mixed)


NOT_PUBLIC = [
    "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.9", "169.254.169.254", "100.64.0.1",
    "0.0.0.0", "255.255.255.255", "224.0.0.251", "192.0.2.1", "198.18.0.1", "240.0.0.1",
    "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "ff02::1", "2001:db8::1",
    # IPv4-embedding IPv6 forms pointing inside
    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",
    "64:ff9b::7f00:1", "64:ff9b::a00:1", "64:ff9b::a9fe:a9fe",
    "2002:7f00:1::1", "2002:a00:1::", "2002:c0a8:109::1",
    "::127.0.0.1", "::10.0.0.1", "::169.254.169.254",
    # site-local, Teredo, local-use NAT64
    "fec0::1", "feff::1", "2001:0:4136:e378:8000:63bf:3fff:fdd2", "64:ff9b:1::a00:1",
]  # fmt: skip
PUBLIC = ["8.8.8.8", "93.184.215.14", "2606:4700:4700::1111", "::ffff:8.8.8.8",
          "64:ff9b::808:808", "2002:808:808::1"]  # fmt: skip


@pytest.mark.parametrize("text", NOT_PUBLIC)
def test_non_public_addresses(text: str) -> None:
    assert not is_public_address(ipaddress.ip_address(text))
    literal = f"[{text}]" if ":" in text else text
    with pytest.raises(InputError, match="not public"):
        check_push_url(f"https://{literal}/in")
    with pytest.raises(InputError, match="not public"):
        resolve_push_destination("https://name.example/in", set(), lambda h, p: [text])


@pytest.mark.parametrize("text", PUBLIC)
def test_public_addresses(text: str) -> None:
    assert is_public_address(ipaddress.ip_address(text))
    assert resolve_push_destination("https://name.example/in", set(), lambda h, p: [text]) == text
