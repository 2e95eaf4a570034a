"""Invariants of the shipped packs, checked over generated facts."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from silkgate.model import FINDING_TYPES, INSTRUMENTS, PURPOSES
from silkgate.policy import PolicyEngine
from silkgate.policy.cases import decide_given

from .helpers import STRICTNESS

ENGINE = PolicyEngine.default()
OVERLAY = PolicyEngine.default(overlays=["cn-pilot-zone-sample"])
ORIGINS = sorted(ENGINE.chains)
PRODUCTS = ["logistics.waybill", "ecommerce.order", "customs.declaration", "logistics.epcis-event"]
FILINGS = [
    "standard_contract",
    "certification",
    "security_assessment",
    "transfer_impact_assessment",
    "certified_bcr",
]

facts = st.fixed_dictionaries(
    {
        "destination": st.sampled_from(["VN", "CN", "SG", "TH"]),
        "product": st.sampled_from(PRODUCTS),
        "purpose": st.sampled_from(PURPOSES),
        "instrument": st.sampled_from(INSTRUMENTS),
        "ciio": st.booleans(),
        "transit": st.booleans(),
        "types": st.lists(st.sampled_from(FINDING_TYPES), unique=True, max_size=4),
        "filings": st.lists(st.sampled_from(FILINGS), unique=True, max_size=2),
        "pi_before": st.sampled_from([0, 5_000, 99_998, 99_999, 150_000, 999_999, 2_000_000]),
        "sensitive_pi_before": st.sampled_from([0, 9_999, 10_000, 50_000]),
        "tia_age_days": st.sampled_from([1, 1_095, 1_096, 4_000]),
        "related": st.booleans(),
        "enterprise_size": st.sampled_from(["unknown", "small", "large"]),
        "free_trade_zone": st.sampled_from(["", "sample-zone", "other-zone"]),
        "first_transfer_days": st.sampled_from([None, 0, 60, 61, 400]),
    }
)


def strictness(engine: PolicyEngine, origin: str, given_facts: dict[str, Any]) -> int:
    decision, _ = decide_given(engine, origin, given_facts)
    return STRICTNESS[decision.outcome]


@settings(max_examples=300, deadline=None)
@given(facts, st.sampled_from(ORIGINS), st.sampled_from(FILINGS))
def test_adding_a_filing_never_makes_an_outcome_stricter(
    f: dict[str, Any], origin: str, extra: str
) -> None:
    more = {**f, "filings": sorted({*f["filings"], extra})}
    assert strictness(ENGINE, origin, more) <= strictness(ENGINE, origin, f)


@settings(max_examples=200, deadline=None)
@given(facts, st.sampled_from(ORIGINS))
def test_more_individuals_counted_never_makes_an_outcome_laxer(
    f: dict[str, Any], origin: str
) -> None:
    more = {
        **f,
        "pi_before": f["pi_before"] + 1_000_000,
        "sensitive_pi_before": f["sensitive_pi_before"] + 20_000,
    }
    assert strictness(ENGINE, origin, more) >= strictness(ENGINE, origin, f)


@settings(max_examples=200, deadline=None)
@given(facts, st.sampled_from(ORIGINS))
def test_a_later_day_after_the_first_transfer_never_makes_an_outcome_laxer(
    f: dict[str, Any], origin: str
) -> None:
    later = {**f, "first_transfer_days": 10_000}
    assert strictness(ENGINE, origin, later) >= strictness(ENGINE, origin, f)


@settings(max_examples=200, deadline=None)
@given(facts, st.sampled_from(ORIGINS))
def test_leaving_the_zone_or_the_group_never_makes_an_outcome_laxer(
    f: dict[str, Any], origin: str
) -> None:
    outside = {**f, "free_trade_zone": "", "related": False, "enterprise_size": "unknown"}
    for engine in (ENGINE, OVERLAY):
        assert strictness(engine, origin, outside) >= strictness(engine, origin, f)


@settings(max_examples=200, deadline=None)
@given(facts)
def test_masking_all_pi_never_yields_hold_under_cn(f: dict[str, Any]) -> None:
    for engine in (ENGINE, OVERLAY):
        decision, counted = decide_given(engine, "CN", {**f, "types": []})
        assert decision.outcome == "allow"
        assert counted == {}


@settings(max_examples=200, deadline=None)
@given(facts, st.sampled_from(ORIGINS))
def test_every_decision_is_explained(f: dict[str, Any], origin: str) -> None:
    decision, _ = decide_given(ENGINE, origin, f)
    assert decision.rule_ids and decision.citations
    if decision.outcome == "allow_transformed":
        assert decision.obligations
    else:
        assert not decision.obligations
