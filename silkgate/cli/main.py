"""The entry point: registers every command module on the root app and handles errors once."""

from __future__ import annotations

from silkgate.cli import flow, registry, worker  # noqa: F401  (each registers its commands)
from silkgate.cli.common import app, err_console
from silkgate.errors import SilkgateError


def main() -> None:
    try:
        app()
    except SilkgateError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None
