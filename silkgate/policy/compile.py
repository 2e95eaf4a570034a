"""Compile a chain of packs (overlays first, then the base) into closures.

Settings references are resolved and every operand is checked here, so that evaluation
does no lookups by name: a rule becomes one predicate over a `Facts` object.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from operator import attrgetter
from typing import Any, cast

from silkgate.errors import PolicyError
from silkgate.model import FINDING_TYPES, ObligationAction
from silkgate.policy.facts import ANONYMIZING_ACTIONS, FACTS, TYPE_CATEGORIES
from silkgate.policy.pack import Cond, Duty, Pack, Ref, Rule, Scenario, Test

Pred = Callable[["Facts"], bool]

# The facts that change from batch to batch within one flow: the counters' before and after.
COUNT_FACTS = ("pi_before", "pi_after", "sensitive_pi_before", "sensitive_pi_after")


# Carried with the facts but not testable by rules: the day decided on (for due dates) and
# what the engine noticed about filings passed in that do not cover this transfer.
_EXTRA_SLOTS = ("on", "filing_notes")
_SLOTS = (*FACTS, *_EXTRA_SLOTS)


class Facts:
    """Everything a rule may test, for one record shape within one batch.

    A new Facts holds the defaults: no findings, no counts, and for the facts that come
    from the registry and the store the stricter value (not in a free trade zone, not
    related, size unknown, first transfer unknown)."""

    __slots__ = _SLOTS

    origin: str
    destination: str
    product: str
    sector: str
    purpose: str
    instrument: str
    ciio: bool
    transit: bool
    filings: frozenset[str]
    agreement_days: int | None
    tia_age_days: int | None
    types: frozenset[str]
    categories: frozenset[str]
    negative_list: bool
    pi_before: int
    pi_after: int
    sensitive_pi_before: int
    sensitive_pi_after: int
    free_trade_zone: str
    related: bool
    enterprise_size: str
    importer_authority: bool
    first_transfer_days: int | None
    on: date | None
    filing_notes: tuple[str, ...]

    def __init__(self) -> None:
        self.origin = self.destination = self.product = self.sector = ""
        self.purpose, self.instrument = "other", "none"
        self.ciio = self.transit = self.negative_list = False
        self.filings = self.types = self.categories = frozenset()
        self.agreement_days = self.tia_age_days = None
        self.pi_before = self.pi_after = self.sensitive_pi_before = self.sensitive_pi_after = 0
        self.free_trade_zone = ""
        self.related = self.importer_authority = False
        self.enterprise_size = "unknown"
        self.first_transfer_days = None
        self.on = None
        self.filing_notes = ()

    def copy(self) -> Facts:
        other = Facts()
        for name in _SLOTS:
            setattr(other, name, getattr(self, name))
        return other

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in FACTS:
            value = getattr(self, name, None)
            out[name] = sorted(value) if isinstance(value, frozenset) else value
        return out


@dataclass(frozen=True)
class CompiledRule:
    id: str
    pack: str
    title: str
    pred: Pred
    outcome: str
    action: ObligationAction | None
    anonymizes: bool
    transform_categories: frozenset[str]
    transform_types: frozenset[str]
    requires: tuple[str, ...]
    citations: tuple[str, ...]
    explain: str
    where: str
    note: str = ""
    warning: str = ""
    duties: tuple[str, ...] = ()


@dataclass(frozen=True)
class CompiledDuty:
    id: str
    pack: str
    title: str
    pred: Pred
    triggers: frozenset[str]  # rules after which it applies (its after_rules, rules naming it)
    due_days: int | None
    citations: tuple[str, ...]
    explain: str
    note: str
    where: str


@dataclass(frozen=True)
class Chain:
    """The compiled rules for one origin: overlays (in order) then the base pack."""

    packs: tuple[Pack, ...]
    base: Pack
    settings: dict[str, Any]
    type_category: dict[str, str]
    catalogue: dict[str, tuple[re.Pattern[str], ...]]
    scenarios: tuple[Scenario, ...]
    counting_categories: tuple[str, ...]
    exempt: Pred
    rules: tuple[CompiledRule, ...]
    label: str
    warnings: tuple[str, ...]
    # For each count fact, the values at which a test of a rule, duty or exemption may
    # change its answer (0 always included): see `count_bucket`.
    count_points: dict[str, tuple[int, ...]]
    duties: tuple[CompiledDuty, ...] = ()

    def count_bucket(self, facts: Facts) -> tuple[int, ...]:
        """Which interval between breakpoints each count fact of `facts` falls in. Two
        facts with the same bucket (and the same other facts) satisfy exactly the same
        tests, so every predicate of this chain gives them the same answer."""
        return tuple(
            bisect_right(self.count_points[name], getattr(facts, name)) for name in COUNT_FACTS
        )


def compile_chain(base: Pack, overlays: Sequence[Pack] = ()) -> Chain:
    errors: list[tuple[str, str]] = []
    settings: dict[str, Any] = dict(base.settings)
    for overlay in overlays:
        settings.update(overlay.settings)
    packs = (*overlays, base)
    rules: list[CompiledRule] = []
    seen: dict[str, str] = {}
    for pack in packs:
        for rule in pack.rules:
            if rule.id in seen and seen[rule.id] != rule.where:
                errors.append(
                    (rule.where, f"duplicate rule id {rule.id!r} (also at {seen[rule.id]})")
                )
            seen[rule.id] = rule.where
            rules.append(_rule(pack, rule, settings, errors))
    exempt = _cond(base.counting_exempt, settings, errors) if base.counting_exempt else _never
    duties = tuple(_duty(p, d, rules, settings, errors) for p in packs for d in p.duties)
    for pack in packs:
        for duty in pack.duties:
            for rid in sorted(set(duty.after_rules) - set(seen)):
                errors.append((duty.where, f"duty {duty.id!r} names unknown rule {rid!r}"))
    chain = Chain(
        packs=packs,
        base=base,
        settings=settings,
        type_category=_type_categories(base, settings, errors),
        catalogue=_catalogue(packs),
        scenarios=tuple(s for p in packs for s in p.negative_list),
        counting_categories=base.counting_categories,
        exempt=exempt,
        rules=tuple(rules),
        label=" + ".join(f"{p.id}@{p.version}" for p in packs),
        warnings=tuple(p.warning for p in packs if p.warning),
        duties=duties,
        count_points=count_breakpoints(packs, settings),
    )
    if errors:
        (src, msg), *rest = errors
        raise PolicyError(msg + "".join(f"\n{s}: {m}" for s, m in rest), source=src)
    return chain


def count_breakpoints(
    packs: Sequence[Pack], settings: dict[str, Any]
) -> dict[str, tuple[int, ...]]:
    """For each count fact, the values at which some test of the packs' rules, duties or
    counting exemption may change its answer. Between two consecutive breakpoints every
    comparison gives the same result, so a count can be replaced by the breakpoint at or
    below it (replay does; the engine keys its verdicts by it)."""
    points: dict[str, set[int]] = {name: {0} for name in COUNT_FACTS}
    conds = [r.when for p in packs for r in p.rules] + [d.when for p in packs for d in p.duties]
    conds += [p.counting_exempt for p in packs if p.counting_exempt is not None]
    for cond in conds:
        for test in _tests_of(cond):
            if test.fact not in points:
                continue
            value = settings.get(test.value.name) if isinstance(test.value, Ref) else test.value
            if isinstance(value, int) and not isinstance(value, bool):
                points[test.fact].update(_edges(test.op, value))
    return {name: tuple(sorted(p for p in values if p >= 0)) for name, values in points.items()}


def _tests_of(cond: Cond) -> Iterator[Test]:
    yield from cond.tests
    for sub in cond.any_of:
        yield from _tests_of(sub)


def _edges(op: str, c: int) -> tuple[int, ...]:
    """Where `x op c` may change its answer, as the least x of each new interval."""
    return {"lt": (c,), "ge": (c,), "le": (c + 1,), "gt": (c + 1,)}.get(op, (c, c + 1))


def _never(_: Facts) -> bool:
    return False


def _type_categories(
    base: Pack, settings: dict[str, Any], errors: list[tuple[str, str]]
) -> dict[str, str]:
    # Unmapped types are treated as personal information: the safe default.
    out = dict.fromkeys(FINDING_TYPES, "pi")
    for ftype, value in base.categories.items():
        if isinstance(value, Ref):
            value = _setting(value, settings, f"{base.path}: categories.{ftype}", errors)
        if value not in TYPE_CATEGORIES:
            errors.append(
                (base.path, f"category of {ftype!r} resolves to {value!r}; use {TYPE_CATEGORIES}")
            )
            continue
        out[ftype] = str(value)
    return out


def _catalogue(packs: Sequence[Pack]) -> dict[str, tuple[re.Pattern[str], ...]]:
    out: dict[str, list[re.Pattern[str]]] = {}
    for pack in packs:
        for entry in pack.important:
            out.setdefault(entry.product, []).append(entry.pattern)
    return {k: tuple(v) for k, v in out.items()}


def _setting(ref: Ref, settings: dict[str, Any], src: str, errors: list[tuple[str, str]]) -> Any:
    if ref.name not in settings:
        known = ", ".join(sorted(settings)) or "none"
        errors.append((src, f"unknown setting ${ref.name}; settings: {known}"))
        return None
    return settings[ref.name]


def _rule(
    pack: Pack, rule: Rule, settings: dict[str, Any], errors: list[tuple[str, str]]
) -> CompiledRule:
    transform = rule.transform
    return CompiledRule(
        id=rule.id,
        pack=pack.id,
        title=rule.title,
        pred=_cond(rule.when, settings, errors),
        outcome=rule.outcome,
        action=cast(ObligationAction, transform.action) if transform else None,
        anonymizes=bool(transform and transform.action in ANONYMIZING_ACTIONS),
        transform_categories=frozenset(transform.categories if transform else ()),
        transform_types=frozenset(transform.types if transform else ()),
        requires=rule.requires,
        citations=tuple(_citation(pack, src, art) for src, art in rule.cite),
        explain=rule.explain,
        where=rule.where,
        note=rule.note,
        warning=rule.warning,
        duties=rule.duties,
    )


def _duty(
    pack: Pack,
    duty: Duty,
    rules: Sequence[CompiledRule],
    settings: dict[str, Any],
    errors: list[tuple[str, str]],
) -> CompiledDuty:
    due = duty.due_days
    if isinstance(due, Ref):
        due = _setting(due, settings, duty.where, errors)
    if due is not None and (not isinstance(due, int) or isinstance(due, bool) or due < 0):
        errors.append((duty.where, f"duty {duty.id!r}: due_days must be a number, got {due!r}"))
        due = None
    return CompiledDuty(
        id=duty.id,
        pack=pack.id,
        title=duty.title,
        pred=_cond(duty.when, settings, errors),
        triggers=frozenset(duty.after_rules) | {r.id for r in rules if duty.id in r.duties},
        due_days=due,
        citations=tuple(_citation(pack, src, art) for src, art in duty.cite),
        explain=duty.explain,
        note=duty.note,
        where=duty.where,
    )


def decision_notes(
    chain: Chain, residual: Facts, fired: Sequence[CompiledRule], outcome: str
) -> dict[str, Any]:
    """The registry facts, duties and warnings a decision carries, as extra keys of its facts.

    Duties are evaluated on what crosses (the facts after transforms) and attached to every
    outcome but deny; a duty due after the first transfer gets its due date (the first
    transfer's day plus `due_days`; None when the first transfer is not known)."""
    out: dict[str, Any] = {
        # The registry and store facts the rules could test (for explain and replay).
        "free_trade_zone": residual.free_trade_zone,
        "related": residual.related,
        "enterprise_size": residual.enterprise_size,
        "importer_authority": residual.importer_authority,
        "first_transfer_days": residual.first_transfer_days,
    }
    warnings = [*chain.warnings, *(r.warning for r in fired if r.warning)]
    warnings += residual.filing_notes
    if outcome != "deny":
        fired_ids = {r.id for r in fired}
        duties = [
            _duty_json(d, residual)
            for d in chain.duties
            if (not d.triggers or not d.triggers.isdisjoint(fired_ids)) and d.pred(residual)
        ]
        if duties:
            out["duties"] = duties
            warnings += [
                f"duty {d['id']}: {d['title']} (due {d['due']})" for d in duties if "due" in d
            ]
    if warnings:
        out["warnings"] = list(dict.fromkeys(warnings))
    return out


def _duty_json(duty: CompiledDuty, facts: Facts) -> dict[str, Any]:
    out: dict[str, Any] = {"id": duty.id, "title": duty.title, "citations": list(duty.citations)}
    if duty.due_days is not None:
        days = facts.first_transfer_days
        if facts.on is not None and days is not None:
            first = facts.on - timedelta(days=days)
            out["due"] = (first + timedelta(days=duty.due_days)).isoformat()
            out["first_transfer"] = first.isoformat()
        else:
            out["due"] = None
    return out


def _citation(pack: Pack, source: str, article: str) -> str:
    name = pack.sources.get(source, source)
    return f"{name}, {article}" if article else name


def _cond(cond: Cond, settings: dict[str, Any], errors: list[tuple[str, str]]) -> Pred:
    tests = tuple(_test(t, settings, errors) for t in cond.tests)
    alts = tuple(_cond(c, settings, errors) for c in cond.any_of)
    if not alts:
        if len(tests) == 1:
            return tests[0]
        return lambda f: all(t(f) for t in tests)
    return lambda f: all(t(f) for t in tests) and any(a(f) for a in alts)


def _test(test: Test, settings: dict[str, Any], errors: list[tuple[str, str]]) -> Pred:
    kind, allowed = FACTS[test.fact]
    value = test.value
    if isinstance(value, Ref):
        value = _setting(value, settings, test.where, errors)
        if isinstance(value, str):
            value = (value,)
        elif isinstance(value, list):
            value = tuple(value)
    get = attrgetter(test.fact)
    if kind == "bool":
        if not isinstance(value, bool):
            errors.append(
                (test.where, f"malformed condition: {test.fact} needs true/false, got {value!r}")
            )
            return _never
        return lambda f: get(f) is value
    if kind == "int":
        return _int_test(test, get, value, errors)
    if not isinstance(value, tuple) or not all(isinstance(v, str) for v in value):
        errors.append(
            (test.where, f"malformed condition: {test.fact} needs a list of values, got {value!r}")
        )
        return _never
    for bad in [v for v in value if allowed and v not in allowed]:
        errors.append(
            (test.where, f"unknown value {bad!r} for {test.fact}; known: {', '.join(allowed)}")
        )
    vals = frozenset(value)
    ops: dict[str, Pred] = {
        "in": lambda f: get(f) in vals,
        "not_in": lambda f: get(f) not in vals,
        "any": lambda f: not vals.isdisjoint(get(f)),
        "all": lambda f: vals <= get(f),
        "none": lambda f: vals.isdisjoint(get(f)),
    }
    return ops[test.op]


def _int_test(
    test: Test, get: Callable[[Facts], Any], value: Any, errors: list[tuple[str, str]]
) -> Pred:
    if not isinstance(value, int) or isinstance(value, bool):
        errors.append(
            (
                test.where,
                f"malformed condition: {test.fact} {test.op} needs a number, got {value!r}",
            )
        )
        return _never
    n = value
    ops: dict[str, Pred] = {
        "lt": lambda f: (x := get(f)) is not None and x < n,
        "le": lambda f: (x := get(f)) is not None and x <= n,
        "gt": lambda f: (x := get(f)) is not None and x > n,
        "ge": lambda f: (x := get(f)) is not None and x >= n,
        "eq": lambda f: get(f) == n,
    }
    return ops[test.op]
