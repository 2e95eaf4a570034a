"""The authorization matrix: every endpoint x every role, against objects of one tenant
pair (cn-exporter -> vn-importer). No cross-tenant read or write succeeds, and a
regulator never gets a payload."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import msgspec
import pytest
from holds.helpers import declarations

from api.cast import NOW, PRODUCT, PURPOSE, Env, make_participant, serve_cast, waybill
from silkgate.client import SilkgateClient
from silkgate.model import Agreement, Batch, BatchResult, Filing
from silkgate.policy.engine import PACKS_DIR
from silkgate.registry.keys import rotate
from silkgate.sandbox.auth import Approval, sign_action
from silkgate.sandbox.cohorts import CohortSpec, cohort_message
from silkgate.sandbox.lifecycle import transition_message
from silkgate.sandbox.packs import text_digest
from silkgate.seal import envelope_digest, sign_receipt
from silkgate.seal.keys import KeyRing, create_keyring, rotate_keyring
from silkgate.store import PushEndpoint

ACTORS = (
    "cn-exporter",  # the owner of the batch
    "vn-importer",  # its addressee
    "cn-other-exporter",
    "th-other-importer",
    "regulator",
    "operator",
)
SECRET = "Nguyen Van Secret"  # appears in the records; must never leave in clear
REGULATOR = "regulator"
REPORTED_COHORT = "matrix-report"
OVERLAY = """\
pack: gx-matrix-trial
title: "Trial: customs declarations flow under supervision"
overlay_of: cn
version: "1"
disclaimer: A sandbox trial overlay for tests, not legal advice.
sources:
  - id: trial
    name: "Pilot zone sandbox decision (test)"
rules:
  - id: trial.customs.allow
    title: Customs declarations flow under the trial
    when: {product: [customs.declaration]}
    outcome: allow
    cite: [trial Art. 1]
"""
_serial = itertools.count(1)


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
        world = World(env, batch, sealed)
        assert env.hub.sandbox is not None
        env.hub.sandbox.cohorts.create(*_cohort(world, REPORTED_COHORT))
        yield world


Call = Callable[[World, SilkgateClient, str], httpx.Response]


def _send(client: SilkgateClient, method: str, path: str, body: Any = None) -> httpx.Response:
    return client.request(method, path, body=body, check=False)


def submit_for_owner(w: World, c: SilkgateClient, actor: str) -> httpx.Response:
    body = {"exporter": "cn-exporter", "importer": "vn-importer", "product": PRODUCT}
    return _send(c, "POST", "/v1/batches", {**body, "purpose": PURPOSE, "records": [waybill(9)]})


def dry_run_for_owner(w: World, c: SilkgateClient, actor: str) -> httpx.Response:
    body = {"exporter": "cn-exporter", "importer": "vn-importer", "product": PRODUCT}
    return _send(
        c, "POST", "/v1/batches/check", {**body, "purpose": PURPOSE, "records": [waybill(9)]}
    )


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


def update_participant(w: World, c: SilkgateClient, actor: str) -> httpx.Response:
    return _send(c, "PATCH", "/v1/participants/cn-other-exporter", {"sector": f"by-{actor}"})


# -- keys: a participant's own, or anyone's for the operator --------------------------
KEY_OWNER = "cn-exporter"


def _owner_rotated(w: World) -> KeyRing:
    """The owner's key ring with fresh keys added, its old keys kept 30 days."""
    return rotate_keyring(w.env.clients[KEY_OWNER].keys, NOW, overlap=timedelta(days=30))


def _owner_signs_with(w: World, ring: KeyRing) -> None:
    """From now on the owner's client signs with `ring`'s current key: only the current
    key changes keys (silkgate.registry.service.check_current_key)."""
    newest = msgspec.structs.replace(ring, signing=ring.signing[-1:], hpke=ring.hpke[-1:])
    w.env.clients[KEY_OWNER] = w.env.client(newest)


def rotate_owner_keys(w: World, c: SilkgateClient, actor: str) -> httpx.Response:
    ring = _owner_rotated(w)
    body = {
        "signing_key": ring.signing[-1].public,
        "hpke_key": ring.hpke[-1].public,
        "overlap_days": 30,
    }
    response = _send(c, "POST", f"/v1/participants/{KEY_OWNER}/keys", body)
    if response.status_code == 200:
        _owner_signs_with(w, ring)
    return response


