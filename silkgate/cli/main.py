"""The entry point: registers every command module on the root app and handles errors once.

Errors are one line on stderr and exit 1 (2 for a bad command line); with `--json`
anywhere on the command line they are one JSON object on stderr instead, shaped like the
API's error bodies: ``{"error": kind, "message": ...}``."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import msgspec
import typer
from rich.markup import escape

from silkgate.cli import (  # noqa: F401  (each registers its commands)
    batches,
    counters,
    flow,
    keys,
    products,
    registry,
    worker,
)
from silkgate.cli.common import app, err_console
from silkgate.errors import InputError, SilkgateError


def _kind(exc: SilkgateError) -> str:
    from silkgate.api.errors import error_kind

    return error_kind(exc)


def _report(as_json: bool, kind: str, message: str, **extra: Any) -> None:
    if as_json:
        body = {"error": kind, "message": message}
        body.update({k: v for k, v in extra.items() if v is not None})
        sys.stderr.buffer.write(msgspec.json.encode(body) + b"\n")
        sys.stderr.flush()
    else:
        err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    as_json = "--json" in args
    try:
        code = app(args=args, prog_name="silkgate", standalone_mode=False)
    except SilkgateError as exc:
        extra = {}
        if isinstance(exc, InputError):
            extra = {"record": exc.record, "path": exc.path}
        _report(as_json, _kind(exc), str(exc), **extra)
        raise SystemExit(1) from None
    except typer.Abort:
        raise SystemExit(130) from None
    except typer.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except typer.TyperException as exc:  # a bad command line (click's UsageError and kin)
        if as_json:
            _report(True, "usage", _usage_message(exc))
        else:
            exc.show()  # type: ignore[attr-defined]
        raise SystemExit(getattr(exc, "exit_code", 2)) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    if isinstance(code, int) and code:
        raise SystemExit(code)


def _usage_message(exc: Exception) -> str:
    format_message = getattr(exc, "format_message", None)
    return str(format_message() if callable(format_message) else exc)
