"""A test trial: a shadow that lowers the Art. 5(4) threshold, evaluated on demo traffic in
the same pass as the active version."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from silkgate.sandbox.analytics import facts_table
from silkgate.sandbox.replay import replay_engine
from silkgate.sandbox.shadow import load_diff

from .helpers import World, demo_batches, make_world, move, propose

PERSONAL = {"name", "phone", "email", "address", "id_number", "mobile", "card_number"}


def personal_values(value: Any) -> set[str]:
    """The values of personal fields (names, phones, ...) anywhere in a record."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key in PERSONAL and isinstance(inner, str) and len(inner) >= 4:
                found.add(inner)
            found |= personal_values(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= personal_values(inner)
    return found


def test_trial_shadow_shows_the_expected_changes_and_leaves_decisions_alone(
    tmp_path: Path,
) -> None:
    trial = make_world(tmp_path, "trial")
    control = make_world(tmp_path, "control")
    try:
        shadow = move(trial, propose(trial), "shadow")
        batches = demo_batches()
        live = [trial.hub.pipeline.submit(b) for b in batches]
        plain = [control.hub.pipeline.submit(b) for b in batches]
        check_active_untouched(trial, control, live, plain)
        diff = load_diff(trial.hub.store, shadow.key)
        check_diff(diff, len(live), sum(r.records for r in live))
        check_no_contents(trial, shadow.key, batches)
        check_matches_replay(trial, diff)
    finally:
        trial.hub.close()
        control.hub.close()


def check_active_untouched(trial: World, control: World, live: list[Any], plain: list[Any]) -> None:
    assert [d.outcome for r in live for d in r.decisions] == [
        d.outcome for r in plain for d in r.decisions
    ]
    assert [d.rule_ids for r in live for d in r.decisions] == [
        d.rule_ids for r in plain for d in r.decisions
    ]
    real = {k: v for k, v in trial.hub.store.subject_counts(year=2026).items()
            if not k[1].startswith("shadow:")}  # fmt: skip
    assert real == control.hub.store.subject_counts(year=2026)
    shadow_counts = {k: v for k, v in trial.hub.store.subject_counts(year=2026).items()
                     if k[1].startswith("shadow:cn@2026.1-trial:")}  # fmt: skip
    assert shadow_counts  # the shadow keeps its own cumulative counts


def check_diff(diff: Any, batches: int, records: int) -> None:
    assert (diff.batches, diff.records) == (batches, records)
    assert diff.changed > 0
    # Over 100 individuals a year, waybills (counted by the trial, which drops the B2C
    # parcel exemption) are anonymized under Art. 8 instead of crossing under Art. 5(1).
    # Orders are exempt (Art. 5(1)), customs declarations carry ID numbers (decided by the
    # sensitive-PI rules first) and EPCIS events hold no PI: none of them may change.
    assert diff.by_change == {"allow→allow_transformed": diff.changed}
    assert diff.by_product == {"logistics.waybill": diff.changed}
    assert diff.by_exporter == {"cn-nanning-freight": diff.changed}
    assert sum(diff.by_corridor.values()) == diff.changed
    samples = diff.samples["allow→allow_transformed"]
    assert len(samples) == 20  # bounded
    assert all(s.product == "logistics.waybill" for s in samples)
    assert all(s.active_rules == ("cn.art5-1.parcel-delivery",) for s in samples)
    assert all(s.shadow_rules[0] == "cn.art8.pi.anonymise" for s in samples)


def check_no_contents(trial: World, key: str, batches: list[Any]) -> None:
    stored = trial.hub.store.get_sandbox_doc("shadow_diff", key) or b""
    facts = b"".join(msgspec.msgpack.encode(f) for f in trial.hub.store.iter_facts())
    values = set().union(*(personal_values(r) for b in batches for r in b.records))
    assert len(values) > 100
    leaked = [v for v in values if v.encode() in stored or v.encode() in facts]
    assert leaked == []


def check_matches_replay(trial: World, diff: Any) -> None:
    """The shadow's live diff and a replay of the same version over the facts agree."""
    candidate = trial.sandbox.engines().shadows["cn@2026.1-trial"]
    report = replay_engine(candidate, facts_table(trial.hub.store.iter_facts()))
    assert report.changed == diff.changed
    assert report.by_change == diff.by_change
    assert report.by_product == diff.by_product
