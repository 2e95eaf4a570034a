"""Pipeline benchmark: records/s per stage and end to end, next to a floor measured in the
same run (orjson parse + serialize of the same records), as a ratio.

    python bench/run.py [--records 20000] [--seed 7] [--store sqlite|memory] [--all] [--json]
                        [--clock wall|cpu] [--passes 3]

`--clock cpu` times everything (the floor included) in this process's CPU time: steadier when
other work shares the cores, but blind to waiting for the disk (the commit's fsync).

The pipeline runs `--passes` times (default 3), each on a fresh hub, and the fastest pass is
reported, as the floor is the fastest of five: both sides of the ratio measured alike.

`--all` also runs the component benchmarks in bench/ (classification, policy, ledger, seal).
"""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import orjson

from silkgate.clock import system_random
from silkgate.demo.runner import batches_of, register_cast
from silkgate.demo.synth import SyntheticRecord, generate
from silkgate.flow.pipeline import StageTimings
from silkgate.hub import init_hub, open_hub

CLOCKS: dict[str, Callable[[], float]] = {"wall": time.perf_counter, "cpu": time.process_time}

# encode: the submission's records as canonical NDJSON, once (idempotency digest and payload)
STAGES = ("encode", "validate", "classify", "decide", "sandbox", "transform", "seal", "commit")
COMPONENT_BENCHES = (
    "classify_eval.py",
    "policy_bench.py",
    "ledger_bench.py",
    "seal_bench.py",
    "replay_bench.py",
)


def floor_seconds(records: list[SyntheticRecord], clock: Callable[[], float]) -> float:
    """orjson loads + dumps of every record: the least any JSON gateway must do. The best
    of five passes: one pass takes a few hundredths of a second, and on a shared machine a
    single pass swung by 1.7x between runs, moving every ratio with it."""
    lines = [orjson.dumps(r.record) for r in records]
    best = float("inf")
    for _ in range(5):
        started = clock()
        for line in lines:
            orjson.dumps(orjson.loads(line))
        best = min(best, clock() - started)
    return best


def pipeline_seconds(
    records: list[SyntheticRecord], store: str, batch_size: int, clock: Callable[[], float]
) -> tuple[float, dict[str, float]]:
    with tempfile.TemporaryDirectory(prefix="silkgate-bench-") as tmp:
        data_dir = Path(tmp)
        init_hub(data_dir)
        if store == "memory":
            (data_dir / "silkgate.toml").write_text('store_url = "memory:"\n')
        hub = open_hub(data_dir)
        try:
            register_cast(hub, data_dir / "keys", hub.pipeline.clock().date())
            # Each batch as the API holds it: decoded from its own JSON body, so its records
            # lie together in memory. Grouped straight from the generator, a batch's records
            # are strewn among every other flow's, and every stage pays for the cache misses
            # (serializing a batch took 2-3x longer).
            batches = [
                msgspec.structs.replace(
                    b, records=msgspec.json.decode(msgspec.json.encode(b.records))
                )
                for b in batches_of(iter(records), batch_size, system_random)
            ]
            # The whole input is held for the run (a gateway holds only the batch in
            # flight): keep its objects out of the collector's full passes, which would
            # otherwise walk them all again and land in whichever stage runs at the time.
            gc.collect()
            gc.freeze()
            hub.pipeline.timings = StageTimings(clock)
            started = clock()
            for batch in batches:
                hub.pipeline.submit(batch)
            total = clock() - started
            seconds = dict(hub.pipeline.timings.seconds)
        finally:
            gc.unfreeze()
            hub.close()
    inner = sum(seconds.get(s, 0.0) for s in ("decide", "sandbox", "transform", "seal"))
    seconds["commit"] = seconds.get("transaction", 0.0) - inner
    return total, seconds


def report(n: int, floor: float, total: float, stages: dict[str, float]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [{"stage": "floor (orjson loads+dumps)", "seconds": floor}]
    rows += [{"stage": s, "seconds": stages.get(s, 0.0)} for s in STAGES]
    rows.append({"stage": "end to end", "seconds": total})
    for row in rows:
        row["records_per_second"] = n / row["seconds"] if row["seconds"] > 0 else float("inf")
        row["x_floor"] = row["seconds"] / floor
    return rows


def print_table(title: str, rows: list[dict[str, Any]]) -> None:
    print(title)
    print(f"{'stage':<28}{'seconds':>10}{'records/s':>14}{'× floor':>10}")
    for row in rows:
        print(
            f"{row['stage']:<28}{row['seconds']:>10.3f}"
            f"{row['records_per_second']:>14,.0f}{row['x_floor']:>10.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--store", choices=("sqlite", "memory"), default="sqlite")
    parser.add_argument("--all", action="store_true", help="also run the component benches")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall")
    parser.add_argument(
        "--passes",
        type=int,
        default=3,
        help="pipeline passes, each on a fresh hub; the fastest is reported (as for the floor)",
    )
    args = parser.parse_args()
    clock = CLOCKS[args.clock]
    records = list(generate(args.records, seed=args.seed))
    floor = floor_seconds(records, clock)
    # Like the floor, the best of several passes: one pass swings with whatever else the
    # shared machine runs, and a single slow pass moved the end-to-end ratio by 2x.
    passes = [
        pipeline_seconds(records, args.store, args.batch_size, clock)
        for _ in range(max(1, args.passes))
    ]
    total, stages = min(passes, key=lambda p: p[0])
    rows = report(len(records), floor, total, stages)
    if args.json:
        out = {"records": len(records), "passes": [p[0] for p in passes], "rows": rows}
        sys.stdout.write(orjson.dumps(out).decode() + "\n")
    else:
        load = os.getloadavg()[0]
        print_table(
            f"pipeline, {len(records)} records, {args.store} store, clock: {args.clock}, "
            f"fastest of {len(passes)} passes (end to end: "
            f"{', '.join(f'{p[0]:.3f}' for p in passes)} s), "
            f"load average (1 min) after the run: {load:.2f}",
            rows,
        )
    if args.all:
        here = Path(__file__).parent
        for name in COMPONENT_BENCHES:
            print(f"\n== bench/{name}", flush=True)
            subprocess.run([sys.executable, str(here / name)], check=False)


if __name__ == "__main__":
    main()
