"""A few Prometheus counters, rendered in the text exposition format (version 0.0.4).

Small on purpose: counters with labels, thread-safe, no global registry, so that each app
(and each test) has its own.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LabelValues = tuple[str, ...]


class Counter:
    def __init__(self, name: str, help_text: str, labels: Iterable[str] = ()) -> None:
        self.name = name
        self.help = help_text
        self.labels = tuple(labels)
        self._values: dict[LabelValues, float] = {}
        self._lock = threading.Lock()

    def inc(self, *label_values: str, amount: float = 1.0) -> None:
        if len(label_values) != len(self.labels):
            raise ValueError(f"{self.name} takes labels {self.labels}, got {label_values}")
        with self._lock:
            self._values[label_values] = self._values.get(label_values, 0.0) + amount

    def value(self, *label_values: str) -> float:
        with self._lock:
            return self._values.get(label_values, 0.0)

    def render(self) -> str:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} counter"]
        with self._lock:
            items = sorted(self._values.items())
        if not items and not self.labels:
            items = [((), 0.0)]
        for values, number in items:
            lines.append(f"{self.name}{_labels(self.labels, values)} {_number(number)}")
        return "\n".join(lines)


class Metrics:
    """The hub's counters."""

    def __init__(self) -> None:
        self.http_requests = Counter(
            "silkgate_http_requests_total",
            "HTTP requests by method, route template and status code.",
            ("method", "route", "status"),
        )
        self.batches = Counter("silkgate_batches_total", "Batches committed through the API.", ())
        self.records = Counter(
            "silkgate_records_total", "Records committed through the API, by outcome.", ("outcome",)
        )
        self.receipts = Counter(
            "silkgate_receipts_total", "Importer receipts accepted through the API.", ()
        )
        self.auth_failures = Counter(
            "silkgate_auth_failures_total", "Requests refused by signature checks.", ()
        )

    def render(self) -> str:
        counters = (
            self.http_requests,
            self.batches,
            self.records,
            self.receipts,
            self.auth_failures,
        )
        return "\n".join(c.render() for c in counters) + "\n"


def _labels(names: tuple[str, ...], values: LabelValues) -> str:
    if not names:
        return ""
    pairs = ",".join(f'{n}="{_escape(v)}"' for n, v in zip(names, values, strict=True))
    return "{" + pairs + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)
