"""`silkgate init`, `rotate-hub-key`, and the registry: participants, agreements, filings."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Optional

import msgspec
import typer

from silkgate.cli.common import DataDir, JsonFlag, app, console, hub_at, print_json, table
from silkgate.errors import NotFoundError
from silkgate.hub import DEFAULT_DATA_DIR, Hub, init_hub, open_hub
from silkgate.model import (
    FILING_KINDS,
    INSTRUMENTS,
    JURISDICTIONS,
    PURPOSES,
    Agreement,
    Filing,
    Participant,
)
from silkgate.registry.keys import merge_registration

participant_app = typer.Typer(no_args_is_help=True, help="Register and list participants.")
agreement_app = typer.Typer(no_args_is_help=True, help="Agreements between exporter and importer.")
filing_app = typer.Typer(no_args_is_help=True, help="Legal procedures on file for exporters.")
app.add_typer(participant_app, name="participant")
app.add_typer(agreement_app, name="agreement")
app.add_typer(filing_app, name="filing")


# ----------------------------------------------------------------------------- init
@app.command()
def init(data_dir: DataDir = DEFAULT_DATA_DIR, json: JsonFlag = False) -> None:
    """Create a data directory with the hub's keys and an empty store."""
    init_hub(data_dir)
    with hub_at(data_dir) as hub:
        info = {
            "data_dir": str(data_dir),
            "schema_version": hub.store.schema_version(),
            "log_origin": hub.origin,
        }
    if json:
        print_json(info)
    else:
        console.print(f"initialized [bold]{data_dir}[/] (schema v{info['schema_version']})")


@app.command("rotate-hub-key")
def rotate_hub_key(data_dir: DataDir = DEFAULT_DATA_DIR, json: JsonFlag = False) -> None:
    """Give the hub a new envelope-signing key (old envelopes still verify). Restart `serve`."""
    from silkgate.hub import rotate_envelope_key

    open_hub(data_dir).close()  # refuse a directory that is not a hub's
    key_id = rotate_envelope_key(data_dir)
    if json:
        print_json({"envelope_key": key_id})
    else:
        console.print(f"new envelope key [bold]{key_id}[/]; restart `silkgate serve` to use it")


# ----------------------------------------------------------------------------- participants
@participant_app.command("add")
def participant_add(
    participant_id: Annotated[str, typer.Option("--id", help="Stable id, e.g. vn-hanoi-carrier")],
    name: Annotated[str, typer.Option(help="Legal name")],
    jurisdiction: Annotated[
        str, typer.Option(help="CN or an ASEAN member: " + " ".join(JURISDICTIONS))
    ],
    role: Annotated[list[str], typer.Option(help="exporter|importer|regulator|operator (repeat)")],
    key_file: Annotated[
        Path,
        typer.Option(help="The participant's key file; created (0600) if it does not exist."),
    ],
    ciio: Annotated[
        bool, typer.Option(help="Critical information infrastructure operator")
    ] = False,
    sector: Annotated[str, typer.Option(help="Business sector, e.g. logistics")] = "logistics",
    data_dir: DataDir = DEFAULT_DATA_DIR,
    json: JsonFlag = False,
) -> None:
    """Register a participant with the public halves of its keys."""
    from silkgate.registry.keys import ensure_key_file

    keys = ensure_key_file(key_file, participant_id)
    participant = msgspec.convert(
        {
            "id": participant_id,
            "name": name,
            "jurisdiction": jurisdiction.upper(),
            "roles": [r.lower() for r in role],
            "ciio": ciio,
            "sector": sector,
            "signing_key": keys.signing_public,
            "hpke_key": keys.hpke_public,
        },
        Participant,
    )
    with hub_at(data_dir) as hub, hub.store.transaction():
        existing = _registered(hub, participant_id)
        participant = merge_registration(existing, participant, hub.pipeline.clock())
        hub.store.put_participant(participant)
    if json:
        print_json(participant)
    else:
        console.print(f"registered [bold]{participant_id}[/] ({', '.join(participant.roles)})")


