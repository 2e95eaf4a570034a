"""`silkgate init`, `rotate-hub-key`, and the registry: participants, agreements, filings.
The registry commands parse options, call silkgate.registry.service.RegistryService as the
operator on the hub's data directory, and print; the service holds every rule."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import msgspec
import typer

from silkgate.cli.common import DataDir, JsonFlag, app, console, hub_at, print_json, table
from silkgate.cli.remote import HubUrl, RemoteKeyFile
from silkgate.errors import InputError
from silkgate.hub import DEFAULT_DATA_DIR, Hub, init_hub, open_hub
from silkgate.model import (
    ENTERPRISE_SIZES,
    FILING_KINDS,
    INSTRUMENTS,
    JURISDICTIONS,
    PURPOSES,
    Participant,
)
from silkgate.registry.keys import (
    key_ring_for,
    overlap_of,
    public_halves,
    read_public_document,
    revoke_in_key_file,
    rotated_key_ring,
    save_key_file,
)
from silkgate.registry.service import (
    LOCAL_OPERATOR,
    AgreementRequest,
    FilingRequest,
    RegistryService,
)
from silkgate.seal.keys import save_keyring

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
def _service(hub: Hub) -> RegistryService:
    return RegistryService.for_hub(hub)


Zone = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(help="Pilot free trade zone it is registered in, e.g. CN-GX ('' = none)"),
]
Group = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(help="Corporate group (two members of one group are related; '' = none)"),
]
Size = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(help="Enterprise size: " + " | ".join(ENTERPRISE_SIZES)),
]
Authority = Annotated[
    Optional[bool],  # noqa: UP045
    typer.Option(
        "--foreign-authority/--no-foreign-authority",
        help="A foreign judicial or law-enforcement authority (CN DSL Art. 36, PIPL Art. 41)",
    ),
]


def _attributes(
    zone: str | None, group: str | None, size: str | None, authority: bool | None
) -> dict[str, Any]:
    given = {
        "free_trade_zone": zone,
        "corporate_group": group,
        "enterprise_size": size,
        "foreign_authority": authority,
    }
    return {k: v for k, v in given.items() if v is not None}


@participant_app.command("add")
def participant_add(
    participant_id: Annotated[str, typer.Option("--id", help="Stable id, e.g. vn-hanoi-carrier")],
    name: Annotated[str, typer.Option(help="Legal name")],
    jurisdiction: Annotated[
        str, typer.Option(help="CN or an ASEAN member: " + " ".join(JURISDICTIONS))
    ],
    role: Annotated[list[str], typer.Option(help="exporter|importer|regulator|operator (repeat)")],
    public_key_file: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            help="The participant's public keys (from `silkgate keygen`): register without "
            "ever holding its private keys"
        ),
    ] = None,
    key_file: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            help="Without --hub: the participant's key file, created (0600) if it does not "
            "exist (prefer --public-key-file). With --hub: your own (the operator's) key file"
        ),
    ] = None,
    ciio: Annotated[
        bool, typer.Option(help="Critical information infrastructure operator")
    ] = False,
    sector: Annotated[str, typer.Option(help="Business sector, e.g. logistics")] = "logistics",
    free_trade_zone: Zone = None,
    corporate_group: Group = None,
    enterprise_size: Size = None,
    foreign_authority: Authority = None,
    hub: HubUrl = "",
    data_dir: DataDir = DEFAULT_DATA_DIR,
    json: JsonFlag = False,
) -> None:
    """Register a new participant with the public halves of its keys: from the public key
    file it made with `silkgate keygen`, or (on the hub only) from a key file created here.
    A new key file is written only if the registration succeeds; an id that is registered
    already is refused (use `participant rotate-keys` to register new keys)."""
    fields: dict[str, Any] = {
        "id": participant_id,
        "name": name,
        "jurisdiction": jurisdiction,
        "roles": role,
        "ciio": ciio,
        "sector": sector,
        **_attributes(free_trade_zone, corporate_group, enterprise_size, foreign_authority),
    }
    if public_key_file is not None:
        document = read_public_document(public_key_file)
        if document.participant != participant_id:
            raise InputError(
                f"{public_key_file} holds the public keys of {document.participant!r}, not "
                f"{participant_id!r}"
            )
        fields.update(signing_key=document.signing_key, hpke_key=document.hpke_key)
    if hub:
        if public_key_file is None:
            raise InputError(
                "with --hub, register from the participant's public keys: --public-key-file "
                "(the participant runs `silkgate keygen`); --key-file is your own"
            )
        from silkgate.api.cli_http import remote_client

        with remote_client(hub, key_file) as client:
            participant = client.register_participant_fields(fields)
    elif public_key_file is not None:
        if key_file is not None:
            raise InputError("give either --public-key-file or --key-file, not both")
        with hub_at(data_dir) as local:
            participant = _service(local).add_participant(fields, LOCAL_OPERATOR)
    else:
        if key_file is None:
            raise InputError(
                "give the participant's public keys (--public-key-file, from `silkgate "
                "keygen`) or, on the hub, a key file to create (--key-file)"
            )
        participant = _add_with_key_file(fields, key_file, data_dir)
    if json:
        print_json(participant)
    else:
        console.print(f"registered [bold]{participant_id}[/] ({', '.join(participant.roles)})")


def _add_with_key_file(fields: dict[str, Any], key_file: Path, data_dir: Path) -> Participant:
    """Register from a key file on the hub's machine, creating it if it does not exist (only
    once the registration is valid: a refused one leaves no file behind)."""
    with hub_at(data_dir) as hub:
        service = _service(hub)
        ring, created = key_ring_for(key_file, str(fields["id"]), service.clock)
        keys = public_halves(ring, service.clock)
        fields = {**fields, "signing_key": keys.signing_public, "hpke_key": keys.hpke_public}
        save = (lambda _: save_key_file(ring, key_file)) if created else None
        try:
            return service.add_participant(fields, LOCAL_OPERATOR, then=save)
        except BaseException:
            if created:  # written inside a transaction that did not commit
                key_file.unlink(missing_ok=True)
            raise


@participant_app.command("update")
def participant_update(
    participant_id: Annotated[str, typer.Option("--id", help="The participant")],
    name: Annotated[Optional[str], typer.Option(help="New legal name")] = None,  # noqa: UP045
    jurisdiction: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(help="CN or an ASEAN member: " + " ".join(JURISDICTIONS)),
    ] = None,
    role: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option(help="Replaces the roles: exporter|importer|regulator|operator (repeat)"),
    ] = None,
    ciio: Annotated[
        Optional[bool],  # noqa: UP045
        typer.Option("--ciio/--no-ciio", help="Critical information infrastructure operator"),
    ] = None,
    sector: Annotated[Optional[str], typer.Option(help="Business sector")] = None,  # noqa: UP045
    active: Annotated[
        Optional[bool],  # noqa: UP045
        typer.Option(
            "--active/--inactive",
            help="An inactive participant authenticates nothing and takes part in no transfer",
        ),
    ] = None,
    free_trade_zone: Zone = None,
    corporate_group: Group = None,
    enterprise_size: Size = None,
    foreign_authority: Authority = None,
    hub: HubUrl = "",
    key_file: RemoteKeyFile = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    json: JsonFlag = False,
) -> None:
    """Change a participant's registration (never its id or keys: see rotate-keys)."""
    given = {
        "name": name,
        "jurisdiction": jurisdiction,
        "roles": role,
        "ciio": ciio,
        "sector": sector,
        "active": active,
    }
    changes = {
        **{k: v for k, v in given.items() if v is not None},
        **_attributes(free_trade_zone, corporate_group, enterprise_size, foreign_authority),
    }
    if hub:
        from silkgate.api.cli_http import remote_client

        with remote_client(hub, key_file) as client:
            updated = client.update_participant(participant_id, **changes)
    else:
        with hub_at(data_dir) as local:
            updated = _service(local).update_participant(participant_id, changes, LOCAL_OPERATOR)
    if json:
        print_json(updated)
    else:
        state = "active" if updated.active else "inactive"
        console.print(f"updated [bold]{participant_id}[/] ({', '.join(updated.roles)}; {state})")


