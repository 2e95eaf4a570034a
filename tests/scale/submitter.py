"""An API node for the fault tests, run as its own process: opens the hub of a data dir
(PostgreSQL + NATS from its silkgate.toml) and submits the batches named by seed on the
command line through the pipeline, each with an idempotency key, retrying a batch until
it is committed (through restarts of the store and transport). Prints one JSON line per
batch: its id and ledger index."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from scale.hubs import batch, declarations, open_node
from silkgate.errors import SilkgateError


def main() -> None:
    data, destinations = Path(sys.argv[1]), ("VN", "TH")
    hub = open_node(data, real_clock=True)
    for seed in (int(s) for s in sys.argv[2].split(",")):
        dest = destinations[seed % 2]
        submitted = batch(f"b{seed}", declarations(5, seed, dest), key=f"k{seed}", destination=dest)
        deadline = time.monotonic() + 90
        while True:
            try:
                result = hub.pipeline.submit(submitted)
                break
            except SilkgateError as exc:  # store or transport away: the key makes it safe
                if time.monotonic() > deadline:
                    raise
                print(f"retrying b{seed}: {exc}", file=sys.stderr, flush=True)
                time.sleep(0.2)
        print(json.dumps({"batch": result.batch_id, "index": result.ledger_index}), flush=True)
        time.sleep(0.1)
    hub.close()


if __name__ == "__main__":
    main()
