"""The five built-in data products. Each is a schema (a msgspec type used for validation
only: the record itself is kept as submitted, extension fields included) plus annotations
telling the classifier what each known path holds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import msgspec

from silkgate.errors import NotFoundError, SchemaError
from silkgate.model import FindingType
from silkgate.paths import from_msgspec_path


class Product(msgspec.Struct, frozen=True, kw_only=True):
    """A data product.

    - ``annotations``: path pattern -> finding type held there (tagged without content scan).
    - ``subject_paths``: patterns whose values identify the record's data subject, strongest
      first (used to count distinct individuals).
    - ``free_text_paths``: patterns holding prose; always content-scanned.
    - ``business_paths``: patterns holding known business identifiers (waybill numbers, GTINs,
      HS codes, ...); never content-scanned.
    Every other string is content-scanned.
    """

    id: str
    title: str
    description: str
    schema: Any = None  # msgspec type; None accepts any JSON object
    annotations: Mapping[str, FindingType] = {}
    subject_paths: tuple[str, ...] = ()
    free_text_paths: tuple[str, ...] = ()
    business_paths: tuple[str, ...] = ()

    def validate(self, record: Any, *, index: int | None = None) -> None:
        """Raise SchemaError naming the record and path if `record` does not fit."""
        if not isinstance(record, dict):
            raise SchemaError(
                f"expected a JSON object for product {self.id}, got {type(record).__name__}",
                record=index,
                path="$",
            )
        if self.schema is None:
            return
        try:
            msgspec.convert(record, self.schema, strict=True)
        except msgspec.ValidationError as exc:
            raise SchemaError(_describe(exc), record=index, path=_path_of(exc)) from None

    def validate_all(self, records: Sequence[Any]) -> None:
        """`validate` for every record of a batch, the first failing record raising. The
        schema checks the whole list in one call; only a batch that fails is checked record
        by record again, so that the error is `validate`'s (record index and path)."""
        if self.schema is not None:
            try:
                msgspec.convert(records, _list_of(self.schema), strict=True)
                return
            except msgspec.ValidationError:
                pass
        for index, record in enumerate(records):
            self.validate(record, index=index)


_LIST_TYPES: dict[Any, Any] = {}


def _list_of(schema: Any) -> Any:
    list_type = _LIST_TYPES.get(schema)
    if list_type is None:
        list_type = _LIST_TYPES[schema] = list[schema]
    return list_type


def _path_of(exc: msgspec.ValidationError) -> str:
    # msgspec reports "... - at `$.consignee.phone`"; turn it normalized.
    text = str(exc)
    marker = " - at `"
    if marker not in text:
        return "$"
    return from_msgspec_path(text.split(marker, 1)[1].rstrip("`"))


def _describe(exc: msgspec.ValidationError) -> str:
    return str(exc).split(" - at `", 1)[0]


# ---------------------------------------------------------------------------- schemas
# Only what a product needs is required; everything else is optional and extension keys
# pass through untouched. Validation builds and drops a batch of these at a time: untracked
# by the garbage collector (gc=False), as they hold JSON values only, never a cycle.


class _Place(msgspec.Struct, gc=False):
    country: str


class _Party(msgspec.Struct, gc=False):
    name: str


class _WaybillSchema(msgspec.Struct, gc=False):
    waybill_no: str
    carrier: str
    event_time: str
    origin: _Place
    destination: _Place
    consignee: _Party
    status: str | None = None


class _OrderItem(msgspec.Struct, gc=False):
    quantity: int
    unit_price: float | int
    sku: str | None = None
    gtin: str | None = None
    hs_code: str | None = None


class _Address(msgspec.Struct, gc=False):
    country: str


class _OrderSchema(msgspec.Struct, gc=False):
    order_id: str
    created_at: str
    buyer: _Party
    shipping_address: _Address
    items: list[_OrderItem]
    currency: str


class _Goods(msgspec.Struct, gc=False):
    hs_code: str
    description: str
    quantity: float | int
    value: float | int


class _DeclarationSchema(msgspec.Struct, gc=False):
    declaration_no: str
    declared_at: str
    declarant: _Party
    consignee: _Party
    goods: list[_Goods]
    currency: str


EpcisEventType = Literal[
    "ObjectEvent",
    "AggregationEvent",
    "AssociationEvent",
    "TransactionEvent",
    "TransformationEvent",
]


class _EpcisEventSchema(msgspec.Struct, rename={"type_": "type"}, gc=False):
    type_: EpcisEventType
    eventTime: str
    eventTimeZoneOffset: str


_PRODUCTS: dict[str, Product] = {}


def _register(product: Product) -> None:
    _PRODUCTS[product.id] = product


