"""The regulatory sandbox: decision facts, the policy lifecycle, shadow evaluation, replay
over past facts, and capped experiment cohorts.

    sandbox = Sandbox(store, log, clock, subject_key, base_engine)   # built by the hub
    sandbox.lifecycle.propose(...); sandbox.lifecycle.transition(...)
    report = replay_engine(candidate, facts_table(store.iter_facts()))

Replay and the facts' columnar form (NumPy, pyarrow, DuckDB) are imported on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from silkgate.sandbox.cohorts import Cohort, CohortManager, CohortSpec
from silkgate.sandbox.core import Sandbox
from silkgate.sandbox.facts import facts_for_batch
from silkgate.sandbox.lifecycle import PolicyLifecycle, PolicyVersion, transition_message
from silkgate.sandbox.shadow import ShadowDiff

if TYPE_CHECKING:
    from silkgate.sandbox.analytics import FACT_SCHEMA, facts_table
    from silkgate.sandbox.replay import ReplayReport, replay_engine

_LAZY = {
    "FACT_SCHEMA": "silkgate.sandbox.analytics",
    "facts_table": "silkgate.sandbox.analytics",
    "ReplayReport": "silkgate.sandbox.replay",
    "replay_engine": "silkgate.sandbox.replay",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'silkgate.sandbox' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "FACT_SCHEMA",
    "Cohort",
    "CohortManager",
    "CohortSpec",
    "PolicyLifecycle",
    "PolicyVersion",
    "ReplayReport",
    "Sandbox",
    "ShadowDiff",
    "facts_for_batch",
    "facts_table",
    "replay_engine",
    "transition_message",
]
