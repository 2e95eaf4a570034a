"""Ending an agreement and withdrawing a filing (RegistryService.end_agreement,
withdraw_filing): the CLI and the API give equal results on the same sequence; the last day
is inclusive; a batch submitted after the end is decided without the agreement or filing,
as the dry run decides it; only the operator may end or withdraw, and a signed request
replayed is refused. The refusals themselves are rows of test_rules.BAD (both edges)."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any, Literal

import httpx
import msgspec
import pytest
from api.cast import BASE_URL, NOW, PRODUCT, PURPOSE, Env, waybill
from typer.testing import CliRunner

from silkgate.api.errors import error_kind, status_of
from silkgate.cli import app
from silkgate.errors import ConflictError, ForbiddenError, SilkgateError
from silkgate.model import Agreement, Decision, Filing
from silkgate.registry.service import LOCAL_OPERATOR, Actor, RegistryService
from silkgate.seal.httpsig import sign_request
from silkgate.seal.keys import create_keyring, hpke_public_bytes

runner = CliRunner()
What = Literal["agreement", "filing"]
VERB = {"agreement": "end", "filing": "withdraw"}
ORIGINAL = "agr-cn-exporter-vn-importer"


def _copy(env: Env, what: What, new_id: str) -> None:
    """An agreement or a filing like the cast's / the fixture's, under another id."""
    store = env.hub.store
    with store.transaction():
        if what == "agreement":
            store.put_agreement(msgspec.structs.replace(store.get_agreement(ORIGINAL), id=new_id))
        else:
            filing = next(f for f in store.list_filings() if f.id == "fil-sc")
            store.put_filing(msgspec.structs.replace(filing, id=new_id))


def _stored(env: Env, what: What, obj_id: str) -> Agreement | Filing:
    store = env.hub.store
    if what == "agreement":
        return store.get_agreement(obj_id)
    return next(f for f in store.list_filings() if f.id == obj_id)


def by_cli(env: Env, what: What, obj_id: str, on: str, reason: str) -> tuple[int, Any]:
    """(status the API would answer, JSON result or {error, message})."""
    args = [what, VERB[what], "--id", obj_id, "--on", on, "--reason", reason, "--json"]
    result = runner.invoke(app, [*args, "--data-dir", str(env.hub.data_dir)])
    if result.exit_code == 0:
        return 200, msgspec.json.decode(result.stdout.splitlines()[-1])
    exc = result.exception
    assert isinstance(exc, SilkgateError), result.output
    return status_of(exc), {"error": error_kind(exc), "message": str(exc)}


def by_api(
    env: Env, what: What, obj_id: str, on: str, reason: str, who: str = "operator"
) -> httpx.Response:
    path = f"/v1/{what}s/{obj_id}/{VERB[what]}"
    body = {"on": on, "reason": reason}
    return env.clients[who].request("POST", path, body=body, check=False)


# the same sequence on each edge: end, the same day again, earlier, then later (refused)
SEQUENCE = (
    ("2026-09-30", "terminated by the importer"),
    ("2026-09-30", "terminated by the importer (retry)"),
    ("2026-08-31", "terminated with effect from an earlier day"),
    ("2026-09-01", "a later day would extend it"),
)


@pytest.mark.parametrize("what", ["agreement", "filing"])
def test_cli_and_api_give_equal_results_on_the_same_sequence(env: Env, what: What) -> None:
    _copy(env, what, "x-by-cli")
    _copy(env, what, "x-by-api")
    outcomes = []
    for on, reason in SEQUENCE:
        status, cli_body = by_cli(env, what, "x-by-cli", on, reason)
        response = by_api(env, what, "x-by-api", on, reason)
        api_body = response.json()
        assert response.status_code == status, (cli_body, api_body)
        if status == 200:
            assert cli_body == {**api_body, "id": "x-by-cli"}
        else:
            assert cli_body["error"] == api_body["error"]
            assert cli_body["message"].replace("x-by-cli", "X") == api_body["message"].replace(
                "x-by-api", "X"
            )
        outcomes.append((status, cli_body.get("valid_until"), cli_body.get("error")))
    assert outcomes == [
        (200, "2026-09-30", None),
        (200, "2026-09-30", None),  # a retry: nothing changes
        (200, "2026-08-31", None),  # earlier: stricter, allowed
        (status_of(ConflictError("")), None, "conflict"),  # later: would extend it
    ]
    for obj_id in ("x-by-cli", "x-by-api"):
        stored = _stored(env, what, obj_id)
        assert stored.valid_until == date(2026, 8, 31)
        assert stored.valid_from == date(2026, 1, 1)  # the row stays, its history readable
    listed = env.clients["operator"].request("GET", f"/v1/{what}s").json()
    assert "x-by-api" in [row["id"] for row in listed]


@pytest.mark.parametrize("what", ["agreement", "filing"])
def test_the_last_day_is_inclusive(env: Env, what: What) -> None:
    obj_id = ORIGINAL if what == "agreement" else "fil-sc"
    last = date(2026, 9, 30)
    assert by_api(env, what, obj_id, last.isoformat(), "ended").status_code == 200
    stored = _stored(env, what, obj_id)
    days = (last - timedelta(days=1), last, last + timedelta(days=1))
    if isinstance(stored, Agreement):
        assert [stored.in_force(d) for d in days] == [True, True, False]
    else:
        assert [stored.covers("vn-importer", d) for d in days] == [True, True, False]
        assert stored.coverage_problem("vn-importer", days[2]) == (
            "filing fil-sc (standard_contract) lapsed after 2026-09-30"
        )


def test_the_day_defaults_to_the_hubs_today(env: Env) -> None:
    response = env.clients["operator"].request(
        "POST", f"/v1/agreements/{ORIGINAL}/end", body={"reason": "terminated"}, check=False
    )
    assert response.status_code == 200, response.text
    assert response.json()["valid_until"] == NOW.date().isoformat()


def test_an_end_is_logged_with_the_actor_and_the_reason(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="silkgate.registry"):
        assert by_api(env, "filing", "fil-sc", "2026-07-31", "superseded").status_code == 200
    [record] = [r for r in caplog.records if r.name == "silkgate.registry"]
    fields = record.fields  # type: ignore[attr-defined]
    assert fields["filing"] == "fil-sc" and fields["reason"] == "superseded"
    assert fields["actor"] == "operator" and fields["key_id"].startswith("ed25519:")
    assert fields["last_day"] == "2026-07-31" and fields["at"] == NOW.isoformat()


# ----------------------------------------------------------------------------- decisions
def _outcomes(decisions: Any) -> list[str]:
    """Outcomes in order, of a batch's decisions or a dry run's checked records."""
    return [getattr(d, "decision", d).outcome for d in decisions]


def _decisions(decisions: Any) -> list[Decision]:
    """The decisions in order, of a batch or of a dry run's checked records."""
    return [getattr(d, "decision", d) for d in decisions]


