"""The compiled hot path (mypyc, setup.py) and its Python source: which one runs, and that
both find and decide the same things.

The README's install commands compile; with ``CI=true`` a hot path that silently fell back
to Python source is a failure (the whole suite is meant to run on what users get).
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import orjson
import pytest

import silkgate.classify.classifier as classifier_module
from silkgate._native import (
    COMPILED_MODULES,
    MANIFEST,
    PURE_VARIABLE,
    STATUS,
    decide,
    describe,
    source_file,
)

ROOT = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
EXTENSION = importlib.machinery.EXTENSION_SUFFIXES[0]
MODULES = ("pkg.alpha", "pkg.beta")


def _package(tmp_path: Path, *, built: tuple[str, ...] = MODULES) -> Path:
    """A package with two modules, the given ones with a (pretend) native build and a
    manifest of the sources as they are now."""
    package = tmp_path / "pkg"
    package.mkdir(parents=True)
    digests = {}
    for module in MODULES:
        source = source_file(module, package)
        source.write_text(f"NAME = {module!r}\n")
        digests[module] = hashlib.sha256(source.read_bytes()).hexdigest()
        if module in built:
            source.with_suffix(EXTENSION).write_bytes(b"")
    (package / MANIFEST).write_text(json.dumps(digests))
    return package


def test_a_build_of_the_current_sources_runs_compiled(tmp_path: Path) -> None:
    status = decide({}, _package(tmp_path), MODULES)
    assert status.mode == "compiled"
    assert describe(status).startswith("hot path: compiled")


def test_an_edited_source_runs_as_source_and_names_the_module(tmp_path: Path) -> None:
    package = _package(tmp_path)
    (package / "beta.py").write_text("NAME = 'edited'\n")
    status = decide({}, package, MODULES)
    assert status.mode == "source"
    assert "pkg.beta" in status.reason and "pkg.alpha" not in status.reason
    assert "pip install -e ." in status.reason


@pytest.mark.parametrize("value", ["1", "yes"])
def test_the_pure_switch_wins_over_a_good_build(tmp_path: Path, value: str) -> None:
    status = decide({PURE_VARIABLE: value}, _package(tmp_path), MODULES)
    assert status.mode == "source" and PURE_VARIABLE in status.reason
    assert decide({PURE_VARIABLE: "0"}, _package(tmp_path / "b"), MODULES).mode == "compiled"


def test_a_partial_build_runs_as_source(tmp_path: Path) -> None:
    status = decide({}, _package(tmp_path, built=("pkg.alpha",)), MODULES)
    assert status.mode == "source" and "pkg.beta" in status.reason


def test_no_build_runs_as_source(tmp_path: Path) -> None:
    status = decide({}, _package(tmp_path, built=()), MODULES)
    assert status.mode == "source" and status.reason.startswith("not compiled")


@pytest.mark.parametrize("manifest", [None, "{not json", "{}"])
def test_a_build_without_its_manifest_runs_as_source(tmp_path: Path, manifest: str | None) -> None:
    package = _package(tmp_path)
    if manifest is None:
        (package / MANIFEST).unlink()
    else:
        (package / MANIFEST).write_text(manifest)
    assert decide({}, package, MODULES).mode == "source"


def test_every_compiled_module_exists_as_source() -> None:
    for module in COMPILED_MODULES:
        assert source_file(module).is_file(), module


def test_the_build_type_checks_against_the_pinned_versions() -> None:
    """mypyc type-checks the hot path at build time with the packages it imports: the
    build requirements pin the same versions as the install requirements."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    pinned = {}
    declared = project["project"]
    for spec in [*declared["dependencies"], *declared["optional-dependencies"]["test"]]:
        name, _, version = spec.partition("==")
        pinned[name.lower()] = version.split(";")[0].strip()
    build = [r for r in project["build-system"]["requires"] if not r.startswith("setuptools")]
    assert build, "mypy and the hot path's imports are pinned for the build"
    for requirement in build:
        name, _, version = requirement.partition("==")
        assert pinned.get(name.lower()) == version, requirement


