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
    group = "case-group" if given.get("related") else ""
    exporter = Participant(
        id="exporter", name="Exporter", jurisdiction=origin,  # type: ignore[arg-type]
        roles=("exporter",), ciio=bool(given.get("ciio", False)),
        sector=str(given.get("sector", "logistics")),
        free_trade_zone=str(given.get("free_trade_zone", "")), corporate_group=group,
        enterprise_size=str(given.get("enterprise_size", "unknown")),  # type: ignore[arg-type]
    )  # fmt: skip
    importer = Participant(
        id="importer", name="Importer", jurisdiction=str(given.get("destination", "VN")),  # type: ignore[arg-type]
        roles=("importer",), corporate_group=group,
        foreign_authority=bool(given.get("importer_authority", False)),
    )  # fmt: skip
    agreement = None
    if given.get("agreement", True):
        agreement = Agreement(
            id="agreement", exporter="exporter", importer="importer", product=product,
            purpose=purpose, instrument=str(given.get("instrument", "other")),  # type: ignore[arg-type]
            valid_from=on - timedelta(days=int(given.get("agreement_days", 30))),
        )  # fmt: skip
    age = int(given.get("tia_age_days", 10))
    filings = tuple(_filing(i, spec, on, age) for i, spec in enumerate(given.get("filings", [])))
    first = given.get("first_transfer_days")
    first_transfer = None if first is None else on - timedelta(days=int(first))
    return BatchContext(exporter, importer, product, purpose, agreement, filings, on,
                        transit=bool(given.get("transit", False)),
                        first_transfer=first_transfer)  # fmt: skip


# A case filing's recipient: the case's importer, another importer, or none (legacy).
_RECIPIENTS = {"importer": "importer", "other": "another-importer", "none": None}


def _filing(i: int, spec: Any, on: date, age: int) -> Filing:
    """`kind`, or {kind, recipient: importer|other|none, age_days, valid_until_days}:
    filed `age_days` ago; `valid_until_days` sets an end date that many days from the case
    day (0 = the case day is its last valid day, -1 = it lapsed yesterday)."""
    if isinstance(spec, str):
        spec = {"kind": spec}
    until = spec.get("valid_until_days")
    return Filing(
        id=f"filing-{i + 1}-{spec['kind']}", exporter="exporter", kind=spec["kind"],
        recipient=_RECIPIENTS[str(spec.get("recipient", "importer"))],
        valid_from=on - timedelta(days=int(spec.get("age_days", age))),
        valid_until=None if until is None else on + timedelta(days=int(until)),
    )  # fmt: skip


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
    duties = {d["id"]: d for d in decision.facts.get("duties", [])}
    if "duties" in expect and sorted(duties) != sorted(expect["duties"]):
        problems.append(f"duties {sorted(duties)}, expected {sorted(expect['duties'])}")
    for duty_id, due in dict(expect.get("due") or {}).items():
        got = duties.get(duty_id, {}).get("due", "no such duty")
        if got != (None if due is None else str(due)):
            problems.append(f"duty {duty_id} due {got}, expected {due}")
    warnings = decision.facts.get("warnings", [])
    for text in expect.get("warnings") or []:
        if not any(str(text) in w for w in warnings):
            problems.append(f"no warning containing {text!r} in {warnings}")
    return problems
