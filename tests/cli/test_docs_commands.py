"""Every `silkgate ...` command shown in README.md and docs/*.md parses against the real
command line (commands, options, option values), and the README's quickstart runs."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from pipeline.test_cli_flow import write_ndjson
from typer.main import get_command
from typer.testing import CliRunner

from silkgate.cli import app

ROOT = Path(__file__).parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
SYNOPSIS = re.compile(r"\[|\]|\||\.\.\.|…|^[A-Z][A-Z_]+$")
runner = CliRunner()


def shown_commands() -> Iterator[tuple[str, str]]:
    """(where, command line) for each `silkgate` command of a fenced block."""
    for doc in DOCS:
        for line in commands_in(doc.read_text("utf-8")):
            yield doc.name, line


def commands_in(text: str) -> Iterator[str]:
    """Each `silkgate` command in the fenced blocks of `text`: continuations and quoted
    strings spanning lines joined, `$ ` prompts dropped."""
    for block in FENCE.findall(text):
        lines = re.sub(r"\\\n\s*", " ", block).splitlines()
        while lines:
            line = lines.pop(0).strip().removeprefix("$ ")
            if not line.startswith("silkgate "):
                continue
            while lines:
                try:
                    _tokens(line)
                    break
                except ValueError:  # a quoted string goes on on the next line
                    line += " " + lines.pop(0).strip()
            yield line


def _tokens(line: str) -> list[str]:
    lexer = shlex.shlex(line, posix=True, punctuation_chars=False)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    return list(lexer)[1:]


COMMANDS = list(shown_commands())


def _resolve(tokens: list[str]) -> tuple[Any, list[str], list[str]]:
    """The click command the tokens name, its path, and the remaining arguments."""
    command: Any = get_command(app)
    path: list[str] = []
    rest = list(tokens)
    while hasattr(command, "commands") and rest and rest[0] in command.commands:
        path.append(rest[0])
        command = command.commands[rest.pop(0)]
    return command, path, rest


def test_the_docs_show_commands() -> None:
    assert len(COMMANDS) > 40
    assert {"README.md", "ledger.md", "sandbox.md"} <= {where for where, _ in COMMANDS}


@pytest.mark.parametrize(("where", "line"), COMMANDS, ids=[f"{w}:{c[:60]}" for w, c in COMMANDS])
def test_every_command_in_the_docs_parses(where: str, line: str) -> None:
    tokens = _tokens(line)
    command, path, rest = _resolve(tokens)
    assert path, f"{where}: no such command: {line}"
    assert not hasattr(command, "commands"), f"{where}: incomplete command: {line}"
    options = {o for p in command.params for o in (*p.opts, *p.secondary_opts)}
    for token in rest:
        name = token.strip("[]").split("=", 1)[0]
        if name.startswith("--"):
            assert name in options, f"{where}: {' '.join(path)} has no option {name}: {line}"
    if any(SYNOPSIS.search(t) for t in rest):
        return  # a synopsis (placeholders, optional parts): the names are checked above
    ctx = command.make_context(" ".join(["silkgate", *path]), rest, resilient_parsing=False)
    assert ctx.params is not None


def test_the_readme_quickstart_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The quickstart block as a new user types it, in an empty directory (`serve` parsed
    above, not started)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SILKGATE_DATA_DIR", raising=False)
    monkeypatch.delenv("SILKGATE_HUB", raising=False)
    write_ndjson(tmp_path / "waybills.ndjson", "logistics.waybill", "VN", 25)
    readme = (ROOT / "README.md").read_text("utf-8")
    quickstart = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    lines = list(commands_in(quickstart))
    ran = []
    for line in lines:
        tokens = _tokens(line)
        if tokens[0] == "serve":
            continue
        result = runner.invoke(app, tokens, catch_exceptions=False)
        assert result.exit_code == 0, f"{line}\n{result.output}"
        ran.append(tokens[0])
    assert ran[:1] == ["init"] and {"send", "inbox", "check"} <= set(ran)
    received = (tmp_path / "received.ndjson").read_bytes().splitlines()
    assert received and all("_silkgate" in orjson.loads(x) for x in received)
