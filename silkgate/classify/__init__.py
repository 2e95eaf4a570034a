"""Classification: find personal data in records, precisely and fast.

    from silkgate.classify import Classifier
    rc = Classifier(get_product("logistics.waybill")).classify(record)
    rc.findings   # (Finding(path="$['consignee']['phone']", type="phone", ...), ...)
    rc.subjects   # ("phone:+84912345678",)

Detectors live in a registry; the built-in ones register through `register_detector`, the
same call a plugin uses (or the ``silkgate.detectors`` entry-point group).
"""

from __future__ import annotations

from silkgate.classify.classifier import Classifier, RecordClassification
from silkgate.classify.registry import (
    Detector,
    Hit,
    KeyContext,
    register_detector,
    registered_detectors,
    unregister_detector,
)

__all__ = [
    "Classifier",
    "Detector",
    "Hit",
    "KeyContext",
    "RecordClassification",
    "register_detector",
    "registered_detectors",
    "unregister_detector",
]
