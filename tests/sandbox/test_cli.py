"""`silkgate sandbox …` end to end on a real data dir, through the CLI's --json output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from silkgate.cli.sandbox import sandbox_app
from silkgate.errors import ConflictError

from .helpers import OVERLAY, REGULATOR, TRIAL, World, cn_variant, demo_batches

runner = CliRunner()


def run(world: World, *args: str) -> Any:
    result = runner.invoke(sandbox_app, [*args, "--data-dir", str(world.hub.data_dir)])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return json.loads(result.stdout.splitlines()[-1]) if "--json" in args else result.stdout


def test_lifecycle_shadow_replay_and_cohorts_from_the_cli(world: World, tmp_path: Path) -> None:
    key = str(world.keys_dir / f"{REGULATOR}.json")
    pack = tmp_path / "trial.yaml"
    pack.write_text(TRIAL, encoding="utf-8")
    assert (
        run(world, "policy", "propose", str(pack), "--key-file", key, "--json")["state"] == "draft"
    )
    refused = runner.invoke(
        sandbox_app,
        ["policy", "activate", "cn@2026.1-trial", "--key-file", key,
         "--data-dir", str(world.hub.data_dir)],
    )  # fmt: skip
    assert isinstance(refused.exception, ConflictError)
    assert "shadow it first" in str(refused.exception)
    run(world, "policy", "shadow", "cn@2026.1-trial", "--key-file", key, "--json")
    listed = run(world, "policy", "list", "--json")
    assert [(v["pack"], v["state"]) for v in listed] == [("cn", "shadow")]
    assert listed[0]["changed_by"] == REGULATOR and listed[0]["ledger_index"] is not None

    for batch in demo_batches(1200, 100):
        world.hub.pipeline.submit(batch)

    html = tmp_path / "shadow.html"
    diffs = run(world, "shadow", "report", "--json", "--html", str(html))
    assert diffs[0]["version"] == "cn@2026.1-trial" and diffs[0]["records"] == 1200
    assert "<svg" in html.read_text()

    candidate = tmp_path / "candidate.yaml"
    candidate.write_text(
        cn_variant("2026.2-trial", pi_contract_from=100, parcel_products="[]"), encoding="utf-8"
    )
    page = tmp_path / "replay.html"
    report = run(world, "replay", "--candidate", str(candidate), "--json", "--html", str(page))
    assert report["records"] == 1200
    assert report["changed"] == diffs[0]["changed"] > 0
    assert report["by_change"] == diffs[0]["by_change"]
    for key_name in ("by_corridor", "by_product", "by_exporter"):
        assert sum(report[key_name].values()) == report["changed"]
    assert "<svg" in page.read_text() and "allow→allow_transformed" in page.read_text()

    parquet = tmp_path / "facts.parquet"
    assert run(world, "facts", "export", str(parquet), "--json")["records"] == 1200
    rows = run(world, "facts", "query", "SELECT count(*) AS n FROM facts", "--facts",
               str(parquet), "--json")  # fmt: skip
    assert rows == [{"n": 1200}]
    again = run(world, "replay", "--candidate", str(candidate), "--facts", str(parquet), "--json")
    assert again["changed"] == report["changed"]

    overlay = tmp_path / "overlay.yaml"
    overlay.write_text(OVERLAY, encoding="utf-8")
    created = run(
        world, "cohort", "create", "gx-trial", "--member", "cn-pingxiang-broker",
        "--product", "customs.declaration", "--overlay", str(overlay),
        "--start", "2026-01-01T00:00:00Z", "--end", "2027-01-01T00:00:00Z",
        "--max-records", "500", "--key-file", key, "--json",
    )  # fmt: skip
    assert created["state"] == "active" and created["caps"]["records"] == 500
    assert [c["id"] for c in run(world, "cohort", "list", "--json")] == ["gx-trial"]
    suspended = run(world, "cohort", "suspend", "gx-trial", "--reason", "test", "--key-file", key,
                    "--json")  # fmt: skip
    assert suspended["state"] == "suspended"
    exit_page = tmp_path / "cohort.html"
    final = run(world, "cohort", "report", "gx-trial", "--json", "--html", str(exit_page))
    assert final["incidents"][0]["kind"] == "kill_switch"
    assert "Incidents" in exit_page.read_text()