def test_ci_runs_the_compiled_hot_path() -> None:
    compiled = classifier_module.__file__ is not None and not classifier_module.__file__.endswith(
        ".py"
    )
    assert compiled == (STATUS.mode == "compiled"), STATUS
    if not IN_CI and not compiled:
        pytest.skip(f"the hot path runs as Python source here: {STATUS.reason}")
    assert compiled, f"CI installs with the README's command, which compiles: {STATUS.reason}"


_CLASSIFY_AND_DECIDE = """
import random, sys, tempfile
from pathlib import Path
import msgspec, orjson
from silkgate._native import STATUS
from silkgate.classify import Classifier
from silkgate.demo import synth
from silkgate.demo.runner import batches_of, register_cast
from silkgate.hub import init_hub, open_hub
from silkgate.products import get_product

def classifier(product):
    return Classifier(None if product == "generic.json" else get_product(product))

cases = [orjson.loads(line) for line in open(sys.argv[1], "rb")]
pairs = [(c["product"], c["record"]) for c in cases]
pairs += [(s.product, s.record) for s in synth.generate(2000, seed=11)]
made = {}
out = []
for product, record in pairs:
    clf = made.get(product) or made.setdefault(product, classifier(product))
    out.append(msgspec.to_builtins(clf.classify(record)))

# The dry run decides as `send` would: classification, the live packs, counters, facts.
with tempfile.TemporaryDirectory() as tmp:
    data = Path(tmp)
    init_hub(data)
    hub = open_hub(data)
    register_cast(hub, data / "keys", hub.pipeline.clock().date())
    rng = random.Random(5)
    batches = list(batches_of(synth.generate(3000, seed=13), 200, rng.randbytes))
    decided = [[msgspec.to_builtins(d) for d in ds] for ds in hub.pipeline.check(batches)]
    hub.close()
sys.stdout.buffer.write(
    orjson.dumps({"mode": STATUS.mode, "results": out, "decisions": decided})
)
"""


def _classify_in_subprocess(pure: bool) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k != PURE_VARIABLE}
    if pure:
        env[PURE_VARIABLE] = "1"
    corpus = ROOT / "bench" / "data" / "classify_eval.ndjson"
    done = subprocess.run(
        [sys.executable, "-c", _CLASSIFY_AND_DECIDE, str(corpus)],
        env=env,
        capture_output=True,
        check=True,
        timeout=600,
    )
    result: dict[str, object] = orjson.loads(done.stdout)
    return result


def test_compiled_and_source_classify_and_decide_alike() -> None:
    """The evaluation set and 2,000 demo records: the same findings, record by record; 3,000
    demo records through the dry run: the same decisions."""
    if STATUS.mode != "compiled":
        if IN_CI:
            pytest.fail(f"CI must run the compiled hot path: {STATUS.reason}")
        pytest.skip(f"nothing to compare: the hot path runs as Python source ({STATUS.reason})")
    source = _classify_in_subprocess(pure=True)
    compiled = _classify_in_subprocess(pure=False)
    assert source["mode"] == "source" and compiled["mode"] == "compiled"
    assert isinstance(source["results"], list) and len(source["results"]) > 5000
    assert any(r["findings"] for r in source["results"])
    assert compiled["results"] == source["results"]
    decisions = source["decisions"]
    assert isinstance(decisions, list) and sum(len(b) for b in decisions) == 3000
    outcomes = {d["outcome"] for batch in decisions for d in batch}
    assert {"allow", "hold"} <= outcomes  # the corpus reaches more than one outcome
    assert compiled["decisions"] == decisions


def test_the_pure_switch_loads_every_compiled_module_from_source() -> None:
    names = ", ".join(repr(m) for m in COMPILED_MODULES)
    script = (
        "import importlib, silkgate\n"
        f"for name in ({names},):\n"
        "    print(importlib.import_module(name).__file__)\n"
    )
    env = {**os.environ, PURE_VARIABLE: "1"}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    files = done.stdout.split()
    assert len(files) == len(COMPILED_MODULES)
    assert all(re.search(r"\.py$", f) for f in files), files


def test_version_names_how_the_hot_path_runs() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "silkgate", "--version"], capture_output=True, text=True, check=True
    )
    assert done.stdout.splitlines()[1] == describe(STATUS)
