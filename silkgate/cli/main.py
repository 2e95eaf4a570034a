"""The entry point: registers every command module on the root app and handles errors once.

Errors are one line on stderr and exit 1 (2 for a bad command line); with `--json`
anywhere on the command line they are one JSON object on stderr instead, shaped like the
API's error bodies: ``{"error": kind, "message": ...}``."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import click
import msgspec
from rich.markup import escape

from silkgate.cli import batches, counters, flow, products, registry  # noqa: F401  (register)
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
        err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False)


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
    except click.exceptions.Abort:
        raise SystemExit(130) from None
    except click.ClickException as exc:
        if as_json:
            _report(True, "usage", exc.format_message())
        else:
            exc.show()
        raise SystemExit(exc.exit_code) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None
    if isinstance(code, int) and code:
        raise SystemExit(code)
