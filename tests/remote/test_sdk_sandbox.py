"""The SDK's sandbox methods (what `silkgate sandbox … --hub` runs): each signs the action
with the client's own key, as the sandbox routes require."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sandbox.helpers import OVERLAY, REGULATOR, TRIAL, World, cn_variant, demo_batches, make_world

from silkgate.api.app import create_app
from silkgate.api.sandbox_routes import sandbox_router
from silkgate.client import SilkgateClient
from silkgate.clock import system_clock
from silkgate.errors import ConflictError, ForbiddenError, NotFoundError
from silkgate.registry.keys import load_key_file
from silkgate.sandbox.cohorts import CohortSpec

BASE = "http://testserver"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    w = make_world(tmp_path, "hub")
    try:
        yield w
    finally:
        w.hub.close()


@pytest.fixture
def http(world: World) -> Iterator[TestClient]:
    app = create_app(hub=world.hub, clock=system_clock)
    if not any(getattr(r, "path", "").startswith("/v1/sandbox") for r in app.routes):
        app.include_router(sandbox_router(), prefix="/v1/sandbox")
    with TestClient(app, base_url=BASE) as client:
        yield client


def sdk(world: World, http: TestClient, who: str = REGULATOR) -> SilkgateClient:
    return SilkgateClient(BASE, load_key_file(world.keys_dir / f"{who}.json"), http=http)


def test_policy_lifecycle_shadow_and_replay(world: World, http: TestClient) -> None:
    regulator = sdk(world, http)
    assert regulator.policies() == []
    draft = regulator.propose_policy(TRIAL)
    assert (draft["pack"], draft["version"], draft["state"]) == ("cn", "2026.1-trial", "draft")
    with pytest.raises(ConflictError, match="shadow it first"):
        regulator.transition_policy("cn", "2026.1-trial", "active")
    assert regulator.transition_policy("cn", "2026.1-trial", "shadow")["state"] == "shadow"
    [listed] = regulator.policies()
    assert listed["history"][-1]["by"] == REGULATOR
    with pytest.raises(NotFoundError):
        regulator.transition_policy("cn", "1999.1", "shadow")
    for batch in demo_batches(300, 100):
        world.hub.pipeline.submit(batch)
    [diff] = regulator.shadow_report()
    assert diff["version"] == "cn@2026.1-trial" and diff["records"] == 300
    candidate = cn_variant("2026.2-trial", pi_contract_from=100, parcel_products="[]")
    report = regulator.replay([candidate])
    assert report["records"] == 300 and report["changed"] == diff["changed"]
    exporter = sdk(world, http, "cn-nanning-freight")
    with pytest.raises(ForbiddenError):
        exporter.propose_policy(cn_variant("2026.3-trial"))
    with pytest.raises(ForbiddenError):
        exporter.policies()


def test_cohort_create_suspend_and_report(world: World, http: TestClient) -> None:
    regulator = sdk(world, http)
    now = world.clock.now
    spec = CohortSpec(
        id="sdk-trial", members=("cn-pingxiang-broker",), overlay_yaml=OVERLAY, start=now,
        end=now + timedelta(days=1), max_records=100,
    )  # fmt: skip
    assert regulator.create_cohort(spec)["state"] == "active"
    assert [c["id"] for c in regulator.cohorts()] == ["sdk-trial"]
    assert regulator.suspend_cohort("sdk-trial", "sdk test")["state"] == "suspended"
    report = regulator.cohort_report("sdk-trial")
    assert report["incidents"][0]["kind"] == "kill_switch"
    with pytest.raises(ForbiddenError):
        sdk(world, http, "cn-pingxiang-broker").suspend_cohort("sdk-trial", "mine")


def test_the_sdk_classifies_and_reads_entry_tiles(world: World, http: TestClient) -> None:
    regulator = sdk(world, http)
    found = regulator.classify([{"note": "call +84 912 345 678"}])
    [record] = found["records"]
    assert any(f["type"] == "phone" for f in record["findings"])
    for batch in demo_batches(10, 10):
        world.hub.pipeline.submit(batch)
    size = world.hub.store.ledger_size()
    assert size > 0
    tile = regulator.entry_tile(f"000.p/{size}" if size < 256 else "000")
    assert len(tile) > 0
