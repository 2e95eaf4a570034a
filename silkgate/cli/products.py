"""`silkgate product list|show`: the data products, each with its JSON Schema (generated
from the schema that validates records) and its annotated personal-data paths."""

from __future__ import annotations

from typing import Annotated

import msgspec
import typer

from silkgate.cli.common import JsonFlag, app, console, print_json, table
from silkgate.products import all_products, describe, get_product

product_app = typer.Typer(no_args_is_help=True, help="Data products: schemas and PI paths.")
app.add_typer(product_app, name="product")


@product_app.command("list")
def list_products(json: JsonFlag = False) -> None:
    """Every data product, with how many annotated personal-data paths it has."""
    infos = [describe(p) for p in all_products()]
    if json:
        print_json({"products": infos})
        return
    table(
        "data products",
        ["id", "title", "personal-data paths", "required fields"],
        [[i.id, i.title, len(i.personal_data), ", ".join(_required(i.json_schema))] for i in infos],
    )


@product_app.command("show")
def show(
    product_id: Annotated[str, typer.Argument(help="A data product id, e.g. logistics.waybill")],
    json: JsonFlag = False,
) -> None:
    """A product's JSON Schema and its annotated personal-data paths."""
    info = describe(get_product(product_id))
    if json:
        print_json(info)
        return
    console.print(f"[bold]{info.id}[/]: {info.title}", highlight=False)
    console.print(info.description, highlight=False)
    console.print("JSON Schema of a record (extra keys are allowed and content-scanned):")
    console.print_json(msgspec.json.encode(info.json_schema).decode())
    table(
        "personal-data paths",
        ["path", "holds"],
        [[path, kind] for path, kind in info.personal_data.items()],
    )
    for title, paths in (
        ("identify the data subject (strongest first)", info.subject_paths),
        ("free text (always content-scanned)", info.free_text_paths),
        ("business identifiers (never content-scanned)", info.business_paths),
    ):
        if paths:
            console.print(f"{title}: {', '.join(paths)}", highlight=False)


def _required(schema: dict[str, object]) -> list[str]:
    ref = schema.get("$ref")
    defs = schema.get("$defs")
    if isinstance(ref, str) and isinstance(defs, dict):
        target = defs.get(ref.rsplit("/", 1)[-1], {})
        required = target.get("required", []) if isinstance(target, dict) else []
        return [str(r) for r in required]
    return []
