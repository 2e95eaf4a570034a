"""`silkgate holds …`: held batches. List and show them, release or reject one as a
regulator (signed with the regulator's own key file), re-check them against the filings on
file (see silkgate.flow.holds). Each command works on the hub's data directory, or with
`--hub URL --key-file K` over the signed API from the caller's own machine."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from silkgate.cli.common import DataDir, JsonFlag, console, hub_at, print_json
from silkgate.cli.remote import HubUrl, RemoteKeyFile
from silkgate.errors import ConfigError, InputError
from silkgate.flow.holds import (
    HeldBatch,
    HoldAction,
    HoldAudit,
    HoldService,
    RecheckReport,
    sign_hold,
    summarize,
)
from silkgate.hub import DEFAULT_DATA_DIR
from silkgate.registry.keys import load_key_file

holds_app = typer.Typer(
    no_args_is_help=True,
    help="Held batches: list, show, release or reject (regulator), re-check against filings.",
)

Reason = Annotated[str, typer.Option("--reason", help="Why (recorded in the ledger).")]
SigningKeyFile = Annotated[
    Path,
    typer.Option(
        "--key-file",
        help="The regulator's own key file: it signs the decision (and, with --hub, the request)",
    ),
]
Envelope = Annotated[
    str, typer.Argument(help="The held envelope's id (or a prefix naming one held envelope)")
]
Exporter = Annotated[Optional[str], typer.Option(help="Only this exporter's")]  # noqa: UP045


@holds_app.command("list")
def holds_list(
    exporter: Exporter = None,
    hub: HubUrl = "",
    key_file: RemoteKeyFile = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    json: JsonFlag = False,
) -> None:
    """Held envelopes with their batch metadata and why they are held (never contents)."""
    if hub:
        from silkgate.api.cli_http import remote_client

        with remote_client(hub, key_file) as client:
            held = client.holds(exporter=exporter)
    else:
        with hub_at(data_dir) as local:
            held = HoldService.for_hub(local).list_held(exporter=exporter)
    if json:
        print_json({"holds": held})  # the shape of GET /v1/holds
        return
    out = Table(title="held batches")
    for column in ("envelope", "batch", "flow", "product", "held", "rules", "requires"):
        out.add_column(column, overflow="fold")  # ids are never cut: `release` needs them
    for h in held:
        out.add_row(
            h.envelope_id,
            h.batch_id,
            f"{h.exporter} → {h.importer}",
            h.product,
            f"{h.records}/{h.batch_records}",
            "; ".join(",".join(r.rule_ids) for r in h.reasons),
            "; ".join(",".join(r.requires) for r in h.reasons if r.requires),
        )
    console.print(out)


@holds_app.command("show")
def holds_show(
    envelope: Envelope,
    hub: HubUrl = "",
    key_file: RemoteKeyFile = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    json: JsonFlag = False,
) -> None:
    """One held envelope: its batch, flow and why it is held, with the rules' citations."""
    if hub:
        from silkgate.api.cli_http import remote_client

        with remote_client(hub, key_file) as client:
            held = client.hold(resolve(envelope, [h.envelope_id for h in client.holds()]))
    else:
        with hub_at(data_dir) as local:
            service = HoldService.for_hub(local)
            ids = [h.envelope_id for h in service.list_held()]
            held = service.get(resolve(envelope, ids))
    if json:
        print_json(held)
        return
    _print_held(held)


def _print_held(h: HeldBatch) -> None:
    console.print(
        f"[bold]{h.envelope_id}[/] batch {h.batch_id}: {h.exporter} → {h.importer}, "
        f"{h.product} for {h.purpose}; {h.records} of {h.batch_records} records held since "
        f"{h.held_at.isoformat()} (policy {h.policy_version})",
        highlight=False,
    )
    for r in h.reasons:
        requires = f"; requires {', '.join(r.requires)}" if r.requires else ""
        console.print(
            f"  {r.records} record(s): {', '.join(r.rule_ids)}{requires}", highlight=False
        )
        for citation in r.citations:
            console.print(f"    {citation}", highlight=False)


