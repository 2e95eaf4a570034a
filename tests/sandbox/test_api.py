"""The sandbox's HTTP routes on a real hub, through the signing Python client."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import msgspec
import pytest
from fastapi.testclient import TestClient

from silkgate.api.app import create_app
from silkgate.api.sandbox_routes import sandbox_router
from silkgate.client import SilkgateClient
from silkgate.clock import system_clock
from silkgate.errors import ConflictError, ForbiddenError
from silkgate.registry.keys import load_key_file
from silkgate.sandbox.cohorts import CohortSpec, cohort_message
from silkgate.sandbox.lifecycle import transition_message
from silkgate.sandbox.packs import text_digest

from .helpers import OVERLAY, REGULATOR, TRIAL, World, cn_variant, demo_batches

BASE = "http://testserver"


@pytest.fixture
def http(world: World) -> Iterator[TestClient]:
    app = create_app(hub=world.hub, clock=system_clock)
    app.include_router(sandbox_router(), prefix="/v1/sandbox")
    with TestClient(app, base_url=BASE) as client:
        yield client


def client(world: World, http: TestClient, who: str = REGULATOR) -> SilkgateClient:
    return SilkgateClient(BASE, load_key_file(world.keys_dir / f"{who}.json"), http=http)


def signed(world: World, message: bytes) -> dict[str, object]:
    approval = world.approve(lambda by: message)
    return {"key_id": approval.key_id, "signature": approval.signature}


def test_lifecycle_shadow_and_replay_over_http(world: World, http: TestClient) -> None:
    api = client(world, http)
    assert api.request("GET", "/v1/sandbox/policies").json() == []
    propose = transition_message("cn", "2026.1-trial", text_digest(TRIAL), "", "draft", REGULATOR)
    made = api.request(
        "POST", "/v1/sandbox/policies", body={"yaml": TRIAL, **signed(world, propose)}
    )
    assert made.status_code == 201 and made.json()["state"] == "draft"
    sha = made.json()["sha256"]
    refused = transition_message("cn", "2026.1-trial", sha, "draft", "active", REGULATOR)
    with pytest.raises(ConflictError, match="shadow it first"):
        api.request(
            "POST",
            "/v1/sandbox/policies/cn/2026.1-trial/transition",
            body={"to": "active", **signed(world, refused)},
        )
    shadow = transition_message("cn", "2026.1-trial", sha, "draft", "shadow", REGULATOR)
    moved = api.request(
        "POST",
        "/v1/sandbox/policies/cn/2026.1-trial/transition",
        body={"to": "shadow", **signed(world, shadow)},
    )
    assert moved.json()["state"] == "shadow"
    for batch in demo_batches(600, 100):
        world.hub.pipeline.submit(batch)
    diffs = api.request("GET", "/v1/sandbox/shadow").json()
    assert [(d["version"], d["records"]) for d in diffs] == [("cn@2026.1-trial", 600)]
    candidate = cn_variant("2026.2-trial", pi_contract_from=100, parcel_products="[]")
    report = api.request("POST", "/v1/sandbox/replay", body={"candidates": [candidate]}).json()
    assert report["records"] == 600 and report["changed"] == diffs[0]["changed"]
    with pytest.raises(ForbiddenError, match="may not use the sandbox"):
        client(world, http, "cn-nanning-freight").request("GET", "/v1/sandbox/policies")


def test_cohort_create_suspend_report_over_http(world: World, http: TestClient) -> None:
    api = client(world, http)
    now = world.clock.now
    spec = CohortSpec(
        id="api-trial",
        members=("cn-pingxiang-broker",),
        overlay_yaml=OVERLAY,
        start=now,
        end=now + timedelta(days=1),
        max_records=100,
    )
    create = cohort_message("create", spec.id, spec.message_body(), REGULATOR)
    made = api.request(
        "POST",
        "/v1/sandbox/cohorts",
        body={"spec": msgspec.to_builtins(spec), **signed(world, create)},
    )
    assert made.status_code == 201 and made.json()["state"] == "active"
    listed = api.request("GET", "/v1/sandbox/cohorts").json()
    assert [c["id"] for c in listed] == ["api-trial"]
    stop = cohort_message("suspend", spec.id, {"reason": "api test"}, REGULATOR)
    api.request(
        "POST",
        "/v1/sandbox/cohorts/api-trial/suspend",
        body={"reason": "api test", **signed(world, stop)},
    )
    report = api.request("GET", "/v1/sandbox/cohorts/api-trial/report").json()
    assert report["state"] == "suspended" and report["incidents"][0]["kind"] == "kill_switch"
