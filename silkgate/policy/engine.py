"""The policy engine used by the pipeline: one decision per record of a batch.

Per batch: the gate (deny by default), the record shapes (findings -> legal categories,
cached by the findings themselves, since most records share a few shapes), the counts the
batch would reach, and then one rule evaluation per distinct shape.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import msgspec

from silkgate.counters import CounterView, SubjectHasher, count_batch, counting_year
from silkgate.errors import PolicyError
from silkgate.model import Agreement, Decision, Filing, Finding, Obligation, Participant
from silkgate.policy.compile import Chain, CompiledRule, Facts, compile_chain, decision_notes
from silkgate.policy.confidence import personal_findings
from silkgate.policy.pack import Pack, load_pack

PACKS_DIR = Path(__file__).resolve().parent.parent / "packs"
MAX_TRANSFORM_STEPS = 4  # each step removes a category, so 3 would do; one spare
_SHAPE_CACHE_LIMIT = 50_000
_CROSSING = frozenset({"allow", "allow_transformed"})


@dataclass(frozen=True, slots=True)
class BatchContext:
    exporter: Participant
    importer: Participant
    product: str
    purpose: str
    agreement: Agreement | None  # None = no active agreement -> deny
    filings: tuple[Filing, ...]  # the exporter's filings (the engine says why one does not cover)
    on: date
    transit: bool = False  # PI collected abroad, passing through (CN Provisions Art. 4)
    # The day of the first transfer from this exporter to this importer (any product): the
    # day of the earliest committed batch with a crossing record, or `on` itself when this
    # batch would be the first. None = not known: no first-transfer grace (VN Decree 356
    # Art. 17) is given.
    first_transfer: date | None = None


class RecordInput(msgspec.Struct, frozen=True, gc=False):
    """One record as the policy sees it (a Struct: one per record, built in a hot loop;
    untracked by the garbage collector, it holds only tuples of findings, str and bytes)."""

    findings: tuple[Finding, ...]
    subjects: tuple[str, ...]  # raw subject keys, e.g. "phone:+84912345678"
    paths: tuple[str, ...] = ()  # paths present that a catalogue or list entry names
    # Keyed hashes of the subjects, when only those are known (a held batch re-checked from
    # its stored facts); None: the engine hashes `subjects`.
    subject_hashes: tuple[bytes, ...] | None = None


@dataclass(frozen=True, slots=True)
class ContextFacts:
    """The batch-level facts a decision depends on: the one place they are derived from a
    context. Replay and re-checks rebuild them from stored decision facts (same names).
    Defaults are the stricter values (outside any free trade zone, unrelated, size unknown,
    first transfer unknown)."""

    origin: str
    destination: str
    product: str
    sector: str
    purpose: str
    instrument: str  # "none" without an agreement
    ciio: bool
    transit: bool
    filings: tuple[str, ...]  # kinds on file covering this importer today, sorted
    agreement_days: int | None
    tia_age_days: int | None
    free_trade_zone: str = ""
    related: bool = False  # exporter and importer name the same corporate group
    enterprise_size: str = "unknown"
    importer_authority: bool = False  # the recipient is a foreign judicial/enforcement body
    first_transfer_days: int | None = None  # days since this flow's first transfer
    # Not testable by rules: why filings on file do not cover this transfer, and the day.
    filing_notes: tuple[str, ...] = ()
    on: date | None = None

    @classmethod
    def of(cls, ctx: BatchContext) -> ContextFacts:
        mine = [x for x in ctx.filings if x.exporter == ctx.exporter.id]
        valid = [x for x in mine if x.covers(ctx.importer.id, ctx.on)]
        kinds = {x.kind for x in valid}
        notes = tuple(
            problem
            for x in mine
            if x.kind not in kinds and (problem := x.coverage_problem(ctx.importer.id, ctx.on))
        )
        tias = [
            (ctx.on - x.valid_from).days for x in valid if x.kind == "transfer_impact_assessment"
        ]
        agreement = ctx.agreement
        group = ctx.exporter.corporate_group
        first = ctx.first_transfer
        return cls(
            origin=ctx.exporter.jurisdiction,
            destination=ctx.importer.jurisdiction,
            product=ctx.product,
            sector=ctx.exporter.sector,
            purpose=ctx.purpose,
            instrument=agreement.instrument if agreement else "none",
            ciio=ctx.exporter.ciio,
            transit=ctx.transit,
            filings=tuple(sorted(kinds)),
            agreement_days=(ctx.on - agreement.valid_from).days if agreement else None,
            tia_age_days=min(tias) if tias else None,
            free_trade_zone=ctx.exporter.free_trade_zone,
            related=bool(group) and group == ctx.importer.corporate_group,
            enterprise_size=ctx.exporter.enterprise_size,
            importer_authority=ctx.importer.foreign_authority,
            first_transfer_days=max(0, (ctx.on - first).days) if first is not None else None,
            filing_notes=notes,
            on=ctx.on,
        )

    def facts(self) -> Facts:
        """Rule facts for this context, before any record shape or count is known."""
        f = Facts()
        f.origin, f.destination = self.origin, self.destination
        f.product, f.sector, f.purpose = self.product, self.sector, self.purpose
        f.instrument, f.ciio, f.transit = self.instrument, self.ciio, self.transit
        f.filings = frozenset(self.filings)
        f.agreement_days, f.tia_age_days = self.agreement_days, self.tia_age_days
        f.free_trade_zone, f.related = self.free_trade_zone, self.related
        f.enterprise_size, f.importer_authority = self.enterprise_size, self.importer_authority
        f.first_transfer_days = self.first_transfer_days
        f.filing_notes, f.on = self.filing_notes, self.on
        return f


@dataclass(slots=True)
class BatchDecision:
    decisions: list[Decision]
    counted: dict[str, list[bytes]]  # category -> new subject hashes to add on commit
    policy_version: str
    # Per record, the keyed hashes of its subjects when the engine computed them (records
    # counted toward thresholds), else (); None when not known. A hint for reuse only.
    subject_hashes: list[tuple[bytes, ...]] | None = None
    # Per record, its shape: records with equal findings and paths share one Shape object
    # (so an identity tells them apart); None when not known. A hint for reuse only.
    shapes: list[Shape] | None = None


@dataclass(frozen=True, slots=True)
class Shape:
    findings: tuple[Finding, ...]
    types: frozenset[str]
    categories: frozenset[str]
    negative_list: bool
    countable: tuple[str, ...]  # counted categories present before any transform
    paths: tuple[str, ...]  # extra paths present (RecordInput.paths)
    # What a verdict depends on: findings as (path, type) in order (spans, detectors and
    # evidence do not change a decision), the extra paths and what they were found to be.
    key: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Verdict:
    decision: Decision
    counted: tuple[str, ...]  # categories whose subjects this record adds to the counters


@dataclass
class PolicyEngine:
    """Loads packs, compiles one chain per origin and decides batches."""

    packs: dict[str, Pack]
    chains: dict[str, Chain]
    version: str
    _shapes: dict[tuple[str, str, str, str], dict[Any, Shape]] = field(default_factory=dict)
    _hashers: dict[bytes, SubjectHasher] = field(default_factory=dict)
    _verdicts: dict[tuple[Any, ...], Verdict] = field(default_factory=dict)

    @classmethod
    def from_packs(
        cls, packs: Sequence[Pack], *, overlays: Iterable[str] | None = None
    ) -> PolicyEngine:
        """`overlays`: ids of overlay packs to apply (None = every overlay given)."""
        by_id: dict[str, Pack] = {}
        for pack in packs:
            if pack.id in by_id:
                raise PolicyError(
                    f"pack {pack.id!r} loaded twice (also {by_id[pack.id].path})", source=pack.path
                )
            by_id[pack.id] = pack
        active = [p for p in packs if p.overlay_of and (overlays is None or p.id in set(overlays))]
        unknown = set(overlays or ()) - {p.id for p in packs if p.overlay_of}
        if unknown:
            raise PolicyError(f"unknown overlay pack(s): {', '.join(sorted(unknown))}")
        chains = _chains(by_id, active)
        text = "\n".join(f"{p.id}:{p.digest}" for p in sorted(by_id.values(), key=lambda p: p.id))
        text += "\nactive:" + ",".join(sorted(p.id for p in active))
        return cls(by_id, chains, hashlib.sha256(text.encode()).hexdigest()[:16])

    @classmethod
    def from_paths(
        cls, paths: Iterable[str | Path], *, overlays: Iterable[str] | None = None
    ) -> PolicyEngine:
        return cls.from_packs([load_pack(p) for p in paths], overlays=overlays)

    @classmethod
    def default(cls, *, overlays: Iterable[str] = ()) -> PolicyEngine:
        """Every shipped pack, compiled once per process; overlays are off unless named."""
        return _default_engine(tuple(sorted(overlays)))

    def chain(self, origin: str) -> Chain:
        try:
            return self.chains[origin]
        except KeyError:
            raise PolicyError(f"no rule pack for exports from {origin}") from None

    def path_patterns(self, origin: str, product: str) -> tuple[re.Pattern[str], ...]:
        """The path patterns (important-data catalogue, negative-list fields) that may
        name a path of this product's records: the paths a RecordInput must carry."""
        chain = self.chains.get(origin)
        if chain is None:
            return ()
        listed_paths = (
            p for s in chain.scenarios if not s.products or product in s.products for p in s.paths
        )
        return (*chain.catalogue.get(product, ()), *listed_paths)

    # ------------------------------------------------------------------ deciding
    def decide_batch(
        self,
        ctx: BatchContext,
        records: Sequence[RecordInput],
        counters: CounterView,
        subject_key: bytes,
    ) -> BatchDecision:
        gate = self._gate(ctx)
        if gate is not None:
            return BatchDecision([gate] * len(records), {}, self.version)
        chain = self.chains[ctx.exporter.jurisdiction]
        context = ContextFacts.of(ctx)
        facts = context.facts()
        countable = bool(chain.counting_categories) and not chain.exempt(facts)
        shapes, hashes = self._shapes_and_subjects(chain, ctx, records, countable, subject_key)
        year = counting_year(ctx.on)
        pools: dict[str, dict[bytes, None]] = {c: {} for c in chain.counting_categories}
        for shape, hs in zip(shapes, hashes, strict=True):
            if hs:
                for category in shape.countable:
                    pools[category].update(dict.fromkeys(hs))
        counts = count_batch(counters, ctx.exporter.id, year, chain.counting_categories, pools)
        for category, count in counts.items():
            setattr(facts, f"{category}_before", count.before)
            setattr(facts, f"{category}_after", count.after)
        # A verdict depends only on the context, the shape's decision key and the counts, and
        # on the counts only through the chain's comparisons: batches of the same flow mostly
        # repeat them, so verdicts are kept per count bucket and given this batch's counts.
        if len(self._verdicts) > _SHAPE_CACHE_LIMIT:
            self._verdicts.clear()
        bucket = chain.count_bucket(facts)
        counts_json = _counts_json(chain, facts)
        verdicts: dict[int, Verdict] = {}
        by_key: dict[tuple[Any, ...], Verdict] = {}
        for shape in shapes:
            if id(shape) in verdicts:
                continue
            current = by_key.get(shape.key)
            if current is None:
                key = (context, shape.key, countable, year, bucket)
                kept = self._verdicts.get(key)
                if kept is None:
                    kept = self._verdicts[key] = verdict(
                        chain, facts, shape, countable, year, self.version
                    )
                current = by_key[shape.key] = _with_counts(kept, counts_json)
            verdicts[id(shape)] = current
        return self._assemble(shapes, hashes, verdicts, counts)

    def _assemble(
        self,
        shapes: list[Shape],
        hashes: list[tuple[bytes, ...]],
        verdicts: dict[int, Verdict],
        counts: dict[str, Any],
    ) -> BatchDecision:
        decisions: list[Decision] = []
        counted: dict[str, dict[bytes, None]] = {}
        new_sets = {c: frozenset(count.new) for c, count in counts.items()}
        for shape, hs in zip(shapes, hashes, strict=True):
            verdict = verdicts[id(shape)]
            decisions.append(verdict.decision)
            for category in verdict.counted if hs else ():
                new = new_sets[category]
                counted.setdefault(category, {}).update((h, None) for h in hs if h in new)
        counted_lists = {c: list(v) for c, v in counted.items() if v}
        return BatchDecision(decisions, counted_lists, self.version, hashes, shapes)

    def _shapes_and_subjects(
        self,
        chain: Chain,
        ctx: BatchContext,
        records: Sequence[RecordInput],
        countable: bool,
        subject_key: bytes,
    ) -> tuple[list[Shape], list[tuple[bytes, ...]]]:
        cache_key = (ctx.exporter.jurisdiction, ctx.product, ctx.exporter.sector, ctx.purpose)
        cache = self._shapes.setdefault(cache_key, {})
        if len(cache) > _SHAPE_CACHE_LIMIT:
            cache.clear()
        shapes: list[Shape] = []
        hashes: list[tuple[bytes, ...]] = []
        empty: tuple[bytes, ...] = ()
        hasher = self._hasher(subject_key)
        for rec in records:
            key = (rec.findings, rec.paths) if rec.paths else rec.findings
            shape = cache.get(key)
            if shape is None:
                shape = cache[key] = make_shape(
                    chain, ctx.product, ctx.exporter.sector, ctx.purpose, rec
                )
            shapes.append(shape)
            if countable and shape.countable and rec.subject_hashes is not None:
                hashes.append(rec.subject_hashes)
            elif countable and shape.countable and rec.subjects:
                hashes.append(tuple(map(hasher, rec.subjects)))
            else:
                hashes.append(empty)
        return shapes, hashes

    def _hasher(self, subject_key: bytes) -> SubjectHasher:
        hasher = self._hashers.get(subject_key)
        if hasher is None:
            if len(self._hashers) > 8:
                self._hashers.clear()
            hasher = self._hashers[subject_key] = SubjectHasher(subject_key)
        return hasher

    def _gate(self, ctx: BatchContext) -> Decision | None:
        """Deny by default: no agreement, or one that does not cover this batch."""
        reason = _gate_reason(ctx, self.chains)
        if reason is None:
            return None
        rule_id, text = reason
        return Decision(
            outcome="deny",
            rule_ids=(rule_id,),
            citations=(f"silkgate deny-by-default: {text}",),
            policy_version=self.version,
            facts={
                "origin": ctx.exporter.jurisdiction,
                "destination": ctx.importer.jurisdiction,
                "product": ctx.product,
                "purpose": ctx.purpose,
                "gate": text,
            },
        )