def _registered(hub: Hub, participant_id: str) -> Participant | None:
    try:
        return hub.store.get_participant(participant_id)
    except NotFoundError:
        return None


@participant_app.command("rotate-keys")
def participant_rotate_keys(
    participant_id: Annotated[str, typer.Option("--id", help="The participant")],
    key_file: Annotated[Path, typer.Option(help="The participant's key file (rotated in place)")],
    overlap_days: Annotated[
        float, typer.Option(help="Days the old keys still sign requests and receipts")
    ] = 30.0,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    json: JsonFlag = False,
) -> None:
    """Add fresh keys to the key file and register their public halves; the old keys keep
    verifying what they signed and stay accepted for new requests until the overlap ends."""
    from silkgate.registry.keys import rotate, rotate_key_file

    overlap = timedelta(days=overlap_days)
    with hub_at(data_dir) as hub, hub.store.transaction():
        participant = hub.store.get_participant(participant_id)
        now = hub.pipeline.clock()
        keys = rotate_key_file(key_file, participant_id, now, overlap)
        rotated = rotate(participant, keys.signing_public, keys.hpke_public, now, overlap)
        hub.store.put_participant(rotated)
    if json:
        print_json(rotated)
    else:
        new = rotated.signing_keys[-1].key_id
        console.print(f"rotated [bold]{participant_id}[/]: signing key {new}")


@participant_app.command("revoke-key")
def participant_revoke_key(
    participant_id: Annotated[str, typer.Option("--id", help="The participant")],
    key_id: Annotated[str, typer.Option(help="e.g. ed25519:3f9c0a1b2c3d4e5f")],
    key_file: Annotated[
        Optional[Path],  # noqa: UP045 (typer needs Optional)
        typer.Option(help="Also mark the key revoked in this key file"),
    ] = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    json: JsonFlag = False,
) -> None:
    """Revoke a signing or HPKE key now: it authenticates no request, signs no new receipt
    and receives no new envelope; receipts it signed before now still verify."""
    from silkgate.registry.keys import revoke, revoke_in_key_file

    with hub_at(data_dir) as hub, hub.store.transaction():
        revoked = revoke(hub.store.get_participant(participant_id), key_id, hub.pipeline.clock())
        hub.store.put_participant(revoked)
    if key_file is not None:
        revoke_in_key_file(key_file, participant_id, key_id)
    if json:
        print_json(revoked)
    else:
        console.print(f"revoked [bold]{key_id}[/] of {participant_id}")


@participant_app.command("list")
def participant_list(data_dir: DataDir = DEFAULT_DATA_DIR, json: JsonFlag = False) -> None:
    """List registered participants."""
    with hub_at(data_dir) as hub:
        participants = hub.store.list_participants()
    if json:
        print_json(participants)
        return
    table(
        "participants",
        ["id", "name", "jurisdiction", "roles", "ciio"],
        [[p.id, p.name, p.jurisdiction, ",".join(p.roles), p.ciio] for p in participants],
    )


# ----------------------------------------------------------------------------- agreements
@agreement_app.command("add")
def agreement_add(
    exporter: Annotated[str, typer.Option()],
    importer: Annotated[str, typer.Option()],
    product: Annotated[str, typer.Option(help="Data product id, e.g. logistics.waybill")],
    purpose: Annotated[str, typer.Option(help=" | ".join(PURPOSES))],
    instrument: Annotated[str, typer.Option(help=" | ".join(INSTRUMENTS))],
    valid_from: Annotated[str, typer.Option(help="YYYY-MM-DD (default: today)")] = "",
    valid_until: Annotated[str, typer.Option(help="YYYY-MM-DD (default: open-ended)")] = "",
    agreement_id: Annotated[str, typer.Option("--id")] = "",
    data_dir: DataDir = DEFAULT_DATA_DIR,
    json: JsonFlag = False,
) -> None:
    """Record an agreement: exporter may send product to importer for purpose."""
    from silkgate.products import get_product

    get_product(product)
    agreement = msgspec.convert(
        {
            "id": agreement_id or f"agr-{exporter}-{importer}-{product}-{purpose}",
            "exporter": exporter,
            "importer": importer,
            "product": product,
            "purpose": purpose,
            "instrument": instrument,
            "valid_from": valid_from or date.today().isoformat(),
            "valid_until": valid_until or None,
        },
        Agreement,
    )
    with hub_at(data_dir) as hub:
        for party in (exporter, importer):
            hub.store.get_participant(party)
        hub.store.put_agreement(agreement)
    if json:
        print_json(agreement)
    else:
        console.print(f"agreement [bold]{agreement.id}[/] recorded")


