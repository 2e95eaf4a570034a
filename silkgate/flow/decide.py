"""Deciding a batch: the one path from a batch's parties and records to its decisions.

Live submission (`send`), the dry run against a hub (`check --data-dir/--hub`) and the
re-check of held batches all come through here, so they cannot drift apart:

- `context` builds the batch's decision context from the registry (agreement, filings
  covering this importer today, participants' attributes);
- `inputs` turns classified records into `RecordInput`s, with the paths that a catalogue or
  negative-list entry of the live packs names (path-only entries) and `minor` findings
  for children under 14 on the day (silkgate.classify.minors);
- `prepare` classifies a batch and makes its inputs before its transaction (the expensive,
  pure part); `inputs_at` gives them for the engine and context read inside it, made again
  only when what they depend on (`Prepared.basis`) is not what they were made for;
- `decide` asks the hub's live engine (shipped packs + configured overlays + the sandbox's
  active versions) and lets an experiment cohort in scope decide instead, if its caps allow;
  with `commit=False` nothing is written (the cohort's caps are only looked at).

Replay decides past facts with a candidate engine through the same per-record verdict
(`silkgate.policy.engine.verdict`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from silkgate.classify import Classifier
from silkgate.classify.minors import minor_findings
from silkgate.counters import CounterView
from silkgate.errors import InputError, NotFoundError
from silkgate.model import PURPOSES, Agreement, Filing, Participant
from silkgate.paths import iter_leaves
from silkgate.policy import BatchContext, BatchDecision, PolicyEngine, RecordInput
from silkgate.products import Product, get_product
from silkgate.store.base import DecisionFact, Store
from silkgate.store.ports import SandboxPort, finding_of_row

if TYPE_CHECKING:
    from silkgate.classify.classifier import RecordClassification
    from silkgate.sandbox.core import Sandbox


# What a batch's record inputs depend on besides its records and their classification:
# (engine version, exporter's jurisdiction, product, day). The version names the packs and
# the overlays switched on (PolicyEngine.from_packs), hence the path patterns; the day
# decides who is a child (minor findings).
InputBasis = tuple[str, str, str, date]


def input_basis(engine: PolicyEngine, ctx: BatchContext) -> InputBasis:
    return (engine.version, ctx.exporter.jurisdiction, ctx.product, ctx.on)


@dataclass(frozen=True)
class Prepared:
    """A batch validated and classified before its transaction, and the record inputs made
    from that for `basis` (Decider.prepare; Decider.inputs_at reuses or remakes them)."""

    product: Product
    records: Sequence[Any]
    classified: list[RecordClassification]
    basis: InputBasis
    inputs: list[RecordInput]


@dataclass
class Decider:
    store: Store
    subject_key: bytes
    base_engine: PolicyEngine  # shipped packs + the hub's configured overlays
    sandbox: Sandbox | None = None
    _classifiers: dict[str, Classifier] = field(default_factory=dict)
    _patterns: dict[tuple[str, str, str], tuple[re.Pattern[str], ...]] = field(default_factory=dict)

    # ------------------------------------------------------------------ which engine
    def live_engine(self) -> PolicyEngine:
        """The engine that decides now: the sandbox's active versions over the base."""
        return self.sandbox.active_engine() if self.sandbox is not None else self.base_engine

    # ------------------------------------------------------------------ inputs
    def parties(
        self, exporter_id: str, importer_id: str, product_id: str, purpose: str
    ) -> tuple[Participant, Participant, Product]:
        exporter = _participant(self.store, exporter_id, "exporter")
        importer = _participant(self.store, importer_id, "importer")
        if purpose not in PURPOSES:
            raise InputError(f"unknown purpose {purpose!r}; one of {', '.join(PURPOSES)}")
        return exporter, importer, get_product(product_id)

    def context(
        self,
        exporter: Participant,
        importer: Participant,
        product: str,
        purpose: str,
        on: date,
        *,
        transit: bool = False,
    ) -> BatchContext:
        """The registry as it stands: the agreement in force, the exporter's filings (the
        engine tells which cover this importer today, and why the others do not), and the
        day this flow first crossed (today, if this batch would be the first)."""
        return BatchContext(
            exporter=exporter,
            importer=importer,
            product=product,
            purpose=purpose,
            agreement=self._agreement(exporter.id, importer.id, product, purpose, on),
            filings=tuple(self.store.list_filings(exporter=exporter.id)),
            on=on,
            transit=transit,
            first_transfer=first_transfer(self.store, exporter.id, importer.id) or on,
        )

    def classifier(self, product: Product) -> Classifier:
        classifier = self._classifiers.get(product.id)
        if classifier is None:
            classifier = self._classifiers[product.id] = Classifier(product)
        return classifier

    def classify(self, product: Product, records: Sequence[Any]) -> list[RecordClassification]:
        return self.classifier(product).classify_batch(records)

    def inputs(
        self,
        engine: PolicyEngine,
        ctx: BatchContext,
        records: Sequence[Any],
        classified: Sequence[RecordClassification],
    ) -> list[RecordInput]:
        return self._inputs(engine, input_basis(engine, ctx), records, classified)

    def prepare(
        self,
        engine: PolicyEngine,
        exporter: Participant,
        product: Product,
        records: Sequence[Any],
        on: date,
    ) -> Prepared:
        """Classify `records` and make their inputs for `engine`, the exporter's origin and
        the day `on`: before the batch's transaction, with what the hub knew then."""
        classified = self.classify(product, records)
        basis = (engine.version, exporter.jurisdiction, product.id, on)
        inputs = self._inputs(engine, basis, records, classified)
        return Prepared(product, records, classified, basis, inputs)

    def inputs_at(
        self, engine: PolicyEngine, ctx: BatchContext, prepared: Prepared
    ) -> list[RecordInput]:
        """The inputs of a prepared batch for the engine and context read when it is
        decided: those made by `prepare`, unless one of the things they depend on changed
        meanwhile (another engine version, the exporter's origin, the day)."""
        basis = input_basis(engine, ctx)
        if basis == prepared.basis:
            return prepared.inputs
        return self._inputs(engine, basis, prepared.records, prepared.classified)

    def _inputs(
        self,
        engine: PolicyEngine,
        basis: InputBasis,
        records: Sequence[Any],
        classified: Sequence[RecordClassification],
    ) -> list[RecordInput]:
        _, origin, product, on = basis  # the version: engine.version
        patterns = self._path_patterns(engine, origin, product)
        out = []
        for record, c in zip(records, classified, strict=True):
            paths = _named_paths(record, patterns) if patterns else ()
            findings = c.findings
            if findings:  # no findings, no minor: most logistics events
                minors = minor_findings(record, findings, on)
                if minors:
                    findings = findings + minors
            out.append(RecordInput(findings, c.subjects, paths))
        return out

    # ------------------------------------------------------------------ deciding
    def decide(
        self,
        engine: PolicyEngine,
        ctx: BatchContext,
        inputs: Sequence[RecordInput],
        *,
        batch_id: str,
        now: datetime,
        commit: bool,
        counters: CounterView | None = None,
    ) -> tuple[BatchDecision, BatchDecision]:
        """(the live engine's decision, the decision that applies): they differ only for a
        batch an experiment cohort admits. With `commit`, call inside the batch's
        transaction: a cohort consumes its caps there. `counters`: the store's, unless a
        dry run layers uncommitted batches over them."""
        view = self.store if counters is None else counters
        ordinary = engine.decide_batch(ctx, inputs, view, self.subject_key)
        if self.sandbox is None:
            return ordinary, ordinary
        applied = self.sandbox.cohort_decision(
            ctx, inputs, ordinary, batch_id=batch_id, now=now, commit=commit
        )
        return ordinary, applied

    # ------------------------------------------------------------------ held batches
    def redecide_from_facts(
        self, engine: PolicyEngine, facts: Sequence[DecisionFact], on: date
    ) -> BatchDecision:
        """Decide stored records again, from their decision facts (the hub cannot open a
        held envelope): today's registry, today's counts, the same per-record verdict."""
        first = facts[0]
        exporter = self.store.get_participant(first.exporter)
        importer = self.store.get_participant(first.importer)
        ctx = self.context(
            exporter, importer, first.product, first.purpose, on, transit=first.transit
        )
        inputs = [
            RecordInput(
                findings=tuple(finding_of_row(row, "facts") for row in fact.findings),
                subjects=(),
                paths=fact.paths,
                subject_hashes=fact.subjects,
            )
            for fact in facts
        ]
        return engine.decide_batch(ctx, inputs, self.store, self.subject_key)

    # ------------------------------------------------------------------ lookups
    def _agreement(
        self, exporter: str, importer: str, product: str, purpose: str, on: date
    ) -> Agreement | None:
        return next(
            (
                a
                for a in self.store.list_agreements(exporter=exporter, importer=importer)
                if a.product == product and a.purpose == purpose and a.in_force(on)
            ),
            None,
        )

    def filings(self, exporter: str, importer: str, on: date) -> tuple[Filing, ...]:
        """The exporter's filings that cover this importer on `on`."""
        return tuple(
            f for f in self.store.list_filings(exporter=exporter) if f.covers(importer, on)
        )

    def _path_patterns(
        self, engine: PolicyEngine, origin: str, product: str
    ) -> tuple[re.Pattern[str], ...]:
        key = (engine.version, origin, product)
        patterns = self._patterns.get(key)
        if patterns is None:
            if len(self._patterns) > 256:
                self._patterns.clear()
            patterns = self._patterns[key] = engine.path_patterns(origin, product)
        return patterns


