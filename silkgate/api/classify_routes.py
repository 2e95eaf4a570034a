"""POST /v1/classify: the classifier over HTTP, like Presidio's analyzer: records in,
findings out (type, path, confidence, detector, evidence). Nothing is stored or counted;
any registered participant may call it (exporters check a sample before they integrate)."""

from __future__ import annotations

from typing import Any

import msgspec
from fastapi import APIRouter
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from silkgate.api.authz import scopes
from silkgate.api.deps import ApiState, Auth, Authed, State, decode_body, json_response
from silkgate.api.openapi import ERRORS, json_body, json_reply
from silkgate.errors import InputError
from silkgate.model import Confidence, Finding, FindingType
from silkgate.products import get_product

router = APIRouter(tags=["classify"], responses=ERRORS)

MAX_RECORDS = 1_000  # a sample, not traffic: traffic goes through /v1/batches


class ClassifyBody(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Records to classify, read as the data product `product` (default `generic.json`:
    key names and content only)."""

    records: list[Any]
    product: str = "generic.json"


class ClassifiedFinding(msgspec.Struct, kw_only=True):
    path: str  # RFC 9535 normalized path
    type: FindingType
    confidence: Confidence
    detector: str
    evidence: list[str]
    country: str | None = None
    span: tuple[int, int] | None = None  # character offsets, when only part of the string


class ClassifiedRecord(msgspec.Struct, kw_only=True):
    index: int
    findings: list[ClassifiedFinding]


class ClassifyResult(msgspec.Struct, kw_only=True):
    product: str
    records: list[ClassifiedRecord]


def finding_out(f: Finding) -> ClassifiedFinding:
    return ClassifiedFinding(
        path=f.path,
        type=f.type,
        confidence=f.confidence,
        detector=f.detector,
        evidence=list(f.evidence),
        country=f.country,
        span=f.span,
    )


def _classify(auth: Authed, state: ApiState) -> ClassifyResult:
    scopes(auth.caller, "classify")
    body = decode_body(auth.body, ClassifyBody, "classify request")
    if not body.records:
        raise InputError("records is empty: send at least one record", path="$['records']")
    if len(body.records) > MAX_RECORDS:
        raise InputError(
            f"{len(body.records)} records: send at most {MAX_RECORDS} per request "
            "(a sample; traffic goes through POST /v1/batches)",
            path="$['records']",
        )
    product = get_product(body.product)
    for index, record in enumerate(body.records):
        product.validate(record, index=index)
    classified = state.classifier(product).classify_batch(body.records)
    return ClassifyResult(
        product=product.id,
        records=[
            ClassifiedRecord(index=i, findings=[finding_out(f) for f in rc.findings])
            for i, rc in enumerate(classified)
        ],
    )


@router.post(
    "/classify",
    summary="Find personal data in records (type, path, confidence, detector); nothing stored",
    openapi_extra=json_body(ClassifyBody),
    responses=json_reply(ClassifyResult),
)
async def classify(auth: Auth, state: State) -> Response:
    return json_response(await run_in_threadpool(_classify, auth, state))