def revoke_owner_key(w: World, c: SilkgateClient, actor: str) -> httpx.Response:
    """The owner rotates first; the actor then revokes the key it rotated away from."""
    ring = _owner_rotated(w)
    owner = w.env.hub.store.get_participant(KEY_OWNER)
    signing, hpke = ring.signing[-1].public, ring.hpke[-1].public
    w.env.hub.store.put_participant(rotate(owner, signing, hpke, NOW, timedelta(days=30)))
    _owner_signs_with(w, ring)
    key_id = ring.signing[-2].key_id
    return _send(w.env.clients[actor], "POST", f"/v1/participants/{KEY_OWNER}/keys/{key_id}/revoke")


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
    body["recipient"] = "vn-importer"  # a certification names its recipient
    return _send(c, "POST", "/v1/filings", body)


def end_agreement(w: World, c: SilkgateClient, actor: str) -> httpx.Response:
    """Each actor tries on its own agreement, so the module's world keeps its others."""
    agreement = w.env.hub.store.get_agreement("agr-cn-exporter-vn-importer")
    w.env.hub.store.put_agreement(msgspec.structs.replace(agreement, id=f"agr-end-{actor}"))
    body = {"on": "2026-12-31", "reason": "terminated"}
    return _send(c, "POST", f"/v1/agreements/agr-end-{actor}/end", body)


def withdraw_filing(w: World, c: SilkgateClient, actor: str) -> httpx.Response:
    filing = next(f for f in w.env.hub.store.list_filings() if f.id == "fil-cn-exporter")
    w.env.hub.store.put_filing(msgspec.structs.replace(filing, id=f"fil-withdraw-{actor}"))
    body = {"on": "2026-12-31", "reason": "withdrawn"}
    return _send(c, "POST", f"/v1/filings/fil-withdraw-{actor}/withdraw", body)


def dry_run(w: World, c: SilkgateClient, actor: str) -> httpx.Response:
    body = {
        "origin": "CN",
        "destination": "VN",
        "product": PRODUCT,
        "purpose": PURPOSE,
        "records": [waybill(5)],
    }
    return _send(c, "POST", "/v1/check", body)


def classify_sample(w: World, c: SilkgateClient, actor: str) -> httpx.Response:
    body = {"product": PRODUCT, "records": [waybill(5)]}
    return _send(c, "POST", "/v1/classify", body)


# -- push registrations: always the caller's own ------------------------------------


def register_push(w: World, c: SilkgateClient, actor: str) -> httpx.Response:
    return _send(c, "POST", "/v1/mailbox/push", {"url": f"http://127.0.0.1:9/{actor}"})


def _seed_push(w: World, actor: str) -> None:
    """Each call stands alone, whatever order the matrix runs in."""
    url = f"https://{actor}.example/inbox"
    w.env.hub.store.put_push_endpoint(
        PushEndpoint(importer=actor, url=url, created_at=w.env.clock())
    )


def read_push(w: World, c: SilkgateClient, actor: str) -> httpx.Response:
    _seed_push(w, actor)
    response = _send(c, "GET", "/v1/mailbox/push")
    if response.status_code == 200:
        assert response.json()["importer"] == actor  # never another tenant's
    return response


def delete_push(w: World, c: SilkgateClient, actor: str) -> httpx.Response:
    _seed_push(w, actor)
    response = _send(c, "DELETE", "/v1/mailbox/push")
    seeded = w.env.hub.store.list_push_endpoints()
    assert (actor in {p.importer for p in seeded}) is (response.status_code != 204)
    return response


# -- the sandbox: hub-wide objects, the role decides ----------------------------------


def _approval(w: World, message: bytes) -> Approval:
    _, key = w.env.rings[REGULATOR].current_signing(NOW)
    return sign_action(key, REGULATOR, message)


def _signed(w: World, message: bytes) -> dict[str, Any]:
    approval = _approval(w, message)
    return {"key_id": approval.key_id, "signature": approval.signature}


def _pack(version: str) -> str:
    text = (PACKS_DIR / "cn.yaml").read_text(encoding="utf-8")
    return re.sub(r'(?m)^version: ".*"$', f'version: "{version}"', text, count=1)


def _cohort(w: World, cohort_id: str) -> tuple[CohortSpec, Approval]:
    spec = CohortSpec(
        id=cohort_id,
        members=("cn-other-exporter",),
        products=("customs.declaration",),
        overlay_yaml=OVERLAY,
        start=NOW - timedelta(hours=1),
        end=NOW + timedelta(days=1),
        max_records=10,
    )
    message = cohort_message("create", spec.id, spec.message_body(), REGULATOR)
    return spec, _approval(w, message)


