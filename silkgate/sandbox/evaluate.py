"""Deciding one record shape under given facts, as the engine does, for replay.

Replay groups facts by their decision-relevant signature and evaluates each signature
once. This mirrors PolicyEngine's per-shape verdict (gate, exemption, transforms, the
outcome of the last rule fired, the categories counted) using the engine's public
`evaluate` and `make_shape`; tests/sandbox checks replay against live decisions record
by record so that the two cannot drift apart unnoticed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from silkgate.model import Finding
from silkgate.policy import PolicyEngine, RecordInput
from silkgate.policy.compile import Chain, Facts
from silkgate.policy.engine import Shape, evaluate, make_shape
from silkgate.policy.pack import Cond, Ref

COUNT_FACTS = ("pi_before", "pi_after", "sensitive_pi_before", "sensitive_pi_after")
_CROSSING = frozenset({"allow", "allow_transformed"})


@dataclass(frozen=True)
class BatchSig:
    """The batch-level facts a decision depends on."""

    gate: str
    origin: str
    destination: str
    product: str
    sector: str
    purpose: str
    instrument: str
    ciio: bool
    transit: bool
    filings: str  # comma-separated kinds
    agreement_days: int | None
    tia_age_days: int | None


@dataclass(frozen=True)
class Verdict:
    outcome: str
    counted: frozenset[str]
    rule_ids: tuple[str, ...]


def batch_facts(sig: BatchSig) -> Facts:
    f = Facts()
    f.origin, f.destination, f.product = sig.origin, sig.destination, sig.product
    f.sector, f.purpose, f.instrument = sig.sector, sig.purpose, sig.instrument
    f.ciio, f.transit = sig.ciio, sig.transit
    f.filings = frozenset(x for x in sig.filings.split(",") if x)
    f.agreement_days, f.tia_age_days = sig.agreement_days, sig.tia_age_days
    f.types = f.categories = frozenset()
    f.negative_list = False
    f.pi_before = f.pi_after = f.sensitive_pi_before = f.sensitive_pi_after = 0
    return f


def passes_gate(engine: PolicyEngine, sig: BatchSig) -> str:
    """'' when the batch reaches the rules, else the deny-by-default rule id."""
    if sig.gate and sig.gate != "gate.no-pack":
        return sig.gate  # agreement and participant gates do not depend on the packs
    return "" if sig.origin in engine.chains else "gate.no-pack"


def countable(chain: Chain, sig: BatchSig) -> bool:
    return bool(chain.counting_categories) and not chain.exempt(batch_facts(sig))


def record_shape(chain: Chain, sig: BatchSig, findings_json: str, paths_json: str) -> Shape:
    findings = tuple(
        Finding(path=p, type=t, detector="replay") for p, t in orjson.loads(findings_json)
    )
    paths = tuple(orjson.loads(paths_json))
    rec = RecordInput(findings=findings, subjects=(), paths=paths)
    return make_shape(chain, sig.product, sig.sector, sig.purpose, rec)


def verdict(
    chain: Chain, sig: BatchSig, shape: Shape, counts: tuple[int, int, int, int], is_countable: bool
) -> Verdict:
    facts = batch_facts(sig)
    for name, value in zip(COUNT_FACTS, counts, strict=True):
        setattr(facts, name, value)
    facts.types, facts.categories = shape.types, shape.categories
    facts.negative_list = shape.negative_list
    fired, obligations, residual = evaluate(chain, facts, shape.findings)
    last = fired[-1].outcome if fired else "hold"
    outcome = ("allow_transformed" if obligations else "allow") if last in _CROSSING else last
    counted = frozenset(c for c in chain.counting_categories if c in residual.categories)
    if not (is_countable and outcome in _CROSSING):
        counted = frozenset()
    rule_ids = tuple(r.id for r in fired) or ("policy.no-rule-matched",)
    return Verdict(outcome, counted, rule_ids)


def breakpoints(engine: PolicyEngine) -> dict[str, list[int]]:
    """For each count fact, the values at which some rule's test may change its answer.

    Between two consecutive breakpoints every comparison in every rule gives the same
    result, so a count can be replaced by the breakpoint at or below it."""
    points: dict[str, set[int]] = {name: {0} for name in COUNT_FACTS}
    for chain in engine.chains.values():
        for pack in chain.packs:
            for rule in pack.rules:
                for fact, op, value in _tests(rule.when):
                    if fact in points:
                        points[fact].update(_edges(op, _resolve(value, chain.settings)))
    return {name: sorted(p for p in values if p >= 0) for name, values in points.items()}


def _tests(cond: Cond) -> Iterator[tuple[str, str, Any]]:
    for test in cond.tests:
        yield test.fact, test.op, test.value
    for sub in cond.any_of:
        yield from _tests(sub)


def _resolve(value: Any, settings: dict[str, Any]) -> int:
    return int(settings[value.name] if isinstance(value, Ref) else value)


def _edges(op: str, c: int) -> tuple[int, ...]:
    return {"lt": (c,), "ge": (c,), "le": (c + 1,), "gt": (c + 1,)}.get(op, (c, c + 1))
