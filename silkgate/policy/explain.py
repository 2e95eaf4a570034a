"""A decision explained: the rules that fired, what they cite, and the facts they used."""

from __future__ import annotations

from typing import Any

from silkgate.model import Decision
from silkgate.policy.compile import CompiledRule
from silkgate.policy.engine import PolicyEngine

GATE_TITLES = {
    "gate.no-agreement": "No active agreement between exporter and importer (deny by default)",
    "gate.inactive-participant": "Exporter or importer is not active",
    "gate.no-pack": "No rule pack for the origin",
    "gate.agreement-not-in-force": "The agreement is not in force on this day",
    "gate.agreement-parties": "The agreement is between other parties",
    "gate.agreement-product": "The agreement covers another data product",
    "gate.agreement-purpose": "The agreement is for another purpose",
}


def find_rule(engine: PolicyEngine, rule_id: str) -> CompiledRule | None:
    for chain in engine.chains.values():
        for rule in chain.rules:
            if rule.id == rule_id:
                return rule
    return None


def explain_json(decision: Decision, engine: PolicyEngine) -> dict[str, Any]:
    rules: list[dict[str, Any]] = []
    for rule_id in decision.rule_ids:
        rule = find_rule(engine, rule_id)
        if rule is None:
            rules.append({"id": rule_id, "title": GATE_TITLES.get(rule_id, rule_id)})
            continue
        rules.append(
            {
                "id": rule.id,
                "pack": rule.pack,
                "title": rule.title,
                "outcome": rule.outcome,
                "citations": list(rule.citations),
                "explain": rule.explain,
                "note": rule.note,
                "source": rule.where,
            }
        )
    return {
        "outcome": decision.outcome,
        "rules": rules,
        "citations": list(decision.citations),
        "obligations": [
            {"action": o.action, "path": o.path, "finding_type": o.finding_type}
            for o in decision.obligations
        ],
        "facts": decision.facts,
        "policy_version": decision.policy_version,
    }


def explain_text(decision: Decision, engine: PolicyEngine) -> str:
    data = explain_json(decision, engine)
    lines = [f"Outcome: {decision.outcome}"]
    for i, rule in enumerate(data["rules"]):
        lead = "Because" if i == 0 else "then"
        where = f" ({rule['source']})" if "source" in rule else ""
        lines.append(f"{lead}: {rule['id']} - {rule['title']}{where}")
        if rule.get("explain"):
            lines.append(f"    {rule['explain']}")
        if rule.get("note"):
            lines.append(f"    note: {rule['note']}")
        for citation in rule.get("citations", []):
            lines.append(f"    cites {citation}")
    lines += [
        f"Apply: {o['action']} {o['path']} ({o['finding_type']})" for o in data["obligations"]
    ]
    lines += _fact_lines(decision.facts)
    lines.append(f"Policy version: {decision.policy_version}")
    return "\n".join(lines)


def _fact_lines(facts: dict[str, Any]) -> list[str]:
    out = []
    if "requires" in facts:
        out.append(f"Missing step: {' or '.join(facts['requires'])}")
    if "gate" in facts:
        out.append(f"Gate: {facts['gate']}")
    route = f"{facts.get('origin')} -> {facts.get('destination')}"
    out.append(f"Flow: {route}, {facts.get('product')}, purpose {facts.get('purpose')}")
    if "types" in facts:
        types = ", ".join(facts["types"]) or "none"
        cats = ", ".join(facts["categories"]) or "none"
        out.append(f"Found: {types} (categories: {cats})")
        if facts.get("categories_after") != facts.get("categories"):
            out.append(f"After transforms: {', '.join(facts['categories_after']) or 'no PI'}")
        filings = ", ".join(facts.get("filings", [])) or "none"
        out.append(f"On file: filings {filings}; instrument {facts.get('instrument')}")
        out.append(f"Exporter is CIIO: {facts.get('ciio')}; transit: {facts.get('transit')}")
    for category, c in facts.get("counts", {}).items():
        out.append(
            f"Individuals in {facts.get('year')} ({category}): {c['before']:,} -> {c['after']:,}"
        )
    if facts.get("counts") and not facts.get("counted_toward_thresholds", True):
        out.append("This transfer is exempt and not counted toward the thresholds.")
    for duty in facts.get("duties", []):
        due = f" (due {duty['due']})" if duty.get("due") else ""
        if "due" in duty and duty["due"] is None:
            due = " (due date unknown: the first transfer is not known)"
        cites = "; ".join(duty.get("citations", []))
        out.append(f"Duty: {duty['title']}{due}" + (f" [{cites}]" if cites else ""))
    out += [f"Warning: {w}" for w in facts.get("warnings", [])]
    return out
