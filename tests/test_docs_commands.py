"""Every `silkgate …` command the docs show, and every one the code tells a user to run (in
error messages, help text and the console), names a command that exists, with options that
command has. Commands are resolved in the CLI itself (Typer's click tree), not run."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer

from silkgate.cli import app

ROOT = Path(__file__).parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
CODE = sorted(
    p for p in (ROOT / "silkgate").rglob("*") if p.suffix in (".py", ".js") and p.is_file()
)
CLI: Any = typer.main.get_command(app)

# Where a command ends on its line: a comment, a pipe, `&&`, a redirection.
_END = re.compile(r"\s(?:#|\||&&|>|2>)\s")
# A command named in code: in backticks or parentheses on one line, as a person would be told
# to run it (a JavaScript template literal, with `${`, is a message, not a command).
_IN_CODE = re.compile(r"`(silkgate [a-z][^`\n$]*)`|\((silkgate [a-z][^)\n\"]*)\)")
_PLACEHOLDER = re.compile(r"^[A-Z_]+$|[…<>{}$\[\]]|\.\.\.")


def _blocks(text: str) -> Iterator[tuple[int, str]]:
    """(line, command) for each `silkgate` line of a fenced block (continuations joined,
    a quoted argument over several lines joined) and each inline `silkgate …` span."""
    lines = text.splitlines()
    in_block = False
    i = 0
    while i < len(lines):
        line = lines[i]
        start = i + 1
        i += 1
        if line.strip().startswith("```"):
            in_block = not in_block
            continue
        if not in_block:
            yield from ((start, m.group(1)) for m in re.finditer(r"`(silkgate [^`]+)`", line))
            continue
        found = re.search(r"(?:^|\$ |&& |; )(silkgate\s.*)$", line.strip())
        if found is None:
            continue
        command = found.group(1)
        while i < len(lines) and (command.endswith("\\") or not _quotes_closed(command)):
            command = command.rstrip("\\") + " " + lines[i].strip()
            i += 1
        yield start, command


def _quotes_closed(command: str) -> bool:
    try:
        shlex.split(command)
    except ValueError:
        return False
    return True


def documented() -> list[tuple[str, str]]:
    out = []
    for path in DOCS:
        for line, command in _blocks(path.read_text("utf-8")):
            out.append((f"{path.name}:{line}", command))
    for path in CODE:
        text = path.read_text("utf-8")
        for match in _IN_CODE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            out.append((f"{path.relative_to(ROOT)}:{line}", match.group(1) or match.group(2)))
    return out


def _variants(words: list[str]) -> Iterator[list[str]]:
    """`participant|agreement list` stands for both commands."""
    for i, word in enumerate(words):
        if "|" in word and not word.startswith("-"):
            for choice in word.split("|"):
                yield from _variants([*words[:i], choice, *words[i + 1 :]])
            return
    yield words


def problems(command: str) -> list[str]:
    """What is wrong with one documented command line (nothing: an empty list)."""
    text = _END.split(command + " ")[0]
    try:
        words = shlex.split(text)[1:]
    except ValueError as exc:
        return [f"cannot be split into words: {exc}"]
    found = []
    for variant in _variants(words):
        node, path, rest = CLI, ["silkgate"], variant
        while hasattr(node, "commands") and rest and rest[0] in node.commands:
            node, path, rest = node.commands[rest[0]], [*path, rest[0]], rest[1:]
        named = " ".join(path)
        if hasattr(node, "commands"):
            if rest and re.fullmatch(r"[a-z][a-z-]*", rest[0]):
                found.append(f"{named} has no command {rest[0]!r}")
            continue  # a group named alone, or before a placeholder (`silkgate sandbox …`)
        options = {o for p in node.params for o in (*p.opts, *p.secondary_opts)} | {"--help"}
        for word in rest:
            name = word.split("=")[0]
            if name.startswith("--") and not _PLACEHOLDER.search(name) and name not in options:
                found.append(f"{named} has no option {name}")
    return found


CASES = documented()


def test_the_docs_and_the_code_name_many_commands() -> None:
    assert len(CASES) >= 200
    assert {where.split(":")[0] for where, _ in CASES} >= {"README.md", "api.md", "sandbox.md"}


@pytest.mark.parametrize(("where", "command"), CASES, ids=[w for w, _ in CASES])
def test_a_command_named_for_a_user_exists_with_its_options(where: str, command: str) -> None:
    assert problems(command) == [], f"{where}: {command}"


@pytest.mark.parametrize(
    ("command", "wrong"),
    [
        ("silkgate keys rotate", "has no command 'keys'"),
        ("silkgate participant add --nickname x", "has no option --nickname"),
        ("silkgate participant|agreement shout", "has no command 'shout'"),
        ('silkgate sandbox facts query "SELECT 1', "cannot be split"),
    ],
)
def test_the_check_finds_what_is_wrong(command: str, wrong: str) -> None:
    assert any(wrong in p for p in problems(command))


def test_a_quoted_argument_over_two_lines_is_one_command() -> None:
    text = '```sh\nsilkgate sandbox facts query "SELECT 1,\n  2" --facts f.parquet\n```\n'
    assert list(_blocks(text)) == [
        (2, 'silkgate sandbox facts query "SELECT 1, 2" --facts f.parquet')
    ]