@holds_app.command("release")
def holds_release(
    envelope: Envelope,
    reason: Reason,
    key_file: SigningKeyFile,
    hub: HubUrl = "",
    data_dir: DataDir = DEFAULT_DATA_DIR,
    json: JsonFlag = False,
) -> None:
    """Release a held envelope for delivery to its importer (a regulator's signed decision)."""
    _print_action(_decide("release", envelope, reason, key_file, hub, data_dir), json)


@holds_app.command("reject")
def holds_reject(
    envelope: Envelope,
    reason: Reason,
    key_file: SigningKeyFile,
    hub: HubUrl = "",
    data_dir: DataDir = DEFAULT_DATA_DIR,
    json: JsonFlag = False,
) -> None:
    """Reject a held envelope: its sealed data is dropped; it is never delivered (signed)."""
    _print_action(_decide("reject", envelope, reason, key_file, hub, data_dir), json)


def _decide(
    action: str, envelope: str, reason: str, key_file: Path, hub: str, data_dir: Path
) -> HoldAction:
    if hub:
        from silkgate.api.cli_http import remote_client

        with remote_client(hub, key_file) as client:
            envelope = resolve(envelope, [h.envelope_id for h in client.holds()])
            if action == "release":
                return client.release_hold(envelope, reason)
            return client.reject_hold(envelope, reason)
    if not key_file.exists():
        raise ConfigError(f"no key file at {key_file}: the regulator signs with its own key file")
    ring = load_key_file(key_file)
    with hub_at(data_dir) as local:
        service = HoldService.for_hub(local)
        envelope = resolve(envelope, [h.envelope_id for h in service.list_held()])
        _, key = ring.current_signing(datetime.now(UTC))
        approval = sign_hold(key, ring.participant, action, envelope, reason)
        if action == "release":
            return service.release(envelope, approval=approval, reason=reason)
        return service.reject(envelope, approval=approval, reason=reason)


def resolve(given: str, held: list[str]) -> str:
    """The held envelope id `given` names: itself, or the one held id it is a prefix of. An
    id that names no held envelope is passed on (the service says why: unknown, or not held
    any more); a prefix of several is refused."""
    if given in held or not given:
        return given
    matches = [i for i in held if i.startswith(given)]
    if len(matches) > 1:
        shown = ", ".join(matches[:5]) + (", …" if len(matches) > 5 else "")
        raise InputError(
            f"{given!r} is the start of {len(matches)} held envelopes ({shown}); "
            "give more of the id"
        )
    return matches[0] if matches else given


@holds_app.command("recheck")
def holds_recheck(
    exporter: Exporter = None,
    hub: HubUrl = "",
    key_file: RemoteKeyFile = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    json: JsonFlag = False,
) -> None:
    """Re-decide held batches against today's filings; release those now allowed."""
    if hub:
        from silkgate.api.cli_http import remote_client

        with remote_client(hub, key_file) as client:
            report = client.recheck_holds(exporter=exporter)
    else:
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


@holds_app.command("audit")
def holds_audit(data_dir: DataDir = DEFAULT_DATA_DIR, json: JsonFlag = False) -> None:
    """Check the signature of every hold release and rejection in the ledger (the hub's
    re-check releases with the hub's keys, regulators' with their registered keys)."""
    with hub_at(data_dir) as hub:
        audit = HoldService.for_hub(hub).audit(hub.envelope_public_keys())
    if json:
        print_json(audit)
        return
    console.print(audit_summary(audit), highlight=False)


def audit_summary(audit: HoldAudit) -> str:
    line = (
        f"OK: {audit.leaves} hold decision(s) in the ledger; signatures verify on "
        f"{audit.by_hub} release(s) by the hub's re-check and {audit.by_regulators} "
        "decision(s) by regulators"
    )
    if audit.unsigned:
        shown = ", ".join(map(str, audit.unsigned[:20])) + (
            ", ..." if len(audit.unsigned) > 20 else ""
        )
        line += f"; {len(audit.unsigned)} written before they were signed (entries {shown})"
    return line


def _print_action(action: HoldAction, json: bool) -> None:
    if json:
        print_json(action)
        return
    counted = ", ".join(f"{n} {c}" for c, n in action.counted.items()) or "none"
    console.print(
        f"{action.action} [bold]{action.envelope_id}[/] (batch {action.batch_id}, "
        f"{action.records} records) by {action.by}; ledger index {action.ledger_index}; "
        f"newly counted subjects: {counted}",
        highlight=False,
    )
