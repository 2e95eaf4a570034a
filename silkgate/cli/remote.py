"""The options every command that acts on a hub shares: `--hub URL --key-file K` (over the
signed HTTP API, as the key file's participant) as an alternative to `--data-dir` (the
hub's own directory, on the hub's machine)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

HubUrl = Annotated[
    str,
    typer.Option(
        "--hub",
        envvar="SILKGATE_HUB",
        help="Act on this hub over its HTTP API (signed with --key-file) instead of --data-dir",
    ),
]
RemoteKeyFile = Annotated[
    Optional[Path],  # noqa: UP045 (typer needs Optional)
    typer.Option("--key-file", help="With --hub: your own key file (signs the requests)"),
]