def verdict(
    chain: Chain, batch: Facts, shape: Shape, countable: bool, year: int, version: str
) -> Verdict:
    """The decision of one record shape under the batch's facts (counts included): the one
    per-record verdict, used by live submission, the dry run, replay and hold re-checks."""
    facts = batch.copy()
    facts.types, facts.categories = shape.types, shape.categories
    facts.negative_list = shape.negative_list
    fired, obligations, residual = evaluate(chain, facts, shape.findings, shape.paths)
    last = fired[-1].outcome if fired else "hold"
    if last in _CROSSING:
        outcome = "allow_transformed" if obligations else "allow"
    else:
        outcome, obligations = last, []
    counted = tuple(c for c in chain.counting_categories if c in residual.categories)
    counted = counted if countable and outcome in _CROSSING else ()
    decision = Decision(
        outcome=outcome,  # type: ignore[arg-type]
        obligations=tuple(obligations),
        rule_ids=tuple(r.id for r in fired) or ("policy.no-rule-matched",),
        citations=tuple(dict.fromkeys(c for r in fired for c in r.citations)),
        policy_version=version,
        facts=_facts_json(chain, facts, residual, fired, counted, year, countable)
        | decision_notes(chain, residual, fired, outcome),
    )
    return Verdict(decision, counted)


