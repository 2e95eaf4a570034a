"""What each party may see of a batch it may read (silkgate.api.authz decides whether).

A decision's facts hold the exporter's year-to-date counts of individuals (``counts``,
``counted``, ``counted_toward_thresholds``): they sum every importer's batches, so they are
the exporter's (and the regulator's) business, not the importer's. An importer sees only
what concerns its own batch."""

from __future__ import annotations

import msgspec

from silkgate.api.authz import Caller
from silkgate.model import BatchResult, Decision

EXPORTER_ONLY_FACTS = frozenset({"counts", "counted", "counted_toward_thresholds"})


def batch_view(caller: Caller, result: BatchResult) -> BatchResult:
    """`result` as `caller` may see it: whole for its exporter, regulators and operators;
    without the exporter-wide counters for anyone else (the importer)."""
    if caller.id == result.exporter or {"regulator", "operator"} & set(caller.roles):
        return result
    return msgspec.structs.replace(
        result, decisions=tuple(_without_counters(d) for d in result.decisions)
    )


def _without_counters(decision: Decision) -> Decision:
    facts = {k: v for k, v in decision.facts.items() if k not in EXPORTER_ONLY_FACTS}
    return msgspec.structs.replace(decision, facts=facts)
