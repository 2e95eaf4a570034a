"""Push delivery against real receivers on 127.0.0.1: the importer registers over the API,
the worker POSTs the sealed envelope signed by the hub, failures stay unacked and are
redelivered with backoff, attempts are bounded, and pushing stops at the delivery TTL.

The transport runs on a manual clock (redelivery without sleeping); the hub, the API and
the receiver share the cast's manual clock."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from fastapi.testclient import TestClient

from api.cast import NOW, PRODUCT, PURPOSE, Env, waybill
from api.receiver import Receiver, receiving
from silkgate.api.app import create_app
from silkgate.errors import InputError
from silkgate.mailbox.delivery import (
    ATTEMPT_HEADER,
    BATCH_ID_HEADER,
    ENVELOPE_ID_HEADER,
    DeliveryWorker,
    PushPolicy,
    check_push_destination,
    check_push_url,
)
from silkgate.seal import decode_records, envelope_digest, open_envelope, sign_receipt
from silkgate.seal.keys import ed25519_public_from_bytes
from silkgate.transport import InProcessTransport

ACK_WAIT = 30.0
POLICY = PushPolicy(
    max_attempts=3,
    backoff=10.0,
    max_backoff=60.0,
    timeout=5.0,
    allow_hosts=frozenset({"127.0.0.1"}),  # the test receivers are local
)


class TransportClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Push:
    env: Env
    transport: InProcessTransport
    transport_clock: TransportClock
    worker: DeliveryWorker

    def redeliver(self, hub_seconds: float) -> None:
        """Let the transport's ack wait pass, and the hub's clock move `hub_seconds`."""
        self.transport_clock.now += ACK_WAIT + 1
        self.env.clock.advance(hub_seconds)

    def register(self, url: str, importer: str = "vn-importer") -> httpx.Response:
        client = self.env.clients[importer]
        return client.request("POST", "/v1/mailbox/push", body={"url": url}, check=False)

    def submit(self, n: int = 1) -> str:
        result = self.env.clients["cn-exporter"].submit_batch(
            "vn-importer", PRODUCT, [waybill(i) for i in range(n)], purpose=PURPOSE
        )
        assert result.envelope_id is not None
        return result.envelope_id


@pytest.fixture
def push(env: Env) -> Iterator[Push]:
    clock = TransportClock()
    transport = InProcessTransport(ack_wait=ACK_WAIT, clock=clock)
    env.hub.transport.close()
    env.hub.transport = env.hub.pipeline.transport = transport
    worker = DeliveryWorker(
        env.hub.store, transport, env.hub.secrets.signing_key, env.clock, policy=POLICY
    )
    yield Push(env, transport, clock, worker)


@pytest.fixture
def receiver(env: Env) -> Iterator[Receiver]:
    with receiving(env.http.get("/v1/hub").json(), env.clock) as made:
        yield made


def test_push_is_signed_by_the_hub_and_opens_with_the_importers_key(
    push: Push, receiver: Receiver
) -> None:
    assert push.register(receiver.url).status_code == 201
    envelope_id = push.submit(3)
    assert push.worker.run_once() == {"delivered": 1}
    [got] = receiver.pushes
    assert got.verified, got.refusal
    stored = push.env.hub.store.get_envelope(envelope_id)
    assert got.body == stored.data and stored.attempts == 1
    assert got.headers[ENVELOPE_ID_HEADER] == envelope_id
    assert got.headers[BATCH_ID_HEADER] == stored.batch_id
    assert got.headers[ATTEMPT_HEADER] == "1"
    assert got.headers["Content-Type"] == "application/vnd.silkgate.envelope"
    hub = push.env.http.get("/v1/hub").json()
    hub_keys = {hub["key_id"]: ed25519_public_from_bytes(base64.b64decode(hub["signing_key"]))}
    opened = open_envelope(got.body, push.env.rings["vn-importer"].opening_keys(), hub_keys)
    assert len(decode_records(opened.payload)) == 3
    # The importer acknowledges as with pull; the mailbox empties.
    _, key = push.env.rings["vn-importer"].current_signing(NOW)
    receipt = sign_receipt(envelope_id, stored.batch_id, "vn-importer", envelope_digest(got.body),
                           NOW, key)  # fmt: skip
    push.env.clients["vn-importer"].acknowledge(receipt)
    assert push.env.clients["vn-importer"].mailbox().envelopes == []
    push.redeliver(0)
    assert push.worker.run_once() == {}  # acked: nothing redelivered


def test_a_failing_receiver_gets_the_envelope_again_after_backoff(
    push: Push, receiver: Receiver
) -> None:
    receiver.statuses = [503]
    push.register(receiver.url)
    envelope_id = push.submit()
    assert push.worker.run_once() == {"failed": 1}
    assert push.worker.run_once() == {}  # unacked and in flight: nothing to do yet
    push.redeliver(hub_seconds=5)  # redelivered, but the 10 s backoff has not passed
    assert push.worker.run_once() == {"deferred": 1}
    push.redeliver(hub_seconds=5)
    assert push.worker.run_once() == {"delivered": 1}
    assert [p.headers[ATTEMPT_HEADER] for p in receiver.pushes] == ["1", "2"]
    assert all(p.verified for p in receiver.pushes)
    assert receiver.pushes[0].body == receiver.pushes[1].body
    assert push.env.hub.store.get_envelope(envelope_id).attempts == 2
    # Pull still works beside push: the envelope stays until its receipt.
    assert [e.id for e in push.env.clients["vn-importer"].mailbox().envelopes] == [envelope_id]


def test_attempts_are_bounded_then_the_importer_pulls(push: Push, receiver: Receiver) -> None:
    receiver.statuses = [500] * 10
    push.register(receiver.url)
    envelope_id = push.submit()
    outcomes = []
    for _ in range(5):
        outcomes.append(dict(push.worker.run_once()))
        push.redeliver(hub_seconds=60)
    assert outcomes == [{"failed": 1}] * 3 + [{"done": 1}, {}]
    assert len(receiver.pushes) == POLICY.max_attempts
    envelope = push.env.hub.store.get_envelope(envelope_id)
    assert (envelope.state, envelope.attempts) == ("pending", 3)


def test_an_unreachable_receiver_is_a_failed_attempt(push: Push, receiver: Receiver) -> None:
    with receiving(push.env.http.get("/v1/hub").json(), push.env.clock) as gone:
        url = gone.url
    push.register(url)
    push.submit()
    assert push.worker.run_once() == {"failed": 1}


def test_no_push_after_the_delivery_ttl(push: Push, receiver: Receiver) -> None:
    receiver.statuses = [500]
    push.register(receiver.url)
    push.submit()
    assert push.worker.run_once() == {"failed": 1}
    push.redeliver(
        hub_seconds=timedelta(days=push.env.hub.settings.delivery_ttl_days).total_seconds()
    )
    assert push.worker.run_once() == {"done": 1}
    assert len(receiver.pushes) == 1


def test_without_registration_the_message_is_done_and_registering_requeues(
    push: Push, receiver: Receiver
) -> None:
    envelope_id = push.submit()
    assert push.worker.run_once() == {"done": 1}  # pull only
    assert push.register(receiver.url).status_code == 201  # mail is waiting: queued again
    assert push.worker.run_once() == {"delivered": 1}
    assert receiver.pushes[0].headers[ENVELOPE_ID_HEADER] == envelope_id


def test_registration_over_the_api(push: Push) -> None:
    importer = push.env.clients["vn-importer"]
    assert importer.request("GET", "/v1/mailbox/push", check=False).status_code == 404
    made = push.register("https://carrier.example/silkgate")
    assert made.status_code == 201 and made.json()["importer"] == "vn-importer"
    assert importer.request("GET", "/v1/mailbox/push").json()["url"] == (
        "https://carrier.example/silkgate"
    )
    other = push.env.clients["th-other-importer"]
    assert other.request("GET", "/v1/mailbox/push", check=False).status_code == 404
    assert other.request("DELETE", "/v1/mailbox/push", check=False).status_code == 404
    assert importer.request("DELETE", "/v1/mailbox/push").status_code == 204
    assert push.env.hub.store.list_push_endpoints() == []
    refused = push.register("http://carrier.example/silkgate")
    assert refused.status_code == 422 and "https" in refused.json()["message"]
    inside = push.register("https://10.0.0.5/silkgate")  # not in this hub's push_allow_hosts
    assert inside.status_code == 422 and "not public" in inside.json()["message"]


@pytest.mark.parametrize(
    "url",
    ["ftp://x.example/", "/relative", "https://user:pw@x.example/", "http://10.0.0.8/in",
     "https://x.example/#frag", "https://x.example/" + "a" * 2100,
     # not public: the hub must not be made to POST inside its own network
     "http://127.0.0.1:8080/in", "https://127.0.0.1/in", "https://10.1.2.3/in",
     "https://192.168.1.9/in", "https://169.254.169.254/latest", "https://[::1]/in",
     "https://localhost/in", "http://localhost/in"],
)  # fmt: skip
def test_push_urls_that_are_refused(url: str) -> None:
    with pytest.raises(InputError):
        check_push_url(url)


@pytest.mark.parametrize(
    ("url", "allowed"),
    [("https://carrier.example/in", ()), ("https://8.8.8.8/in", ()),
     ("http://127.0.0.1:8080/in", ("127.0.0.1",)), ("http://[::1]/in", ("::1",)),
     ("https://localhost/in", ("localhost",)), ("https://10.1.2.3/in", ("10.1.2.3",))],
)  # fmt: skip
def test_push_urls_that_are_accepted(url: str, allowed: tuple[str, ...]) -> None:
    assert check_push_url(url, allowed) == url


def test_a_name_resolving_inside_the_network_is_refused_at_delivery() -> None:
    with pytest.raises(InputError, match="not public"):
        check_push_destination("https://localhost/in", frozenset())
    check_push_destination("https://localhost/in", frozenset({"localhost"}))


def test_the_app_runs_the_worker_in_the_background(env: Env, receiver: Receiver) -> None:
    """As under `silkgate serve` (create_app(background=True)): a worker thread consumes
    the hub's own transport while the app is up, and stops with it."""
    with TestClient(create_app(hub=env.hub, clock=env.clock, background=True)):
        assert any(t.name == "silkgate-push" for t in threading.enumerate())
        client = env.clients["vn-importer"]
        client.request("POST", "/v1/mailbox/push", body={"url": receiver.url})
        result = env.clients["cn-exporter"].submit_batch(
            "vn-importer", PRODUCT, [waybill(1)], purpose=PURPOSE
        )
        assert receiver.arrived.wait(timeout=20), "no push within 20 s"
    assert [p.headers[ENVELOPE_ID_HEADER] for p in receiver.pushes] == [result.envelope_id]
    assert receiver.pushes[0].verified
    assert not any(t.name == "silkgate-push" for t in threading.enumerate())