def test_a_batch_after_the_end_is_decided_without_the_agreement(env: Env) -> None:
    exporter = env.clients["cn-exporter"]
    records = [waybill(1), waybill(2)]
    before = exporter.dry_run("vn-importer", PRODUCT, records, purpose=PURPOSE)
    yesterday = (NOW.date() - timedelta(days=1)).isoformat()
    assert by_api(env, "agreement", ORIGINAL, yesterday, "terminated").status_code == 200
    after = exporter.dry_run("vn-importer", PRODUCT, records, purpose=PURPOSE)
    result = exporter.submit_batch(
        "vn-importer", PRODUCT, records, purpose=PURPOSE, on_gate_deny="ignore"
    )
    assert _decisions(result.decisions) == _decisions(after.decisions)
    assert set(_outcomes(result.decisions)) == {"deny"}
    assert "deny" not in _outcomes(before.decisions)  # the end is what changed it
    assert result.envelope_id is None  # nothing sealed for the importer


def test_a_batch_after_the_withdrawal_is_decided_without_the_filing(env: Env) -> None:
    """cn-exporter sends waybills for marketing under a standard contract (fil-sc names
    vn-importer). Below the volume thresholds the outcome stays allow; the decision's facts
    say which filing no longer covers the transfer."""
    store = env.hub.store
    with store.transaction():
        store.put_agreement(
            msgspec.structs.replace(
                store.get_agreement(ORIGINAL),
                id="agr-marketing",
                purpose="marketing",
                instrument="cn_standard_contract",
            )
        )
    exporter = env.clients["cn-exporter"]
    records = [waybill(3), waybill(4)]
    before = exporter.dry_run("vn-importer", PRODUCT, records, purpose="marketing")
    yesterday = (NOW.date() - timedelta(days=1)).isoformat()
    assert by_api(env, "filing", "fil-sc", yesterday, "withdrawn").status_code == 200
    after = exporter.dry_run("vn-importer", PRODUCT, records, purpose="marketing")
    result = exporter.submit_batch(
        "vn-importer", PRODUCT, records, purpose="marketing", on_gate_deny="ignore"
    )
    assert _decisions(result.decisions) == _decisions(after.decisions)
    assert _decisions(before.decisions) != _decisions(after.decisions)
    lapsed = f"filing fil-sc (standard_contract) lapsed after {yesterday}"
    assert lapsed not in str(_decisions(before.decisions)[0].facts)
    assert all(lapsed in str(d.facts) for d in _decisions(result.decisions))


