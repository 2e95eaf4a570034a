"""CounterPort contract: distinct subjects per exporter, year, category (every implementation)."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from silkgate.store.ports import CounterPort

from .builders import h


def test_counters_distinct_and_separate(store: CounterPort) -> None:
    assert store.add_subjects("p_x", 2026, "pi", [h(1), h(2), h(2), h(3)]) == 3
    assert store.add_subjects("p_x", 2026, "pi", [h(3), h(4)]) == 1
    assert store.add_subjects("p_x", 2026, "pi", []) == 0
    assert store.add_subjects("p_x", 2027, "pi", [h(1)]) == 1
    assert store.add_subjects("p_x", 2026, "sensitive_pi", [h(1)]) == 1
    assert store.add_subjects("p_y", 2026, "pi", [h(1)]) == 1
    assert store.subject_count("p_x", 2026, "pi") == 4
    assert store.subject_count("p_x", 2025, "pi") == 0
    assert store.known_subjects("p_x", 2026, "pi", [h(0), h(1), h(4), h(9)]) == {h(1), h(4)}
    assert store.known_subjects("p_x", 2027, "pi", [h(2)]) == set()
    assert store.subject_counts(year=2026) == {
        ("p_x", "pi"): 4,
        ("p_x", "sensitive_pi"): 1,
        ("p_y", "pi"): 1,
    }
    assert store.subject_counts(year=2024) == {}


def test_known_subjects_thousands_per_call(store: CounterPort) -> None:
    added = [h(i) for i in range(0, 6000, 2)]
    assert store.add_subjects("p_x", 2026, "pi", added) == 3000
    asked = [h(i) for i in range(6000)]
    assert store.known_subjects("p_x", 2026, "pi", asked) == set(added)
    assert store.subject_count("p_x", 2026, "pi") == 3000


_exporters = itertools.count()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.lists(st.integers(0, 40), max_size=15), max_size=6))
def test_add_subjects_counts_distinct(store: CounterPort, batches: list[list[int]]) -> None:
    exporter = f"p_{next(_exporters)}"  # the store outlives examples: a fresh exporter each
    seen: set[int] = set()
    for chunk in batches:
        new = store.add_subjects(exporter, 2026, "pi", [h(i) for i in chunk])
        assert new == len(set(chunk) - seen)
        seen |= set(chunk)
    assert store.subject_count(exporter, 2026, "pi") == len(seen)
    assert store.known_subjects(exporter, 2026, "pi", [h(i) for i in range(41)]) == {
        h(i) for i in seen
    }
