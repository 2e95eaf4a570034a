"""Run a pack's table of cases: facts -> expected outcome, rule ids, obligations, counts.

A case describes one record in one batch. The runner turns it into real participants,
an agreement, filings, findings and counters, and calls the same engine the pipeline uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from silkgate.counters import MemoryCounters, subject_hash
from silkgate.model import Agreement, Decision, Filing, Finding, Participant
from silkgate.paths import format_path
from silkgate.policy.engine import BatchContext, PolicyEngine, RecordInput
from silkgate.policy.pack import Case, Pack

CASE_KEY = b"silkgate-case-table"
DEFAULT_DAY = date(2026, 6, 1)


@dataclass(frozen=True)
class CaseResult:
    pack: str
    case: Case
    decision: Decision
    counted: dict[str, int]
    problems: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.problems


def case_engine(pack: Pack, library: Sequence[Pack]) -> PolicyEngine:
    """An engine for `pack` alone (a base) or `pack` over its base (an overlay)."""
    if pack.overlay_of is None:
        return PolicyEngine.from_packs([pack], overlays=())
    base = next((p for p in library if p.id == pack.overlay_of), None)
    if base is None:
        from silkgate.errors import PolicyError

        raise PolicyError(
            f"overlay {pack.id!r} needs its base pack {pack.overlay_of!r}", source=pack.path
        )
    return PolicyEngine.from_packs([base, pack])


def run_cases(
    pack: Pack, library: Sequence[Pack] = (), engine: PolicyEngine | None = None
) -> list[CaseResult]:
    engine = engine or case_engine(pack, library)
    return [run_case(engine, pack, case) for case in pack.cases]


def run_case(engine: PolicyEngine, pack: Pack, case: Case) -> CaseResult:
    given = {**pack.case_defaults, **case.given}
    origin = _origin(engine, pack)
    decision, counted = decide_given(engine, origin, given)
    return CaseResult(
        pack.id, case, decision, counted, tuple(_compare(case.expect, decision, counted))
    )


def decide_given(
    engine: PolicyEngine, origin: str, given: dict[str, Any]
) -> tuple[Decision, dict[str, int]]:
    """Decide one record described by case facts; returns the decision and counted sizes."""
    on = _day(given.get("date", DEFAULT_DAY))
    ctx = _context(origin, given, on)
    types = list(given.get("types", []))
    findings = tuple(Finding(path=format_path([t]), type=t, detector="case") for t in types)
    n = int(given.get("subjects", 1 if types else 0))
    subjects = tuple(f"case:{i}" for i in range(n))
    counters = _counters(given, subjects, on.year)
    record = RecordInput(findings, subjects, tuple(given.get("paths", [])))
    result = engine.decide_batch(ctx, [record], counters, CASE_KEY)
    return result.decisions[0], {c: len(v) for c, v in result.counted.items()}


def _origin(engine: PolicyEngine, pack: Pack) -> str:
    base = engine.packs[pack.overlay_of] if pack.overlay_of else pack
    return base.jurisdiction


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _context(origin: str, given: dict[str, Any], on: date) -> BatchContext:
    product = str(given.get("product", "generic.json"))
    purpose = str(given.get("purpose", "other"))
    exporter = Participant(
        id="exporter", name="Exporter", jurisdiction=origin,  # type: ignore[arg-type]
        roles=("exporter",), ciio=bool(given.get("ciio", False)),
        sector=str(given.get("sector", "logistics")),
    )  # fmt: skip
    importer = Participant(
        id="importer", name="Importer", jurisdiction=str(given.get("destination", "VN")),  # type: ignore[arg-type]
        roles=("importer",),
    )  # fmt: skip
    agreement = None
    if given.get("agreement", True):
        agreement = Agreement(
            id="agreement", exporter="exporter", importer="importer", product=product,
            purpose=purpose, instrument=str(given.get("instrument", "other")),  # type: ignore[arg-type]
            valid_from=on - timedelta(days=int(given.get("agreement_days", 30))),
        )  # fmt: skip
    age = int(given.get("tia_age_days", 10))
    filings = tuple(
        Filing(id=f"filing-{kind}", exporter="exporter", kind=kind, recipient="importer",
               valid_from=on - timedelta(days=age))
        for kind in given.get("filings", [])
    )  # fmt: skip
    return BatchContext(exporter, importer, product, purpose, agreement, filings, on,
                        transit=bool(given.get("transit", False)))  # fmt: skip


def _counters(given: dict[str, Any], subjects: tuple[str, ...], year: int) -> MemoryCounters:
    counters = MemoryCounters()
    known = [subject_hash(CASE_KEY, s) for s in subjects] if given.get("known") else []
    for category in ("pi", "sensitive_pi"):
        prior = int(given.get(f"{category}_before", 0))
        counters.prior[("exporter", year, category)] = prior - len(known)
        if known:
            counters.add_subjects("exporter", year, category, known)
    return counters


def _compare(expect: dict[str, Any], decision: Decision, counted: dict[str, int]) -> list[str]:
    problems = []
    if decision.outcome != expect["outcome"]:
        problems.append(f"outcome {decision.outcome}, expected {expect['outcome']}")
    if "rules" in expect and list(decision.rule_ids) != list(expect["rules"]):
        problems.append(f"rules {list(decision.rule_ids)}, expected {list(expect['rules'])}")
    if "obligations" in expect:
        got = sorted(o.finding_type or o.path for o in decision.obligations)
        if got != sorted(expect["obligations"]):
            problems.append(f"obligations on {got}, expected {sorted(expect['obligations'])}")
    if "counted" in expect and counted != {k: v for k, v in dict(expect["counted"]).items() if v}:
        problems.append(f"counted {counted}, expected {dict(expect['counted'])}")
    if "requires" in expect and decision.facts.get("requires", []) != list(expect["requires"]):
        problems.append(
            f"requires {decision.facts.get('requires', [])}, expected {list(expect['requires'])}"
        )
    return problems
