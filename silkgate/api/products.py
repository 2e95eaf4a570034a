"""The data products (public, no signature): each product's JSON Schema and annotated
personal-data paths, so a participant can write records without reading the source."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from silkgate.api.deps import json_response
from silkgate.api.openapi import PUBLIC_ERRORS, json_reply
from silkgate.products import ProductInfo, ProductList, all_products, describe, get_product

DOCUMENTED = [ProductList, ProductInfo]

router = APIRouter(prefix="/products", tags=["products"], responses=PUBLIC_ERRORS)


@router.get(
    "",
    summary="Every data product: JSON Schema and personal-data paths (no signature)",
    responses=json_reply(ProductList),
)
def list_products() -> Response:
    return json_response(ProductList(products=[describe(p) for p in all_products()]))


@router.get(
    "/{product_id}",
    summary="One data product: JSON Schema and personal-data paths (no signature)",
    responses=json_reply(ProductInfo),
)
def get_product_info(product_id: str) -> Response:
    return json_response(describe(get_product(product_id)))
