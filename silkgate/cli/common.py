"""What every command module shares: the root app, the options, one JSON printer, one table
printer, and opening a hub. Command modules import this; nothing here imports them."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import msgspec
import typer
from rich.console import Console
from rich.table import Table

import silkgate
from silkgate._native import STATUS, describe
from silkgate.hub import Hub, open_hub
from silkgate.model import OUTCOMES, Decision

app = typer.Typer(
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="silkgate: a cross-border data gateway with a regulatory sandbox.",
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"silkgate {silkgate.__version__}")
        typer.echo(describe(STATUS))
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """silkgate: a cross-border data gateway with a regulatory sandbox."""


console = Console()
err_console = Console(stderr=True)

DataDir = Annotated[
    Path,
    typer.Option("--data-dir", envvar="SILKGATE_DATA_DIR", help="Where the hub keeps its state."),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def print_json(value: Any) -> None:
    sys.stdout.buffer.write(msgspec.json.encode(value) + b"\n")
    sys.stdout.flush()


@contextmanager
def hub_at(data_dir: Path) -> Iterator[Hub]:
    hub = open_hub(data_dir)
    try:
        yield hub
    finally:
        hub.close()


def table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    """Ids are never truncated or broken: a column whose values are single words (ids,
    numbers) keeps its full width; the other columns wrap."""
    cells = [[str(v) if v is not None else "" for v in row] for row in rows]
    out = Table(title=title)
    for i, column in enumerate(columns):
        values = [row[i] for row in cells if i < len(row)]
        if values and all(" " not in v for v in values):
            width = max(len(v) for v in values)
            out.add_column(column, no_wrap=True, min_width=width, overflow="ignore")
        else:
            out.add_column(column, overflow="fold")
    for row in cells:
        out.add_row(*row)
    console.print(out)


def outcome_rule_rows(decisions: Iterable[Decision]) -> tuple[list[str], list[list[Any]]]:
    """Outcomes x rules: one row per rule (most records first) with its record count per
    outcome, and a last row of totals."""
    per_rule: dict[str, Counter[str]] = {}
    totals: Counter[str] = Counter()
    for decision in decisions:
        totals[decision.outcome] += 1
        for rule_id in decision.rule_ids or ("(no rule)",):
            per_rule.setdefault(rule_id, Counter())[decision.outcome] += 1
    ordered = sorted(per_rule.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
    rows = [[rule, *(c.get(o, 0) for o in OUTCOMES)] for rule, c in ordered]
    rows.append(["all records", *(totals.get(o, 0) for o in OUTCOMES)])
    return ["rule", *OUTCOMES], rows


def top_reasons(
    decisions: Iterable[Decision], outcomes: tuple[str, ...] = ("hold", "deny"), limit: int = 5
) -> list[tuple[str, int, str]]:
    """The rules behind the held and denied records: (rule id, records, first citation)."""
    counts: Counter[str] = Counter()
    cite: dict[str, str] = {}
    for decision in decisions:
        if decision.outcome not in outcomes:
            continue
        for rule_id in decision.rule_ids:
            counts[f"{decision.outcome} {rule_id}"] += 1
            if decision.citations:
                cite.setdefault(f"{decision.outcome} {rule_id}", decision.citations[0])
    return [(key, n, cite.get(key, "")) for key, n in counts.most_common(limit)]
