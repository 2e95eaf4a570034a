"""Explanations, diffs, and the policy CLI on the shipped packs."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import typer
from typer.testing import CliRunner

from silkgate.cli.policy import check_command, policy_app
from silkgate.model import Finding
from silkgate.policy import PolicyEngine, RecordInput, load_pack, shipped_pack_paths
from silkgate.policy.check import CheckOptions, check_records
from silkgate.policy.diff import diff_packs, diff_text
from silkgate.policy.engine import PACKS_DIR
from silkgate.policy.explain import explain_json, explain_text

ENGINE = PolicyEngine.default()
LIBRARY = [load_pack(p) for p in shipped_pack_paths()]
runner = CliRunner()


def held_decision() -> object:
    opts = CheckOptions(origin="CN", destination="VN", product="logistics.waybill",
                        on=date(2026, 6, 1), purpose="marketing", prior_pi=99_999)  # fmt: skip
    rec = RecordInput(
        (Finding(path="$['consignee']['phone']", type="phone", detector="t"),), ("p:1",)
    )
    return check_records(ENGINE, [rec], opts)[0]


def test_explain_in_words_names_rule_citation_and_facts() -> None:
    text = explain_text(held_decision(), ENGINE)  # type: ignore[arg-type]
    assert "Outcome: hold" in text
    assert "cn.art8.pi" in text and "cn.yaml:" in text
    assert "Art. 8" in text
    assert "Missing step: standard_contract or certification" in text
    assert "99,999 -> 100,000" in text


def test_explain_json() -> None:
    data = explain_json(held_decision(), ENGINE)  # type: ignore[arg-type]
    assert data["outcome"] == "hold"
    assert data["rules"][0]["id"] == "cn.art8.pi"
    assert data["facts"]["counts"]["pi"] == {"before": 99_999, "after": 100_000}
    json.dumps(data)


def lowered_threshold(tmp_path: Path) -> Path:
    text = (PACKS_DIR / "cn.yaml").read_text(encoding="utf-8")
    text = text.replace("pi_contract_from: 100000", "pi_contract_from: 50000")
    text = text.replace('version: "2026.11.0"', 'version: "2026.11.1-candidate"')
    text = text.replace("  - id: cn.fallback\n", "  - id: cn.fallback-review\n")
    path = tmp_path / "cn-candidate.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_diff_reports_rules_settings_and_changed_cases(tmp_path: Path) -> None:
    old = load_pack(PACKS_DIR / "cn.yaml")
    new = load_pack(lowered_threshold(tmp_path))
    diff = diff_packs(old, new, LIBRARY)
    assert diff.added == ["cn.fallback-review"] and diff.removed == ["cn.fallback"]
    assert diff.settings == {"pi_contract_from": (100000, 50000)}
    changed = {c.name: (c.old_outcome, c.new_outcome) for c in diff.cases}
    assert "analytics at 500000 individuals without a contract" not in changed
    assert changed["99999th individual without a contract"] == ("allow", "hold")
    assert "~ setting pi_contract_from: 100000 -> 50000" in diff_text(diff)


def test_diff_of_identical_packs_is_empty() -> None:
    pack = load_pack(PACKS_DIR / "sg.yaml")
    assert diff_packs(pack, pack, LIBRARY).empty


def test_cli_list_lint_test(tmp_path: Path) -> None:
    listed = runner.invoke(policy_app, ["list", "--json"])
    assert listed.exit_code == 0
    assert {p["id"] for p in json.loads(listed.stdout)["packs"]} >= {
        "cn",
        "sg",
        "cn-pilot-zone-sample",
    }
    assert runner.invoke(policy_app, ["lint", "cn"]).exit_code == 0
    result = runner.invoke(policy_app, ["test", "--json"])
    assert result.exit_code == 0, result.stdout
    assert json.loads(result.stdout)["passed"] >= 150


def test_cli_lint_and_test_fail_with_file_and_line(tmp_path: Path) -> None:
    broken = tmp_path / "bad.yaml"
    broken.write_text(
        (PACKS_DIR / "sg.yaml")
        .read_text()
        .replace("{categories: {none: [pi, sensitive_pi]}}", "{colour: blue}")
    )
    result = runner.invoke(policy_app, ["lint", str(broken)])
    assert result.exit_code == 1
    assert f"{broken}:" in result.output and "unknown fact 'colour'" in result.output
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(
        (PACKS_DIR / "sg.yaml").read_text().replace("rules: [sg.consent]", "rules: [sg.hold]")
    )
    failed = runner.invoke(policy_app, ["test", str(wrong)])
    assert failed.exit_code == 1 and "FAIL" in failed.output


def test_cli_diff_and_explain(tmp_path: Path) -> None:
    result = runner.invoke(policy_app, ["diff", "cn", str(lowered_threshold(tmp_path)), "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["settings"]["pi_contract_from"] == {
        "old": 100000,
        "new": 50000,
    }
    explained = runner.invoke(policy_app, [
        "explain", "--origin", "CN", "--destination", "TH", "--product", "logistics.waybill",
        "--types", "person_name,national_id", "--date", "2026-03-01", "--json",
    ])  # fmt: skip
    assert explained.exit_code == 0, explained.output
    data = json.loads(explained.stdout)[0]
    assert data["outcome"] == "allow_transformed"
    assert data["obligations"][0]["finding_type"] == "national_id"


def test_check_command_classifies_a_file(tmp_path: Path) -> None:
    app = typer.Typer()
    app.command()(check_command)
    records = tmp_path / "waybills.ndjson"
    waybill = {
        "waybill_no": "YT1234567890123", "carrier": "YTO", "event_time": "2026-03-01T08:00:00Z",
        "origin": {"country": "CN"}, "destination": {"country": "VN"},
        "consignee": {"name": "Nguyen Van An", "phone": "+84912345678"},
    }  # fmt: skip
    records.write_text(
        json.dumps(waybill) + "\n" + json.dumps({**waybill, "consignee": {"name": "X"}}) + "\n"
    )
    args = [
        str(records), "--origin", "CN", "--destination", "VN", "--product", "logistics.waybill",
        "--purpose", "marketing", "--prior-pi", "99999", "--date", "2026-03-01", "--json",
    ]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["index"] for line in lines] == [0, 1]
    assert lines[0]["outcome"] == "hold" and lines[0]["rule_ids"] == ["cn.art8.pi"]
