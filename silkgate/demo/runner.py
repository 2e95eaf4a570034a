"""`silkgate demo`: a fresh hub, the demo cast, N synthetic records through the whole
pipeline, importers pulling and receipting, then a summary with verified proofs."""

from __future__ import annotations

import shutil
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from silkgate.clock import Random, new_id, system_random
from silkgate.demo import scenario
from silkgate.demo.synth import SyntheticRecord, generate
from silkgate.errors import ConfigError, LedgerVerificationError
from silkgate.hub import Hub, LocalMailbox, init_hub, open_hub
from silkgate.ledger import leaf_hash, open_checkpoint, parse_vkey, verify_inclusion
from silkgate.mailbox.inbox import drain_inbox
from silkgate.model import Batch, BatchResult
from silkgate.registry.keys import ensure_key_file, load_key_file

DEMO_MARKER = ".silkgate-demo"
Progress = Callable[[str, int, int], None]  # (phase, done, total)


@dataclass
class DemoOptions:
    data_dir: Path
    records: int = 20_000
    seed: int = 7
    batch_size: int = 500
    proof_samples: int = 20


def prepare_data_dir(data_dir: Path) -> None:
    """A demo needs a fresh data dir; it only ever replaces one made by an earlier demo."""
    if data_dir.exists() and any(data_dir.iterdir()):
        if not (data_dir / DEMO_MARKER).exists():
            raise ConfigError(
                f"{data_dir} holds data that is not from a demo; "
                "choose another --data-dir for the demo"
            )
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    data_dir.chmod(0o700)  # `silkgate serve` refuses a data directory others may enter
    (data_dir / DEMO_MARKER).write_text("created by `silkgate demo`; safe to delete\n")


def register_cast(hub: Hub, keys_dir: Path, on: date) -> None:
    keys = {}
    created = hub.pipeline.clock()  # one instant: every key is valid from the same moment
    for pid in scenario.all_participant_ids():
        key_file = ensure_key_file(keys_dir / f"{pid}.json", pid, clock=lambda: created)
        keys[pid] = (key_file.signing_public, key_file.hpke_public)
    with hub.store.transaction():
        for participant in scenario.participants(keys):
            hub.store.put_participant(participant)
        for agreement in scenario.agreements(on.replace(month=1, day=1)):
            hub.store.put_agreement(agreement)
        for filing in scenario.filings(on.replace(month=1, day=1)):
            hub.store.put_filing(filing)


def batches_of(
    records: Iterator[SyntheticRecord], batch_size: int, random: Random
) -> Iterator[Batch]:
    """Group the stream by flow (product, destination) into batches of at most batch_size."""
    pending: dict[tuple[str, str], list[Any]] = defaultdict(list)

    def make(key: tuple[str, str], recs: list[Any]) -> Batch:
        product, destination = key
        exporter, purpose = scenario.ROUTES[product]
        return Batch(
            id=new_id("b", random),
            exporter=exporter,
            importer=scenario.importer_for(destination),
            product=product,
            purpose=purpose,
            records=recs,
            idempotency_key=new_id("idem", random),
        )

    for synthetic in records:
        key = (synthetic.product, synthetic.destination)
        bucket = pending[key]
        bucket.append(synthetic.record)
        if len(bucket) >= batch_size:
            yield make(key, bucket)
            pending[key] = []
    for key, bucket in pending.items():
        if bucket:
            yield make(key, bucket)


def run_demo(options: DemoOptions, progress: Progress | None = None) -> dict[str, Any]:
    prepare_data_dir(options.data_dir)
    init_hub(options.data_dir)
    hub = open_hub(options.data_dir)
    try:
        return _run(hub, options, progress or (lambda *_: None))
    finally:
        hub.close()


