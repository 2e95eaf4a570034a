"""Every shipped pack's table of cases, one test per case."""

from __future__ import annotations

import pytest

from silkgate.policy import PolicyEngine, load_pack, shipped_pack_paths
from silkgate.policy.cases import CaseResult, case_engine, run_case
from silkgate.policy.pack import Case, Pack

LIBRARY = [load_pack(p) for p in shipped_pack_paths()]
ENGINES = {p.id: case_engine(p, LIBRARY) for p in LIBRARY}
CASES = [(pack, case) for pack in LIBRARY for case in pack.cases]


@pytest.mark.parametrize(("pack", "case"), CASES, ids=[f"{p.id}:{c.name}" for p, c in CASES])
def test_case(pack: Pack, case: Case) -> None:
    result: CaseResult = run_case(ENGINES[pack.id], pack, case)
    assert result.passed, f"{case.where}: {'; '.join(result.problems)}"


def test_at_least_150_cases() -> None:
    assert len(CASES) >= 150


def test_every_origin_has_a_pack() -> None:
    engine = PolicyEngine.default()
    assert sorted(engine.chains) == sorted(
        ["CN", "BN", "KH", "ID", "LA", "MY", "MM", "PH", "SG", "TH", "VN"]
    )


def test_every_pack_says_not_legal_advice_and_cites_sources() -> None:
    for pack in LIBRARY:
        assert "not legal advice" in pack.disclaimer.lower()
        assert pack.sources
        assert all(rule.cite for rule in pack.rules)


def test_sample_overlay_is_labelled_and_off_by_default() -> None:
    overlay = next(p for p in LIBRARY if p.id == "cn-pilot-zone-sample")
    assert overlay.sample and "SAMPLE" in overlay.title and "SAMPLE" in overlay.warning
    assert PolicyEngine.default().chains["CN"].packs == (next(p for p in LIBRARY if p.id == "cn"),)
    with_overlay = PolicyEngine.default(overlays=["cn-pilot-zone-sample"])
    assert [p.id for p in with_overlay.chains["CN"].packs] == ["cn-pilot-zone-sample", "cn"]
    assert with_overlay.version != PolicyEngine.default().version


def test_minimal_packs_warn() -> None:
    for pack_id in ("kh", "mm"):
        pack = next(p for p in LIBRARY if p.id == pack_id)
        assert "not encoded" in pack.warning
    # Brunei and Laos now encode their laws, and warn what is unverified.
    for pack_id in ("bn", "la"):
        pack = next(p for p in LIBRARY if p.id == pack_id)
        assert "not encoded" not in pack.warning and "unverified" in pack.warning
