"""Built-in data products: schema, field annotations, subject paths.

Path patterns are RFC 9535 normalized paths in which ``[*]`` stands for any array index,
e.g. ``$['items'][*]['gtin']``. See ``Product`` for what each list means.
"""

from __future__ import annotations

from silkgate.products.describe import ProductInfo, ProductList, describe, json_schema
from silkgate.products.registry import Product, all_products, get_product

__all__ = [
    "Product",
    "ProductInfo",
    "ProductList",
    "all_products",
    "describe",
    "get_product",
    "json_schema",
]
