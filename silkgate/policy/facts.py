"""The facts a rule may test, and what values each may take.

Batch facts are the same for every record of a batch; record facts come from the record's
findings. Conditions naming anything else are rejected by the linter.
"""

from __future__ import annotations

from typing import Literal

from silkgate.model import (
    ENTERPRISE_SIZES,
    FILING_KINDS,
    FINDING_TYPES,
    INSTRUMENTS,
    JURISDICTIONS,
    OBLIGATION_ACTIONS,
    OUTCOMES,
    PURPOSES,
)

FactKind = Literal["enum", "text", "bool", "set", "int"]

CATEGORIES: tuple[str, ...] = ("pi", "sensitive_pi", "important")
COUNTED_CATEGORIES: tuple[str, ...] = ("pi", "sensitive_pi")
# What a finding type may mean under a law; "none" = not personal data there.
TYPE_CATEGORIES: tuple[str, ...] = ("pi", "sensitive_pi", "none")
ANONYMIZING_ACTIONS = frozenset({"mask", "drop", "generalize"})

FACTS: dict[str, tuple[FactKind, tuple[str, ...]]] = {
    "origin": ("enum", JURISDICTIONS),
    "destination": ("enum", JURISDICTIONS),
    "product": ("text", ()),
    "sector": ("text", ()),
    "purpose": ("enum", PURPOSES),
    "instrument": ("enum", (*INSTRUMENTS, "none")),
    "ciio": ("bool", ()),
    "transit": ("bool", ()),
    "filings": ("set", FILING_KINDS),
    "agreement_days": ("int", ()),
    "tia_age_days": ("int", ()),
    "types": ("set", FINDING_TYPES),
    "categories": ("set", CATEGORIES),
    "negative_list": ("bool", ()),
    "pi_before": ("int", ()),
    "pi_after": ("int", ()),
    "sensitive_pi_before": ("int", ()),
    "sensitive_pi_after": ("int", ()),
    # Facts from the registry and the store (defaults are the stricter values):
    "free_trade_zone": ("text", ()),  # the exporter's pilot free trade zone; "" = none
    "related": ("bool", ()),  # exporter and importer are in one corporate group
    "enterprise_size": ("enum", ENTERPRISE_SIZES),  # the exporter's size
    "importer_authority": ("bool", ()),  # the importer is a foreign judicial/enforcement body
    "first_transfer_days": ("int", ()),  # days since the first transfer exporter -> importer
}

OPS: dict[FactKind, frozenset[str]] = {
    "enum": frozenset({"in", "not_in"}),
    "text": frozenset({"in", "not_in"}),
    "bool": frozenset({"is"}),
    "set": frozenset({"any", "all", "none"}),
    "int": frozenset({"lt", "le", "gt", "ge", "eq"}),
}

__all__ = [
    "ANONYMIZING_ACTIONS",
    "CATEGORIES",
    "COUNTED_CATEGORIES",
    "FACTS",
    "FILING_KINDS",
    "FINDING_TYPES",
    "OBLIGATION_ACTIONS",
    "OPS",
    "OUTCOMES",
    "TYPE_CATEGORIES",
]
