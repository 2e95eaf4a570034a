"""Real hubs on temporary SQLite data dirs with the demo cast, demo traffic, candidate
packs and a regulator that signs."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from silkgate.demo import scenario
from silkgate.demo.runner import batches_of, register_cast
from silkgate.demo.synth import generate
from silkgate.hub import Hub, init_hub, open_hub
from silkgate.model import Batch
from silkgate.policy import PolicyEngine
from silkgate.policy.engine import PACKS_DIR
from silkgate.registry.keys import load_key_file
from silkgate.sandbox import Sandbox
from silkgate.sandbox.auth import Approval, sign_action
from silkgate.sandbox.lifecycle import PolicyVersion, transition_message
from silkgate.sandbox.packs import text_digest

T0 = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)
REGULATOR = scenario.REGULATOR[0]


class StepClock:
    """A deterministic clock: each reading is one second after the previous one."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@dataclass
class World:
    hub: Hub
    clock: StepClock
    keys_dir: Path

    @property
    def sandbox(self) -> Sandbox:
        assert self.hub.sandbox is not None
        return self.hub.sandbox

    def key(self, participant: str = REGULATOR) -> Ed25519PrivateKey:
        ring = load_key_file(self.keys_dir / f"{participant}.json")
        return ring.current_signing(datetime.now(UTC))[1]

    def approve(self, message: Callable[[str], bytes], who: str = REGULATOR) -> Approval:
        return sign_action(self.key(who), who, message(who))


def make_world(root: Path, name: str, engine: PolicyEngine | None = None) -> World:
    data = root / name
    init_hub(data)
    clock = StepClock()
    hub = open_hub(data, clock=clock, engine=engine)
    register_cast(hub, root / "keys", T0.date())
    return World(hub, clock, root / "keys")


def demo_batches(records: int = 2400, batch_size: int = 100, seed: int = 7) -> list[Batch]:
    """Demo traffic as batches with deterministic ids (the same on every call)."""
    rng = random.Random(seed)
    return list(batches_of(generate(records, seed=seed), batch_size, rng.randbytes))


def cn_variant(version: str, **settings: int | str) -> str:
    """The shipped cn pack with a new version and some settings changed."""
    text = (PACKS_DIR / "cn.yaml").read_text(encoding="utf-8")
    text = re.sub(r'(?m)^version: "[^"]*"', f'version: "{version}"', text, count=1)
    for name, value in settings.items():
        start = text.index(f"  {name}: ")
        end = text.index("\n", start)
        line = text[start:end]
        comment = line[line.index("#") :] if "#" in line else ""
        text = text[:start] + f"  {name}: {value}  {comment}" + text[end:]
    return text


OVERLAY = """\
pack: gx-trial-customs
title: "Trial: customs declarations flow under supervision"
overlay_of: cn
version: "1"
disclaimer: A sandbox trial overlay for tests, not legal advice.
sources:
  - id: trial
    name: "Pilot zone sandbox decision (test)"
rules:
  - id: trial.customs.allow
    title: Customs declarations flow under the trial
    when: {product: [customs.declaration]}
    outcome: allow
    cite: [trial Art. 1]
"""


# The trial also counts B2C parcel waybills (no Art. 5(1) parcel exemption), so that the
# demo's waybills reach its lowered threshold.
TRIAL = cn_variant("2026.1-trial", pi_contract_from=100, parcel_products="[]")


def propose(world: World, text: str = TRIAL) -> PolicyVersion:
    digest = text_digest(text)
    version = text.split('version: "', 1)[1].split('"', 1)[0]
    approval = world.approve(lambda by: transition_message("cn", version, digest, "", "draft", by))
    return world.sandbox.lifecycle.propose(text, approval)


def move(world: World, version: PolicyVersion, to: str, who: str | None = None) -> PolicyVersion:
    def message(by: str) -> bytes:
        return transition_message("cn", version.version, version.sha256, version.state, to, by)

    approval = world.approve(message, who) if who else world.approve(message)
    return world.sandbox.lifecycle.transition("cn", version.version, to, approval)