@participant_app.command("rotate-keys")
def participant_rotate_keys(
    participant_id: Annotated[str, typer.Option("--id", help="The participant")],
    key_file: Annotated[
        Path,
        typer.Option(
            help="The participant's key file (rotated in place); with --hub and "
            "--public-key-file, your own (the operator's) key file"
        ),
    ],
    overlap_days: Annotated[
        float, typer.Option(help="Days the old keys still sign requests and receipts")
    ] = 30.0,
    public_key_file: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(help="With --hub: register these new public keys (operator)"),
    ] = None,
    hub: HubUrl = "",
    data_dir: DataDir = DEFAULT_DATA_DIR,
    json: JsonFlag = False,
) -> None:
    """Add fresh keys to the key file and register their public halves; the old keys keep
    verifying what they signed and stay accepted for new requests until the overlap ends.
    The key file is saved before the registration commits. With --hub a participant rotates
    its own key file (the request is signed with its current key); an operator registers a
    participant's new public keys with --public-key-file."""
    if hub:
        rotated = _rotate_remote(participant_id, key_file, overlap_days, public_key_file, hub)
    else:
        if public_key_file is not None:
            raise InputError("--public-key-file rotates over --hub; on the hub use --key-file")
        with hub_at(data_dir) as local:
            service = _service(local)
            service.participant(participant_id)  # refuse an unknown id before the file
            now = service.clock()
            ring = rotated_key_ring(key_file, participant_id, now, overlap_of(overlap_days))
            keys = public_halves(ring, lambda: now)
            rotated = service.rotate_keys(
                participant_id,
                keys.signing_public,
                keys.hpke_public,
                overlap_days,
                LOCAL_OPERATOR,
                then=lambda _: save_keyring(ring, key_file),
            )
    if json:
        print_json(rotated)
    else:
        new = rotated.signing_keys[-1].key_id
        console.print(f"rotated [bold]{participant_id}[/]: signing key {new}")


