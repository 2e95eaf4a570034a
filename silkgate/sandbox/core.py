"""The sandbox as the pipeline sees it, inside the batch's store transaction.

- `active_engine()` is the answer to "which engine is live": the lifecycle's active
  versions over the hub's base engine (shipped packs + configured overlays). The pipeline
  decides once, with it (silkgate.flow.decide).
- `cohort_decision(...)`: an experiment cohort in scope decides the batch with its overlay
  instead, if its caps allow (they are consumed only with `commit`).
- `observe(...)`, after the decision: every shadow version is evaluated on the same batch,
  and the batch's decision facts are written. Observers never change the decision.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from silkgate.clock import Clock
from silkgate.errors import SilkgateError
from silkgate.ledger import TransparencyLog
from silkgate.model import Batch
from silkgate.policy import BatchContext, BatchDecision, Pack, PolicyEngine, RecordInput
from silkgate.sandbox.cohorts import CohortManager, apply_cohorts
from silkgate.sandbox.facts import facts_for_batch
from silkgate.sandbox.lifecycle import PolicyLifecycle, generation
from silkgate.sandbox.packs import engine_with, pack_from_text
from silkgate.sandbox.shadow import evaluate_shadow, note_failure
from silkgate.store.base import Store


@dataclass
class Engines:
    """The engines of one lifecycle generation."""

    generation: int
    active: PolicyEngine | None  # None: the pipeline's own engine decides
    shadows: dict[str, PolicyEngine]  # pack@version -> engine
    cohorts: dict[str, PolicyEngine]  # experiment id -> engine with its overlay


@dataclass
class Sandbox:
    store: Store
    log: TransparencyLog
    clock: Clock
    subject_key: bytes
    base: PolicyEngine  # the engine the hub was opened with (shipped packs)
    record_facts: bool = True
    lifecycle: PolicyLifecycle = field(init=False)
    cohorts: CohortManager = field(init=False)
    _engines: Engines | None = field(default=None, init=False)
    _pins: threading.local = field(default_factory=threading.local, init=False)

    def __post_init__(self) -> None:
        self.lifecycle = PolicyLifecycle(self.store, self.log, self.clock, self.check_pack)
        self.cohorts = CohortManager(self.store, self.log, self.clock, self.check_pack)

    def check_pack(self, pack: Pack) -> None:
        """Raises PolicyError unless `pack` compiles together with the active packs."""
        engine_with(self.active_engine(), [pack])

    # ------------------------------------------------------------------ engines
    def engines(self) -> Engines:
        """The engines for the stored lifecycle and cohorts (rebuilt when they change);
        inside `pinned`, those it read once."""
        pinned: Engines | None = getattr(self._pins, "engines", None)
        if pinned is not None:
            return pinned
        gen = generation(self.store)
        if self._engines is None or self._engines.generation != gen:
            self._engines = self._build(gen)
        return self._engines

    @contextmanager
    def pinned(self) -> Iterator[Engines]:
        """For one batch inside its transaction (this thread only): the generation is read
        once, and the cohorts' decision and the observers use the same engines. The read
        holds the generation (shared) until the transaction ends, so it cannot change."""
        self._pins.engines = engines = self.engines()
        try:
            yield engines
        finally:
            self._pins.engines = None

    def active_engine(self) -> PolicyEngine:
        return self.engines().active or self.base

    def _build(self, gen: int) -> Engines:
        active_versions = self.lifecycle.versions(state="active")
        active = engine_with(self.base, [v.pack() for v in active_versions])
        shadows = {
            v.key: engine_with(active, [v.pack()]) for v in self.lifecycle.versions(state="shadow")
        }
        cohorts = {
            c.id: engine_with(active, [_overlay(c.spec.overlay_yaml, c.id)])
            for c in self.cohorts.all()
            if c.state == "active"
        }
        return Engines(gen, active if active_versions else None, shadows, cohorts)

    # ------------------------------------------------------------------ per batch
    def cohort_decision(
        self,
        ctx: BatchContext,
        inputs: Sequence[RecordInput],
        ordinary: BatchDecision,
        *,
        batch_id: str,
        now: datetime,
        commit: bool,
    ) -> BatchDecision:
        engines = self.engines()
        if not engines.cohorts:
            return ordinary
        return apply_cohorts(
            self.store, self.log, engines.cohorts, ctx, inputs, ordinary, batch_id,
            self.subject_key, now, commit=commit,
        )  # fmt: skip

    def observe(
        self,
        batch: Batch,
        ctx: BatchContext,
        inputs: Sequence[RecordInput],
        ordinary: BatchDecision,
        applied: BatchDecision,
        now: datetime,
    ) -> None:
        """Shadows compare with the live engine's decision; the facts record what applied."""
        for key, engine in self.engines().shadows.items():
            self._shadow(key, engine, ctx, inputs, ordinary, batch.id, now)
        if self.record_facts:
            self.store.put_facts(
                facts_for_batch(batch, ctx, inputs, applied, self.subject_key, now)
            )

    def _shadow(
        self,
        key: str,
        engine: PolicyEngine,
        ctx: BatchContext,
        inputs: Sequence[RecordInput],
        active: BatchDecision,
        batch_id: str,
        now: datetime,
    ) -> None:
        """A failing shadow must not stop live traffic: its writes are undone (savepoint)
        and the failure is counted in its diff."""
        try:
            with self.store.transaction():
                evaluate_shadow(
                    self.store, key, engine, ctx, inputs, active, batch_id, self.subject_key, now
                )
        except SilkgateError as exc:
            note_failure(self.store, key, f"batch {batch_id}: {exc}")


def _overlay(text: str, cohort_id: str) -> Pack:
    return pack_from_text(text, f"overlay of {cohort_id}")
