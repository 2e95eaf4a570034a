"""Deciding one record shape under stored facts, for replay.

Replay groups facts by their decision-relevant signature and evaluates each signature
once, through the engine's own per-record `verdict` (the one live submission uses), with
the batch facts rebuilt by `ContextFacts` (the one builder of them). tests/flow checks
live, dry run, replay and hold re-check decide identically, record by record.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from silkgate.model import Obligation
from silkgate.policy import PolicyEngine, RecordInput
from silkgate.policy.compile import COUNT_FACTS, Chain, Facts
from silkgate.policy.engine import ContextFacts, Shape, make_shape
from silkgate.policy.engine import verdict as engine_verdict
from silkgate.store.base import DecisionFact
from silkgate.store.ports import finding_of_row


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
    free_trade_zone: str = ""
    related: bool = False
    enterprise_size: str = "unknown"
    importer_authority: bool = False
    first_transfer_days: int | None = None

    def context(self) -> ContextFacts:
        return ContextFacts(
            origin=self.origin, destination=self.destination, product=self.product,
            sector=self.sector, purpose=self.purpose, instrument=self.instrument,
            ciio=self.ciio, transit=self.transit,
            filings=tuple(x for x in self.filings.split(",") if x),
            agreement_days=self.agreement_days, tia_age_days=self.tia_age_days,
            free_trade_zone=self.free_trade_zone, related=self.related,
            enterprise_size=self.enterprise_size, importer_authority=self.importer_authority,
            first_transfer_days=self.first_transfer_days,
        )  # fmt: skip


@dataclass(frozen=True)
class Verdict:
    outcome: str
    counted: frozenset[str]
    rule_ids: tuple[str, ...]
    obligations: tuple[Obligation, ...] = ()


def batch_facts(sig: BatchSig) -> Facts:
    return sig.context().facts()


def stored_sig(fact: DecisionFact) -> BatchSig:
    """The batch facts a stored decision fact was decided under."""
    return BatchSig(
        gate=fact.gate, origin=fact.origin, destination=fact.destination,
        product=fact.product, sector=fact.sector, purpose=fact.purpose,
        instrument=fact.instrument, ciio=fact.ciio, transit=fact.transit,
        filings=",".join(fact.filings), agreement_days=fact.agreement_days,
        tia_age_days=fact.tia_age_days, free_trade_zone=fact.free_trade_zone,
        related=fact.related, enterprise_size=fact.enterprise_size,
        importer_authority=fact.importer_authority,
        first_transfer_days=fact.first_transfer_days,
    )  # fmt: skip


def passes_gate(engine: PolicyEngine, sig: BatchSig) -> str:
    """'' when the batch reaches the rules, else the deny-by-default rule id."""
    if sig.gate and sig.gate != "gate.no-pack":
        return sig.gate  # agreement and participant gates do not depend on the packs
    return "" if sig.origin in engine.chains else "gate.no-pack"


def countable(chain: Chain, sig: BatchSig) -> bool:
    return bool(chain.counting_categories) and not chain.exempt(batch_facts(sig))


def record_shape(chain: Chain, sig: BatchSig, findings_json: str, paths_json: str) -> Shape:
    findings = tuple(finding_of_row(row, "replay") for row in orjson.loads(findings_json))
    paths = tuple(orjson.loads(paths_json))
    rec = RecordInput(findings=findings, subjects=(), paths=paths)
    return make_shape(chain, sig.product, sig.sector, sig.purpose, rec)


def verdict(
    chain: Chain, sig: BatchSig, shape: Shape, counts: tuple[int, int, int, int], is_countable: bool
) -> Verdict:
    facts = batch_facts(sig)
    for name, value in zip(COUNT_FACTS, counts, strict=True):
        setattr(facts, name, value)
    v = engine_verdict(chain, facts, shape, is_countable, 0, "")
    d = v.decision
    return Verdict(d.outcome, frozenset(v.counted), d.rule_ids, d.obligations)


def breakpoints(engine: PolicyEngine) -> dict[str, list[int]]:
    """For each count fact, the values at which some test of any chain may change its
    answer (silkgate.policy.compile.count_breakpoints). Between two consecutive breakpoints
    every comparison gives the same result, so a count can be replaced by the breakpoint at
    or below it."""
    points: dict[str, set[int]] = {name: {0} for name in COUNT_FACTS}
    for chain in engine.chains.values():
        for name, values in chain.count_points.items():
            points[name].update(values)
    return {name: sorted(values) for name, values in points.items()}
