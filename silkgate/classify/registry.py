"""The detector registry. Built-in detectors register themselves through `register_detector`,
exactly as a plugin would; plugins may also be listed under the entry-point group
``silkgate.detectors`` (each entry point names a Detector instance or a zero-argument factory).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Final, Literal

from silkgate.model import FindingType

# Cheap per-string features a detector can ask for; the classifier only runs a detector on
# strings showing at least one of its triggers, so most strings meet few detectors.
# "letter_digit": an ASCII capital next to a digit ("E1234", "51F-", "粤B1").
Trigger = Literal["digit", "at", "colon", "nonascii", "latin_caps", "letter_digit", "any"]
TRIGGERS: Final[tuple[Trigger, ...]] = (
    "digit",
    "at",
    "colon",
    "nonascii",
    "latin_caps",
    "letter_digit",
    "any",
)

ENTRY_POINT_GROUP = "silkgate.detectors"


@dataclass(frozen=True, slots=True)
class KeyContext:
    """What a string's key name says, computed once per key and cached.

    ``hint``: the finding type the key name announces (``phone`` for ``"sdt"``), if any.
    ``context``: types whose bare, unvalidatable forms the key makes credible (a bare
    passport code needs a passport key).
    ``business``: the key names a business identifier; the string is not scanned.
    """

    hint: FindingType | None = None
    context: frozenset[str] = field(default_factory=frozenset)
    business: bool = False


NO_CONTEXT: Final = KeyContext()

# (type, start, end, country[, checks]): one detection inside one string. ``checks``, when a
# detector gives them, name the checks it ran on the value, as evidence does (``"checksum"``,
# ``"iin"``; ``"no_iin"`` for a failed metadata check); without them the classifier derives
# them itself (silkgate.classify.evidence).
Checks = tuple[str, ...]
Hit = tuple[FindingType, int, int, str | None] | tuple[FindingType, int, int, str | None, Checks]
ScanFn = Callable[[str, KeyContext, list[Hit]], None]


@dataclass(frozen=True, slots=True)
class Detector:
    """A named scanner: ``scan(text, key_context, hits)`` appends the hits it finds.

    Hits overlapping an earlier hit in the same string are dropped by the classifier, so
    ``priority`` (lower first) decides who wins an overlap.
    """

    name: str
    types: tuple[FindingType, ...]
    triggers: frozenset[Trigger]
    scan: ScanFn
    priority: int = 100


_REGISTRY: Final[dict[str, Detector]] = {}
_entry_points_loaded = False


def register_detector(detector: Detector, *, replace: bool = False) -> Detector:
    """Add a detector. Raises ValueError if the name is taken (unless ``replace``)."""
    if not replace and detector.name in _REGISTRY:
        raise ValueError(f"a detector named {detector.name!r} is already registered")
    unknown = set(detector.triggers) - set(TRIGGERS)
    if unknown:
        raise ValueError(f"unknown triggers {sorted(unknown)}; known: {TRIGGERS}")
    _REGISTRY[detector.name] = detector
    return detector


def unregister_detector(name: str) -> None:
    _REGISTRY.pop(name, None)


def registered_detectors() -> list[Detector]:
    """Every registered detector, plugins from entry points included, by priority."""
    _load_entry_points()
    return sorted(_REGISTRY.values(), key=lambda d: (d.priority, d.name))


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        obj = ep.load()
        detector = obj if isinstance(obj, Detector) else obj()
        if detector.name not in _REGISTRY:
            register_detector(detector)
