"""A product described for people writing records: its JSON Schema (generated from the
msgspec schema type that validates records) and its annotated paths."""

from __future__ import annotations

from typing import Any

import msgspec

from silkgate.products.registry import Product

_ANY_OBJECT: dict[str, Any] = {"type": "object"}


class ProductInfo(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    title: str
    description: str
    json_schema: dict[str, Any]  # JSON Schema 2020-12; extension keys are allowed
    personal_data: dict[str, str]  # path pattern -> finding type held there
    subject_paths: list[str]  # strongest first: what identifies the data subject
    free_text_paths: list[str]  # always content-scanned
    business_paths: list[str]  # known business identifiers, never content-scanned


class ProductList(msgspec.Struct, frozen=True, kw_only=True):
    products: list[ProductInfo]


def json_schema(product: Product) -> dict[str, Any]:
    """The JSON Schema of the product's records. Records may carry keys the schema does
    not name (kept as submitted and content-scanned), so objects stay open."""
    if product.schema is None:
        schema: dict[str, Any] = dict(_ANY_OBJECT)
    else:
        schema = msgspec.json.schema(product.schema)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": product.title,
        "description": product.description,
        **schema,
    }


def describe(product: Product) -> ProductInfo:
    return ProductInfo(
        id=product.id,
        title=product.title,
        description=product.description,
        json_schema=json_schema(product),
        personal_data=dict(product.annotations),
        subject_paths=list(product.subject_paths),
        free_text_paths=list(product.free_text_paths),
        business_paths=list(product.business_paths),
    )
