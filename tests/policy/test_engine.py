"""The engine on whole batches: thresholds, counting, year rollover, gates, transforms."""

from __future__ import annotations

from datetime import date

import pytest

from silkgate.counters import MemoryCounters, SubjectHasher, subject_hash
from silkgate.policy import BatchDecision, PolicyEngine
from silkgate.store import Store

from .helpers import DAY, KEY, context, record

ENGINE = PolicyEngine.default()


def seeded(pi: int = 0, sensitive: int = 0, year: int = DAY.year) -> MemoryCounters:
    counters = MemoryCounters()
    counters.prior[("exp", year, "pi")] = pi
    counters.prior[("exp", year, "sensitive_pi")] = sensitive
    return counters


def decide_one(
    ctx_kwargs: dict[str, object],
    counters: MemoryCounters,
    *types: str,
    subject: str = "phone:+8490000001",
) -> BatchDecision:
    ctx = context(**ctx_kwargs)  # type: ignore[arg-type]
    result = ENGINE.decide_batch(ctx, [record(*types, subject=subject)], counters, KEY)
    counters.commit("exp", ctx.on.year, result.counted)
    return result


def test_99999th_then_100000th_individual() -> None:
    counters = seeded(pi=99_998)
    first = decide_one({}, counters, "person_name", "phone", subject="phone:+841")
    assert first.decisions[0].outcome == "allow"
    assert first.decisions[0].facts["counts"]["pi"] == {"before": 99_998, "after": 99_999}
    second = decide_one({}, counters, "person_name", "phone", subject="phone:+842")
    assert second.decisions[0].outcome == "hold"
    assert second.decisions[0].rule_ids == ("cn.art8.pi",)
    assert second.counted == {}  # held records are not counted
    assert counters.subject_count("exp", DAY.year, "pi") == 99_999


def test_100000th_with_filed_standard_contract_is_allowed_and_counted() -> None:
    counters = seeded(pi=99_999)
    result = decide_one({"filings": ("standard_contract",)}, counters, "person_name", subject="p:1")
    assert result.decisions[0].outcome == "allow"
    assert counters.subject_count("exp", DAY.year, "pi") == 100_000


def test_filing_for_another_recipient_does_not_count() -> None:
    ctx = context(filings=("standard_contract",))
    other = tuple(
        f.__class__(
            **{**{k: getattr(f, k) for k in f.__struct_fields__}, "recipient": "someone-else"}
        )
        for f in ctx.filings
    )
    ctx = ctx.__class__(
        ctx.exporter, ctx.importer, ctx.product, ctx.purpose, ctx.agreement, other, ctx.on
    )
    result = ENGINE.decide_batch(
        ctx, [record("person_name", subject="p:1")], seeded(pi=99_999), KEY
    )
    assert result.decisions[0].outcome == "hold"


@pytest.mark.parametrize(
    ("pi", "sensitive", "types"),
    [(999_999, 0, ("person_name",)), (0, 10_000, ("national_id",))],
)
def test_security_assessment_thresholds_hold_even_with_contract(
    pi: int, sensitive: int, types: tuple[str, ...]
) -> None:
    result = decide_one({"filings": ("standard_contract",)}, seeded(pi, sensitive), *types)
    decision = result.decisions[0]
    assert decision.outcome == "hold"
    assert decision.facts["requires"] == ["security_assessment"]


def test_batch_is_decided_with_the_counts_it_would_reach() -> None:
    ctx = context()
    records = [record("person_name", subject=f"p:{i}") for i in range(3)]
    result = ENGINE.decide_batch(ctx, records, seeded(pi=99_998), KEY)
    assert [d.outcome for d in result.decisions] == ["hold"] * 3
    assert result.decisions[0].facts["counts"]["pi"] == {"before": 99_998, "after": 100_001}


def test_repeated_subject_counts_once_within_and_across_batches() -> None:
    counters = seeded()
    ctx = context()
    same = [record("phone", subject="phone:+84911") for _ in range(5)]
    result = ENGINE.decide_batch(ctx, same, counters, KEY)
    assert result.counted == {"pi": [subject_hash(KEY, "phone:+84911")]}
    counters.commit("exp", DAY.year, result.counted)
    again = ENGINE.decide_batch(ctx, same, counters, KEY)
    assert again.counted == {}
    assert again.decisions[0].facts["counts"]["pi"] == {"before": 1, "after": 1}


def test_exempt_transfers_are_not_counted() -> None:
    counters = seeded()
    for purpose in ("contract_performance", "hr_management", "emergency"):
        result = decide_one({"purpose": purpose}, counters, "person_name", "national_id")
        assert result.decisions[0].outcome == "allow"
        assert result.counted == {}
        assert result.decisions[0].facts["counted_toward_thresholds"] is False
    assert counters.subject_count("exp", DAY.year, "pi") == 0


def test_year_rollover_restarts_counts() -> None:
    counters = seeded(pi=99_999, year=2026)
    december = decide_one({"on": date(2026, 12, 31)}, counters, "person_name", subject="p:dec")
    assert december.decisions[0].outcome == "hold"
    january = decide_one({"on": date(2027, 1, 1)}, counters, "person_name", subject="p:dec")
    assert january.decisions[0].outcome == "allow"
    assert january.decisions[0].facts["year"] == 2027
    assert counters.subject_count("exp", 2027, "pi") == 1
    assert counters.subject_count("exp", 2026, "pi") == 99_999


