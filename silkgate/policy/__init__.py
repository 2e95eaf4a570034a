"""Transfer policy: rule packs compiled once, decisions per record, with reasons.

engine = PolicyEngine.default()
result = engine.decide_batch(ctx, records, counters, subject_key)
"""

from silkgate.counters import CounterView
from silkgate.policy.engine import (
    BatchContext,
    BatchDecision,
    PolicyEngine,
    RecordInput,
    shipped_pack_paths,
)
from silkgate.policy.pack import Pack, load_pack

__all__ = [
    "BatchContext",
    "BatchDecision",
    "CounterView",
    "Pack",
    "PolicyEngine",
    "RecordInput",
    "load_pack",
    "shipped_pack_paths",
]
