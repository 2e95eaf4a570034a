"""Rule packs: parsing YAML into checked, immutable values.

Every problem found is reported as ``file:line: message``; all problems of a pack are
collected and raised together so that an author can fix them in one pass.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from silkgate.errors import PolicyError
from silkgate.paths import compile_pattern
from silkgate.policy.facts import (
    CATEGORIES,
    COUNTED_CATEGORIES,
    FACTS,
    FINDING_TYPES,
    OBLIGATION_ACTIONS,
    OPS,
    OUTCOMES,
    TYPE_CATEGORIES,
)
from silkgate.policy.yamlsrc import LDict, LList, load_yaml_file, where

PACK_KEYS = frozenset(
    {
        "pack", "title", "jurisdiction", "version", "disclaimer", "warning", "sample",
        "overlay_of", "sources", "settings", "categories", "important_data", "negative_list",
        "counting", "rules", "cases", "case_defaults", "duties",
    }
)  # fmt: skip
RULE_KEYS = frozenset(
    {
        "id", "title", "when", "outcome", "transform", "requires", "cite", "explain", "note",
        "warning", "duties",
    }
)  # fmt: skip
DUTY_KEYS = frozenset({"id", "title", "when", "after_rules", "due_days", "cite", "explain", "note"})
SOURCE_KEYS = frozenset({"id", "name", "checked", "note"})
CASE_KEYS = frozenset(
    {
        "destination", "product", "purpose", "sector", "ciio", "transit", "instrument",
        "filings", "types", "paths", "pi_before", "sensitive_pi_before", "subjects", "known",
        "agreement", "agreement_days", "tia_age_days", "date", "free_trade_zone", "related",
        "enterprise_size", "importer_authority", "first_transfer_days",
    }
)  # fmt: skip
FILING_CASE_KEYS = frozenset({"kind", "recipient", "age_days", "valid_until_days"})
EXPECT_KEYS = frozenset(
    {"outcome", "rules", "obligations", "counted", "requires", "duties", "due", "warnings"}
)


@dataclass(frozen=True)
class Ref:
    """A reference to a pack setting, written ``$name``."""

    name: str


@dataclass(frozen=True)
class Test:
    fact: str
    op: str
    value: Any  # tuple[str, ...] | bool | int | Ref
    where: str


@dataclass(frozen=True)
class Cond:
    """All `tests` hold and, if `any_of` is given, at least one of its conditions."""

    tests: tuple[Test, ...] = ()
    any_of: tuple[Cond, ...] = ()

    @property
    def unconditional(self) -> bool:
        return not self.tests and not self.any_of


@dataclass(frozen=True)
class Transform:
    action: str
    categories: tuple[str, ...]
    types: tuple[str, ...]


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    when: Cond
    outcome: str
    transform: Transform | None
    requires: tuple[str, ...]
    cite: tuple[tuple[str, str], ...]  # (source id, article)
    explain: str
    where: str
    raw: dict[str, Any]
    note: str = ""  # what is uncertain about the law, and which way the rule leans
    warning: str = ""  # shown in the facts of every decision this rule takes part in
    duties: tuple[str, ...] = ()  # duties attached when this rule fires


@dataclass(frozen=True)
class Duty:
    """Something the exporter must do that does not stop the transfer: a notice, a consent,
    an impact assessment kept on file, a dossier due by a date. Attached to the facts of a
    decision when its `when` holds on what crosses (after transforms) and, if
    `after_rules` is given, one of those rules fired; rules may also name duties."""

    id: str
    title: str
    when: Cond
    after_rules: tuple[str, ...]
    due_days: int | Ref | None  # due this many days after the first transfer
    cite: tuple[tuple[str, str], ...]
    explain: str
    note: str
    where: str


@dataclass(frozen=True)
class CatalogueEntry:
    product: str
    pattern: re.Pattern[str]
    path: str
    note: str


@dataclass(frozen=True)
class Scenario:
    sector: str
    name: str
    products: frozenset[str]
    purposes: frozenset[str]
    types: frozenset[str]
    paths: tuple[re.Pattern[str], ...]


@dataclass(frozen=True)
class Case:
    name: str
    given: dict[str, Any]
    expect: dict[str, Any]
    where: str


@dataclass(frozen=True)
class Pack:
    id: str
    title: str
    jurisdiction: str
    version: str
    disclaimer: str
    warning: str
    sample: bool
    overlay_of: str | None
    sources: dict[str, str]
    settings: dict[str, Any]
    categories: dict[str, Any]  # finding type -> category name or Ref
    important: tuple[CatalogueEntry, ...]
    negative_list: tuple[Scenario, ...]
    counting_categories: tuple[str, ...]
    counting_exempt: Cond | None
    rules: tuple[Rule, ...]
    cases: tuple[Case, ...]
    case_defaults: dict[str, Any]
    path: str
    digest: str
    settings_where: dict[str, str] = field(default_factory=dict)
    duties: tuple[Duty, ...] = ()
    sources_checked: dict[str, str] = field(default_factory=dict)  # source id -> date checked


class _Errors:
    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, source: str, message: str) -> None:
        self.items.append((source, message))

    def raise_if_any(self) -> None:
        if not self.items:
            return
        (src, msg), *rest = self.items
        raise PolicyError(msg + "".join(f"\n{s}: {m}" for s, m in rest), source=src)


def path_pattern(pattern: str) -> re.Pattern[str]:
    """A normalized path with ``[*]`` wildcards; matches the path and anything below it."""
    return compile_pattern(pattern, descendants=True)


def load_pack(path: str | Path) -> Pack:
    data = load_yaml_file(Path(path))
    return parse_pack(data, str(path))


def parse_pack(data: Any, file: str) -> Pack:
    errors = _Errors()
    if not isinstance(data, LDict):
        raise PolicyError("a rule pack must be a YAML mapping", source=f"{file}:1")
    _check_keys(data, PACK_KEYS, "pack", errors)
    pack_id = _req_str(data, "pack", errors)
    overlay_of = _opt_str(data, "overlay_of", errors)
    jurisdiction = _opt_str(data, "jurisdiction", errors) or ""
    if not jurisdiction and overlay_of is None:
        errors.add(
            where(data), "missing 'jurisdiction' (the origin whose exports this pack governs)"
        )
    disclaimer = _req_str(data, "disclaimer", errors)
    if disclaimer and "not legal advice" not in disclaimer.lower():
        errors.add(
            where(data, "disclaimer"), "the disclaimer must say the pack is not legal advice"
        )
    sources = _sources(data, errors)
    settings = data.get("settings") or LDict()
    if not isinstance(settings, dict):
        errors.add(where(data, "settings"), "'settings' must be a mapping of name: value")
        settings = LDict()
    rules = _rules(data, sources, errors)
    counting_cats, exempt = _counting(data, errors)
    pack = Pack(
        id=pack_id,
        title=_opt_str(data, "title", errors) or pack_id,
        jurisdiction=jurisdiction,
        version=str(data.get("version", "")) or _missing(data, "version", errors),
        disclaimer=disclaimer,
        warning=_opt_str(data, "warning", errors) or "",
        sample=bool(data.get("sample", False)),
        overlay_of=overlay_of,
        sources=sources,
        settings=dict(settings),
        categories=_categories(data, errors),
        important=_catalogue(data, errors),
        negative_list=_negative_list(data, errors),
        counting_categories=counting_cats,
        counting_exempt=exempt,
        rules=rules,
        cases=_cases(data, errors),
        case_defaults=dict(data.get("case_defaults") or {}),
        path=file,
        digest=_digest(data),
        settings_where={k: where(settings, k) for k in settings},
        duties=_duties(data, sources, rules, errors),
        sources_checked=_sources_checked(data),
    )
    errors.raise_if_any()
    return pack


def _digest(data: Any) -> str:
    text = json.dumps(data, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _missing(data: LDict, key: str, errors: _Errors) -> str:
    errors.add(where(data), f"missing '{key}'")
    return ""


def _check_keys(data: LDict, allowed: frozenset[str], what: str, errors: _Errors) -> None:
    for key in data:
        if key not in allowed:
            known = ", ".join(sorted(allowed))
            errors.add(where(data, key), f"unknown {what} key {key!r}; expected one of: {known}")


def _req_str(data: LDict, key: str, errors: _Errors) -> str:
    value = data.get(key)
    if value is None:
        errors.add(where(data), f"missing '{key}'")
        return ""
    if not isinstance(value, str):
        errors.add(where(data, key), f"'{key}' must be a string")
        return ""
    return value


def _opt_str(data: LDict, key: str, errors: _Errors) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        errors.add(where(data, key), f"'{key}' must be a string")
        return None
    return value


def _str_list(container: Any, key: str | int, value: Any, errors: _Errors) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    errors.add(where(container, key), "expected a string or a list of strings")
    return ()


def _sources(data: LDict, errors: _Errors) -> dict[str, str]:
    raw = data.get("sources")
    if not isinstance(raw, LList) or not raw:
        errors.add(where(data, "sources"), "'sources' must list the legal sources (id, name)")
        return {}
    out: dict[str, str] = {}
    for i, item in enumerate(raw):
        if not (isinstance(item, LDict) and isinstance(item.get("id"), str)):
            errors.add(where(raw, i), "each source needs an 'id' and a 'name'")
            continue
        _check_keys(item, SOURCE_KEYS, "source", errors)
        if not isinstance(item.get("name"), str):
            errors.add(where(raw, i), f"source {item['id']!r} needs a 'name'")
            continue
        out[item["id"]] = item["name"]
    return out


def _sources_checked(data: LDict) -> dict[str, str]:
    raw = data.get("sources")
    if not isinstance(raw, list):
        return {}
    return {
        str(item["id"]): str(item["checked"])
        for item in raw
        if isinstance(item, dict) and "id" in item and "checked" in item
    }


def _duties(
    data: LDict, sources: dict[str, str], rules: tuple[Rule, ...], errors: _Errors
) -> tuple[Duty, ...]:
    raw = data.get("duties")
    if raw is None:
        duties: tuple[Duty, ...] = ()
    elif not isinstance(raw, LList):
        errors.add(where(data, "duties"), "'duties' must be a list of {id, title, when, cite}")
        duties = ()
    else:
        duties = tuple(
            d for i, item in enumerate(raw) if (d := _duty(raw, i, item, sources, errors))
        )
    ids = {d.id for d in duties}
    for rule in rules:
        for name in rule.duties:
            if name not in ids:
                errors.add(rule.where, f"rule {rule.id!r} names unknown duty {name!r}")
    return duties


def _duty(
    parent: LList, i: int, item: Any, sources: dict[str, str], errors: _Errors
) -> Duty | None:
    src = where(parent, i)
    if not isinstance(item, LDict) or not isinstance(item.get("id"), str):
        errors.add(src, "a duty must be a mapping with id, title, cite")
        return None
    _check_keys(item, DUTY_KEYS, "duty", errors)
    duty_id = str(item["id"])
    when = item.get("when")
    due = item.get("due_days")
    due_days: int | Ref | None = None
    if isinstance(due, str) and due.startswith("$"):
        due_days = Ref(due[1:])
    elif isinstance(due, int) and not isinstance(due, bool):
        due_days = due
    elif due is not None:
        errors.add(
            where(item, "due_days"), f"duty {duty_id!r}: due_days takes a number or $setting"
        )
    return Duty(
        id=duty_id,
        title=str(item.get("title", duty_id)),
        when=parse_cond(when, item, "when", errors) if when is not None else Cond(),
        after_rules=_str_list(item, "after_rules", item.get("after_rules", []), errors),
        due_days=due_days,
        cite=_cites(item, duty_id, sources, errors),
        explain=str(item.get("explain", "")).strip(),
        note=str(item.get("note", "")).strip(),
        where=src,
    )


def _categories(data: LDict, errors: _Errors) -> dict[str, Any]:
    raw = data.get("categories") or LDict()
    out: dict[str, Any] = {}
    if not isinstance(raw, LDict):
        errors.add(
            where(data, "categories"), "'categories' maps finding type -> pi|sensitive_pi|none"
        )
        return out
    for ftype, cat in raw.items():
        if ftype not in FINDING_TYPES:
            errors.add(
                where(raw, ftype),
                f"unknown finding type {ftype!r}; known: {', '.join(FINDING_TYPES)}",
            )
        elif isinstance(cat, str) and cat.startswith("$"):
            out[ftype] = Ref(cat[1:])
        elif cat not in TYPE_CATEGORIES:
            errors.add(
                where(raw, ftype),
                f"category of {ftype!r} must be one of {TYPE_CATEGORIES} or a $setting",
            )
        else:
            out[ftype] = cat
    return out


def _catalogue(data: LDict, errors: _Errors) -> tuple[CatalogueEntry, ...]:
    raw = data.get("important_data") or LList()
    out: list[CatalogueEntry] = []
    if not isinstance(raw, list):
        errors.add(
            where(data, "important_data"), "'important_data' must be a list of {product, path}"
        )
        return ()
    for i, item in enumerate(raw):
        ok = isinstance(item, dict) and isinstance(item.get("product"), str)
        path = item.get("path") if isinstance(item, dict) else None
        if not ok or not isinstance(path, str) or not path.startswith("$"):
            errors.add(
                where(raw, i), "catalogue entries need 'product' and a normalized 'path' ($[...])"
            )
            continue
        note = str(item.get("note", ""))
        out.append(CatalogueEntry(item["product"], path_pattern(path), path, note))
    return tuple(out)


def _negative_list(data: LDict, errors: _Errors) -> tuple[Scenario, ...]:
    raw = data.get("negative_list")
    if raw is None:
        return ()
    if not isinstance(raw, LDict):
        errors.add(where(data, "negative_list"), "'negative_list' maps sector -> scenario -> entry")
        return ()
    out: list[Scenario] = []
    for sector, scenarios in raw.items():
        if not isinstance(scenarios, LDict):
            errors.add(where(raw, sector), f"sector {sector!r} must map scenario names to entries")
            continue
        for name, entry in scenarios.items():
            scenario = _scenario(sector, name, entry, scenarios, errors)
            if scenario is not None:
                out.append(scenario)
    return tuple(out)


def _scenario(
    sector: str, name: str, entry: Any, parent: LDict, errors: _Errors
) -> Scenario | None:
    if not isinstance(entry, LDict) or "fields" not in entry:
        errors.add(
            where(parent, name),
            f"scenario {name!r} needs 'fields' (and optional products, purposes)",
        )
        return None
    fields = _str_list(entry, "fields", entry["fields"], errors)
    types = frozenset(f for f in fields if not f.startswith("$"))
    for bad in sorted(types - set(FINDING_TYPES)):
        errors.add(where(entry, "fields"), f"unknown finding type {bad!r} in negative list")
    return Scenario(
        sector=sector,
        name=name,
        products=frozenset(_str_list(entry, "products", entry.get("products", []), errors)),
        purposes=frozenset(_str_list(entry, "purposes", entry.get("purposes", []), errors)),
        types=types,
        paths=tuple(path_pattern(f) for f in fields if f.startswith("$")),
    )


def _counting(data: LDict, errors: _Errors) -> tuple[tuple[str, ...], Cond | None]:
    raw = data.get("counting")
    if raw is None:
        return (), None
    if not isinstance(raw, LDict):
        errors.add(
            where(data, "counting"), "'counting' needs 'categories' and optional 'exempt_when'"
        )
        return (), None
    cats = _str_list(raw, "categories", raw.get("categories", []), errors)
    for cat in cats:
        if cat not in COUNTED_CATEGORIES:
            errors.add(
                where(raw, "categories"), f"cannot count {cat!r}; countable: {COUNTED_CATEGORIES}"
            )
    exempt = raw.get("exempt_when")
    cond = parse_cond(exempt, raw, "exempt_when", errors) if exempt is not None else None
    return cats, cond


def _rules(data: LDict, sources: dict[str, str], errors: _Errors) -> tuple[Rule, ...]:
    raw = data.get("rules")
    if not isinstance(raw, LList) or not raw:
        errors.add(where(data, "rules"), "'rules' must be a non-empty list")
        return ()
    out: list[Rule] = []
    seen: dict[str, str] = {}
    catch_all: Rule | None = None
    for i, item in enumerate(raw):
        rule = _rule(raw, i, item, sources, errors)
        if rule is None:
            continue
        if rule.id in seen:
            errors.add(rule.where, f"duplicate rule id {rule.id!r} (first at {seen[rule.id]})")
        seen.setdefault(rule.id, rule.where)
        if catch_all is not None:
            errors.add(
                rule.where,
                f"rule {rule.id!r} is unreachable: rule {catch_all.id!r} at {catch_all.where} "
                "has no condition and matches everything",
            )
        elif rule.when.unconditional:
            catch_all = rule
        out.append(rule)
    return tuple(out)


def _rule(
    parent: LList, i: int, item: Any, sources: dict[str, str], errors: _Errors
) -> Rule | None:
    src = where(parent, i)
    if not isinstance(item, LDict):
        errors.add(src, "a rule must be a mapping with id, when, outcome, cite")
        return None
    _check_keys(item, RULE_KEYS, "rule", errors)
    rule_id = item.get("id")
    if not isinstance(rule_id, str) or not rule_id:
        errors.add(src, "rule without an 'id'")
        return None
    outcome = item.get("outcome")
    if outcome not in OUTCOMES:
        errors.add(where(item, "outcome"), f"rule {rule_id!r}: outcome must be one of {OUTCOMES}")
    when = item.get("when")
    cond = parse_cond(when, item, "when", errors) if when is not None else Cond()
    transform = _transform(item, rule_id, errors)
    if outcome == "allow_transformed" and transform is None:
        errors.add(src, f"rule {rule_id!r}: allow_transformed needs a 'transform'")
    cites = _cites(item, rule_id, sources, errors)
    return Rule(
        id=rule_id,
        title=str(item.get("title", rule_id)),
        when=cond,
        outcome=str(outcome),
        transform=transform,
        requires=_str_list(item, "requires", item.get("requires", []), errors),
        cite=cites,
        explain=str(item.get("explain", "")).strip(),
        where=src,
        raw=dict(item),
        note=str(item.get("note", "")).strip(),
        warning=str(item.get("warning", "")).strip(),
        duties=_str_list(item, "duties", item.get("duties", []), errors),
    )


def _cites(
    item: LDict, rule_id: str, sources: dict[str, str], errors: _Errors
) -> tuple[tuple[str, str], ...]:
    raw = item.get("cite")
    if raw is None:
        errors.add(where(item), f"rule {rule_id!r} needs a 'cite' (source id and article)")
        return ()
    out: list[tuple[str, str]] = []
    for text in _str_list(item, "cite", raw, errors):
        source, _, article = text.partition(" ")
        if source not in sources:
            errors.add(where(item, "cite"), f"rule {rule_id!r} cites unknown source {source!r}")
        out.append((source, article.strip()))
    return tuple(out)


def _transform(item: LDict, rule_id: str, errors: _Errors) -> Transform | None:
    raw = item.get("transform")
    if raw is None:
        return None
    if not isinstance(raw, LDict) or raw.get("action") not in OBLIGATION_ACTIONS:
        errors.add(
            where(item, "transform"),
            f"rule {rule_id!r}: transform needs action in {OBLIGATION_ACTIONS}",
        )
        return None
    cats = _str_list(raw, "categories", raw.get("categories", []), errors)
    types = _str_list(raw, "types", raw.get("types", []), errors)
    for cat in cats:
        if cat not in ("pi", "sensitive_pi"):
            errors.add(where(raw, "categories"), f"cannot transform category {cat!r}")
    for ftype in types:
        if ftype not in FINDING_TYPES:
            errors.add(where(raw, "types"), f"unknown finding type {ftype!r}")
    if not cats and not types:
        errors.add(where(raw), f"rule {rule_id!r}: transform names no categories or types")
    return Transform(str(raw["action"]), cats, types)


def parse_cond(raw: Any, parent: Any, key: str | int, errors: _Errors) -> Cond:
    """Parse a condition mapping: fact -> test, plus optional ``any_of: [conditions]``."""
    if not isinstance(raw, LDict):
        errors.add(where(parent, key), "a condition must be a mapping of fact: test")
        return Cond()
    tests: list[Test] = []
    any_of: list[Cond] = []
    for fact, value in raw.items():
        if fact == "any_of":
            if not isinstance(value, LList) or not value:
                errors.add(where(raw, fact), "'any_of' must be a non-empty list of conditions")
                continue
            any_of.extend(parse_cond(v, value, i, errors) for i, v in enumerate(value))
        elif fact not in FACTS:
            errors.add(
                where(raw, fact), f"unknown fact {fact!r}; known: {', '.join(FACTS)}, any_of"
            )
        else:
            tests.extend(_tests(fact, value, where(raw, fact), errors))
    return Cond(tuple(tests), tuple(any_of))


def _tests(fact: str, value: Any, src: str, errors: _Errors) -> list[Test]:
    kind = FACTS[fact][0]
    if isinstance(value, str) and value.startswith("$"):
        op = {"enum": "in", "text": "in", "bool": "is", "set": "any", "int": "eq"}[kind]
        return [Test(fact, op, Ref(value[1:]), src)]
    if kind == "bool":
        if not isinstance(value, bool):
            errors.add(src, f"malformed condition: {fact} takes true or false, got {value!r}")
        return [Test(fact, "is", bool(value), src)]
    if kind in ("enum", "text") and isinstance(value, (str, list)):
        return [Test(fact, "in", _operand(value), src)]
    if kind == "set" and isinstance(value, list):
        return [Test(fact, "any", _operand(value), src)]
    if kind == "int" and isinstance(value, int) and not isinstance(value, bool):
        return [Test(fact, "eq", value, src)]
    if not isinstance(value, dict) or not value:
        errors.add(src, f"malformed condition on {fact!r}: expected one of {sorted(OPS[kind])}")
        return []
    out = []
    for op, operand in value.items():
        if op not in OPS[kind]:
            errors.add(
                src, f"malformed condition: {fact} does not support {op!r}; use {sorted(OPS[kind])}"
            )
            continue
        out.append(Test(fact, op, _operand(operand), src))
    return out


def _operand(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("$"):
        return Ref(value[1:])
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(value)
    return value


def _cases(data: LDict, errors: _Errors) -> tuple[Case, ...]:
    raw = data.get("cases") or LList()
    out: list[Case] = []
    if not isinstance(raw, list):
        errors.add(where(data, "cases"), "'cases' must be a list of {name, given, expect}")
        return ()
    for i, item in enumerate(raw):
        src = where(raw, i)
        if not isinstance(item, LDict) or not isinstance(item.get("expect"), LDict):
            errors.add(src, "a case needs 'name', 'given' and 'expect'")
            continue
        given = item.get("given") or LDict()
        _check_keys(given, CASE_KEYS, "case fact", errors)
        for j, filing in enumerate(given.get("filings") or []):
            if isinstance(filing, LDict):
                _check_keys(filing, FILING_CASE_KEYS, "case filing", errors)
            elif not isinstance(filing, str):
                errors.add(where(given, "filings"), f"filing {j + 1}: a kind or {{kind, ...}}")
        _check_keys(item["expect"], EXPECT_KEYS, "expectation", errors)
        if item["expect"].get("outcome") not in OUTCOMES:
            errors.add(
                where(item["expect"], "outcome"), f"expected outcome must be one of {OUTCOMES}"
            )
        out.append(
            Case(str(item.get("name", f"case {i + 1}")), dict(given), dict(item["expect"]), src)
        )
    return tuple(out)


__all__ = [
    "CATEGORIES",
    "Case",
    "Cond",
    "Duty",
    "Pack",
    "Ref",
    "Rule",
    "Test",
    "load_pack",
    "parse_pack",
]
