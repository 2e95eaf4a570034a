"""Which findings the policy treats as personal data: those at or above a confidence level.

The one place this is decided (issue #13). Default ``medium``: a finding with ``low``
confidence (a value's shape alone, with a failed metadata check and no key or word vouching
for it) is reported by the classifier but does not make a record personal data. A pack
changes the level with the setting ``min_confidence: low | medium | high`` (an overlay's
setting wins, like any other setting).
"""

from __future__ import annotations

from typing import Any

from silkgate.errors import PolicyError
from silkgate.model import CONFIDENCES, Finding

SETTING = "min_confidence"
DEFAULT = "medium"
_RANK = {level: rank for rank, level in enumerate(reversed(CONFIDENCES))}  # low 0 .. high 2


def min_confidence(settings: dict[str, Any]) -> int:
    """The rank of the pack's level; a level the pack misspells is refused."""
    level = settings.get(SETTING, DEFAULT)
    rank = _RANK.get(level) if isinstance(level, str) else None
    if rank is None:
        raise PolicyError(
            f"setting {SETTING!r} must be one of {', '.join(CONFIDENCES)}, not {level!r}"
        )
    return rank


def personal_findings(
    settings: dict[str, Any], findings: tuple[Finding, ...]
) -> tuple[Finding, ...]:
    """``findings`` without those below the level (the same tuple when none is)."""
    floor = min_confidence(settings)
    if all(_RANK[f.confidence] >= floor for f in findings):
        return findings
    return tuple(f for f in findings if _RANK[f.confidence] >= floor)
