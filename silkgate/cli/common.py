"""What every command module shares: the root app, the options, one JSON printer, one table
printer, and opening a hub. Command modules import this; nothing here imports them."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import msgspec
import typer
from rich.console import Console
from rich.table import Table

from silkgate.hub import Hub, open_hub

app = typer.Typer(
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="silkgate: a cross-border data gateway with a regulatory sandbox.",
)

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
    out = Table(title=title)
    for column in columns:
        out.add_column(column)
    for row in rows:
        out.add_row(*(str(v) if v is not None else "" for v in row))
    console.print(out)