def evaluate(
    chain: Chain, facts: Facts, findings: tuple[Finding, ...], paths: tuple[str, ...] = ()
) -> tuple[list[CompiledRule], list[Obligation], Facts]:
    """First matching rule wins; an anonymizing transform re-evaluates what remains.

    Returns the rules fired, the obligations, and the facts after the transforms.
    """
    fired: list[CompiledRule] = []
    obligations: dict[str, Obligation] = {}
    for _ in range(MAX_TRANSFORM_STEPS):
        rule = next((r for r in chain.rules if r.pred(facts)), None)
        if rule is None:
            break
        fired.append(rule)
        if rule.outcome != "allow_transformed" or rule.action is None:
            break
        tc = chain.type_category
        hit = [
            f for f in findings
            if f.type in rule.transform_types or tc[f.type] in rule.transform_categories
        ]  # fmt: skip
        for f in hit:
            obligation = Obligation(action=rule.action, path=f.path, finding_type=f.type)
            obligations.setdefault(f.path, obligation)
        if not rule.anonymizes or not hit:
            break
        # Anonymized fields no longer count as personal information: decide on what remains.
        findings = tuple(f for f in findings if f.path not in obligations)
        facts = facts.copy()
        facts.types = frozenset(f.type for f in findings)
        keep = {"important"} & facts.categories
        facts.categories = frozenset({tc[t] for t in facts.types} - {"none"} | keep)
        if chain.scenarios:
            all_paths = [f.path for f in findings] + list(paths)
            facts.negative_list = listed(
                chain, facts.product, facts.sector, facts.purpose, facts.types, all_paths
            )
    return fired, list(obligations.values()), facts


