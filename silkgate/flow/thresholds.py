"""Distinct individuals per exporter and calendar year against the CN thresholds: pure
logic over the counters (store) and the live engine's chain settings, so the numbers shown
are the ones the engine applies (silkgate/packs/cn.yaml `settings`)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

# category -> (setting name, the procedure that applies from that many individuals)
THRESHOLDS: dict[str, tuple[tuple[str, str], ...]] = {
    "pi": (
        ("pi_contract_from", "standard contract, certification or assessment (Art. 5(4))"),
        ("pi_assessment_from", "security assessment (Art. 7(2))"),
    ),
    "sensitive_pi": (("sensitive_assessment_from", "security assessment (Art. 7(2))"),),
}


class Threshold(msgspec.Struct, frozen=True, kw_only=True):
    setting: str  # the chain setting it comes from
    at: int  # individuals from which the procedure applies
    procedure: str
    reached: bool


WARN_AT = 0.8  # warn from this share of the next threshold on


class CategoryCounter(msgspec.Struct, frozen=True, kw_only=True):
    category: str
    individuals: int
    thresholds: list[Threshold]
    next_threshold: int | None  # the lowest threshold not yet reached
    remaining: int | None  # individuals until next_threshold
    # "warning": at least warning_at individuals, close to next_threshold; else "reached"
    # when some threshold is reached; else "ok".
    level: str = "ok"
    warning_at: int | None = None  # the individuals from which next_threshold warns


class ExporterCounters(msgspec.Struct, frozen=True, kw_only=True):
    exporter: str
    year: int
    categories: list[CategoryCounter]


class CounterReport(msgspec.Struct, frozen=True, kw_only=True):
    year: int
    counters: list[ExporterCounters]
    total: int | None = None  # exporters in the whole report (the page is `counters`)


def category_counter(
    category: str, individuals: int, settings: Mapping[str, Any], warn_at: float = WARN_AT
) -> CategoryCounter:
    thresholds = [
        Threshold(setting=name, at=int(settings[name]), procedure=procedure,
                  reached=individuals >= int(settings[name]))
        for name, procedure in THRESHOLDS[category]
        if name in settings
    ]  # fmt: skip
    pending = sorted(t.at for t in thresholds if not t.reached)
    upcoming = pending[0] if pending else None
    warning_at = math.ceil(upcoming * warn_at) if upcoming is not None else None
    if warning_at is not None and individuals >= warning_at:
        level = "warning"
    elif any(t.reached for t in thresholds):
        level = "reached"
    else:
        level = "ok"
    return CategoryCounter(
        category=category,
        individuals=individuals,
        thresholds=thresholds,
        next_threshold=upcoming,
        remaining=upcoming - individuals if upcoming is not None else None,
        level=level,
        warning_at=warning_at,
    )


def counter_report(
    counts: Mapping[tuple[str, str], int],
    settings: Mapping[str, Mapping[str, Any]],
    year: int,
    exporters: Iterable[str],
    warn_at: float = WARN_AT,
) -> CounterReport:
    """One entry per exporter in `exporters` (sorted), zero where nothing was counted.
    `counts` is the store's (exporter, category) -> distinct subjects of `year`; `settings`
    the chain settings that apply to each exporter (its jurisdiction's; thresholds a chain
    does not set are left out)."""
    return CounterReport(
        year=year,
        counters=[
            ExporterCounters(
                exporter=exporter,
                year=year,
                categories=[
                    category_counter(
                        category,
                        counts.get((exporter, category), 0),
                        settings.get(exporter, {}),
                        warn_at,
                    )
                    for category in THRESHOLDS
                ],
            )
            for exporter in sorted(set(exporters))
        ],
    )


def hub_counter_report(
    store: Any,
    engine: Any,
    year: int,
    exporter: str | None = None,
    *,
    limit: int | None = None,
    offset: int = 0,
    warn_at: float = WARN_AT,
) -> CounterReport:
    """The report for one exporter, or for every registered exporter and every exporter
    counted in `year` (a shadow policy's what-if counters are left out), sorted by id, the
    page [offset, offset + limit) of them (all when `limit` is None); `total` counts them
    all. `store` is a silkgate Store, `engine` the live PolicyEngine (its chains' settings
    are the thresholds). The counts come from the store's running totals (one row per
    exporter and category), never from the subjects."""
    counts = {
        key: n for key, n in store.subject_counts(year=year).items()
        if not key[1].startswith("shadow:")
    }  # fmt: skip
    participants = {p.id: p for p in store.list_participants()}
    if exporter is not None:
        exporters = {exporter}
    else:
        exporters = {e for e, _ in counts} | {
            p.id for p in participants.values() if "exporter" in p.roles
        }
    ordered = sorted(exporters)
    page = ordered[offset:] if limit is None else ordered[offset : offset + limit]
    settings: dict[str, Mapping[str, Any]] = {}
    for name in page:
        known = participants.get(name)
        chain = engine.chains.get(known.jurisdiction) if known is not None else None
        settings[name] = chain.settings if chain is not None else {}
    report = counter_report(counts, settings, year, page, warn_at)
    return msgspec.structs.replace(report, total=len(ordered))
