"""Compiles the hot path's modules with mypyc (the rest of the build is in pyproject.toml).

Set ``SILKGATE_COMPILE=0`` to install pure Python. Without a C compiler, or when mypyc
cannot build, the install goes on in pure Python: silkgate picks the source at import
(silkgate/_native.py), and ``silkgate version`` tells which is running.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
from pathlib import Path
from typing import Any

from setuptools import setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).resolve().parent
native = runpy.run_path(str(HERE / "silkgate" / "_native.py"), run_name="silkgate_native")


class BuildOptionalExt(build_ext):
    """A failed compile leaves a working pure-Python install, and says so."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:
            print(f"silkgate: compiling failed, installing pure Python: {exc}", file=sys.stderr)

    def build_extension(self, ext: Any) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:
            print(f"silkgate: {ext.name} not compiled: {exc}", file=sys.stderr)


# Commands that build: metadata-only runs (egg_info, dist_info) skip the slow mypyc step.
BUILDING = {"build", "build_ext", "bdist_wheel", "editable_wheel", "install", "develop"}


def compiled_extensions() -> list[Any]:
    if os.environ.get("SILKGATE_COMPILE", "1") == "0" or not BUILDING & set(sys.argv[1:]):
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:
        print("silkgate: mypyc is not available, installing pure Python", file=sys.stderr)
        return []
    modules = native["COMPILED_MODULES"]
    sources = [str(native["source_file"](m, HERE / "silkgate").relative_to(HERE)) for m in modules]
    # What the builds are made from, for silkgate/_native.py to tell a stale build.
    digests = native["source_digests"](modules, HERE / "silkgate")
    (HERE / "silkgate" / native["MANIFEST"]).write_text(json.dumps(digests, indent=1) + "\n")
    # The compiled modules import much of the package, and that imports packages the build
    # environment lacks (numpy, pyarrow, psycopg): their types are Any and their errors are
    # not ours to report here (`mypy --strict` checks the whole tree in scripts/check).
    flags = ["--follow-imports=silent", "--cache-dir", str(HERE / "build" / "mypy-cache")]
    try:
        return list(mypycify([*flags, *sources], opt_level="3", group_name="silkgate_native"))
    except (Exception, SystemExit) as exc:  # mypyc exits on a type error
        print(f"silkgate: mypyc failed, installing pure Python: {exc}", file=sys.stderr)
        return []


setup(ext_modules=compiled_extensions(), cmdclass={"build_ext": BuildOptionalExt})