FIRST_TRANSFER_KIND = "flow.first-transfer"  # store document: exporter → importer → first day


def first_transfer(store: SandboxPort, exporter: str, importer: str) -> date | None:
    """The day data first crossed from `exporter` to `importer` (any product), if it has."""
    raw = store.get_sandbox_doc(FIRST_TRANSFER_KIND, f"{exporter}>{importer}")
    return date.fromisoformat(raw.decode()) if raw else None


def note_transfer(store: SandboxPort, exporter: str, importer: str, on: date) -> None:
    """Remember the first crossing of a flow (inside the committing batch's transaction)."""
    if first_transfer(store, exporter, importer) is None:
        store.put_sandbox_doc(
            FIRST_TRANSFER_KIND, f"{exporter}>{importer}", on.isoformat().encode()
        )


def _named_paths(record: Any, patterns: tuple[re.Pattern[str], ...]) -> tuple[str, ...]:
    return tuple(p for p, _ in iter_leaves(record) if any(pat.match(p) for pat in patterns))


def _participant(store: Store, participant_id: str, role: str) -> Participant:
    try:
        participant = store.get_participant(participant_id)
    except NotFoundError:
        raise NotFoundError(
            f"unknown {role} {participant_id!r}: register it with `silkgate participant add`"
        ) from None
    if role not in participant.roles:
        raise InputError(f"participant {participant_id!r} is not registered as an {role}")
    if not participant.active:
        raise InputError(f"participant {participant_id!r} is deactivated")
    return participant
