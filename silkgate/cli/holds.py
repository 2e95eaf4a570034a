"""`silkgate holds …`: held batches on the local hub. List them, release or reject one as
a regulator, re-check them against the filings on file (see silkgate.flow.holds)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from silkgate.cli.common import DataDir, JsonFlag, console, hub_at, print_json, table
from silkgate.errors import InputError
from silkgate.flow.holds import HoldAction, HoldService, RecheckReport, summarize
from silkgate.hub import DEFAULT_DATA_DIR, Hub

holds_app = typer.Typer(
    no_args_is_help=True,
    help="Held batches: list, release or reject (regulator), re-check against filings.",
)

Reason = Annotated[str, typer.Option("--reason", help="Why (recorded in the ledger).")]
By = Annotated[
    str,
    typer.Option(
        "--by", help="The regulator's participant id (default: the only registered regulator)."
    ),
]


def regulator_id(hub: Hub, given: str) -> str:
    """`given`, or the only registered regulator."""
    if given:
        return given
    regulators = [p.id for p in hub.store.list_participants() if "regulator" in p.roles]
    if len(regulators) != 1:
        found = ", ".join(regulators) or "none"
        raise InputError(f"name the regulator with --by (registered regulators: {found})")
    return regulators[0]


@holds_app.command("list")
def holds_list(
    exporter: Annotated[Optional[str], typer.Option(help="Only this exporter's")] = None,  # noqa: UP045
    data_dir: DataDir = DEFAULT_DATA_DIR,
    json: JsonFlag = False,
) -> None:
    """Held envelopes with their batch metadata and why they are held (never contents)."""
    with hub_at(data_dir) as hub:
        held = HoldService.for_hub(hub).list_held(exporter=exporter)
    if json:
        print_json({"holds": held})  # the shape of GET /v1/holds
        return
    rows = [
        [
            h.envelope_id,
            h.batch_id,
            f"{h.exporter} → {h.importer}",
            h.product,
            f"{h.records}/{h.batch_records}",
            "; ".join(",".join(r.rule_ids) for r in h.reasons),
            "; ".join(",".join(r.requires) for r in h.reasons if r.requires),
        ]
        for h in held
    ]
    columns = ["envelope", "batch", "flow", "product", "held", "rules", "requires"]
    table("held batches", columns, rows)


@holds_app.command("release")
def holds_release(
    envelope: Annotated[str, typer.Argument(help="The held envelope's id")],
    reason: Reason,
    by: By = "",
    data_dir: DataDir = DEFAULT_DATA_DIR,
    json: JsonFlag = False,
) -> None:
    """Release a held envelope for delivery to its importer (a regulator's decision)."""
    with hub_at(data_dir) as hub:
        action = HoldService.for_hub(hub).release(envelope, by=regulator_id(hub, by), reason=reason)
    _print_action(action, json)


@holds_app.command("reject")
def holds_reject(
    envelope: Annotated[str, typer.Argument(help="The held envelope's id")],
    reason: Reason,
    by: By = "",
    data_dir: DataDir = DEFAULT_DATA_DIR,
    json: JsonFlag = False,
) -> None:
    """Reject a held envelope: its sealed data is dropped; it is never delivered."""
    with hub_at(data_dir) as hub:
        action = HoldService.for_hub(hub).reject(envelope, by=regulator_id(hub, by), reason=reason)
    _print_action(action, json)


@holds_app.command("recheck")
def holds_recheck(
    exporter: Annotated[Optional[str], typer.Option(help="Only this exporter's")] = None,  # noqa: UP045
    data_dir: DataDir = DEFAULT_DATA_DIR,
    json: JsonFlag = False,
) -> None:
    """Re-decide held batches against today's filings; release those now allowed."""
    report = recheck_at(data_dir, exporter)
    if json:
        print_json(report)
    else:
        print_recheck(report)


def recheck_at(data_dir: Path, exporter: str | None) -> RecheckReport:
    with hub_at(data_dir) as hub:
        return HoldService.for_hub(hub).recheck(exporter=exporter)


def print_recheck(report: RecheckReport) -> None:
    for line in summarize(report.items):
        console.print(line, highlight=False)
    console.print(
        f"re-checked {report.checked} held batch(es): {report.released} released, "
        f"{report.still_held} still held"
    )


def _print_action(action: HoldAction, json: bool) -> None:
    if json:
        print_json(action)
        return
    counted = ", ".join(f"{n} {c}" for c, n in action.counted.items()) or "none"
    console.print(
        f"{action.action} [bold]{action.envelope_id}[/] (batch {action.batch_id}, "
        f"{action.records} records) by {action.by}; ledger index {action.ledger_index}; "
        f"newly counted subjects: {counted}"
    )
