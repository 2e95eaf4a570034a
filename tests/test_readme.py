"""The README is checked against the code: every command it lists exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from silkgate.cli import app

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
runner = CliRunner()


def listed_commands() -> list[list[str]]:
    """`silkgate a b|c` rows of the CLI table -> [["a", "b"], ["a", "c"]]."""
    out: list[list[str]] = []
    for cell in re.findall(r"^\| `silkgate ([^`]+)`", README, flags=re.MULTILINE):
        words = [w for w in cell.replace("\\|", "|").split() if not w.startswith(("-", "F"))]
        head, *rest = words
        subs = rest[0].split("|") if rest and not rest[0].startswith(("…", "[")) else [""]
        out.extend([head, sub] if sub else [head] for sub in subs)
    return out


@pytest.mark.parametrize("command", listed_commands(), ids=" ".join)
def test_every_readme_command_exists(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output


def test_the_readme_lists_the_commands() -> None:
    assert len(listed_commands()) >= 25


def test_every_setting_is_documented_in_operations_md() -> None:
    import msgspec

    from silkgate.config import Settings

    operations = (Path(__file__).parent.parent / "docs" / "operations.md").read_text("utf-8")
    for field in msgspec.structs.fields(Settings):
        assert f"| `{field.name}` |" in operations, field.name
