"""The regulatory sandbox: decision facts, the policy lifecycle, shadow evaluation, replay
over past facts, and capped experiment cohorts.

    sandbox = Sandbox(store, log, clock, subject_key, base_engine)   # built by the hub
    sandbox.lifecycle.propose(...); sandbox.lifecycle.transition(...)
    report = replay(["candidate.yaml"], facts_table(store.iter_facts()))
"""

from silkgate.sandbox.cohorts import Cohort, CohortManager, CohortSpec
from silkgate.sandbox.core import Sandbox
from silkgate.sandbox.facts import FACT_SCHEMA, facts_for_batch, facts_table
from silkgate.sandbox.lifecycle import PolicyLifecycle, PolicyVersion, transition_message
from silkgate.sandbox.replay import ReplayReport, replay, replay_engine
from silkgate.sandbox.shadow import ShadowDiff

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
    "replay",
    "replay_engine",
    "transition_message",
]
