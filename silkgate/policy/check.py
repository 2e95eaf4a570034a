"""Dry run: the decision each record would get, with nothing committed.

Used by ``silkgate check``. An agreement with the given instrument is assumed (the check is
about the law, not the registry); counters start at the prior counts given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol

from silkgate.classify.minors import minor_findings
from silkgate.counters import MemoryCounters, counting_year
from silkgate.model import Agreement, Decision, Filing, Finding, Participant
from silkgate.paths import iter_leaves
from silkgate.policy.engine import BatchContext, PolicyEngine, RecordInput

CHECK_KEY = b"silkgate-check-dry-run"
DEFAULT_PURPOSE = {
    "ecommerce.order": "contract_performance",
    "logistics.waybill": "logistics_operations",
    "logistics.epcis-event": "logistics_operations",
    "customs.declaration": "customs_clearance",
}


class Classified(Protocol):
    """What the classifier returns per record (RecordClassification fits)."""

    @property
    def findings(self) -> tuple[Finding, ...]: ...

    @property
    def subjects(self) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class CheckOptions:
    origin: str
    destination: str
    product: str
    on: date
    purpose: str | None = None  # None: the product's usual purpose (see DEFAULT_PURPOSE)
    prior_pi: int = 0
    prior_sensitive_pi: int = 0
    filings: tuple[str, ...] = ()  # filing kinds on file for this importer
    instrument: str = "other"
    ciio: bool = False
    transit: bool = False
    sector: str = "logistics"
    # Registry facts a hub would know (defaults: the stricter values).
    free_trade_zone: str = ""  # the exporter's free trade zone (CN pilot-zone overlays)
    related: bool = False  # exporter and importer belong to one corporate group (BCRs)
    enterprise_size: str = "unknown"
    foreign_authority: bool = False  # the importer is a foreign judicial/enforcement body
    first_transfer_days: int | None = None  # days since this flow first crossed (VN)

    @property
    def effective_purpose(self) -> str:
        return self.purpose or DEFAULT_PURPOSE.get(self.product, "other")


def check_context(opts: CheckOptions) -> BatchContext:
    exporter = Participant(
        id="check-exporter", name="exporter (dry run)", jurisdiction=opts.origin,  # type: ignore[arg-type]
        roles=("exporter",), ciio=opts.ciio, sector=opts.sector,
        free_trade_zone=opts.free_trade_zone, enterprise_size=opts.enterprise_size,  # type: ignore[arg-type]
        corporate_group="check-group" if opts.related else "",
    )  # fmt: skip
    importer = Participant(
        id="check-importer", name="importer (dry run)", jurisdiction=opts.destination,  # type: ignore[arg-type]
        roles=("importer",), foreign_authority=opts.foreign_authority,
        corporate_group="check-group" if opts.related else "",
    )  # fmt: skip
    purpose = opts.effective_purpose
    agreement = Agreement(
        id="check-agreement", exporter=exporter.id, importer=importer.id, product=opts.product,
        purpose=purpose, instrument=opts.instrument, valid_from=date(opts.on.year, 1, 1),  # type: ignore[arg-type]
    )  # fmt: skip
    filings = tuple(
        Filing(id=f"check-{k}", exporter=exporter.id, kind=k, recipient=importer.id,  # type: ignore[arg-type]
               valid_from=date(opts.on.year, 1, 1))
        for k in opts.filings
    )  # fmt: skip
    days = opts.first_transfer_days
    first = opts.on - timedelta(days=days) if days is not None else None
    return BatchContext(exporter, importer, opts.product, purpose, agreement, filings, opts.on,
                        transit=opts.transit, first_transfer=first)  # fmt: skip


def check_records(
    engine: PolicyEngine,
    classified: Sequence[Classified],
    opts: CheckOptions,
    *,
    paths: Sequence[tuple[str, ...]] | None = None,
    records: Sequence[Any] | None = None,
) -> list[Decision]:
    """One decision per record, the records decided as one batch, nothing committed.
    With the `records` themselves, children under 14 are found as on a hub (`minor`)."""
    ctx = check_context(opts)
    year = counting_year(opts.on)
    counters = MemoryCounters()
    counters.prior[(ctx.exporter.id, year, "pi")] = opts.prior_pi
    counters.prior[(ctx.exporter.id, year, "sensitive_pi")] = opts.prior_sensitive_pi
    inputs = [
        RecordInput(
            tuple(c.findings)
            + (minor_findings(records[i], c.findings, opts.on) if records is not None else ()),
            tuple(c.subjects),
            paths[i] if paths else (),
        )
        for i, c in enumerate(classified)
    ]
    return engine.decide_batch(ctx, inputs, counters, CHECK_KEY).decisions


def record_paths(record: object, prefix: str = "$") -> tuple[str, ...]:
    """Normalized paths of every leaf in a JSON value (for path-only catalogue entries)."""
    return tuple(sorted(path for path, _ in iter_leaves(record, prefix)))
