"""Changing a registration: `silkgate participant update` on the hub and
`PATCH /v1/participants/{id}` (operator) call one service method, checked by the rules of
a registration, never touching the id or the keys; both edges refuse alike."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from api.cast import Env
from typer.testing import CliRunner

from silkgate.cli import app
from silkgate.errors import AuthError, ForbiddenError, InputError, NotFoundError
from silkgate.registry.service import LOCAL_OPERATOR, Actor, RegistryService

runner = CliRunner()
OWNER = "vn-importer"


def _update(env: Env, *args: str) -> Any:
    argv = ["participant", "update", "--id", OWNER, *args, "--data-dir", str(env.hub.data_dir)]
    return runner.invoke(app, [*argv, "--json"])


# CLI options and the same change as an API body -> the error both raise, a pattern
UPDATES: dict[str, tuple[list[str], dict[str, Any], type[Exception], str]] = {
    "unknown role": (["--role", "admin"], {"roles": ["admin"]}, InputError, "unknown role"),
    "no jurisdiction US": (
        ["--jurisdiction", "US"],
        {"jurisdiction": "US"},
        InputError,
        "unknown jurisdiction 'US'",
    ),
    "empty name": (["--name", " "], {"name": " "}, InputError, "name must not be empty"),
    "unknown enterprise size": (
        ["--enterprise-size", "giant"],
        {"enterprise_size": "giant"},
        InputError,
        "unknown enterprise_size 'giant'",
    ),
    "free trade zone on two lines": (
        ["--free-trade-zone", "A\nB"],
        {"free_trade_zone": "A\nB"},
        InputError,
        "free_trade_zone must be at most 200 characters on one line",
    ),
}


def test_the_operator_sets_the_attributes_the_packs_test(env: Env) -> None:
    result = _update(
        env, "--free-trade-zone", "CN-GX", "--corporate-group", "grp-1",
        "--enterprise-size", "micro", "--foreign-authority",
    )  # fmt: skip
    assert result.exit_code == 0, result.output + repr(result.exception)
    stored = env.hub.store.get_participant(OWNER)
    assert (stored.free_trade_zone, stored.corporate_group) == ("CN-GX", "grp-1")
    assert (stored.enterprise_size, stored.foreign_authority) == ("micro", True)
    updated = env.clients["operator"].update_participant(
        OWNER, enterprise_size="large", foreign_authority=False, free_trade_zone=""
    )
    assert (updated.enterprise_size, updated.foreign_authority) == ("large", False)
    assert updated.free_trade_zone == "" and updated.corporate_group == "grp-1"
    body = {"foreign_authority": "yes"}
    path = f"/v1/participants/{OWNER}"
    refused = env.clients["operator"].request("PATCH", path, body=body, check=False)
    assert refused.status_code == 422 and "foreign_authority must be true or false" in refused.text


@pytest.mark.parametrize("name", list(UPDATES))
def test_both_edges_refuse_the_same_updates(env: Env, name: str) -> None:
    args, body, error, pattern = UPDATES[name]
    before = env.hub.store.get_participant(OWNER)
    result = _update(env, *args)
    assert type(result.exception) is error and pattern in str(result.exception)
    path = f"/v1/participants/{OWNER}"
    response = env.clients["operator"].request("PATCH", path, body=body, check=False)
    assert response.status_code == 422
    assert response.json()["message"] == str(result.exception)
    assert env.hub.store.get_participant(OWNER) == before


def test_the_api_refuses_key_changes_and_non_operators(env: Env) -> None:
    path = f"/v1/participants/{OWNER}"
    other = env.hub.store.get_participant("th-other-importer")
    body = {"signing_key": other.signing_key}
    response = env.clients["operator"].request("PATCH", path, body=body, check=False)
    assert response.status_code == 422 and "keys change by rotation" in response.text
    own = env.clients[OWNER].request("PATCH", path, body={"name": "Mine"}, check=False)
    assert own.status_code == 403
    before = env.hub.store.get_participant(OWNER)
    renamed = env.clients["operator"].request("PATCH", path, body={"name": "Renamed"})
    assert renamed.json()["name"] == "Renamed"
    after = env.hub.store.get_participant(OWNER)
    assert after.signing_keys == before.signing_keys and after.hpke_key == before.hpke_key


def test_rename_deactivate_and_reactivate(env: Env) -> None:
    before = env.hub.store.get_participant(OWNER)
    result = _update(env, "--name", "Hanoi Carrier JSC", "--inactive")
    assert result.exit_code == 0, result.output + repr(result.exception)
    shown = json.loads(result.stdout.splitlines()[-1])
    assert shown["name"] == "Hanoi Carrier JSC" and shown["active"] is False
    stored = env.hub.store.get_participant(OWNER)
    assert stored.signing_keys == before.signing_keys and stored.roles == before.roles
    with pytest.raises(AuthError):  # an inactive participant authenticates nothing
        env.clients[OWNER].whoami()
    assert _update(env, "--active").exit_code == 0
    assert env.clients[OWNER].whoami()["id"] == OWNER


def test_roles_are_replaced_and_checked_as_on_registration(env: Env, tmp_path: Path) -> None:
    result = _update(env, "--role", "importer", "--role", "Exporter")
    assert result.exit_code == 0
    assert env.hub.store.get_participant(OWNER).roles == ("importer", "exporter")
    refused = _update(env, "--role", "admin")
    assert isinstance(refused.exception, InputError)
    add = runner.invoke(
        app,
        ["participant", "add", "--id", "sg-x", "--name", "X", "--jurisdiction", "SG",
         "--role", "admin", "--key-file", str(tmp_path / "k.json"),
         "--data-dir", str(env.hub.data_dir)],
    )  # fmt: skip
    assert str(refused.exception) == str(add.exception)
    assert isinstance(_update(env, "--jurisdiction", "US").exception, InputError)
    assert not (tmp_path / "k.json").exists()


def test_keys_and_ids_are_not_updated(env: Env) -> None:
    service = RegistryService.for_hub(env.hub, clock=env.clock)
    other = env.hub.store.get_participant("th-other-importer")
    attempts: list[dict[str, Any]] = [
        {"signing_key": other.signing_key},
        {"id": "vn-new"},
        {"hpke_keys": []},
    ]
    for changes in attempts:
        with pytest.raises(InputError, match="cannot be changed by an update"):
            service.update_participant(OWNER, changes, LOCAL_OPERATOR)
    with pytest.raises(NotFoundError):
        service.update_participant("nobody", {"name": "N"}, LOCAL_OPERATOR)


def test_only_a_current_key_updates(env: Env) -> None:
    env.clients["operator"].rotate_keys(overlap_days=30)
    service = RegistryService.for_hub(env.hub, clock=env.clock)
    retired = Actor.signed("operator", env.rings["operator"].signing[0].key_id)
    with pytest.raises(ForbiddenError, match="retired"):
        service.update_participant(OWNER, {"active": False}, retired)
    assert env.hub.store.get_participant(OWNER).active
