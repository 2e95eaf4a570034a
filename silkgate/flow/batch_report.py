"""A batch explained: outcomes, the rules that fired (with titles and citations), the
reasons records were held or denied, the state of its envelopes and receipts, its ledger
index. Pure: the caller looks up the envelopes, receipts and rule titles."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime

import msgspec

from silkgate.model import OUTCOMES, BatchResult, Decision

GATE_PREFIX = "gate."  # the agreement gate's rule ids (deny by default)


class FiredRule(msgspec.Struct, frozen=True, kw_only=True):
    rule_id: str
    title: str
    records: int  # records whose decision names this rule
    outcomes: dict[str, int]  # of those records
    citations: list[str]


class EnvelopeState(msgspec.Struct, frozen=True, kw_only=True):
    envelope_id: str
    part: str  # "delivered" (allow, allow_transformed) or "held"
    state: str  # pending, delivered, acknowledged, held, released, rejected, expired...
    receipts: int  # importer-signed receipts for it


class BatchReport(msgspec.Struct, frozen=True, kw_only=True):
    batch_id: str
    exporter: str
    importer: str
    product: str
    purpose: str
    records: int
    outcomes: dict[str, int]
    rules: list[FiredRule]  # most records first
    reasons: dict[str, list[str]]  # hold/deny -> the titles of the rules behind them
    envelopes: list[EnvelopeState]
    ledger_index: int | None
    policy_version: str
    committed_at: datetime
    gate_denied: bool  # the whole batch was refused by the agreement gate


# rule id -> (title, citations); citations None when the rule is not in a pack (the
# agreement gate): its decisions' own citations are used.
Describe = Callable[[str], tuple[str, tuple[str, ...] | None]]


def fired_rules(decisions: Sequence[Decision], describe: Describe) -> list[FiredRule]:
    """Every rule named by the decisions, with how many records and which outcomes."""
    records: Counter[str] = Counter()
    outcomes: dict[str, Counter[str]] = {}
    seen_citations: dict[str, dict[str, None]] = {}
    for decision in decisions:
        for rule_id in decision.rule_ids:
            records[rule_id] += 1
            outcomes.setdefault(rule_id, Counter())[decision.outcome] += 1
            seen_citations.setdefault(rule_id, {}).update(dict.fromkeys(decision.citations))
    fired = []
    for rule_id, count in records.most_common():
        title, citations = describe(rule_id)
        fired.append(
            FiredRule(
                rule_id=rule_id,
                title=title,
                records=count,
                outcomes={o: n for o in OUTCOMES if (n := outcomes[rule_id].get(o, 0))},
                citations=list(citations if citations is not None else seen_citations[rule_id]),
            )
        )
    return fired


def is_gate_denied(result: BatchResult) -> bool:
    """True when every record was denied by the agreement gate (no rule pack ran)."""
    return bool(result.decisions) and all(
        d.outcome == "deny" and any(r.startswith(GATE_PREFIX) for r in d.rule_ids)
        for d in result.decisions
    )


def batch_report(
    result: BatchResult, envelopes: Sequence[EnvelopeState], describe: Describe
) -> BatchReport:
    rules = fired_rules(result.decisions, describe)
    reasons: dict[str, list[str]] = {}
    for outcome in ("hold", "deny"):
        titles = [f"{r.rule_id}: {r.title}" for r in rules if r.outcomes.get(outcome)]
        if titles:
            reasons[outcome] = titles
    return BatchReport(
        batch_id=result.batch_id,
        exporter=result.exporter,
        importer=result.importer,
        product=result.product,
        purpose=result.purpose,
        records=result.records,
        outcomes=result.outcomes,
        rules=rules,
        reasons=reasons,
        envelopes=list(envelopes),
        ledger_index=result.ledger_index,
        policy_version=result.policy_version,
        committed_at=result.committed_at,
        gate_denied=is_gate_denied(result),
    )


def hub_batch_report(hub: object, result: BatchResult) -> BatchReport:
    """The report with the hub's envelope states, receipts and the live engine's titles.
    `hub` is a silkgate.hub.Hub (typed loosely: this module stays import-light)."""
    from silkgate.errors import NotFoundError

    store = hub.store  # type: ignore[attr-defined]
    engine = hub.live_engine()  # type: ignore[attr-defined]
    receipts = Counter(r.envelope_id for r in store.list_receipts(batch_id=result.batch_id))
    states = []
    for part, envelope_id in (("delivered", result.envelope_id), ("held", result.held_id)):
        if envelope_id is None:
            continue
        try:
            state = str(store.get_envelope(envelope_id).state)
        except NotFoundError:
            state = "gone"
        states.append(
            EnvelopeState(
                envelope_id=envelope_id, part=part, state=state, receipts=receipts[envelope_id]
            )
        )

    return batch_report(result, states, rule_describer(engine))


def rule_describer(engine: object) -> Describe:
    """Titles and citations from `engine` (a PolicyEngine), the gate's titles otherwise."""
    from silkgate.policy.explain import GATE_TITLES, find_rule

    def describe(rule_id: str) -> tuple[str, tuple[str, ...] | None]:
        rule = find_rule(engine, rule_id)  # type: ignore[arg-type]
        if rule is None:
            return GATE_TITLES.get(rule_id, rule_id), None
        return rule.title, rule.citations

    return describe
