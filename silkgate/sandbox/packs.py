"""Engines built from stored pack versions: the active engine, shadow engines, cohort and
candidate engines. A pack version is kept as its YAML text; the engine is rebuilt from it."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from pathlib import Path

from silkgate.errors import PolicyError
from silkgate.policy import Pack, PolicyEngine, load_pack
from silkgate.policy.pack import parse_pack
from silkgate.policy.yamlsrc import load_yaml


def pack_from_text(text: str, source: str) -> Pack:
    """Parse and check a rule pack given as YAML text; `source` names it in errors."""
    return parse_pack(load_yaml(text, source), source)


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def active_overlays(engine: PolicyEngine) -> set[str]:
    """Ids of the overlay packs that are switched on in `engine`."""
    return {p.id for chain in engine.chains.values() for p in chain.packs if p.overlay_of}


def engine_with(base: PolicyEngine, packs: Sequence[Pack]) -> PolicyEngine:
    """`base` with `packs` replacing the packs of the same id (or added); overlays among
    `packs` are switched on, as are the overlays already on in `base`."""
    if not packs:
        return base
    by_id = dict(base.packs)
    for pack in packs:
        by_id[pack.id] = pack
    overlays = active_overlays(base) | {p.id for p in packs if p.overlay_of}
    return PolicyEngine.from_packs(list(by_id.values()), overlays=sorted(overlays))


def candidate_engine(paths: Iterable[str | Path], base: PolicyEngine) -> PolicyEngine:
    packs = [load_pack(p) for p in paths]
    if not packs:
        raise PolicyError("no candidate pack given; pass --candidate PACK.yaml")
    return engine_with(base, packs)
