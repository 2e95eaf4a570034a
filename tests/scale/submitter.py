"""An exporter's client for the fault tests, run as its own process: submits the batches
named by seed on the command line over HTTP (signed requests, silkgate.client) to one
`silkgate serve` node, each with an idempotency key, retrying a batch until the node
reports it committed (through restarts of the store and the transport). Prints one JSON
line per batch: its seed, the batch id the hub gave it and its ledger index."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from scale.hubs import EXPORTER, PRODUCT, declarations
from silkgate.client import SilkgateClient
from silkgate.demo import scenario
from silkgate.errors import ConflictError, SilkgateError


def main() -> None:
    base_url, keys_dir, seeds = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    _, purpose = scenario.ROUTES[PRODUCT]
    with SilkgateClient(base_url, keys_dir / f"{EXPORTER}.json", timeout=30.0) as client:
        for seed in (int(s) for s in seeds.split(",")):
            dest = ("VN", "TH")[seed % 2]
            records = declarations(5, seed, dest)
            deadline = time.monotonic() + 90
            while True:
                try:
                    result = client.submit_batch(
                        scenario.importer_for(dest), PRODUCT, records,
                        purpose=purpose, idempotency_key=f"k{seed}",
                    )  # fmt: skip
                    break
                except ConflictError:
                    raise  # the key was used for other records: a bug in the test
                except SilkgateError as exc:  # store or transport away: the key makes it safe
                    if time.monotonic() > deadline:
                        raise
                    print(f"retrying seed {seed}: {exc}", file=sys.stderr, flush=True)
                    time.sleep(0.2)
            line = {"seed": seed, "batch": result.batch_id, "index": result.ledger_index}
            print(json.dumps(line), flush=True)
            time.sleep(0.1)


if __name__ == "__main__":
    main()
