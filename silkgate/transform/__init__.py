"""Desensitization: pure functions applying obligations to records (input untouched)."""

from silkgate.paths import format_path, parse_path
from silkgate.transform.apply import SpanObligation, apply_obligations, copy_json, plan
from silkgate.transform.generalize import generalize_value
from silkgate.transform.mask import mask_value
from silkgate.transform.pseudonymize import is_token, pseudonymize_value

__all__ = [
    "SpanObligation",
    "apply_obligations",
    "copy_json",
    "format_path",
    "generalize_value",
    "is_token",
    "mask_value",
    "parse_path",
    "plan",
    "pseudonymize_value",
]