# ----------------------------------------------------------------------------- an attacker's view
@pytest.mark.parametrize("who", ["cn-exporter", "vn-importer", "regulator"])
@pytest.mark.parametrize("what", ["agreement", "filing"])
def test_only_the_operator_may_end_or_withdraw(env: Env, what: What, who: str) -> None:
    obj_id = ORIGINAL if what == "agreement" else "fil-sc"
    was = _stored(env, what, obj_id)
    response = by_api(env, what, obj_id, "2026-06-30", "I say so", who=who)
    assert response.status_code == 403, response.text
    assert response.json()["error"] == "forbidden"
    assert _stored(env, what, obj_id) == was


def test_a_replayed_end_is_refused(env: Env) -> None:
    key_id, key = env.rings["operator"].current_signing(NOW)
    url = f"{BASE_URL}/v1/agreements/{ORIGINAL}/end"
    content = msgspec.json.encode({"on": "2026-09-30", "reason": "terminated"})
    headers = {"Content-Type": "application/json"}
    headers |= sign_request("POST", url, headers, content, key, key_id, env.clock(), "n-end", 60)
    request = httpx.Request("POST", url, content=content, headers=headers)
    assert env.http.send(request).status_code == 200
    assert env.hub.store.get_agreement(ORIGINAL).valid_until == date(2026, 9, 30)
    replayed = env.http.send(request)
    assert replayed.status_code == 401, replayed.text
    assert "already used" in replayed.json()["message"]


@pytest.mark.parametrize("what", ["agreement", "filing"])
def test_an_operator_key_retired_by_a_rotation_ends_nothing(env: Env, what: What) -> None:
    """Inside its overlap the old key still authenticates, but changes nothing."""
    service = RegistryService.for_hub(env.hub, clock=env.clock)
    old_key_id, _ = env.rings["operator"].current_signing(NOW)
    fresh = create_keyring("operator", NOW)
    _, hpke = fresh.current_hpke(NOW)
    service.rotate_keys(
        "operator", fresh.signing[-1].public, hpke_public_bytes(hpke), 30, LOCAL_OPERATOR
    )
    obj_id = ORIGINAL if what == "agreement" else "fil-sc"
    was = _stored(env, what, obj_id)
    stale = Actor.signed("operator", old_key_id)
    end = service.end_agreement if what == "agreement" else service.withdraw_filing
    with pytest.raises(ForbiddenError, match="retired by the rotation"):
        end(obj_id, "2026-06-30", "terminated", stale)
    assert _stored(env, what, obj_id) == was
    assert by_api(env, what, obj_id, "2026-06-30", "terminated").status_code == 403