def propose_pack(w: World, c: SilkgateClient, actor: str) -> httpx.Response:
    text = _pack(f"2026.{next(_serial)}-matrix")
    version = text.split('\nversion: "', 1)[1].split('"', 1)[0]
    message = transition_message("cn", version, text_digest(text), "", "draft", REGULATOR)
    return _send(c, "POST", "/v1/sandbox/policies", {"yaml": text, **_signed(w, message)})


def retire_draft(w: World, c: SilkgateClient, actor: str) -> httpx.Response:
    assert w.env.hub.sandbox is not None
    version = f"2026.{next(_serial)}-matrix"
    text = _pack(version)
    sha = text_digest(text)
    lifecycle = w.env.hub.sandbox.lifecycle
    lifecycle.propose(
        text, _approval(w, transition_message("cn", version, sha, "", "draft", REGULATOR))
    )
    message = transition_message("cn", version, sha, "draft", "retired", REGULATOR)
    path = f"/v1/sandbox/policies/cn/{version}/transition"
    return _send(c, "POST", path, {"to": "retired", **_signed(w, message)})


def replay_candidate(w: World, c: SilkgateClient, actor: str) -> httpx.Response:
    return _send(c, "POST", "/v1/sandbox/replay", {"candidates": [_pack("2026.0-replay")]})


def create_cohort(w: World, c: SilkgateClient, actor: str) -> httpx.Response:
    spec, approval = _cohort(w, f"matrix-{next(_serial)}")
    body = {"spec": msgspec.to_builtins(spec), "key_id": approval.key_id}
    return _send(c, "POST", "/v1/sandbox/cohorts", {**body, "signature": approval.signature})


def suspend_cohort(w: World, c: SilkgateClient, actor: str) -> httpx.Response:
    assert w.env.hub.sandbox is not None
    spec, approval = _cohort(w, f"matrix-{next(_serial)}")
    w.env.hub.sandbox.cohorts.create(spec, approval)
    message = cohort_message("suspend", spec.id, {"reason": "matrix"}, REGULATOR)
    body = {"reason": "matrix", **_signed(w, message)}
    return _send(c, "POST", f"/v1/sandbox/cohorts/{spec.id}/suspend", body)


# -- held batches: the exporter's own (metadata) and regulators; decisions by regulators --
HELD_EXPORTER = "cn-ciio-exporter"  # a CIIO: its declarations wait for a security assessment


def _held(w: World) -> str:
    """A fresh held envelope (whatever filings other rows have added meanwhile)."""
    store = w.env.hub.store
    if HELD_EXPORTER not in {p.id for p in store.list_participants()}:
        ring = create_keyring(HELD_EXPORTER, NOW)
        made = make_participant(HELD_EXPORTER, ring, "CN", ("exporter",))
        store.put_participant(msgspec.structs.replace(made, ciio=True))
    flow = {"exporter": HELD_EXPORTER, "importer": "th-other-importer"}
    held = {**flow, "product": "customs.declaration", "purpose": "customs_clearance"}
    valid = NOW.date().replace(month=1, day=1)
    agreement = {**held, "instrument": "cn_standard_contract", "valid_from": valid}
    store.put_agreement(msgspec.convert({"id": "agr-held", **agreement}, Agreement))
    records = declarations("TH", 2)
    batch = msgspec.convert({"id": f"b-held-{next(_serial)}", **held, "records": records}, Batch)
    held_id = w.env.hub.pipeline.submit(batch).held_id
    assert held_id is not None
    return held_id


def release_hold(w: World, c: SilkgateClient, actor: str) -> httpx.Response:
    held = _held(w)
    return _send(c, "POST", f"/v1/holds/{held}/release", c.hold_decision_body("release", held, "m"))


def reject_hold(w: World, c: SilkgateClient, actor: str) -> httpx.Response:
    held = _held(w)
    return _send(c, "POST", f"/v1/holds/{held}/reject", c.hold_decision_body("reject", held, "m"))


def recheck(exporter: str | None) -> Call:
    def call(w: World, c: SilkgateClient, actor: str) -> httpx.Response:
        _held(w)
        return _send(c, "POST", "/v1/holds/recheck", {"exporter": exporter} if exporter else {})

    return call


def get(path: str) -> Call:
    def call(w: World, c: SilkgateClient, actor: str) -> httpx.Response:
        return _send(c, "GET", path.format(batch=w.batch.batch_id, envelope=w.envelope_id))

    return call