def _rotate_remote(
    participant_id: str, key_file: Path, overlap_days: float, public: Path | None, hub: str
) -> Participant:
    from silkgate.api.cli_http import remote_client

    with remote_client(hub, key_file) as client:
        if public is not None:
            document = read_public_document(public)
            if document.participant != participant_id:
                raise InputError(f"{public} holds the keys of {document.participant!r}")
            return client.register_public_keys(
                participant_id, document.signing_key, document.hpke_key, overlap_days
            )
        if client.participant_id != participant_id:
            raise InputError(
                f"{key_file} holds the keys of {client.participant_id!r}: over --hub a "
                f"participant rotates its own key file (the operator gives --public-key-file)"
            )
        return client.rotate_keys(key_file=key_file, overlap_days=overlap_days)


@participant_app.command("revoke-key")
def participant_revoke_key(
    participant_id: Annotated[str, typer.Option("--id", help="The participant")],
    key_id: Annotated[str, typer.Option(help="e.g. ed25519:3f9c0a1b2c3d4e5f")],
    key_file: Annotated[
        Optional[Path],  # noqa: UP045 (typer needs Optional)
        typer.Option(
            help="Also mark the key revoked in this key file; with --hub, it signs the request "
            "(the participant's own, or the operator's)"
        ),
    ] = None,
    hub: HubUrl = "",
    data_dir: DataDir = DEFAULT_DATA_DIR,
    json: JsonFlag = False,
) -> None:
    """Revoke a signing or HPKE key now: it authenticates no request, signs no new receipt
    and receives no new envelope; receipts it signed before now still verify."""
    if hub:
        from silkgate.api.cli_http import remote_client

        with remote_client(hub, key_file) as client:
            revoked = client.revoke_key(key_id, participant=participant_id)
            mine = client.participant_id == participant_id
    else:
        with hub_at(data_dir) as local:
            revoked = _service(local).revoke_key(participant_id, key_id, LOCAL_OPERATOR)
        mine = True
    if key_file is not None and mine:
        revoke_in_key_file(key_file, participant_id, key_id)
    if json:
        print_json(revoked)
    else:
        console.print(f"revoked [bold]{key_id}[/] of {participant_id}")


