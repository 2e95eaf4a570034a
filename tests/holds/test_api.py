"""/v1/holds over HTTP on the API tests' cast: who may list, release, reject, re-check."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from api.cast import Env, serve_cast

from silkgate.client import HttpMailbox
from silkgate.errors import VerificationError
from silkgate.mailbox.inbox import drain_inbox
from silkgate.model import Agreement, Batch, Filing, Purpose

from .helpers import declarations

OWNER, IMPORTER, OTHER = "cn-exporter", "th-other-importer", "cn-other-exporter"
OPERATOR = "operator"
PRODUCT = "customs.declaration"
PURPOSE: Purpose = "customs_clearance"


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    with serve_cast(tmp_path) as made:
        made.hub.store.put_agreement(held_flow_agreement())
        yield made


def held_flow_agreement() -> Agreement:
    """cn-exporter -> th-other-importer declarations under a standard contract not filed."""
    return Agreement(
        id=f"agr-{OWNER}-{IMPORTER}-{PRODUCT}",
        exporter=OWNER,
        importer=IMPORTER,
        product=PRODUCT,
        purpose=PURPOSE,
        instrument="cn_standard_contract",
        valid_from=date(2026, 1, 1),
    )


def hold_one(env: Env, n: int = 3, seed: int = 5) -> str:
    """Submit declarations that are held; the held envelope's id."""
    records = declarations("TH", n, seed)
    bid = f"b-held-{seed}-{len(env.hub.store.list_batch_results(limit=1000))}"
    batch = Batch(
        id=bid, exporter=OWNER, importer=IMPORTER, product=PRODUCT, purpose=PURPOSE,
        records=records,
    )  # fmt: skip
    result = env.hub.pipeline.submit(batch)
    assert result.held_id is not None, result.outcomes
    return result.held_id


def signed(env: Env, actor: str, action: str, envelope_id: str, reason: str) -> dict[str, Any]:
    """A release or rejection body signed by `actor`'s own key."""
    return env.clients[actor].hold_decision_body(action, envelope_id, reason)


def call(env: Env, actor: str, method: str, path: str, body: Any = None) -> Any:
    return env.clients[actor].request(method, path, body=body, check=False)


def test_listing_is_per_tenant_and_metadata_only(env: Env) -> None:
    held = hold_one(env)
    regulator = call(env, "regulator", "GET", "/v1/holds")
    assert regulator.status_code == 200
    [item] = regulator.json()["holds"]
    assert item["envelope_id"] == held and item["reasons"][0]["rule_ids"]
    assert "data" not in item and "records_json" not in item
    owner = call(env, OWNER, "GET", "/v1/holds").json()["holds"]
    assert [h["envelope_id"] for h in owner] == [held]
    assert call(env, OTHER, "GET", "/v1/holds").json()["holds"] == []
    assert call(env, OTHER, "GET", f"/v1/holds?exporter={OWNER}").json()["holds"] == []
    assert call(env, IMPORTER, "GET", "/v1/holds").status_code == 403


def test_regulator_release_reaches_the_importers_mailbox(env: Env) -> None:
    held = hold_one(env)
    refused = call(
        env, OWNER, "POST", f"/v1/holds/{held}/release", signed(env, OWNER, "release", held, "mine")
    )
    assert refused.status_code == 403
    response = call(
        env,
        "regulator",
        "POST",
        f"/v1/holds/{held}/release",
        signed(env, "regulator", "release", held, "ok"),
    )
    assert response.status_code == 200, response.text
    assert response.json()["action"] == "released"
    again = call(
        env,
        "regulator",
        "POST",
        f"/v1/holds/{held}/release",
        signed(env, "regulator", "release", held, "ok"),
    )
    assert again.status_code == 409
    summary = drain_inbox(HttpMailbox(env.clients[IMPORTER]), env.rings[IMPORTER], clock=env.clock)
    assert (summary.envelopes, summary.records) == (1, 3)
    assert env.hub.store.get_envelope(held).state == "acked"


def test_regulator_rejection_drops_the_data(env: Env) -> None:
    held = hold_one(env)
    assert (
        call(
            env,
            IMPORTER,
            "POST",
            f"/v1/holds/{held}/reject",
            signed(env, IMPORTER, "reject", held, "x"),
        ).status_code
        == 403
    )
    response = call(
        env,
        "regulator",
        "POST",
        f"/v1/holds/{held}/reject",
        signed(env, "regulator", "reject", held, "unlawful"),
    )
    assert response.status_code == 200, response.text
    assert env.hub.store.get_envelope(held).data == b""
    empty = call(
        env,
        "regulator",
        "POST",
        f"/v1/holds/{held}/release",
        signed(env, "regulator", "release", held, ""),
    )
    assert empty.status_code == 422  # a reason is required (checked before the state)