def get_with(path: str, **params: str) -> Call:
    """GET `path` with a query (the SDK sends `params`; a query in the path is dropped)."""

    def call(w: World, c: SilkgateClient, actor: str) -> httpx.Response:
        return c.request("GET", path, params=params, check=False)

    return call


def batch_by_own_key(w: World, c: SilkgateClient, actor: str) -> httpx.Response:
    """Each exporter looks up a batch it committed under a key (its own scope)."""
    importer = {"cn-exporter": "vn-importer", "cn-other-exporter": "th-other-importer"}
    if actor in importer:
        body = {"id": f"b-key-{actor}-{next(_serial)}", "exporter": actor,
                "importer": importer[actor], "product": PRODUCT, "purpose": PURPOSE,
                "records": [waybill(11)], "idempotency_key": f"matrix-key-{actor}"}  # fmt: skip
        w.env.hub.pipeline.submit(msgspec.convert(body, Batch))
    return _send(c, "GET", f"/v1/batches/idempotency/matrix-key-{actor}")


def counters_of_owner(w: World, c: SilkgateClient, actor: str) -> httpx.Response:
    return c.request("GET", "/v1/counters", params={"exporter": "cn-exporter"}, check=False)


# endpoint -> (call, the actors that may; everyone else gets 403)
MATRIX: dict[str, tuple[Call, set[str]]] = {
    "submit batch as cn-exporter": (submit_for_owner, {"cn-exporter"}),
    "dry run of a batch as cn-exporter": (dry_run_for_owner, {"cn-exporter"}),
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
    "classify": (classify_sample, set(ACTORS)),
    "list participants": (get("/v1/participants"), set(ACTORS)),
    "register participant": (register_participant, {"operator"}),
    "update participant": (update_participant, {"operator"}),
    "rotate keys of cn-exporter": (rotate_owner_keys, {KEY_OWNER, "operator"}),
    "revoke key of cn-exporter": (revoke_owner_key, {KEY_OWNER, "operator"}),
    "list agreements": (get("/v1/agreements"), set(ACTORS)),
    "add agreement": (add_agreement, {"operator"}),
    "list filings": (get("/v1/filings"), set(ACTORS)),
    "add filing": (add_filing, {"operator"}),
    "end agreement": (end_agreement, {"operator"}),
    "withdraw filing": (withdraw_filing, {"operator"}),
    "whoami": (get("/v1/whoami"), set(ACTORS)),
    "register push endpoint": (register_push, {"vn-importer", "th-other-importer"}),
    "read push endpoint": (read_push, {"vn-importer", "th-other-importer"}),
    "delete push endpoint": (delete_push, {"vn-importer", "th-other-importer"}),
    "sandbox policies": (get("/v1/sandbox/policies"), {"regulator", "operator"}),
    "sandbox propose": (propose_pack, {"regulator"}),
    "sandbox transition": (retire_draft, {"regulator"}),
    "sandbox shadow": (get("/v1/sandbox/shadow"), {"regulator", "operator"}),
    "sandbox replay": (replay_candidate, {"regulator", "operator"}),
    "sandbox cohorts": (get("/v1/sandbox/cohorts"), {"regulator", "operator"}),
    "sandbox create cohort": (create_cohort, {"regulator"}),
    "sandbox suspend cohort": (suspend_cohort, {"regulator"}),
    "sandbox cohort report": (
        get(f"/v1/sandbox/cohorts/{REPORTED_COHORT}/report"),
        {"regulator", "operator"},
    ),
    "list holds": (get("/v1/holds"), {"cn-exporter", "cn-other-exporter", "regulator"}),
    "release hold": (release_hold, {"regulator"}),
    "reject hold": (reject_hold, {"regulator"}),
    "recheck own holds": (recheck(None), {"cn-exporter", "cn-other-exporter", "regulator"}),
    "recheck another's holds": (recheck(HELD_EXPORTER), {"regulator"}),
    "batch report": (
        get("/v1/batches/{batch}/report"),
        {"cn-exporter", "vn-importer", "regulator"},
    ),
    "own counters": (get("/v1/counters"), {"cn-exporter", "cn-other-exporter", "regulator"}),
    "counters of cn-exporter": (counters_of_owner, {"cn-exporter", "regulator"}),
    "batch by own idempotency key": (batch_by_own_key, {"cn-exporter", "cn-other-exporter"}),
    "corridor figures": (get("/v1/console/corridors"), set(ACTORS) - {"operator"}),
    "corridor figures of cn-exporter": (
        get_with("/v1/console/corridors", exporter="cn-exporter"),
        {"cn-exporter", "regulator"},
    ),
    "rules fired": (get("/v1/console/rules"), set(ACTORS) - {"operator"}),
    "rules fired for vn-importer": (
        get_with("/v1/console/rules", importer="vn-importer"),
        {"vn-importer", "regulator"},
    ),
}


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("endpoint", list(MATRIX))
def test_matrix(world: World, endpoint: str, actor: str) -> None:
    call, allowed = MATRIX[endpoint]
    response = call(world, world.env.clients[actor], actor)
    if actor in allowed:
        assert response.status_code in (200, 201, 204), response.text
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
    public = {"/v1/health", "/v1/hub", "/v1/products", "/v1/products/{product_id}"}
    public |= {"/v1/console/checkpoint", "/v1/console/ledger-history"}
    paths = {p for p in world.env.http.get("/openapi.json").json()["paths"] if p.startswith("/v1/")}
    covered = {
        "/v1/batches",
        "/v1/batches/check",
        "/v1/batches/{batch_id}",
        "/v1/batches/{batch_id}/receipts",
        "/v1/mailbox",
        "/v1/envelopes/{envelope_id}",
        "/v1/envelopes/{envelope_id}/receipt",
        "/v1/check",
        "/v1/classify",
        "/v1/participants",
        "/v1/participants/{participant_id}/keys",
        "/v1/participants/{participant_id}/keys/{key_id}/revoke",
        "/v1/participants/{participant_id}",
        "/v1/agreements",
        "/v1/filings",
        "/v1/agreements/{agreement_id}/end",
        "/v1/filings/{filing_id}/withdraw",
        "/v1/whoami",
        "/v1/mailbox/push",
        "/v1/sandbox/policies",
        "/v1/sandbox/policies/{pack}/{version}/transition",
        "/v1/sandbox/shadow",
        "/v1/sandbox/replay",
        "/v1/sandbox/cohorts",
        "/v1/sandbox/cohorts/{cohort_id}/suspend",
        "/v1/sandbox/cohorts/{cohort_id}/report",
        "/v1/holds",
        "/v1/holds/{envelope_id}",
        "/v1/holds/{envelope_id}/release",
        "/v1/holds/{envelope_id}/reject",
        "/v1/holds/recheck",
        "/v1/batches/{batch_id}/report",
        "/v1/counters",
        "/v1/batches/idempotency/{key}",
        "/v1/console/corridors",
        "/v1/console/rules",
    }
    ledger = {p for p in paths if p.startswith("/v1/ledger/")}
    assert paths - ledger - public == covered


