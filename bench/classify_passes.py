"""Classify a set (or parse and serialize it: the floor) a given number of times, untimed:
for counting instructions, which other work on a shared machine does not change.

    valgrind --tool=cachegrind --cache-sim=no python bench/classify_passes.py dense 1
    valgrind --tool=cachegrind --cache-sim=no python bench/classify_passes.py dense 3

The difference of the two "I refs" totals, halved, is the cost of one pass (start-up,
imports and the warm-up pass cancel out). Sets: ``dense`` (the evaluation set,
bench/data/classify_eval.ndjson) and ``demo`` (synth.generate, 4,000 records, seed 7);
``--floor`` runs orjson loads + dumps of the same records instead of classifying them.

Compiled in place with mypyc (docs/classification.md, "Speed"), run from the worktree with
``PYTHONPATH=.`` so that the shared ``*__mypyc*.so`` module beside ``silkgate/`` is found;
``valgrind --tool=callgrind --toggle-collect='CPyDef_classifier___Classifier___classify'``
then counts the classifier alone and names the compiled functions (``CPyDef_<module>___...``).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import orjson

from silkgate.classify import Classifier
from silkgate.demo import synth
from silkgate.products import get_product

DATA = Path(__file__).parent / "data" / "classify_eval.ndjson"


def records(which: str) -> list[tuple[str, Any]]:
    if which == "dense":
        cases = [orjson.loads(line) for line in DATA.read_bytes().splitlines()]
        return [(c["product"], c["record"]) for c in cases]
    return [(s.product, s.record) for s in synth.generate(4000, seed=7)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("set", choices=("dense", "demo"))
    ap.add_argument("passes", type=int)
    ap.add_argument("--floor", action="store_true")
    args = ap.parse_args()
    pairs = records(args.set)
    if args.floor:
        lines = [orjson.dumps(r) for _, r in pairs]
        for _ in range(args.passes):
            for line in lines:
                orjson.dumps(orjson.loads(line))
        return
    classifiers = {p: Classifier(None if p == "generic.json" else get_product(p)) for p, _ in pairs}
    work = [(classifiers[p], r) for p, r in pairs]
    for clf, rec in work:  # warm-up: key plans, strings known to hold nothing
        clf.classify(rec)
    for _ in range(args.passes):
        for clf, rec in work:
            clf.classify(rec)


if __name__ == "__main__":
    main()
