"""Coverage-guided fuzzing with atheris (libFuzzer) of the same parsers as test_parsers.py.

    python tests/fuzz/atheris_targets.py NAME [libFuzzer options]   one parser (seeds.TARGETS)
    python tests/fuzz/atheris_targets.py all  [libFuzzer options]   every parser: the first
                                                                    byte picks the parser

The seed corpus (the valid samples of tests/fuzz/seeds.py) is written to a temporary
directory first. A finding is any exception other than a SilkgateError: libFuzzer stops
and prints the input. CI runs `all` for a bounded number of runs (test_atheris.py)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

with atheris.instrument_imports(include=["silkgate"]):
    from fuzz.seeds import TARGETS, run, samples

NAMES = sorted(TARGETS)


def one(name: str) -> None:
    def test(data: bytes) -> None:
        run(name, data)

    _fuzz(test, {name: samples()[TARGETS[name].kind]})


def every() -> None:
    def test(data: bytes) -> None:
        if data:
            run(NAMES[data[0] % len(NAMES)], data[1:])

    seeds = {n: bytes([i]) + samples()[TARGETS[n].kind] for i, n in enumerate(NAMES)}
    _fuzz(test, seeds)


def _fuzz(test: object, seeds: dict[str, bytes]) -> None:
    corpus = Path(tempfile.mkdtemp(prefix="silkgate-fuzz-"))
    for name, data in seeds.items():
        (corpus / name).write_bytes(data)
    argv = [sys.argv[0], *sys.argv[2:], str(corpus)]
    atheris.Setup(argv, test)
    atheris.Fuzz()


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else "all"
    every() if target == "all" else one(target)