def test_masked_field_no_longer_counts_as_pi() -> None:
    # B2B freight (an EPCIS event naming a person): counted, unlike a B2C parcel waybill.
    ctx = context(purpose="logistics_operations", product="logistics.epcis-event")
    result = ENGINE.decide_batch(
        ctx, [record("person_name", "national_id", subject="id:1")], seeded(), KEY
    )
    decision = result.decisions[0]
    assert decision.outcome == "allow_transformed"
    assert [(o.action, o.path) for o in decision.obligations] == [
        ("mask", "$['consignee']['id_number']")
    ]
    assert decision.facts["categories"] == ["pi", "sensitive_pi"]
    assert decision.facts["categories_after"] == ["pi"]
    assert set(result.counted) == {"pi"}


def test_no_agreement_is_denied() -> None:
    result = ENGINE.decide_batch(
        context(agreement=False), [record(), record("phone")], seeded(), KEY
    )
    assert [d.outcome for d in result.decisions] == ["deny", "deny"]
    assert result.decisions[0].rule_ids == ("gate.no-agreement",)
    assert result.counted == {}


def test_agreement_for_another_purpose_is_denied() -> None:
    ctx = context(purpose="marketing")
    ctx = ctx.__class__(
        ctx.exporter, ctx.importer, ctx.product, "analytics", ctx.agreement, (), ctx.on
    )
    result = ENGINE.decide_batch(ctx, [record()], seeded(), KEY)
    assert result.decisions[0].rule_ids == ("gate.agreement-purpose",)


def test_decisions_carry_version_citations_and_facts() -> None:
    result = decide_one(
        {"purpose": "contract_performance", "product": "ecommerce.order"}, seeded(), "phone"
    )
    decision = result.decisions[0]
    assert decision.policy_version == ENGINE.version == result.policy_version
    assert any("Art. 5(1)" in c for c in decision.citations)
    assert (
        decision.facts["types"] == ["phone"] and decision.facts["purpose"] == "contract_performance"
    )


def test_asean_origin_uses_its_pack() -> None:
    ctx = context(origin="VN", destination="CN", purpose="analytics")
    result = ENGINE.decide_batch(ctx, [record("phone", subject="p")], MemoryCounters(), KEY)
    assert result.decisions[0].rule_ids == ("vn.tia.hold",)
    assert result.counted == {}  # VN has no thresholds to count


def test_minimal_pack_warns() -> None:
    ctx = context(origin="MM", destination="CN", purpose="analytics")
    decision = ENGINE.decide_batch(ctx, [record("phone")], MemoryCounters(), KEY).decisions[0]
    assert decision.outcome == "allow"
    assert "not encoded" in decision.facts["warnings"][0]


def test_pseudonymized_pi_still_counts(tmp_path) -> None:  # type: ignore[no-untyped-def]
    pack = tmp_path / "pseudo.yaml"
    pack.write_text(
        "pack: pseudo\njurisdiction: CN\nversion: '1'\ndisclaimer: not legal advice\n"
        "sources: [{id: law, name: Law}]\ncounting: {categories: [pi]}\n"
        "rules:\n  - {id: none, when: {categories: {none: [pi]}}, outcome: allow, cite: [law]}\n"
        "  - {id: pseudo, outcome: allow_transformed, cite: [law],\n"
        "     transform: {action: pseudonymize, categories: [pi]}}\n"
    )
    engine = PolicyEngine.from_paths([pack])
    result = engine.decide_batch(context(), [record("phone", subject="p:1")], MemoryCounters(), KEY)
    assert result.decisions[0].outcome == "allow_transformed"
    assert result.decisions[0].obligations[0].action == "pseudonymize"
    assert result.decisions[0].facts["categories_after"] == ["pi"]
    assert list(result.counted) == ["pi"]


def test_subject_hasher_matches_hmac() -> None:
    hasher = SubjectHasher(KEY)
    for subject in ("phone:+84912345678", "email:a@b.vn", "name:张伟"):
        assert hasher(subject) == subject_hash(KEY, subject)


def test_counters_exact_with_the_store(store: Store) -> None:
    """decide_batch + commit of `counted` against a real store, batch after batch."""
    ctx = context(purpose="analytics")
    expected: set[str] = set()
    for batch in range(4):
        subjects = [f"phone:+84{(batch * 7 + i) % 20}" for i in range(10)]
        records = [record("phone", subject=s) for s in subjects]
        result = ENGINE.decide_batch(ctx, records, store, KEY)
        before = store.subject_count("exp", DAY.year, "pi")
        assert result.decisions[0].facts["counts"]["pi"]["before"] == before
        with store.transaction():
            for category, hashes in result.counted.items():
                store.add_subjects("exp", DAY.year, category, hashes)
        expected.update(subjects)
        assert store.subject_count("exp", DAY.year, "pi") == len(expected)
        assert result.decisions[0].facts["counts"]["pi"]["after"] == len(expected)
