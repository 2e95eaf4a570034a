"""Scale-out benchmark: records/s end to end with 1 and 2 API nodes (separate processes
submitting through the pipeline) on one shared store, PostgreSQL next to SQLite.

    python bench/scale_bench.py [--records 20000] [--seed 7] [--batch 500] [--json]

Each node generates its share of the demo traffic (silkgate.demo.synth; node i gets seed
+ i) before the clock starts, then all nodes are released at once; the figure is every
node's records over the wall time from the release to the last node's end. PostgreSQL is a
throwaway cluster on this machine (Debian's `postgresql` package, as in the tests, with
fsync on); SQLite is one file (WAL, synchronous=FULL) that the nodes share. The transport
is the in-process one, so that only the store is shared.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the throwaway PostgreSQL of the tests

NODE = r"""
import sys, time, json
from pathlib import Path
from silkgate.clock import system_random
from silkgate.demo.runner import batches_of
from silkgate.demo.synth import generate
from silkgate.hub import open_hub
data, records, seed, size = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
hub = open_hub(data)
batches = list(batches_of(iter(generate(records, seed=seed)), size, system_random))
print("ready", flush=True)
sys.stdin.readline()
started = time.perf_counter()
for batch in batches:
    hub.pipeline.submit(batch)
print(json.dumps({"seconds": time.perf_counter() - started, "records": records}), flush=True)
hub.close()
"""


def run(store_url: str, nodes: int, records: int, seed: int, batch: int) -> dict[str, Any]:
    from silkgate.demo.runner import register_cast
    from silkgate.hub import init_hub, open_hub

    with tempfile.TemporaryDirectory(prefix="silkgate-scale-") as tmp:
        data = Path(tmp) / "data"
        init_hub(data)
        url = store_url or f"sqlite:///{data / 'silkgate.db'}"
        (data / "silkgate.toml").write_text(f'store_url = "{url}"\n')
        hub = open_hub(data)
        register_cast(hub, Path(tmp) / "keys", hub.pipeline.clock().date())
        hub.close()
        share = records // nodes
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", NODE, str(data), str(share), str(seed + i), str(batch)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for i in range(nodes)
        ]
        for proc in procs:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        started = time.perf_counter()
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        outs = [json.loads(proc.communicate()[0]) for proc in procs]
        wall = time.perf_counter() - started
        if any(p.returncode for p in procs):
            raise SystemExit("a node failed")
        done = sum(o["records"] for o in outs)
        return {"nodes": nodes, "records": done, "seconds": wall, "records_per_s": done / wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from scale.servers import PostgresServer, fresh_database, pg_bindir

    bindir = pg_bindir()
    if bindir is None:
        raise SystemExit("PostgreSQL is not installed (apt-get install postgresql)")
    server = PostgresServer(bindir, durable=True)
    rows = []
    try:
        for name, nodes in (("sqlite", 1), ("sqlite", 2), ("postgresql", 1), ("postgresql", 2)):
            url = fresh_database(server, f"bench{nodes}") if name == "postgresql" else ""
            row = run(url, nodes, args.records, args.seed, args.batch)
            rows.append({"store": name, **row})
    finally:
        server.destroy()
    by = {(r["store"], r["nodes"]): r["records_per_s"] for r in rows}
    ratios = {s: by[(s, 2)] / by[(s, 1)] for s in ("sqlite", "postgresql")}
    if args.json:
        print(json.dumps({"runs": rows, "two_over_one": ratios}))
        return
    print("| store | API nodes | records | seconds | records/s |")
    print("|---|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['store']} | {r['nodes']} | {r['records']:,} | {r['seconds']:.2f} "
            f"| {r['records_per_s']:,.0f} |"
        )
    for store, ratio in ratios.items():
        print(f"{store}: 2 nodes / 1 node = {ratio:.2f}x")


if __name__ == "__main__":
    main()
