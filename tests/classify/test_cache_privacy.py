"""The classifier's caches keep decisions and strings that held nothing, never values it
found something in."""

from __future__ import annotations

from silkgate.classify import Classifier, lexmatch

REMARK = "Gọi 0987 654 321 trước khi giao"


def test_no_scanned_value_stays_in_the_shared_lowercase_copy() -> None:
    Classifier().classify({"remark": REMARK})
    assert lexmatch._last[0].text == ""


def test_values_with_findings_are_not_remembered_as_empty() -> None:
    clf = Classifier()
    clf.classify({"remark": REMARK, "city": "Nanning"})
    assert REMARK not in clf._negative
    assert "Nanning" in clf._negative