@agreement_app.command("list")
def agreement_list(
    exporter: Annotated[Optional[str], typer.Option()] = None,  # noqa: UP045 (typer needs Optional)
    importer: Annotated[Optional[str], typer.Option()] = None,  # noqa: UP045
    data_dir: DataDir = DEFAULT_DATA_DIR,
    json: JsonFlag = False,
) -> None:
    """List agreements."""
    with hub_at(data_dir) as hub:
        agreements = hub.store.list_agreements(exporter=exporter, importer=importer)
    if json:
        print_json(agreements)
        return
    table(
        "agreements",
        ["id", "exporter", "importer", "product", "purpose", "instrument", "valid"],
        [
            [
                a.id,
                a.exporter,
                a.importer,
                a.product,
                a.purpose,
                a.instrument,
                f"{a.valid_from}..{a.valid_until or ''}",
            ]
            for a in agreements
        ],
    )


# ----------------------------------------------------------------------------- filings
@filing_app.command("add")
def filing_add(
    exporter: Annotated[str, typer.Option()],
    kind: Annotated[str, typer.Option(help=" | ".join(FILING_KINDS))],
    recipient: Annotated[str, typer.Option(help="Importer it names ('' = any)")] = "",
    valid_from: Annotated[str, typer.Option(help="YYYY-MM-DD (default: today)")] = "",
    valid_until: Annotated[str, typer.Option(help="YYYY-MM-DD")] = "",
    reference: Annotated[str, typer.Option(help="e.g. the CAC filing number")] = "",
    filing_id: Annotated[str, typer.Option("--id")] = "",
    data_dir: DataDir = DEFAULT_DATA_DIR,
    json: JsonFlag = False,
) -> None:
    """Record a filed standard contract, certification, security assessment or TIA."""
    filing = msgspec.convert(
        {
            "id": filing_id or f"fil-{exporter}-{kind}-{recipient or 'any'}",
            "exporter": exporter,
            "kind": kind,
            "recipient": recipient or None,
            "valid_from": valid_from or date.today().isoformat(),
            "valid_until": valid_until or None,
            "reference": reference,
        },
        Filing,
    )
    from silkgate.cli.holds import print_recheck
    from silkgate.flow.holds import HoldService

    with hub_at(data_dir) as hub:
        hub.store.get_participant(exporter)
        report = HoldService.for_hub(hub).record_filing(filing)
    if json:
        print_json({**msgspec.to_builtins(filing), "recheck": msgspec.to_builtins(report)})
    else:
        console.print(f"filing [bold]{filing.id}[/] recorded")
        print_recheck(report)


@filing_app.command("list")
def filing_list(
    exporter: Annotated[Optional[str], typer.Option()] = None,  # noqa: UP045
    data_dir: DataDir = DEFAULT_DATA_DIR,
    json: JsonFlag = False,
) -> None:
    """List filings."""
    with hub_at(data_dir) as hub:
        filings = hub.store.list_filings(exporter=exporter)
    if json:
        print_json(filings)
        return
    table(
        "filings",
        ["id", "exporter", "kind", "recipient", "valid", "reference"],
        [
            [
                f.id,
                f.exporter,
                f.kind,
                f.recipient or "any",
                f"{f.valid_from}..{f.valid_until or ''}",
                f.reference,
            ]
            for f in filings
        ],
    )
