"""The authorization matrix: every endpoint x every role, against objects of one tenant
pair (cn-exporter -> vn-importer). No cross-tenant read or write succeeds, and a
regulator never gets a payload."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import msgspec
import pytest

from api.cast import NOW, PRODUCT, PURPOSE, Env, make_participant, serve_cast, waybill
from silkgate.client import SilkgateClient
from silkgate.model import BatchResult, Filing
from silkgate.seal import envelope_digest, sign_receipt
from silkgate.seal.keys import create_keyring

ACTORS = (
    "cn-exporter",  # the owner of the batch
    "vn-importer",  # its addressee
    "cn-other-exporter",
    "th-other-importer",
    "regulator",
    "operator",
)
SECRET = "Nguyen Van Secret"  # appears in the records; must never leave in clear


@dataclass
class World:
    env: Env
    batch: BatchResult  # cn-exporter -> vn-importer, delivered
    sealed: bytes

    @property
    def envelope_id(self) -> str:
        assert self.batch.envelope_id is not None
        return self.batch.envelope_id


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with serve_cast(tmp_path_factory.mktemp("authz")) as env:
        env.hub.store.put_filing(
            Filing(
                id="fil-cn-exporter",
                exporter="cn-exporter",
                kind="standard_contract",
                recipient="vn-importer",
                valid_from=NOW.date(),
            )
        )
        batch = env.clients["cn-exporter"].submit_batch(
            "vn-importer", PRODUCT, [waybill(1), waybill(2)], purpose=PURPOSE
        )
        assert batch.envelope_id is not None
        sealed = env.hub.store.get_envelope(batch.envelope_id).data
        yield World(env, batch, sealed)


Call = Callable[[World, SilkgateClient, str], httpx.Response]


def _send(client: SilkgateClient, method: str, path: str, body: Any = None) -> httpx.Response:
    return client.request(method, path, body=body, check=False)


def submit_for_owner(w: World, c: SilkgateClient, actor: str) -> httpx.Response:
    body = {"exporter": "cn-exporter", "importer": "vn-importer", "product": PRODUCT}
    return _send(c, "POST", "/v1/batches", {**body, "purpose": PURPOSE, "records": [waybill(9)]})


def receipt_for_envelope(w: World, c: SilkgateClient, actor: str) -> httpx.Response:
    _, key = w.env.rings[actor].current_signing(NOW)
    receipt = sign_receipt(
        w.envelope_id, w.batch.batch_id, actor, envelope_digest(w.sealed), NOW, key
    )
    return _send(c, "POST", f"/v1/envelopes/{w.envelope_id}/receipt", receipt)


def register_participant(w: World, c: SilkgateClient, actor: str) -> httpx.Response:
    ring = create_keyring(f"new-{actor}", NOW)
    return _send(
        c, "POST", "/v1/participants", make_participant(f"new-{actor}", ring, "SG", ("importer",))
    )


def add_agreement(w: World, c: SilkgateClient, actor: str) -> httpx.Response:
    body = {
        "id": f"agr-by-{actor}",
        "exporter": "cn-exporter",
        "importer": "vn-importer",
        "product": "ecommerce.order",
        "purpose": "contract_performance",
        "instrument": "contract_necessity",
    }
    return _send(c, "POST", "/v1/agreements", body)


def add_filing(w: World, c: SilkgateClient, actor: str) -> httpx.Response:
    body = {"id": f"fil-by-{actor}", "exporter": "cn-exporter", "kind": "certification"}
    return _send(c, "POST", "/v1/filings", body)


def dry_run(w: World, c: SilkgateClient, actor: str) -> httpx.Response:
    body = {
        "origin": "CN",
        "destination": "VN",
        "product": PRODUCT,
        "purpose": PURPOSE,
        "records": [waybill(5)],
    }
    return _send(c, "POST", "/v1/check", body)


def get(path: str) -> Call:
    def call(w: World, c: SilkgateClient, actor: str) -> httpx.Response:
        return _send(c, "GET", path.format(batch=w.batch.batch_id, envelope=w.envelope_id))

    return call


# endpoint -> (call, the actors that may; everyone else gets 403)
MATRIX: dict[str, tuple[Call, set[str]]] = {
    "submit batch as cn-exporter": (submit_for_owner, {"cn-exporter"}),
    "list batches": (get("/v1/batches"), set(ACTORS) - {"operator"}),
    "read batch": (get("/v1/batches/{batch}"), {"cn-exporter", "vn-importer", "regulator"}),
    "read receipts": (
        get("/v1/batches/{batch}/receipts"),
        {"cn-exporter", "vn-importer", "regulator"},
    ),
    "mailbox": (get("/v1/mailbox"), {"vn-importer", "th-other-importer"}),
    "mailbox with data": (get("/v1/mailbox?data=true"), {"vn-importer", "th-other-importer"}),
    "fetch envelope": (get("/v1/envelopes/{envelope}"), {"vn-importer"}),
    "post receipt": (receipt_for_envelope, {"vn-importer"}),
    "check": (dry_run, {"cn-exporter", "cn-other-exporter", "regulator", "operator"}),
    "list participants": (get("/v1/participants"), set(ACTORS)),
    "register participant": (register_participant, {"operator"}),
    "list agreements": (get("/v1/agreements"), set(ACTORS)),
    "add agreement": (add_agreement, {"operator"}),
    "list filings": (get("/v1/filings"), set(ACTORS)),
    "add filing": (add_filing, {"operator"}),
    "whoami": (get("/v1/whoami"), set(ACTORS)),
}


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("endpoint", list(MATRIX))
def test_matrix(world: World, endpoint: str, actor: str) -> None:
    call, allowed = MATRIX[endpoint]
    response = call(world, world.env.clients[actor], actor)
    if actor in allowed:
        assert response.status_code in (200, 201), response.text
    else:
        assert response.status_code == 403, response.text
        assert response.json()["error"] == "forbidden"
    if actor not in ("vn-importer",) or "envelope" not in endpoint:
        assert SECRET not in response.text
    if actor == "regulator":
        assert not response.content.startswith(b"SGE1")
        assert '"data"' not in response.text


# listings: what each actor sees of the owner's objects
SEES_OWNER_OBJECTS = {
    "cn-exporter": True,
    "vn-importer": True,
    "cn-other-exporter": False,
    "th-other-importer": False,
    "regulator": True,
}


@pytest.mark.parametrize(("actor", "sees"), SEES_OWNER_OBJECTS.items())
def test_batch_listing_is_per_tenant(world: World, actor: str, sees: bool) -> None:
    ids = [b.batch_id for b in world.env.clients[actor].list_batches().batches]
    assert (world.batch.batch_id in ids) is sees
    for batch in world.env.clients[actor].list_batches().batches:
        if actor not in ("regulator",):
            assert actor in (batch.exporter, batch.importer)


@pytest.mark.parametrize(("actor", "sees"), SEES_OWNER_OBJECTS.items())
def test_registry_listings_are_per_tenant(world: World, actor: str, sees: bool) -> None:
    client = world.env.clients[actor]
    agreements = [a.id for a in client.agreements()]
    assert ("agr-cn-exporter-vn-importer" in agreements) is sees
    participants = [p.id for p in client.participants()]
    if actor == "regulator":
        assert "cn-exporter" in participants and "operator" in participants
    else:
        assert participants == [actor]
    filings = [f.id for f in client.filings()]
    assert ("fil-cn-exporter" in filings) is sees


def test_operator_sees_the_whole_registry(world: World) -> None:
    operator = world.env.clients["operator"]
    assert {"cn-exporter", "vn-importer", "regulator"} <= {p.id for p in operator.participants()}
    assert len(operator.agreements()) >= 2


def test_other_importer_mailbox_never_shows_the_owners_envelope(world: World) -> None:
    page = world.env.clients["th-other-importer"].mailbox(data=True)
    assert world.envelope_id not in [e.id for e in page.envelopes]


def test_regulator_sees_metadata_of_all_flows(world: World) -> None:
    regulator = world.env.clients["regulator"]
    batch = regulator.get_batch(world.batch.batch_id)
    assert batch.records == 2 and batch.exporter == "cn-exporter"
    raw = msgspec.json.encode(batch)
    assert SECRET.encode() not in raw


def test_listing_filters_cannot_widen_a_tenants_view(world: World) -> None:
    other = world.env.clients["cn-other-exporter"]
    assert other.list_batches(exporter="cn-exporter").batches == []
    assert other.list_batches(importer="vn-importer").batches == []


def test_every_v1_route_is_in_the_matrix_or_public(world: World) -> None:
    public = {"/v1/health", "/v1/hub"}
    paths = {p for p in world.env.http.get("/openapi.json").json()["paths"] if p.startswith("/v1/")}
    covered = {
        "/v1/batches",
        "/v1/batches/{batch_id}",
        "/v1/batches/{batch_id}/receipts",
        "/v1/mailbox",
        "/v1/envelopes/{envelope_id}",
        "/v1/envelopes/{envelope_id}/receipt",
        "/v1/check",
        "/v1/participants",
        "/v1/agreements",
        "/v1/filings",
        "/v1/whoami",
    }
    ledger = {p for p in paths if p.startswith("/v1/ledger/")}
    assert paths - ledger - public == covered
