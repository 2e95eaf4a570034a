"""Broken packs are reported with file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from silkgate.errors import PolicyError
from silkgate.policy import PolicyEngine, load_pack

HEADER = """\
pack: broken
jurisdiction: CN
version: "1"
disclaimer: Not legal advice.
sources:
  - {id: law, name: Some Law}
settings:
  limit: 10
"""


def write(tmp_path: Path, rules: str, extra: str = "") -> Path:
    path = tmp_path / "broken.yaml"
    path.write_text(HEADER + extra + "rules:\n" + rules, encoding="utf-8")
    return path


def error_of(path: Path) -> str:
    with pytest.raises(PolicyError) as info:
        PolicyEngine.from_paths([path])
    return str(info.value)


def line_of(path: Path, needle: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


def test_unknown_finding_type_in_categories(tmp_path: Path) -> None:
    path = write(tmp_path, "  - {id: r1, outcome: allow, cite: [law]}\n",
                 extra="categories:\n  phone: pi\n  telepathy: pi\n")  # fmt: skip
    message = error_of(path)
    assert f"{path}:{line_of(path, 'telepathy')}: unknown finding type 'telepathy'" in message


def test_unknown_finding_type_in_condition(tmp_path: Path) -> None:
    path = write(tmp_path, "  - id: r1\n    when: {types: [phone, aura]}\n    outcome: allow\n"
                           "    cite: [law]\n")  # fmt: skip
    assert f"{path}:{line_of(path, 'aura')}: unknown value 'aura' for types" in error_of(path)


def test_unknown_fact(tmp_path: Path) -> None:
    path = write(tmp_path, "  - id: r1\n    when:\n      moon_phase: full\n    outcome: allow\n"
                           "    cite: [law]\n")  # fmt: skip
    assert f"{path}:{line_of(path, 'moon_phase')}: unknown fact 'moon_phase'" in error_of(path)


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ("{pi_after: {about: 3}}", "pi_after does not support 'about'"),
        ("{pi_after: {ge: lots}}", "needs a number"),
        ("{ciio: maybe}", "ciio takes true or false"),
        ("{categories: {any: [pi, secret]}}", "unknown value 'secret' for categories"),
        ("{pi_after: {ge: $nope}}", "unknown setting $nope"),
        ("[ciio]", "a condition must be a mapping"),
    ],
)
def test_malformed_condition(tmp_path: Path, when: str, expected: str) -> None:
    path = write(tmp_path, f"  - id: r1\n    when: {when}\n    outcome: allow\n    cite: [law]\n")
    message = error_of(path)
    assert f"{path}:{line_of(path, 'when:')}:" in message
    assert expected in message


def test_unreachable_rule(tmp_path: Path) -> None:
    rules = ("  - {id: catch-all, outcome: hold, cite: [law]}\n"
             "  - {id: never, when: {ciio: true}, outcome: allow, cite: [law]}\n")  # fmt: skip
    path = write(tmp_path, rules)
    message = error_of(path)
    assert f"{path}:{line_of(path, 'id: never')}: rule 'never' is unreachable" in message
    assert f"catch-all' at {path}:{line_of(path, 'catch-all')}" in message


def test_duplicate_rule_ids(tmp_path: Path) -> None:
    rules = ("  - {id: same, when: {ciio: true}, outcome: hold, cite: [law]}\n"
             "  - {id: same, when: {ciio: false}, outcome: allow, cite: [law]}\n")  # fmt: skip
    path = write(tmp_path, rules)
    second = (
        path.read_text()
        .splitlines()
        .index("  - {id: same, when: {ciio: false}, outcome: allow, cite: [law]}")
        + 1
    )
    assert f"{path}:{second}: duplicate rule id 'same'" in error_of(path)


def test_unknown_outcome_and_source(tmp_path: Path) -> None:
    path = write(tmp_path, "  - {id: r1, outcome: perhaps, cite: [gossip Art. 1]}\n")
    message = error_of(path)
    line = line_of(path, "id: r1")
    assert f"{path}:{line}: rule 'r1': outcome must be one of" in message
    assert f"{path}:{line}: rule 'r1' cites unknown source 'gossip'" in message


def test_all_errors_reported_together(tmp_path: Path) -> None:
    rules = ("  - {id: a, when: {moon: 1}, outcome: allow, cite: [law]}\n"
             "  - {id: b, when: {sun: 2}, outcome: allow, cite: [law]}\n")  # fmt: skip
    message = error_of(write(tmp_path, rules))
    assert "unknown fact 'moon'" in message and "unknown fact 'sun'" in message


def test_yaml_syntax_error(tmp_path: Path) -> None:
    path = write(tmp_path, "  - {id: r1, outcome: allow, cite: [law]\n")
    assert f"{path}:" in error_of(path) and "YAML syntax" in error_of(path)


def test_disclaimer_must_say_not_legal_advice(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(HEADER.replace("Not legal advice.", "Trust us.")
                    + "rules:\n  - {id: r, outcome: allow, cite: [law]}\n")  # fmt: skip
    with pytest.raises(PolicyError, match=r"p.yaml:4: the disclaimer must say"):
        load_pack(path)


def test_transform_needs_known_action(tmp_path: Path) -> None:
    rules = (
        "  - id: r\n    outcome: allow_transformed\n"
        "    transform: {action: shred, categories: [pi]}\n    cite: [law]\n"
    )
    path = write(tmp_path, rules)
    assert f"{path}:{line_of(path, 'transform:')}: rule 'r': transform needs action" in error_of(
        path
    )


def test_shipped_packs_lint_clean() -> None:
    PolicyEngine.default(overlays=["cn-pilot-zone-sample"])
