"""`silkgate counters`: distinct individuals per exporter this year against each threshold
(the live engine's chain settings), on the local hub or over `--hub` (GET /v1/counters)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from silkgate.cli.common import DataDir, JsonFlag, app, console, hub_at, print_json, table
from silkgate.flow.thresholds import CounterReport, hub_counter_report
from silkgate.hub import DEFAULT_DATA_DIR

HubUrl = Annotated[
    str, typer.Option("--hub", envvar="SILKGATE_HUB", help="Ask this hub over its HTTP API")
]
KeyFile = Annotated[
    Path | None, typer.Option("--key-file", help="With --hub: your own key file (signs requests)")
]


@app.command("counters")
def counters(
    exporter: Annotated[str | None, typer.Option(help="One exporter (default: every one)")] = None,
    year: Annotated[
        int | None, typer.Option(min=2000, max=2100, help="Calendar year (default: this one)")
    ] = None,
    hub_url: HubUrl = "",
    key_file: KeyFile = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    json: JsonFlag = False,
) -> None:
    """Distinct individuals (PI, sensitive PI) per exporter this year against each
    threshold, with the next threshold and how far away it is."""
    if hub_url:
        from silkgate.api.cli_http import remote_client

        with remote_client(hub_url, key_file) as client:
            report = client.counters(exporter=exporter, year=year)
    else:
        with hub_at(data_dir) as hub:
            report = hub_counter_report(
                hub.store, hub.live_engine(), year or hub.pipeline.clock().year, exporter
            )
    if json:
        print_json(report)
    else:
        print_counters(report)


def print_counters(report: CounterReport) -> None:
    rows = []
    for entry in report.counters:
        for cat in entry.categories:
            thresholds = ", ".join(
                f"{t.at:,} {'reached' if t.reached else 'not reached'} ({t.setting})"
                for t in cat.thresholds
            )
            upcoming = (
                f"{cat.next_threshold:,} in {cat.remaining:,}"
                if cat.next_threshold is not None and cat.remaining is not None
                else ("all reached" if cat.thresholds else "no threshold")
            )
            rows.append(
                [entry.exporter, cat.category, f"{cat.individuals:,}", thresholds, upcoming]
            )
    if not rows:
        console.print(f"no exporters counted in {report.year}")
        return
    table(
        f"distinct individuals in {report.year}",
        ["exporter", "category", "individuals", "thresholds", "next"],
        rows,
    )
