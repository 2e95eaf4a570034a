"""The layout keeps its promises: opening a hub or starting the CLI loads no analytics or demo
libraries, and every package says in its opening docstring what it owns."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import silkgate

HEAVY = ("faker", "duckdb", "pyarrow", "numpy", "silkgate.demo")


def test_opening_a_hub_and_the_cli_load_no_analytics() -> None:
    code = (
        "import sys, silkgate.hub, silkgate.cli, silkgate.api.app\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_every_package_says_what_it_owns() -> None:
    for info in pkgutil.walk_packages(silkgate.__path__, "silkgate."):
        if info.ispkg:
            module = importlib.import_module(info.name)
            assert (module.__doc__ or "").strip(), f"{info.name} has no opening docstring"