def make_shape(chain: Chain, product: str, sector: str, purpose: str, rec: RecordInput) -> Shape:
    findings = personal_findings(chain.settings, rec.findings)  # issue #13: min_confidence
    types = frozenset(f.type for f in findings)
    cats = {chain.type_category[t] for t in types} - {"none"}
    paths = [f.path for f in findings] + list(rec.paths)
    patterns = chain.catalogue.get(product, ())
    if any(p.match(path) for p in patterns for path in paths):
        cats.add("important")
    on_list = listed(chain, product, sector, purpose, types, paths)
    countable = tuple(c for c in chain.counting_categories if c in cats)
    categories = frozenset(cats)
    key = (tuple((f.path, f.type) for f in findings), rec.paths, types, categories, on_list)
    return Shape(findings, types, categories, on_list, countable, rec.paths, key)


def listed(
    chain: Chain,
    product: str,
    sector: str,
    purpose: str,
    types: frozenset[str],
    paths: Sequence[str],
) -> bool:
    """Whether the record holds fields a negative-list scenario names for this flow."""
    return any(
        s.sector == sector
        and (not s.products or product in s.products)
        and (not s.purposes or purpose in s.purposes)
        and (not s.types.isdisjoint(types) or any(p.match(x) for p in s.paths for x in paths))
        for s in chain.scenarios
    )


