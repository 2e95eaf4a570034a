"""``silkgate classify FILE [--product ID]``: one NDJSON line of findings per input record."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer

from silkgate.classify.classifier import Classifier
from silkgate.errors import SilkgateError
from silkgate.products import get_product
from silkgate.records_io import read_records


def classify_lines(records: list[Any], product: str | None = None) -> list[bytes]:
    """The output lines for `records`: ``{"index": i, "findings": [...]}``, each finding
    with its path, type, confidence, detector, evidence and country (when known)."""
    clf = Classifier(get_product(product) if product else None)
    lines = []
    for i, record in enumerate(records):
        rc = clf.classify(record)
        findings = [
            {
                k: v
                for k, v in (
                    ("path", f.path),
                    ("type", f.type),
                    ("confidence", f.confidence),
                    ("detector", f.detector),
                    ("evidence", list(f.evidence)),
                    ("country", f.country),
                )
                if v is not None
            }
            for f in rc.findings
        ]
        lines.append(orjson.dumps({"index": i, "findings": findings}))
    return lines


def classify_command(
    file: Annotated[Path, typer.Argument(help="NDJSON file or EPCIS 2.0 document")],
    product: Annotated[
        str | None, typer.Option("--product", help="data product id (default: generic.json)")
    ] = None,
) -> None:
    """Find personal data in each record of FILE; print one NDJSON line per record."""
    try:
        lines = classify_lines(read_records(file), product)
    except SilkgateError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    out = sys.stdout.buffer
    for line in lines:
        out.write(line + b"\n")
    out.flush()