@participant_app.command("list")
def participant_list(
    hub: HubUrl = "",
    key_file: RemoteKeyFile = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    json: JsonFlag = False,
) -> None:
    """List registered participants (over --hub: those the key file's participant may see)."""
    if hub:
        from silkgate.api.cli_http import remote_client

        with remote_client(hub, key_file) as client:
            participants = client.participants()
    else:
        with hub_at(data_dir) as local:
            participants = _service(local).participants()
    if json:
        print_json(participants)
        return
    table(
        "participants",
        ["id", "name", "jurisdiction", "roles", "ciio", "zone", "group", "size", "active"],
        [
            [p.id, p.name, p.jurisdiction, ",".join(p.roles), p.ciio, p.free_trade_zone,
             p.corporate_group, p.enterprise_size, p.active]
            for p in participants
        ],
    )  # fmt: skip


def _posted(request: AgreementRequest | FilingRequest) -> dict[str, Any]:
    """A request as the API's body: the hub checks it by the same rules."""
    return {k: v for k, v in msgspec.structs.asdict(request).items() if v is not None}


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
    hub: HubUrl = "",
    key_file: RemoteKeyFile = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    json: JsonFlag = False,
) -> None:
    """Record an agreement: exporter may send product to importer for purpose."""
    request = AgreementRequest(
        exporter=exporter,
        importer=importer,
        product=product,
        purpose=purpose,
        instrument=instrument,
        valid_from=valid_from or None,
        valid_until=valid_until or None,
        id=agreement_id or None,
    )
    if hub:
        from silkgate.api.cli_http import remote_client

        with remote_client(hub, key_file) as client:
            agreement = client.add_agreement(_posted(request))
    else:
        with hub_at(data_dir) as local:
            agreement = _service(local).add_agreement(request, LOCAL_OPERATOR)
    if json:
        print_json(agreement)
    else:
        console.print(f"agreement [bold]{agreement.id}[/] recorded")


EndOn = Annotated[
    str,
    typer.Option(
        "--on", help="YYYY-MM-DD: the last day it covers, inclusive (default: today on the hub)"
    ),
]
Reason = Annotated[str, typer.Option(help="Why: terminated, withdrawn, superseded by ...")]


@agreement_app.command("end")
def agreement_end(
    agreement_id: Annotated[str, typer.Option("--id", help="The agreement")],
    reason: Reason,
    on: EndOn = "",
    hub: HubUrl = "",
    key_file: RemoteKeyFile = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    json: JsonFlag = False,
) -> None:
    """End an agreement: --on becomes its last day in force (never later than it already
    ends); the row stays. Batches submitted after that day are decided without it."""
    if hub:
        from silkgate.api.cli_http import remote_client

        with remote_client(hub, key_file) as client:
            agreement = client.end_agreement(agreement_id, reason=reason, on=on or None)
    else:
        with hub_at(data_dir) as local:
            agreement = _service(local).end_agreement(
                agreement_id, on or None, reason, LOCAL_OPERATOR
            )
    if json:
        print_json(agreement)
    else:
        console.print(
            f"agreement [bold]{agreement.id}[/] ends: last day in force {agreement.valid_until}"
        )


