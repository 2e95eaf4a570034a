"""One table of registrations, each driven through BOTH edges: the CLI (`silkgate
participant|agreement|filing add`, `agreement end`, `filing withdraw` on the hub's data
directory, as the operator) and the API (a POST signed by the operator). A bad registration
is refused by both with the same error class and the same message, and leaves nothing behind
(no row, no key file); a good one gives the same result on both."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import httpx
import msgspec
import pytest
from api.cast import NOW, Env
from typer.testing import CliRunner, Result

from silkgate.api.errors import error_kind, status_of
from silkgate.cli import app
from silkgate.errors import ConflictError, InputError, NotFoundError, SilkgateError
from silkgate.seal.keys import create_keyring, load_keyring, save_keyring

runner = CliRunner()
Kind = Literal["participant", "agreement", "filing", "agreement-end", "filing-withdraw"]


@dataclass(frozen=True)
class Reg:
    """A registration as both edges take it. For a participant, `keys` names the cast member
    whose key ring it presents (None: fresh keys; the CLI then creates a key file)."""

    kind: Kind
    fields: dict[str, Any]
    keys: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def person(**changes: Any) -> dict[str, Any]:
    base = {"id": "sg-newco", "name": "SG Newco", "jurisdiction": "SG", "roles": ["importer"]}
    return {**base, **changes}


def deal(**changes: Any) -> dict[str, Any]:
    base = {
        "exporter": "cn-exporter",
        "importer": "th-other-importer",
        "product": "logistics.waybill",
        "purpose": "contract_performance",
        "instrument": "contract_necessity",
        "valid_from": "2026-01-01",
    }
    return {k: v for k, v in {**base, **changes}.items() if v is not None}


def filed(**changes: Any) -> dict[str, Any]:
    base = {
        "exporter": "cn-exporter",
        "kind": "standard_contract",
        "recipient": "vn-importer",
        "valid_from": "2026-01-01",
    }
    return {k: v for k, v in {**base, **changes}.items() if v is not None}


def ended(**changes: Any) -> dict[str, Any]:
    """Ending an agreement (`id` names it; `on` the last day in force)."""
    base = {"id": "agr-cn-exporter-vn-importer", "on": "2026-09-30", "reason": "terminated"}
    return {**base, **changes}


def withdrawn(**changes: Any) -> dict[str, Any]:
    """Withdrawing a filing (tests/registry/conftest.py: fil-sc, fil-sa)."""
    return {"id": "fil-sc", "on": "2026-09-30", "reason": "withdrawn by the CAC", **changes}


# name -> (registration, the error class both edges raise, a pattern its message matches)
BAD: dict[str, tuple[Reg, type[SilkgateError], str]] = {
    # participants
    "unknown role": (
        Reg("participant", person(roles=["admin"])),
        InputError,
        r"unknown role 'admin'",
    ),
    "one good role, one unknown": (
        Reg("participant", person(roles=["importer", "root"])),
        InputError,
        r"unknown role 'root'",
    ),
    "the hub's own name": (Reg("participant", person(id="hub")), InputError, r"'hub' is reserved"),
    "id with a space": (Reg("participant", person(id="sg newco")), InputError, r"not a valid id"),
    "id with a slash": (Reg("participant", person(id="sg/newco")), InputError, r"not a valid id"),
    "id too long": (Reg("participant", person(id="x" * 129)), InputError, r"not a valid id"),
    "unknown jurisdiction US": (
        Reg("participant", person(jurisdiction="US")),
        InputError,
        r"unknown jurisdiction 'US'",
    ),
    "empty name": (Reg("participant", person(name="  ")), InputError, r"name must not be empty"),
    "name over two lines": (
        Reg("participant", person(name="SG\nNewco")),
        InputError,
        r"name must be at most 200 characters on one line",
    ),
    "unknown enterprise size": (
        Reg("participant", person(enterprise_size="huge")),
        InputError,
        r"unknown enterprise_size 'huge'; known: unknown, micro, small",
    ),
    "free trade zone over two lines": (
        Reg("participant", person(free_trade_zone="CN-GX\nCN-YN")),
        InputError,
        r"free_trade_zone must be at most 200 characters on one line",
    ),
    "corporate group too long": (
        Reg("participant", person(corporate_group="G" * 201)),
        InputError,
        r"corporate_group must be at most 200 characters",
    ),
    "duplicate id with other keys": (
        Reg("participant", person(id="vn-importer", jurisdiction="VN")),
        ConflictError,
        r"already registered with other keys.*rotate",
    ),
    "duplicate id with other fields": (
        Reg("participant", person(id="vn-importer", jurisdiction="VN"), keys="vn-importer"),
        ConflictError,
        r"already registered with another name; a registration is not changed",
    ),
    "another participant's keys": (
        Reg("participant", person(), keys="vn-importer"),
        ConflictError,
        r"signing key ed25519:\w+ is already registered to vn-importer",
    ),
    # agreements
    "exporter registered only as importer": (
        Reg("agreement", deal(exporter="vn-importer")),
        InputError,
        r"'vn-importer' is registered as importer, not as exporter",
    ),
    "importer registered only as exporter": (
        Reg("agreement", deal(importer="cn-other-exporter")),
        InputError,
        r"'cn-other-exporter' is registered as exporter, not as importer",
    ),
    "regulator as exporter": (
        Reg("agreement", deal(exporter="regulator")),
        InputError,
        r"registered as regulator, not as exporter",
    ),
    "exporter not registered": (
        Reg("agreement", deal(exporter="nobody")),
        NotFoundError,
        r"exporter 'nobody' is not registered",
    ),
    "importer not registered": (
        Reg("agreement", deal(importer="nobody")),
        NotFoundError,
        r"importer 'nobody' is not registered",
    ),
    "deactivated exporter": (
        Reg("agreement", deal(exporter="cn-inactive")),
        InputError,
        r"exporter 'cn-inactive' is deactivated",
    ),
    "exporter is its own importer": (
        Reg("agreement", deal(exporter="cn-dual", importer="cn-dual")),
        InputError,
        r"cannot be both exporter and importer",
    ),
    "unknown product": (
        Reg("agreement", deal(product="logistics.teleport")),
        NotFoundError,
        r"unknown data product 'logistics.teleport'",
    ),
    "unknown purpose": (
        Reg("agreement", deal(purpose="gossip")),
        InputError,
        r"unknown purpose 'gossip'",
    ),
    "unknown instrument": (
        Reg("agreement", deal(instrument="handshake")),
        InputError,
        r"unknown instrument 'handshake'",
    ),
    "month 13": (Reg("agreement", deal(valid_from="2026-13-01")), InputError, r"not a date"),
    "date without dashes": (
        Reg("agreement", deal(valid_from="20260101")),
        InputError,
        r"not a date",
    ),
    "ends before it starts": (
        Reg("agreement", deal(valid_until="2025-12-31")),
        InputError,
        r"valid_until 2025-12-31 is before valid_from 2026-01-01",
    ),
    "bad agreement id": (Reg("agreement", deal(id="agr one")), InputError, r"not a valid id"),
    "agreement id taken by another agreement": (
        Reg("agreement", deal(id="agr-cn-exporter-vn-importer")),
        ConflictError,
        r"agreement 'agr-cn-exporter-vn-importer' already exists with another importer",
    ),
    # filings
    "unknown filing kind": (
        Reg("filing", filed(kind="blessing")),
        InputError,
        r"unknown kind 'blessing'",
    ),
    "standard contract without a recipient": (
        Reg("filing", filed(recipient=None)),
        InputError,
        r"a standard_contract is made for one named overseas recipient",
    ),
    "security assessment without a recipient": (
        Reg("filing", filed(kind="security_assessment", recipient=None)),
        InputError,
        r"a security_assessment is made for one named overseas recipient",
    ),
    "certification without a recipient": (
        Reg("filing", filed(kind="certification", recipient=None)),
        InputError,
        r"a certification is made for one named overseas recipient",
    ),
    "filing for an importer": (
        Reg("filing", filed(exporter="vn-importer")),
        InputError,
        r"'vn-importer' is registered as importer, not as exporter",
    ),
    "filing naming an exporter as recipient": (
        Reg("filing", filed(recipient="cn-other-exporter")),
        InputError,
        r"registered as exporter, not as importer; a filing's recipient needs the role importer",
    ),
    "filing naming an unregistered recipient": (
        Reg("filing", filed(recipient="nobody")),
        NotFoundError,
        r"recipient 'nobody' is not registered",
    ),
    "filing for an unregistered exporter": (
        Reg("filing", filed(exporter="nobody")),
        NotFoundError,
        r"exporter 'nobody' is not registered",
    ),
    "filing with a bad date": (
        Reg("filing", filed(valid_until="2026-02-30")),
        InputError,
        r"'2026-02-30' is not a date",
    ),
    "filing ending before it starts": (
        Reg("filing", filed(valid_until="2025-06-01")),
        InputError,
        r"valid_until 2025-06-01 is before valid_from",
    ),
    "filing reference too long": (
        Reg("filing", filed(reference="R" * 201)),
        InputError,
        r"reference must be at most 200",
    ),
    "bad filing id": (Reg("filing", filed(id="fil:one two")), InputError, r"not a valid id"),
    # ending an agreement
    "ending an unknown agreement": (
        Reg("agreement-end", ended(id="agr-nobody")),
        NotFoundError,
        r"agreement 'agr-nobody' is not registered",
    ),
    "ending an agreement before it starts": (
        Reg("agreement-end", ended(on="2025-12-31")),
        InputError,
        r"agreement agr-cn-exporter-vn-importer is valid from 2026-01-01: its last day cannot "
        r"be 2025-12-31",
    ),
    "ending an ended agreement later (extending it)": (
        Reg("agreement-end", ended(id="agr-ended", on="2026-04-01")),
        ConflictError,
        r"agreement agr-ended already ends on 2026-03-31 \(its last day\); ending it on "
        r"2026-04-01 would extend it",
    ),
    "ending an agreement without a reason": (
        Reg("agreement-end", ended(reason="  ")),
        InputError,
        r"reason must not be empty",
    ),
    "ending an agreement with a reason over two lines": (
        Reg("agreement-end", ended(reason="terminated\nby fax")),
        InputError,
        r"reason must be at most 200 characters on one line",
    ),
    "ending an agreement on 30 February": (
        Reg("agreement-end", ended(on="2026-02-30")),
        InputError,
        r"'2026-02-30' is not a date",
    ),
    # withdrawing a filing
    "withdrawing an unknown filing": (
        Reg("filing-withdraw", withdrawn(id="fil-nobody")),
        NotFoundError,
        r"filing 'fil-nobody' is not registered",
    ),
    "withdrawing a filing before it starts": (
        Reg("filing-withdraw", withdrawn(on="2025-12-31")),
        InputError,
        r"filing fil-sc is valid from 2026-01-01: its last day cannot be 2025-12-31",
    ),
    "withdrawing a filing after its default validity (extending it)": (
        Reg("filing-withdraw", withdrawn(id="fil-sa", on="2026-06-01")),
        ConflictError,
        r"filing fil-sa already ends on 2026-05-31 \(its last day\); ending it on 2026-06-01 "
        r"would extend it",
    ),
    "withdrawing a filing without a reason": (
        Reg("filing-withdraw", withdrawn(reason="")),
        InputError,
        r"reason must not be empty",
    ),
}


# ----------------------------------------------------------------------------- the edges
def cli(env: Env, reg: Reg, keys_dir: Path) -> Result:
    noun, _, verb = reg.kind.partition("-")
    args: list[str] = [noun, verb or "add"]
    fields = {**reg.fields, **reg.extra}
    if reg.kind == "participant":
        for name in ("id", "name", "jurisdiction"):
            args += [f"--{name}", fields[name]]
        for role in fields["roles"]:
            args += ["--role", role]
        for name in ("free_trade_zone", "corporate_group", "enterprise_size"):
            if name in fields:
                args += [f"--{name.replace('_', '-')}", fields[name]]
        if "foreign_authority" in fields:
            args += [
                "--foreign-authority" if fields["foreign_authority"] else "--no-foreign-authority"
            ]
        args += ["--key-file", str(key_file(env, reg, keys_dir))]
    else:
        for name, value in fields.items():
            args += [f"--{name.replace('_', '-')}", str(value)]
    return runner.invoke(app, [*args, "--data-dir", str(env.hub.data_dir), "--json"])


def key_file(env: Env, reg: Reg, keys_dir: Path) -> Path:
    """Fresh keys: a path the CLI creates. A cast member's keys: its key file, or (for
    another id) a copy of its ring under that id."""
    pid = reg.fields["id"]
    if reg.keys is None:
        return keys_dir / "fresh.json"
    if reg.keys == pid:
        return env.keys_dir / f"{pid}.json"
    path = keys_dir / "copied.json"
    save_keyring(msgspec.structs.replace(env.rings[reg.keys], participant=pid), path)
    return path


def api(env: Env, reg: Reg) -> httpx.Response:
    body = {**reg.fields, **reg.extra}
    if reg.kind == "participant":
        ring = env.rings[reg.keys] if reg.keys else create_keyring(body["id"], NOW)
        body["signing_key"] = ring.signing[-1].public
        body["hpke_key"] = ring.hpke[-1].public
    noun, _, verb = reg.kind.partition("-")
    path = f"/v1/{noun}s/{body.pop('id')}/{verb}" if verb else f"/v1/{noun}s"
    return env.clients["operator"].request("POST", path, body=body, check=False)


def registry(env: Env) -> tuple[Any, ...]:
    store = env.hub.store
    return (store.list_participants(), store.list_agreements(), store.list_filings())


# ----------------------------------------------------------------------------- bad ones
@pytest.mark.parametrize("name", list(BAD))
def test_both_edges_refuse_alike(env: Env, tmp_path: Path, name: str) -> None:
    reg, error, pattern = BAD[name]
    keys_dir = tmp_path / "cli-keys"
    keys_dir.mkdir()
    before = registry(env)
    copied = (
        key_file(env, reg, keys_dir).read_bytes()
        if reg.kind == "participant" and reg.keys
        else None
    )

    result = cli(env, reg, keys_dir)
    assert result.exit_code != 0
    assert type(result.exception) is error, repr(result.exception)
    message = str(result.exception)
    assert re.search(pattern, message), message
    assert registry(env) == before  # no half-written rows
    assert not (keys_dir / "fresh.json").exists()  # no orphan key file
    if copied is not None:
        assert key_file(env, reg, keys_dir).read_bytes() == copied  # an existing one untouched

    response = api(env, reg)
    assert response.status_code == status_of(result.exception)
    assert response.json()["error"] == error_kind(result.exception)
    assert response.json()["message"] == message
    assert registry(env) == before


def test_every_refusal_has_a_row_per_edge_kind() -> None:
    kinds = {reg.kind for reg, _, _ in BAD.values()}
    assert kinds == {"participant", "agreement", "filing", "agreement-end", "filing-withdraw"}
    assert {error for _, error, _ in BAD.values()} == {InputError, NotFoundError, ConflictError}


# ----------------------------------------------------------------------------- good ones
def _ok_cli(env: Env, reg: Reg, keys_dir: Path) -> Any:
    result = cli(env, reg, keys_dir)
    assert result.exit_code == 0, result.output + repr(result.exception)
    return msgspec.json.decode(result.stdout.splitlines()[-1])


def _ok_api(env: Env, reg: Reg) -> Any:
    response = api(env, reg)
    assert response.status_code == 201, response.text
    return response.json()


def _without(obj: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in names}


def test_a_participant_registers_alike(env: Env, tmp_path: Path) -> None:
    keys_dir = tmp_path / "cli-keys"
    keys_dir.mkdir()
    fields = person(jurisdiction="sg", roles=["importer", "EXPORTER", "importer"])
    by_cli = _ok_cli(env, Reg("participant", {**fields, "id": "sg-by-cli"}), keys_dir)
    by_api = _ok_api(env, Reg("participant", {**fields, "id": "sg-by-api"}))
    varying = ("id", "signing_key", "hpke_key", "signing_keys", "hpke_keys")
    assert _without(by_cli, *varying) == _without(by_api, *varying)
    assert by_cli["jurisdiction"] == "SG" and by_cli["roles"] == ["importer", "exporter"]
    ring = load_keyring(keys_dir / "fresh.json")  # written once the registration was valid
    assert ring.participant == "sg-by-cli"
    assert [k["key_id"] for k in by_cli["signing_keys"]] == [ring.signing[0].key_id]
    assert ((keys_dir / "fresh.json").stat().st_mode & 0o777) == 0o600
    assert len(by_api["signing_keys"]) == len(by_api["hpke_keys"]) == 1
    assert by_api["signing_keys"][0]["not_before"] == NOW.isoformat().replace("+00:00", "Z")


def test_the_attributes_the_packs_test_register_alike(env: Env, tmp_path: Path) -> None:
    keys_dir = tmp_path / "cli-keys"
    keys_dir.mkdir()
    fields = person(
        jurisdiction="CN", roles=["exporter"], free_trade_zone="CN-GX", corporate_group="gx-group",
        enterprise_size="small", foreign_authority=False,
    )  # fmt: skip
    by_cli = _ok_cli(env, Reg("participant", {**fields, "id": "cn-by-cli"}), keys_dir)
    by_api = _ok_api(env, Reg("participant", {**fields, "id": "cn-by-api"}))
    varying = ("id", "signing_key", "hpke_key", "signing_keys", "hpke_keys")
    assert _without(by_cli, *varying) == _without(by_api, *varying)
    stored = env.hub.store.get_participant("cn-by-cli")
    assert (stored.free_trade_zone, stored.corporate_group, stored.enterprise_size) == (
        "CN-GX",
        "gx-group",
        "small",
    )


def test_adding_the_same_participant_again_changes_nothing(env: Env, tmp_path: Path) -> None:
    reg = Reg(
        "participant",
        person(id="vn-importer", name="Vn Importer", jurisdiction="VN"),
        keys="vn-importer",
    )
    stored = msgspec.json.decode(msgspec.json.encode(env.hub.store.get_participant("vn-importer")))
    assert _ok_cli(env, reg, tmp_path) == stored
    assert _ok_api(env, reg) == stored


def test_an_agreement_and_a_filing_record_alike(env: Env, tmp_path: Path) -> None:
    agreement = deal(valid_until="2026-12-31")
    by_cli = _ok_cli(env, Reg("agreement", {**agreement, "id": "agr-cli"}), tmp_path)
    by_api = _ok_api(env, Reg("agreement", {**agreement, "id": "agr-api"}))
    assert _without(by_cli, "id") == _without(by_api, "id")
    assert {a.id for a in env.hub.store.list_agreements()} >= {"agr-cli", "agr-api"}
    filing = filed(recipient="th-other-importer", reference="CAC-2026-001")
    fil_cli = _ok_cli(env, Reg("filing", {**filing, "id": "fil-cli"}), tmp_path)
    fil_api = _ok_api(env, Reg("filing", {**filing, "id": "fil-api"}))
    assert fil_cli["recheck"] == {"checked": 0, "released": 0, "still_held": 0, "items": []}
    assert _without(fil_cli, "id", "recheck") == _without(fil_api, "id")


def test_dates_default_to_the_hubs_today(env: Env, tmp_path: Path) -> None:
    """The API's hub runs on the test's clock, the CLI's on the system clock."""
    reg = Reg("agreement", deal(valid_from=None))
    by_api = _ok_api(env, reg)
    assert by_api["valid_from"] == NOW.date().isoformat()
    assert (
        by_api["id"] == "agr-cn-exporter-th-other-importer-logistics.waybill-contract_performance"
    )
    cli_reg = Reg("agreement", deal(valid_from=None, id="agr-cli-today"))
    assert _ok_cli(env, cli_reg, tmp_path)["valid_from"] == datetime.now(UTC).date().isoformat()


def test_the_same_agreement_again_is_a_safe_retry(env: Env, tmp_path: Path) -> None:
    reg = Reg("agreement", deal(id="agr-twice"))
    first = _ok_api(env, reg)
    assert _ok_cli(env, reg, tmp_path) == first
    assert _ok_api(env, reg) == first
    assert [a.id for a in env.hub.store.list_agreements()].count("agr-twice") == 1
