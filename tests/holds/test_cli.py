"""`silkgate holds …` and `silkgate filing add` on a real data dir (system clock)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest
import typer
from typer.testing import CliRunner

from silkgate.cli.holds import holds_app
from silkgate.demo import scenario
from silkgate.demo.runner import register_cast
from silkgate.hub import init_hub, open_hub
from silkgate.model import Batch

from .helpers import BROKER, PRODUCT, REGULATOR, declarations

runner = CliRunner()
cli = typer.Typer()  # `silkgate holds` is registered by silkgate.cli.flow' owner
cli.add_typer(holds_app, name="holds")


def run(*args: str) -> Any:
    result = runner.invoke(cli, [*args, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return orjson.loads(result.stdout)


def fails(*args: str) -> str:
    result = runner.invoke(cli, list(args))
    assert result.exit_code != 0
    return str(result.exception or "") + result.output


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data dir with the demo cast and two held batches (to MY and to ID)."""
    d = tmp_path / "data"
    init_hub(d)
    hub = open_hub(d)
    try:
        register_cast(hub, tmp_path / "keys", date.today())
        for destination in ("MY", "ID"):
            batch = Batch(
                id=f"b-{destination}",
                exporter=BROKER,
                importer=scenario.importer_for(destination),
                product=PRODUCT,
                purpose="customs_clearance",
                records=declarations(destination, 3),
            )
            assert hub.pipeline.submit(batch).held_id is not None
    finally:
        hub.close()
    return d


def held_ids(d: Path) -> dict[str, str]:
    listed = run("holds", "list", "--data-dir", str(d))["holds"]
    return {h["batch_id"]: h["envelope_id"] for h in listed}


def key(d: Path, who: str = REGULATOR) -> list[str]:
    return ["--key-file", str(d.parent / "keys" / f"{who}.json")]


def test_list_release_reject(data_dir: Path) -> None:
    d = str(data_dir)
    ids = held_ids(data_dir)
    assert set(ids) == {"b-MY", "b-ID"}
    listed = run("holds", "list", "--exporter", BROKER, "--data-dir", d)["holds"][0]
    assert listed["reasons"][0]["requires"]
    shown = run("holds", "show", ids["b-MY"], "--data-dir", d)
    assert shown["batch_id"] == "b-MY" and shown["reasons"][0]["citations"]
    k = key(data_dir)
    released = run("holds", "release", ids["b-MY"], "--reason", "approved", *k, "--data-dir", d)
    assert released["action"] == "released" and released["by"] == REGULATOR
    assert released["counted"] == {"pi": 3, "sensitive_pi": 3}
    rejected = run("holds", "reject", ids["b-ID"], "--reason", "refused", *k, "--data-dir", d)
    assert rejected["action"] == "rejected"
    assert run("holds", "list", "--data-dir", d) == {"holds": []}
    again = fails("holds", "release", ids["b-ID"], "--reason", "x", *k, "--data-dir", d)
    assert "not held" in again


def test_release_by_a_non_regulator_is_refused(data_dir: Path) -> None:
    envelope = held_ids(data_dir)["b-MY"]
    d = str(data_dir)
    out = fails(
        "holds", "release", envelope, "--reason", "x", *key(data_dir, BROKER), "--data-dir", d
    )
    assert "only a regulator" in out
    # Without the regulator's key file, the hub's directory alone releases nothing.
    missing = ["--key-file", str(data_dir / "nope.json")]
    assert "no key file" in fails(
        "holds", "release", envelope, "--reason", "x", *missing, "--data-dir", d
    )
    assert "--key-file" in fails("holds", "release", envelope, "--reason", "x", "--data-dir", d)
    assert set(held_ids(data_dir)) == {"b-MY", "b-ID"}


def test_recheck_and_filing_add_release_what_the_filing_covers(data_dir: Path) -> None:
    from silkgate.cli import app

    d = str(data_dir)
    report = run("holds", "recheck", "--exporter", BROKER, "--data-dir", d)
    assert (report["checked"], report["released"]) == (2, 0)
    args = ["filing", "add", "--exporter", BROKER, "--kind", "standard_contract", "--data-dir", d]
    mine = ["--recipient", "my-kl-logistics", "--id", "fil-my", "--json"]
    result = runner.invoke(app, [*args, *mine], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out = orjson.loads(result.stdout)
    assert out["id"] == "fil-my"
    assert out["recheck"]["released"] == 1 and out["recheck"]["still_held"] == 1
    [item] = [i for i in out["recheck"]["items"] if i["released"]]
    assert item["batch_id"] == "b-MY" and "fil-my" in item["reason"]
    assert set(held_ids(data_dir)) == {"b-ID"}
    text = runner.invoke(app, [*args, "--recipient", "id-jakarta-market", "--id", "fil-id"])
    assert text.exit_code == 0, text.output
    assert "released" in text.output and "b-ID" in text.output
    assert held_ids(data_dir) == {}


def test_envelope_ids_accept_a_unique_prefix(data_dir: Path) -> None:
    from silkgate.cli.holds import resolve

    d = str(data_dir)
    ids = held_ids(data_dir)
    my, other = ids["b-MY"], ids["b-ID"]
    common = 0
    while my[common] == other[common]:
        common += 1
    shown = run("holds", "show", my[: common + 1], "--data-dir", d)
    assert shown["envelope_id"] == my
    ambiguous = fails("holds", "show", my[:common], "--data-dir", d)
    assert "start of 2 held envelopes" in ambiguous
    k = key(data_dir)
    released = run("holds", "release", my[: common + 1], "--reason", "ok", *k, "--data-dir", d)
    assert released["envelope_id"] == my  # signed over the whole id
    assert resolve("env_nope", [other]) == "env_nope"  # the service names the unknown id
    assert "no envelope" in fails("holds", "show", "env_nope", "--data-dir", d)