@pytest.mark.parametrize("actor", ["cn-exporter", "cn-other-exporter"])
def test_an_exporter_sees_only_its_own_counters(world: World, actor: str) -> None:
    report = world.env.clients[actor].counters()
    assert [c.exporter for c in report.counters] == [actor]
    store = world.env.hub.store
    for category in report.counters[0].categories:
        assert category.individuals == store.subject_count(actor, report.year, category.category)


def test_a_regulator_sees_every_exporters_counters(world: World) -> None:
    report = world.env.clients["regulator"].counters()
    assert {"cn-exporter", "cn-other-exporter"} <= {c.exporter for c in report.counters}
    assert not {"vn-importer", "regulator"} & {c.exporter for c in report.counters}


def test_batch_report_by_prefix_stays_within_the_tenant(world: World) -> None:
    prefix = world.batch.batch_id[:-4]
    report = world.env.clients["cn-exporter"].batch_report(prefix)
    assert report.batch_id == world.batch.batch_id
    response = _send(world.env.clients["cn-other-exporter"], "GET", f"/v1/batches/{prefix}/report")
    assert response.status_code == 404  # not visible to it: no hint that it exists


def test_a_key_lookup_never_finds_another_exporters_batch(world: World) -> None:
    batch_by_own_key(world, world.env.clients["cn-exporter"], "cn-exporter")
    mine = _send(
        world.env.clients["cn-exporter"], "GET", "/v1/batches/idempotency/matrix-key-cn-exporter"
    )
    assert mine.status_code == 200 and mine.json()["exporter"] == "cn-exporter"
    other = world.env.clients["cn-other-exporter"]
    assert _send(other, "GET", "/v1/batches/idempotency/matrix-key-cn-exporter").status_code == 404