def _facts_json(
    chain: Chain,
    facts: Facts,
    residual: Facts,
    fired: list[CompiledRule],
    counted: tuple[str, ...],
    year: int,
    countable: bool,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "packs": chain.label,
        "origin": facts.origin,
        "destination": facts.destination,
        "product": facts.product,
        "sector": facts.sector,
        "purpose": facts.purpose,
        "instrument": facts.instrument,
        "ciio": facts.ciio,
        "transit": facts.transit,
        "filings": sorted(facts.filings),
        "types": sorted(facts.types),
        "categories": sorted(facts.categories),
        "categories_after": sorted(residual.categories),
        "year": year,
        "counted_toward_thresholds": countable,
        "counted": list(counted),
    }
    if chain.counting_categories:
        out["counts"] = _counts_json(chain, facts)
    if chain.scenarios:
        out["negative_list"] = facts.negative_list
    if fired and fired[-1].requires and fired[-1].outcome == "hold":
        out["requires"] = list(fired[-1].requires)
    return out


def _counts_json(chain: Chain, facts: Facts) -> dict[str, dict[str, int]]:
    return {
        c: {"before": getattr(facts, f"{c}_before"), "after": getattr(facts, f"{c}_after")}
        for c in chain.counting_categories
    }


def _with_counts(kept: Verdict, counts: dict[str, dict[str, int]]) -> Verdict:
    """A kept verdict with this batch's counts in its facts (all else is the same within a
    count bucket)."""
    facts = kept.decision.facts
    if "counts" not in facts or facts["counts"] == counts:
        return kept
    decision = msgspec.structs.replace(kept.decision, facts={**facts, "counts": counts})
    return Verdict(decision, kept.counted)