_register(
    Product(
        id="logistics.waybill",
        title="Parcel waybill / tracking event",
        description="A cross-border parcel's waybill or tracking event with consignee details.",
        schema=_WaybillSchema,
        annotations={
            "$['consignee']['name']": "person_name",
            "$['consignee']['phone']": "phone",
            "$['consignee']['email']": "email",
            "$['consignee']['address']": "address",
            "$['consignee']['id_number']": "national_id",
            "$['sender']['name']": "person_name",
            "$['sender']['phone']": "phone",
        },
        subject_paths=(
            "$['consignee']['id_number']",
            "$['consignee']['phone']",
            "$['consignee']['email']",
            "$['consignee']['name']",
        ),
        free_text_paths=("$['remark']", "$['items'][*]['description']"),
        business_paths=(
            "$['waybill_no']",
            "$['carrier']",
            "$['status']",
            "$['event_time']",
            "$['parcel']['sscc']",
            "$['parcel']['container_no']",
            "$['items'][*]['gtin']",
            "$['items'][*]['hs_code']",
            "$['shipper']['uscc']",
            "$['shipper']['name']",
        ),
    )
)

_register(
    Product(
        id="ecommerce.order",
        title="Cross-border e-commerce order",
        description="Buyer, shipping address, items (GTIN, HS code) and payment.",
        schema=_OrderSchema,
        annotations={
            "$['buyer']['name']": "person_name",
            "$['buyer']['phone']": "phone",
            "$['buyer']['email']": "email",
            "$['buyer']['id_number']": "national_id",
            "$['shipping_address']['name']": "person_name",
            "$['shipping_address']['phone']": "phone",
            "$['shipping_address']['line1']": "address",
            "$['shipping_address']['email']": "email",
            "$['buyer']['address']": "address",
            "$['payment']['card_number']": "bank_card",
            "$['payment']['account']": "bank_account",
            "$['client_ip']": "ip_address",
        },
        subject_paths=(
            "$['buyer']['id_number']",
            "$['buyer']['email']",
            "$['buyer']['phone']",
            "$['shipping_address']['phone']",
            "$['buyer']['name']",
        ),
        free_text_paths=("$['note']", "$['items'][*]['title']"),
        business_paths=(
            "$['order_id']",
            "$['created_at']",
            "$['platform']",
            "$['currency']",
            "$['items'][*]['sku']",
            "$['items'][*]['gtin']",
            "$['items'][*]['hs_code']",
            "$['seller']['uscc']",
            "$['seller']['name']",
            "$['shipping_address']['country']",
            "$['shipping_address']['postcode']",
        ),
    )
)

_register(
    Product(
        id="customs.declaration",
        title="Cross-border e-commerce customs declaration",
        description="Declarant, consignee, goods with HS codes and values (WCO-inspired subset).",
        schema=_DeclarationSchema,
        annotations={
            "$['consignee']['name']": "person_name",
            "$['consignee']['id_number']": "national_id",
            "$['consignee']['passport_no']": "passport",
            "$['consignee']['phone']": "phone",
            "$['consignee']['address']": "address",
            "$['consignee']['email']": "email",
        },
        subject_paths=(
            "$['consignee']['id_number']",
            "$['consignee']['passport_no']",
            "$['consignee']['phone']",
            "$['consignee']['name']",
        ),
        free_text_paths=("$['goods'][*]['description']", "$['remark']"),
        business_paths=(
            "$['declaration_no']",
            "$['declared_at']",
            "$['customs_office']",
            "$['currency']",
            "$['declarant']['name']",
            "$['declarant']['uscc']",
            "$['goods'][*]['hs_code']",
            "$['transport']['waybill_no']",
            "$['transport']['container_no']",
        ),
    )
)

_register(
    Product(
        id="logistics.epcis-event",
        title="GS1 EPCIS 2.0 event",
        description=(
            "One EPCIS 2.0 event (JSON/JSON-LD). An EPCISDocument is split into its "
            "epcisBody.eventList; vendor extension fields are kept."
        ),
        schema=_EpcisEventSchema,
        business_paths=(
            "$['type']",
            "$['eventTime']",
            "$['eventTimeZoneOffset']",
            "$['recordTime']",
            "$['eventID']",
            "$['action']",
            "$['bizStep']",
            "$['disposition']",
            "$['epcList'][*]",
            "$['childEPCs'][*]",
            "$['inputEPCList'][*]",
            "$['outputEPCList'][*]",
            "$['parentID']",
            "$['readPoint']['id']",
            "$['bizLocation']['id']",
            "$['bizTransactionList'][*]['bizTransaction']",
            "$['bizTransactionList'][*]['type']",
            "$['sourceList'][*]['source']",
            "$['sourceList'][*]['type']",
            "$['destinationList'][*]['destination']",
            "$['destinationList'][*]['type']",
            "$['quantityList'][*]['epcClass']",
            "$['childQuantityList'][*]['epcClass']",
            "$['inputQuantityList'][*]['epcClass']",
            "$['outputQuantityList'][*]['epcClass']",
            "$['certificationInfo']",
        ),
    )
)

_register(
    Product(
        id="generic.json",
        title="Generic JSON",
        description="Any JSON object; no annotations, every string is content-scanned.",
    )
)


def get_product(product_id: str) -> Product:
    try:
        return _PRODUCTS[product_id]
    except KeyError:
        known = ", ".join(sorted(_PRODUCTS))
        raise NotFoundError(f"unknown data product {product_id!r}; known: {known}") from None


def all_products() -> list[Product]:
    return list(_PRODUCTS.values())
