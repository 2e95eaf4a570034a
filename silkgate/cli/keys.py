"""`silkgate keygen`: a participant creates its own key file on its own machine and hands
the operator only the public part, to be registered with `participant add
--public-key-file`. Private keys never leave the participant's machine."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Optional

import typer

from silkgate.cli.common import JsonFlag, app, console
from silkgate.errors import ConflictError, InputError
from silkgate.registry.keys import encode_public_document, generate_key_file, public_document
from silkgate.registry.service import ID_PATTERN
from silkgate.seal.keys import KEMS


@app.command("keygen")
def keygen(
    participant_id: Annotated[
        str, typer.Option("--id", help="Your participant id, e.g. vn-carrier")
    ],
    out: Annotated[Path, typer.Option("--out", help="Your new key file (0600; never overwritten)")],
    public_out: Annotated[
        Optional[Path],  # noqa: UP045 (typer needs Optional)
        typer.Option("--public-out", help="Also write the public part here (default: print it)"),
    ] = None,
    kem: Annotated[str, typer.Option(help="HPKE KEM: " + " | ".join(KEMS))] = "x25519",
    json: JsonFlag = False,
) -> None:
    """Create your key file and print (or write) its public part for the operator."""
    if not ID_PATTERN.match(participant_id):
        raise InputError(
            f"{participant_id!r} is not a valid id: 1-128 letters, digits, '.', '_', ':' or "
            "'-', starting with a letter or digit"
        )
    if public_out is not None and public_out.exists():
        raise ConflictError(f"{public_out} exists; choose another --public-out")
    ring = generate_key_file(out, participant_id, datetime.now(UTC), kem=kem)
    document = encode_public_document(public_document(ring, datetime.now(UTC)))
    if public_out is None:
        sys.stdout.buffer.write(document)
        sys.stdout.flush()
        return
    public_out.parent.mkdir(parents=True, exist_ok=True)
    public_out.write_bytes(document)
    if json:
        sys.stdout.buffer.write(document)
        sys.stdout.flush()
    else:
        console.print(
            f"wrote your key file {out} (keep it private) and its public part {public_out} "
            "(give it to the hub's operator: silkgate participant add --public-key-file)",
            highlight=False,
        )
