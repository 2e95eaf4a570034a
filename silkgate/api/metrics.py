"""The hub's Prometheus counters (prometheus-client), one registry per app so that each app
(and each test) counts on its own."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client import Counter as _PromCounter
from prometheus_client.exposition import CONTENT_TYPE_LATEST

CONTENT_TYPE = CONTENT_TYPE_LATEST


class Counter:
    """A labelled counter with positional label values: ``inc("GET", "/v1/health", "200")``."""

    def __init__(
        self, registry: CollectorRegistry, name: str, help_text: str, labels: tuple[str, ...] = ()
    ) -> None:
        self.labels = labels
        self._counter = _PromCounter(name, help_text, labels, registry=registry)

    def inc(self, *label_values: str, amount: float = 1.0) -> None:
        if len(label_values) != len(self.labels):
            raise ValueError(f"{self._counter._name} takes labels {self.labels}")
        target = self._counter.labels(*label_values) if self.labels else self._counter
        target.inc(amount)

    def value(self, *label_values: str) -> float:
        target = self._counter.labels(*label_values) if self.labels else self._counter
        return float(target._value.get())


class Metrics:
    """The hub's counters."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.http_requests = Counter(
            self.registry,
            "silkgate_http_requests",
            "HTTP requests by method, route template and status code.",
            ("method", "route", "status"),
        )
        self.batches = Counter(
            self.registry, "silkgate_batches", "Batches committed through the API."
        )
        self.records = Counter(
            self.registry,
            "silkgate_records",
            "Records committed through the API, by outcome.",
            ("outcome",),
        )
        self.receipts = Counter(
            self.registry, "silkgate_receipts", "Importer receipts accepted through the API."
        )
        self.auth_failures = Counter(
            self.registry, "silkgate_auth_failures", "Requests refused by signature checks."
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