def _run(hub: Hub, options: DemoOptions, progress: Progress) -> dict[str, Any]:
    keys_dir = options.data_dir / "participant-keys"
    register_cast(hub, keys_dir, hub.pipeline.clock().date())
    results: list[BatchResult] = []
    # Generate first, so that records/s measures the gateway and not the traffic generator.
    batches = list(
        batches_of(generate(options.records, seed=options.seed), options.batch_size, system_random)
    )
    started = time.perf_counter()
    done = 0
    for batch in batches:
        results.append(hub.pipeline.submit(batch))
        done += len(batch.records)
        progress("send", done, options.records)
    elapsed = time.perf_counter() - started
    receipts = _importers_pull(hub, keys_dir, progress)
    # Verify as a regulator would: the signed note against the hub's verifier key, then
    # inclusion proofs against the root that the note commits to.
    signed = hub.log.checkpoint()
    checkpoint = open_checkpoint(signed.note, parse_vkey(hub.log.vkey))
    proofs = _verify_sample(hub, results, checkpoint.root_hash, checkpoint.size, options)
    return _summary(hub, results, receipts, checkpoint.size, proofs, elapsed, options)


def _importers_pull(hub: Hub, keys_dir: Path, progress: Progress) -> int:
    mailbox = LocalMailbox(hub)
    receipts = 0
    for index, importer in enumerate(scenario.IMPORTERS, start=1):
        keys = load_key_file(keys_dir / f"{importer}.json")
        receipts += drain_inbox(mailbox, keys, clock=hub.pipeline.clock).receipts
        progress("receipts", index, len(scenario.IMPORTERS))
    return receipts


def _verify_sample(
    hub: Hub, results: list[BatchResult], root: bytes, size: int, options: DemoOptions
) -> int:
    """Inclusion proofs for a spread of batches, verified against the signed checkpoint;
    returns how many were verified (verify_inclusion raises on a bad one)."""
    step = max(1, len(results) // max(1, options.proof_samples))
    verified = 0
    for result in results[::step]:
        if result.ledger_index is None:
            raise LedgerVerificationError(f"batch {result.batch_id} has no ledger entry")
        entry = hub.store.ledger_entries(result.ledger_index, result.ledger_index + 1)[0]
        proof = hub.log.inclusion_proof(result.ledger_index, size)
        verify_inclusion(leaf_hash(entry), result.ledger_index, size, proof, root)
        verified += 1
    return verified


def _summary(
    hub: Hub,
    results: list[BatchResult],
    receipts: int,
    ledger_size: int,
    proofs_verified: int,
    elapsed: float,
    options: DemoOptions,
) -> dict[str, Any]:
    outcomes: Counter[str] = Counter()
    corridors: dict[str, Counter[str]] = defaultdict(Counter)
    rules: Counter[str] = Counter()
    participants = {p.id: p for p in hub.store.list_participants()}
    for result in results:
        outcomes.update(result.outcomes)
        corridor = f"CN→{participants[result.importer].jurisdiction}"
        corridors[corridor].update(result.outcomes)
        for decision in result.decisions:
            rules.update(decision.rule_ids)
    year = hub.pipeline.clock().year
    counted = {
        f"{exporter}/{category}": count
        for (exporter, category), count in sorted(hub.store.subject_counts(year=year).items())
        if not category.startswith("shadow:")  # a shadow policy's own what-if counters
    }
    delivered = sum(1 for r in results if r.envelope_id is not None)
    cn = hub.engine.chains["CN"].settings  # the thresholds the engine actually applies
    return {
        "records": sum(r.records for r in results),
        "batches": len(results),
        "outcomes": {o: outcomes.get(o, 0) for o in ("allow", "allow_transformed", "hold", "deny")},
        "corridors": {c: dict(v) for c, v in sorted(corridors.items())},
        "top_rules": dict(rules.most_common(8)),
        "individuals_counted": counted,
        "thresholds": {
            "pi": cn["pi_contract_from"],
            "sensitive_pi": cn["sensitive_assessment_from"],
            "security_assessment_pi": cn["pi_assessment_from"],
        },
        "ledger_size": ledger_size,
        "checkpoint_verified": True,  # open_checkpoint above raises if it does not verify
        "inclusion_proofs_verified": proofs_verified,
        "delivered_envelopes": delivered,
        "receipts": receipts,
        "records_per_second": round(sum(r.records for r in results) / elapsed, 1),
        "data_dir": str(options.data_dir),
    }
