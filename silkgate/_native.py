"""Which modules run compiled, and the switch back to their Python source.

``pip install`` compiles the hot path (the classifier, the policy engine, decision facts)
with mypyc (setup.py; the source stays plain typed
Python). The compiled modules call each other directly, so they run compiled together or not
at all: when one of them no longer matches the source it was built from (an edited checkout
with an editable install), or when ``SILKGATE_PURE=1`` is set, every one of them is loaded
from its ``.py`` file instead. This module is imported before any of them and imports only
the standard library (setup.py reads it too).
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Literal

# The hot path (bench/classify_eval.py, bench/run.py; figures in docs/performance.md).
COMPILED_MODULES: tuple[str, ...] = (
    "silkgate.classify.checks",
    "silkgate.classify.classifier",
    "silkgate.classify.contexts",
    "silkgate.classify.detectors",
    "silkgate.classify.evidence",
    "silkgate.classify.keys",
    "silkgate.classify.lexmatch",
    "silkgate.classify.minors",
    "silkgate.classify.paths",
    "silkgate.classify.phones",
    "silkgate.classify.profile",
    "silkgate.classify.registry",
    "silkgate.classify.subjects",
    "silkgate.classify.text",
    "silkgate.counters",
    "silkgate.flow.decide",
    "silkgate.policy.compile",
    "silkgate.policy.engine",
    "silkgate.sandbox.facts",
)
# Written by setup.py next to this file: the SHA-256 of each source it compiled.
MANIFEST = "_compiled.json"
PURE_VARIABLE = "SILKGATE_PURE"
PACKAGE_DIR = Path(__file__).resolve().parent

Mode = Literal["compiled", "source"]


class NativeStatus:
    """How the compiled modules are loaded in this process, and why."""

    def __init__(self, mode: Mode, reason: str) -> None:
        self.mode: Mode = mode
        self.reason = reason

    def __repr__(self) -> str:
        return f"NativeStatus({self.mode!r}, {self.reason!r})"


def source_file(module: str, package_dir: Path = PACKAGE_DIR) -> Path:
    return package_dir.joinpath(*module.split(".")[1:]).with_suffix(".py")


def source_digests(modules: Sequence[str], package_dir: Path = PACKAGE_DIR) -> dict[str, str]:
    return {
        m: hashlib.sha256(source_file(m, package_dir).read_bytes()).hexdigest() for m in modules
    }


def _native_file(module: str, package_dir: Path) -> Path | None:
    source = source_file(module, package_dir)
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        candidate = source.with_suffix(suffix)
        if candidate.exists():
            return candidate
    return None


def decide(
    environ: Mapping[str, str] = os.environ,
    package_dir: Path = PACKAGE_DIR,
    modules: Sequence[str] = COMPILED_MODULES,
) -> NativeStatus:
    """Compiled when every module has a native build made from its current source."""
    if environ.get(PURE_VARIABLE, "") not in ("", "0"):
        return NativeStatus("source", f"{PURE_VARIABLE} is set")
    missing = [m for m in modules if _native_file(m, package_dir) is None]
    if len(missing) == len(modules):
        return NativeStatus(
            "source", "not compiled: installed with SILKGATE_COMPILE=0, or without a C compiler"
        )
    if missing:
        return NativeStatus("source", f"compiled in part only (no build of {', '.join(missing)})")
    try:
        built = json.loads((package_dir / MANIFEST).read_text())
    except (OSError, ValueError):
        return NativeStatus("source", f"no readable {MANIFEST} beside the compiled modules")
    stale = [m for m, d in source_digests(modules, package_dir).items() if built.get(m) != d]
    if stale:
        return NativeStatus(
            "source",
            f"built from other sources than these ({', '.join(stale)}): "
            "run `pip install -e .` again to rebuild",
        )
    return NativeStatus("compiled", "mypyc build of the current sources")


def describe(status: NativeStatus) -> str:
    """One line for `silkgate --version`."""
    if status.mode == "compiled":
        return f"hot path: compiled ({status.reason})"
    return f"hot path: Python source ({status.reason})"


class _SourceFinder(importlib.abc.MetaPathFinder):
    """Finds the compiled modules' ``.py`` files ahead of their native builds."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in COMPILED_MODULES:
            return None
        return importlib.util.spec_from_file_location(fullname, source_file(fullname))


STATUS = decide()
# Only as silkgate's own module: setup.py reads this file too, and must not change imports.
if STATUS.mode == "source" and __name__ == "silkgate._native":  # also a partial build
    sys.meta_path.insert(0, _SourceFinder())