def test_exporter_rechecks_its_own_holds_after_filing(env: Env) -> None:
    held = hold_one(env)
    nothing = call(env, OWNER, "POST", "/v1/holds/recheck", {})
    assert nothing.status_code == 200 and nothing.json()["released"] == 0
    env.hub.store.put_filing(
        Filing(
            id="fil-th",
            exporter=OWNER,
            kind="standard_contract",
            recipient=IMPORTER,
            valid_from=date(2026, 1, 1),
        )
    )
    other = call(env, OTHER, "POST", "/v1/holds/recheck", {"exporter": OWNER})
    assert other.status_code == 403
    report = call(env, OWNER, "POST", "/v1/holds/recheck", {"exporter": OWNER}).json()
    assert report["released"] == 1 and report["items"][0]["envelope_id"] == held
    assert "fil-th" in report["items"][0]["reason"]
    assert env.hub.store.get_envelope(held).state == "pending"
    # The release is the hub's, signed with a key /v1/hub publishes, and names who asked:
    # a regulator checks it from its proof bundle with nothing but the API's answers.
    from silkgate.flow.holds import verify_hold_leaf
    from silkgate.ledger.bundle import verify_bundle
    from silkgate.ledger.leaves import HoldReleaseLeaf, decode_leaf
    from silkgate.model import HUB_ACTOR

    [item] = report["items"]
    regulator = env.clients["regulator"]
    bundle = regulator.proof_bundle(item["ledger_index"])
    verify_bundle(bundle, None, regulator.hub_identity().log_key)
    leaf = decode_leaf(bundle.entry)
    assert isinstance(leaf, HoldReleaseLeaf) and leaf.envelope_id == held
    assert (leaf.by, leaf.requested_by, leaf.automatic) == (HUB_ACTOR, OWNER, True)
    hub_keys = HttpMailbox(regulator).hub_public_keys()
    verify_hold_leaf(leaf, item["reason"], hub=hub_keys)
    with pytest.raises(VerificationError):
        verify_hold_leaf(leaf, item["reason"] + " (and more)", hub=hub_keys)


def test_a_filing_recorded_over_the_api_releases_the_holds_it_covers(env: Env) -> None:
    held = hold_one(env)
    answer = call(
        env,
        OPERATOR,
        "POST",
        "/v1/filings",
        {
            "id": "fil-th-api",
            "exporter": OWNER,
            "kind": "standard_contract",
            "recipient": IMPORTER,
            "valid_from": "2026-01-01",
        },
    )
    assert answer.status_code == 201, answer.text
    assert env.hub.store.get_envelope(held).state == "pending"


def test_a_release_without_the_regulators_signature_is_refused(env: Env) -> None:
    held = hold_one(env)
    unsigned = call(env, "regulator", "POST", f"/v1/holds/{held}/release", {"reason": "ok"})
    assert unsigned.status_code == 422  # the body must carry the signature
    body = signed(env, "regulator", "release", held, "ok")
    reworded = call(env, "regulator", "POST", f"/v1/holds/{held}/release",
                    {**body, "reason": "ok, and more"})  # fmt: skip
    assert reworded.status_code == 400 and "does not verify" in reworded.text
    assert env.hub.store.get_envelope(held).state == "held"


def test_the_sdk_releases_and_the_leaf_verifies_with_the_regulators_key(env: Env) -> None:
    from silkgate.flow.holds import verify_hold_leaf
    from silkgate.ledger.leaves import HoldReleaseLeaf, decode_leaf
    from silkgate.seal.keys import ed25519_public_from_bytes

    held = hold_one(env)
    regulator = env.clients["regulator"]
    shown = regulator.hold(held)
    assert shown.envelope_id == held and shown.reasons
    assert env.clients[OWNER].hold(held).batch_id == shown.batch_id  # the exporter its own
    assert call(env, OTHER, "GET", f"/v1/holds/{held}").status_code == 403
    assert call(env, IMPORTER, "GET", f"/v1/holds/{held}").status_code == 403
    action = regulator.release_hold(held, "reviewed")
    leaf = decode_leaf(regulator.proof_bundle(action.ledger_index).entry)
    assert isinstance(leaf, HoldReleaseLeaf) and leaf.by == regulator.participant_id
    public = env.hub.store.get_participant(regulator.participant_id).signing_key
    verify_hold_leaf(leaf, "reviewed", regulator=ed25519_public_from_bytes(public))
    second = hold_one(env, seed=6)
    assert regulator.reject_hold(second, "no basis").action == "rejected"
    assert [h.envelope_id for h in regulator.holds()] == []


def test_the_answer_to_a_bad_action_signature_is_documented(env: Env) -> None:
    """The 400 above is in the OpenAPI document of both actions (schemathesis checks that
    every answer is documented)."""
    paths = env.http.get("/openapi.json").json()["paths"]
    for action in ("release", "reject"):
        answers = paths[f"/v1/holds/{{envelope_id}}/{action}"]["post"]["responses"]
        assert "does not verify" in answers["400"]["description"], action
    assert "400" not in paths["/v1/holds"]["get"]["responses"]