def _gate_reason(ctx: BatchContext, chains: dict[str, Chain]) -> tuple[str, str] | None:
    agreement = ctx.agreement
    checks: list[tuple[bool, str, str]] = [
        (agreement is None, "gate.no-agreement",
         "no active agreement between exporter and importer"),
        (not (ctx.exporter.active and ctx.importer.active), "gate.inactive-participant",
         "exporter or importer is not active"),
        (ctx.exporter.jurisdiction not in chains, "gate.no-pack",
         f"no rule pack for exports from {ctx.exporter.jurisdiction}"),
    ]  # fmt: skip
    if agreement is not None:
        checks += [
            (not agreement.in_force(ctx.on), "gate.agreement-not-in-force",
             f"agreement {agreement.id} is not in force on {ctx.on.isoformat()}"),
            (agreement.exporter != ctx.exporter.id or agreement.importer != ctx.importer.id,
             "gate.agreement-parties", f"agreement {agreement.id} is between other parties"),
            (agreement.product != ctx.product, "gate.agreement-product",
             f"agreement {agreement.id} covers {agreement.product}, not {ctx.product}"),
            (agreement.purpose != ctx.purpose, "gate.agreement-purpose",
             f"agreement {agreement.id} is for {agreement.purpose}, not {ctx.purpose}"),
        ]  # fmt: skip
    return next(((rid, text) for failed, rid, text in checks if failed), None)


def _chains(by_id: dict[str, Pack], overlays: list[Pack]) -> dict[str, Chain]:
    bases: dict[str, Pack] = {}
    for pack in by_id.values():
        if pack.overlay_of is None:
            if pack.jurisdiction in bases:
                other = bases[pack.jurisdiction].path
                raise PolicyError(
                    f"two base packs for {pack.jurisdiction} (also {other})", source=pack.path
                )
            bases[pack.jurisdiction] = pack
    for overlay in overlays:
        if overlay.overlay_of not in by_id:
            raise PolicyError(
                f"overlay {overlay.id!r} layers on unknown pack {overlay.overlay_of!r}",
                source=overlay.path,
            )
    return {
        j: compile_chain(base, [o for o in overlays if o.overlay_of == base.id])
        for j, base in bases.items()
    }


def shipped_pack_paths() -> list[Path]:
    return sorted(PACKS_DIR.glob("*.yaml"))


@functools.cache
def _default_engine(overlays: tuple[str, ...]) -> PolicyEngine:
    return PolicyEngine.from_paths(shipped_pack_paths(), overlays=overlays)
