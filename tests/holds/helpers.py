"""A real hub (SQLite data dir, the demo cast) with held customs declarations.

cn-pingxiang-broker sends customs declarations (names, addresses, ID numbers: sensitive
PI) under agreements relying on a standard contract; it has filed one for VN and TH, none
for MY and ID, so its declarations to MY and ID are held (CN Provisions Art. 8)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

import orjson

from silkgate.demo import scenario
from silkgate.demo.runner import register_cast
from silkgate.demo.synth import PRODUCT_OF_KIND, generate
from silkgate.flow.holds import HoldAction, HoldService, sign_hold
from silkgate.hub import Hub, init_hub, open_hub
from silkgate.model import Batch, BatchResult, Filing
from silkgate.registry.keys import ensure_key_file, load_key_file
from silkgate.sandbox.auth import Approval
from silkgate.seal.keys import create_keyring

NOW = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)
BROKER = "cn-pingxiang-broker"
REGULATOR = scenario.REGULATOR[0]
PRODUCT = "customs.declaration"
KIND = {product: kind for kind, product in PRODUCT_OF_KIND.items()}[PRODUCT]


class Clock:
    """Moved by hand; shared by the hub and the service."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class World:
    hub: Hub
    clock: Clock
    keys_dir: Path
    holds: HoldService
    _ids: Any = None

    def declarations(self, destination: str, n: int, seed: int = 5) -> list[Any]:
        return declarations(destination, n, seed)

    def submit(self, destination: str, n: int = 4, seed: int = 5) -> BatchResult:
        if self._ids is None:
            self._ids = count(1)
        batch = Batch(
            id=f"b{next(self._ids)}-{destination.lower()}",
            exporter=BROKER,
            importer=scenario.importer_for(destination),
            product=PRODUCT,
            purpose="customs_clearance",
            records=self.declarations(destination, n, seed),
        )
        return self.hub.pipeline.submit(batch)

    def held(self, destination: str, n: int = 4, seed: int = 5) -> BatchResult:
        result = self.submit(destination, n, seed)
        assert result.held_id is not None and result.outcomes["hold"] == n, result.outcomes
        return result

    def file_contract(self, destination: str) -> Filing:
        importer = scenario.importer_for(destination)
        filing = Filing(
            id=f"fil-{BROKER}-{importer}-new",
            exporter=BROKER,
            kind="standard_contract",
            recipient=importer,
            valid_from=self.clock().date(),
            reference="GX-SC-2026-0099",
        )
        self.hub.store.put_filing(filing)
        return filing

    def approval(self, action: str, envelope_id: str, by: str, reason: str) -> Approval:
        """`by`'s signature over the action, with its key file (a fresh key if it has none)."""
        path = self.keys_dir / f"{by}.json"
        ring = load_key_file(path) if path.exists() else create_keyring(by, self.clock())
        _, key = ring.current_signing(self.clock())
        return sign_hold(key, by, action, envelope_id, reason)

    def release(self, envelope_id: str, *, by: str, reason: str) -> HoldAction:
        """`by` releases the held envelope, signed with its own key file."""
        approval = self.approval("release", envelope_id, by, reason)
        return self.holds.release(envelope_id, approval=approval, reason=reason)

    def reject(self, envelope_id: str, *, by: str, reason: str) -> HoldAction:
        approval = self.approval("reject", envelope_id, by, reason)
        return self.holds.reject(envelope_id, approval=approval, reason=reason)

    def counts(self) -> dict[str, int]:
        found = self.hub.store.subject_counts(year=self.clock().year)
        return {c: n for (e, c), n in found.items() if e == BROKER}

    def leaves(self, kind: str) -> list[dict[str, Any]]:
        entries = self.hub.store.ledger_entries(0, self.hub.store.ledger_size())
        return [leaf for leaf in map(orjson.loads, entries) if leaf.get("kind") == kind]


def declarations(destination: str, n: int, seed: int = 5) -> list[Any]:
    """Synthetic customs declarations to `destination` (sensitive PI: ID numbers)."""
    out = [
        r.record
        for r in generate(n * 15, seed=seed, kinds=[KIND])
        if r.product == PRODUCT and r.destination == destination
    ][:n]
    assert len(out) == n
    return out


def make_world(tmp_path: Path) -> World:
    clock = Clock()
    init_hub(tmp_path / "data")
    hub = open_hub(tmp_path / "data", clock=clock)
    for pid in scenario.all_participant_ids():  # keys valid from the test's clock on
        ensure_key_file(tmp_path / "keys" / f"{pid}.json", pid, clock)
    register_cast(hub, tmp_path / "keys", NOW.date())
    return World(hub, clock, tmp_path / "keys", HoldService.for_hub(hub))
