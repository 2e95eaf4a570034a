"""Diff two versions of a pack: rules added, removed and changed, settings changed, and the
test cases (of either version) whose outcome or rules change."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from silkgate.policy.cases import case_engine, decide_given
from silkgate.policy.pack import Case, Pack


@dataclass
class CaseChange:
    name: str
    source: str
    old_outcome: str
    new_outcome: str
    old_rules: list[str]
    new_rules: list[str]


@dataclass
class PackDiff:
    old: str
    new: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)  # same rule, different position
    settings: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    other: list[str] = field(default_factory=list)  # categories, catalogue, negative list
    cases: list[CaseChange] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        parts = (self.added, self.removed, self.changed, self.moved, self.settings, self.other)
        return not any(parts) and not self.cases

    def as_json(self) -> dict[str, Any]:
        return {
            "old": self.old,
            "new": self.new,
            "rules": {
                "added": self.added,
                "removed": self.removed,
                "changed": self.changed,
                "moved": self.moved,
            },
            "settings": {k: {"old": o, "new": n} for k, (o, n) in self.settings.items()},
            "other": self.other,
            "cases_changed": [c.__dict__ for c in self.cases],
        }


def diff_packs(old: Pack, new: Pack, library: Sequence[Pack] = ()) -> PackDiff:
    out = PackDiff(old=f"{old.id}@{old.version}", new=f"{new.id}@{new.version}")
    old_rules = {r.id: r for r in old.rules}
    new_rules = {r.id: r for r in new.rules}
    out.added = [r for r in new_rules if r not in old_rules]
    out.removed = [r for r in old_rules if r not in new_rules]
    out.changed = [
        r for r in new_rules if r in old_rules and _raw(old_rules[r]) != _raw(new_rules[r])
    ]
    common_old = [r for r in old_rules if r in new_rules]
    common_new = [r for r in new_rules if r in old_rules]
    out.moved = [a for a, b in zip(common_old, common_new, strict=True) if a != b]
    keys = sorted(set(old.settings) | set(new.settings))
    out.settings = {
        k: (old.settings.get(k), new.settings.get(k))
        for k in keys
        if _plain(old.settings.get(k)) != _plain(new.settings.get(k))
    }
    for name in ("categories", "important", "negative_list", "counting_categories"):
        if repr(getattr(old, name)) != repr(getattr(new, name)):
            out.other.append(name)
    out.cases = _case_changes(old, new, library)
    return out


def _raw(rule: Any) -> str:
    return json.dumps(rule.raw, sort_keys=True, default=str)


def _plain(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _case_changes(old: Pack, new: Pack, library: Sequence[Pack]) -> list[CaseChange]:
    old_engine, new_engine = case_engine(old, library), case_engine(new, library)
    origin = (library_base(new, library) or new).jurisdiction
    seen: set[str] = set()
    changes = []
    for pack, case in [(old, c) for c in old.cases] + [(new, c) for c in new.cases]:
        given = {**pack.case_defaults, **case.given}
        key = _plain(given)
        if key in seen:
            continue
        seen.add(key)
        change = _compare_case(old_engine, new_engine, origin, given, case)
        if change is not None:
            changes.append(change)
    return changes


def library_base(pack: Pack, library: Sequence[Pack]) -> Pack | None:
    return next((p for p in library if p.id == pack.overlay_of), None) if pack.overlay_of else None


def _compare_case(
    old_engine: Any, new_engine: Any, origin: str, given: dict[str, Any], case: Case
) -> CaseChange | None:
    before, _ = decide_given(old_engine, origin, given)
    after, _ = decide_given(new_engine, origin, given)
    if before.outcome == after.outcome and before.rule_ids == after.rule_ids:
        return None
    return CaseChange(case.name, case.where, before.outcome, after.outcome,
                      list(before.rule_ids), list(after.rule_ids))  # fmt: skip


def diff_text(diff: PackDiff) -> str:
    lines = [f"{diff.old} -> {diff.new}"]
    if diff.empty:
        return lines[0] + ": no differences"
    lines += [f"+ rule {r}" for r in diff.added]
    lines += [f"- rule {r}" for r in diff.removed]
    lines += [f"~ rule {r}" for r in diff.changed]
    lines += [f"~ rule order: {r} moved" for r in diff.moved]
    lines += [f"~ setting {k}: {o!r} -> {n!r}" for k, (o, n) in diff.settings.items()]
    lines += [f"~ {name} changed" for name in diff.other]
    if diff.cases:
        lines.append(f"{len(diff.cases)} test case(s) change:")
        for c in diff.cases:
            lines.append(f"  {c.name} ({c.source}): {c.old_outcome} -> {c.new_outcome}")
            if c.old_rules != c.new_rules:
                lines.append(f"    rules {', '.join(c.old_rules)} -> {', '.join(c.new_rules)}")
    else:
        lines.append("no test case changes outcome")
    return "\n".join(lines)
