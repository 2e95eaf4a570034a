"""`silkgate check` against a hub decides as `send` does; without a hub it refuses what it
cannot know; `policy list --data-dir` shows what is live."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
from pipeline.test_cli_flow import SEND_WAYBILLS, WAYBILL_AGREEMENT, run, write_ndjson
from typer.testing import CliRunner

from silkgate.cli import app
from silkgate.errors import ConfigError
from silkgate.hub import open_hub

runner = CliRunner()


@pytest.fixture
def hub_dir(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    run("init", "--data-dir", str(d))
    for pid, jur, role in (("cn-freight", "CN", "exporter"), ("vn-carrier", "VN", "importer")):
        key = str(tmp_path / f"{pid}.key")
        run(*("participant", "add", "--id", pid, "--name", pid, "--jurisdiction", jur),
            *("--role", role, "--key-file", key, "--data-dir", str(d)))  # fmt: skip
    return d


def check_lines(*args: str) -> list[dict[str, Any]]:
    result = runner.invoke(app, ["check", *args, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return [orjson.loads(line) for line in result.stdout.splitlines() if line.strip()]


def committed(data_dir: Path) -> list[tuple[Any, ...]]:
    hub = open_hub(data_dir)
    try:
        results = sorted(hub.store.list_batch_results(), key=lambda r: r.ledger_index or 0)
        return [(d.outcome, d.rule_ids, d.obligations) for r in results for d in r.decisions]
    finally:
        hub.close()


def as_tuple(line: dict[str, Any]) -> tuple[Any, ...]:
    obligations = tuple(
        (o["action"], o["path"], o["finding_type"]) for o in line.get("obligations", ())
    )
    return line["outcome"], tuple(line["rule_ids"]), obligations


def test_check_against_a_hub_equals_send(hub_dir: Path, tmp_path: Path) -> None:
    file = tmp_path / "w.ndjson"
    write_ndjson(file, "logistics.waybill", "VN", 12)
    d = str(hub_dir)
    # Without an agreement the hub denies; the dry run says so (the hub-less form cannot).
    lines = check_lines(str(file), *SEND_WAYBILLS, "--data-dir", d)
    assert {tuple(x["rule_ids"]) for x in lines} == {("gate.no-agreement",)}
    run(*WAYBILL_AGREEMENT, "--data-dir", d)
    lines = check_lines(str(file), *SEND_WAYBILLS, "--data-dir", d, "--batch-size", "5")
    assert [x["index"] for x in lines] == list(range(12))
    assert all({"outcome", "rule_ids", "citations", "obligations"} <= set(x) for x in lines)
    assert committed(hub_dir) == []  # nothing written by the dry run
    run("send", str(file), *SEND_WAYBILLS, "--data-dir", d, "--batch-size", "5")
    decided = committed(hub_dir)
    assert [as_tuple(x) for x in lines] == [
        (o, r, tuple((b.action, b.path, b.finding_type) for b in obs)) for o, r, obs in decided
    ]
    assert Counter(x["outcome"] for x in lines)  # something was decided


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--origin", "CN", "--destination", "XX"), "--destination 'XX'"),
        (("--origin", "US", "--destination", "VN"), "--origin 'US'"),
        (
            (
                "--exporter",
                "cn-freight",
                "--importer",
                "vn-carrier",
                "--purpose",
                "logistics_operations",
                "--filing",
                "standard_contract",
            ),
            "--filing",
        ),
        (("--exporter", "cn-freight", "--importer", "vn-carrier"), "--purpose is required"),
    ],
)
def test_check_refuses_what_it_cannot_know(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    file = tmp_path / "w.ndjson"
    write_ndjson(file, "logistics.waybill", "VN", 1)
    result = runner.invoke(app, ["check", str(file), "--product", "logistics.waybill", *args])
    assert result.exit_code != 0
    assert message in result.output


def test_policy_list_shows_the_live_overlays(hub_dir: Path) -> None:
    d = str(hub_dir)
    ids = {p["id"] for p in run("policy", "list", "--data-dir", d)["packs"]}
    assert "cn" in ids and "cn-pilot-zone-sample" not in ids
    (hub_dir / "silkgate.toml").write_text('overlays = ["cn-pilot-zone-sample"]\n')
    listed = run("policy", "list", "--data-dir", d)
    assert "cn-pilot-zone-sample" in {p["id"] for p in listed["packs"]}
    assert listed["live"] is True


def test_an_unknown_overlay_is_a_configuration_error(hub_dir: Path) -> None:
    (hub_dir / "silkgate.toml").write_text('overlays = ["no-such-zone"]\n')
    result = runner.invoke(app, ["policy", "list", "--data-dir", str(hub_dir)])
    assert isinstance(result.exception, ConfigError)
    assert "setting `overlays`" in str(result.exception) and "no-such-zone" in str(result.exception)


@pytest.mark.parametrize(("days", "outcome", "rule"), [
    (60, "allow", "vn.tia.first-60-days"),  # Decree 356 Art. 17: day 60 still in the window
    (61, "hold", "vn.tia.hold"),
])  # fmt: skip
def test_the_hubless_check_takes_the_registry_facts(
    tmp_path: Path, days: int, outcome: str, rule: str
) -> None:
    file = tmp_path / "vn.ndjson"
    file.write_bytes(orjson.dumps({"name": "Nguyen Van An", "phone": "+84 912 345 678"}) + b"\n")
    [line] = check_lines(str(file), "--origin", "VN", "--destination", "SG", "--product",
                         "generic.json", "--first-transfer-days", str(days))  # fmt: skip
    assert (line["outcome"], line["rule_ids"]) == (outcome, [rule])


def test_registry_facts_are_the_hubs_to_know(tmp_path: Path) -> None:
    file = tmp_path / "w.ndjson"
    write_ndjson(file, "logistics.waybill", "VN", 1)
    args = ("--exporter", "cn-freight", "--importer", "vn-carrier", "--purpose", "marketing")
    result = runner.invoke(
        app, ["check", str(file), "--product", "logistics.waybill", *args, "--related"]
    )
    assert result.exit_code != 0 and "--related" in result.output
