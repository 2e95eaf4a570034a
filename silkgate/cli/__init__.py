"""The `silkgate` command line: one package, thin commands.

Each module parses options, calls one service of the library and prints with the shared
printers of `common`; `main` registers them all and is the one error handler. Every command
that prints results takes `--json`; everything that touches state takes `--data-dir`
(default ./silkgate-data, or $SILKGATE_DATA_DIR).
"""

from silkgate.cli.common import app
from silkgate.cli.main import main

__all__ = ["app", "main"]