@agreement_app.command("list")
def agreement_list(
    exporter: Annotated[Optional[str], typer.Option()] = None,  # noqa: UP045 (typer needs Optional)
    importer: Annotated[Optional[str], typer.Option()] = None,  # noqa: UP045
    hub: HubUrl = "",
    key_file: RemoteKeyFile = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    json: JsonFlag = False,
) -> None:
    """List agreements (over --hub: those the key file's participant may see)."""
    if hub:
        from silkgate.api.cli_http import remote_client

        with remote_client(hub, key_file) as client:
            agreements = client.agreements(exporter=exporter, importer=importer)
    else:
        with hub_at(data_dir) as local:
            agreements = _service(local).agreements(exporter=exporter, importer=importer)
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
    recipient: Annotated[
        str,
        typer.Option(
            help="The importer it names (required for standard_contract, "
            "security_assessment and certification)"
        ),
    ] = "",
    valid_from: Annotated[str, typer.Option(help="YYYY-MM-DD (default: today)")] = "",
    valid_until: Annotated[str, typer.Option(help="YYYY-MM-DD")] = "",
    reference: Annotated[str, typer.Option(help="e.g. the CAC filing number")] = "",
    filing_id: Annotated[str, typer.Option("--id")] = "",
    hub: HubUrl = "",
    key_file: RemoteKeyFile = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    json: JsonFlag = False,
) -> None:
    """Record a filed standard contract, certification, security assessment or TIA, and
    re-check the exporter's held batches (over --hub the hub re-checks them too; run
    `holds list` to see what is still held)."""
    from silkgate.cli.holds import print_recheck

    request = FilingRequest(
        exporter=exporter,
        kind=kind,
        recipient=recipient or None,
        valid_from=valid_from or None,
        valid_until=valid_until or None,
        reference=reference,
        id=filing_id or None,
    )
    if hub:
        from silkgate.api.cli_http import remote_client

        with remote_client(hub, key_file) as client:
            filing = client.add_filing(_posted(request))
        if json:
            print_json(filing)
        else:
            console.print(f"filing [bold]{filing.id}[/] recorded")
        return
    with hub_at(data_dir) as local:
        recorded = _service(local).add_filing(request, LOCAL_OPERATOR)
    if json:
        print_json(
            {
                **msgspec.to_builtins(recorded.filing),
                "recheck": msgspec.to_builtins(recorded.recheck),
            }
        )
    else:
        console.print(f"filing [bold]{recorded.filing.id}[/] recorded")
        print_recheck(recorded.recheck)


@filing_app.command("withdraw")
def filing_withdraw(
    filing_id: Annotated[str, typer.Option("--id", help="The filing")],
    reason: Reason,
    on: EndOn = "",
    hub: HubUrl = "",
    key_file: RemoteKeyFile = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    json: JsonFlag = False,
) -> None:
    """Withdraw a filing (withdrawn, revoked, superseded): --on becomes its last valid day
    (never later than it already is); the row stays. Held batches are not re-checked: a
    withdrawal only takes coverage away."""
    if hub:
        from silkgate.api.cli_http import remote_client

        with remote_client(hub, key_file) as client:
            filing = client.withdraw_filing(filing_id, reason=reason, on=on or None)
    else:
        with hub_at(data_dir) as local:
            filing = _service(local).withdraw_filing(filing_id, on or None, reason, LOCAL_OPERATOR)
    if json:
        print_json(filing)
    else:
        console.print(f"filing [bold]{filing.id}[/] withdrawn: last valid day {filing.valid_until}")


@filing_app.command("list")
def filing_list(
    exporter: Annotated[Optional[str], typer.Option()] = None,  # noqa: UP045
    hub: HubUrl = "",
    key_file: RemoteKeyFile = None,
    data_dir: DataDir = DEFAULT_DATA_DIR,
    json: JsonFlag = False,
) -> None:
    """List filings (over --hub: those the key file's participant may see)."""
    if hub:
        from silkgate.api.cli_http import remote_client

        with remote_client(hub, key_file) as client:
            filings = client.filings(exporter=exporter)
    else:
        with hub_at(data_dir) as local:
            filings = _service(local).filings(exporter=exporter)
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
