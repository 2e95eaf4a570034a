"""The benchmarks run (small sizes): bench/ is not imported by the suite otherwise, so a
change of a format it builds (decision facts) broke one unnoticed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson

BENCH = Path(__file__).resolve().parent.parent / "bench"


def _run(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_the_pipeline_bench_reports_every_stage() -> None:
    out = orjson.loads(_run(str(BENCH / "run.py"), "--records", "600", "--passes", "2", "--json"))
    stages = {row["stage"] for row in out["rows"]}
    assert {"classify", "decide", "seal", "commit", "end to end"} <= stages
    assert out["records"] == 600
    (end_to_end,) = [row["seconds"] for row in out["rows"] if row["stage"] == "end to end"]
    assert len(out["passes"]) == 2 and end_to_end == min(out["passes"]) > 0


def test_the_replay_bench_replays_synthetic_facts() -> None:
    out = _run(str(BENCH / "replay_bench.py"), "--facts", "20000", "--individuals", "5000")
    assert "shipped packs" in out and "20,000" in out
