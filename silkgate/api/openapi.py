"""OpenAPI for msgspec bodies: FastAPI documents pydantic models by itself; our bodies are
msgspec Structs, so their JSON Schemas are added to the document's components here and
referenced from each route's `openapi_extra`/`responses`."""

from __future__ import annotations

from typing import Any

import msgspec
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

_REF = "#/components/schemas/{name}"


def _error_reply(description: str) -> dict[str, Any]:
    schema = {"$ref": _REF.format(name="ErrorBody")}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERRORS: dict[int | str, Any] = {
    401: _error_reply("Missing, bad, stale or replayed RFC 9421 signature"),
    403: _error_reply("The caller's roles or tenant do not allow this"),
    404: _error_reply("No such object"),
    409: _error_reply("Conflicts with existing state (e.g. an idempotency key reused)"),
    422: _error_reply("Invalid input; `record` and `path` say where"),
}
# Routes anyone may call (no signature, so no 401 or 403; PUBLIC_PATHS below).
PUBLIC_ERRORS: dict[int | str, Any] = {k: v for k, v in ERRORS.items() if k not in (401, 403)}
# Routes that take a regulator's signature over the action (in the body) answer 400 when
# it does not verify (silkgate.sandbox.auth.verify_approval); routes that take rule packs
# also for a pack that does not parse or compile.
_BAD_APPROVAL = "The regulator's signature over this action (in the body) does not verify"
BAD_APPROVAL: dict[int | str, Any] = {400: _error_reply(_BAD_APPROVAL)}
PACK_ERRORS: dict[int | str, Any] = {
    **ERRORS,
    400: _error_reply(
        "A rule pack that does not parse or compile (file:line in the message), or "
        + _BAD_APPROVAL[0].lower()
        + _BAD_APPROVAL[1:]
    ),
}


# Every Struct a route's `json_body`/`json_reply` names: its schema goes into the document
# even if nobody listed it in the app's DOCUMENTED kinds (no dangling $ref).
_REFERENCED: dict[str, type[Any]] = {}


def _ref(kind: type[Any]) -> dict[str, Any]:
    _REFERENCED.setdefault(kind.__name__, kind)
    return {"$ref": _REF.format(name=kind.__name__)}


def json_body(kind: type[Any]) -> dict[str, Any]:
    """`openapi_extra` for a route whose JSON body is a `kind` Struct."""
    content = {"application/json": {"schema": _ref(kind)}}
    return {"requestBody": {"required": True, "content": content}}


def json_reply(kind: type[Any], status: int = 200, *, many: bool = False) -> dict[int | str, Any]:
    """`responses` for a route answering a `kind` Struct (or a list of them)."""
    schema = {"type": "array", "items": _ref(kind)} if many else _ref(kind)
    return {status: {"description": "OK", "content": {"application/json": {"schema": schema}}}}


def install_openapi(app: FastAPI, kinds: list[type[Any]]) -> None:
    """Generate the document once, with the msgspec components of `kinds` merged in."""

    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            bodies = _late_request_bodies()
            every = list({k.__name__: k for k in [*_REFERENCED.values(), *kinds,
                                                    *bodies.values()]}.values())  # fmt: skip
            (_, components) = msgspec.json.schema_components(every, ref_template=_REF)
            document.setdefault("components", {}).setdefault("schemas", {}).update(components)
            finish(document, bodies)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = build  # type: ignore[method-assign]


SIGNATURE_SCHEME = "httpMessageSignature"
SIGNATURE_DESCRIPTION = """\
RFC 9421 HTTP Message Signatures with Ed25519 (`alg="ed25519"`), over `@method`,
`@target-uri` and `content-digest` (RFC 9530, `sha-256`, also on an empty body), with the
parameters `created`, `expires` (at most 300 s after `created`), `nonce` (never reused
within the window) and `keyid` (the key id of a signing key the participant registered).
Send the `Signature-Input`, `Signature` and `Content-Digest` headers; OpenAPI has no type
for this scheme, so it is declared as an API key in the `Signature` header. See docs/api.md,
"Authentication". The SDK (silkgate.client.SilkgateClient) signs every request."""

# Routes anyone may call without a signature (docs/api.md, "Endpoints").
PUBLIC_PATHS = frozenset(
    {
        "/v1/health",
        "/v1/hub",
        "/v1/products",
        "/v1/products/{product_id}",
        "/metrics",
        "/v1/ledger/checkpoint",
        "/v1/ledger/tile/{path}",
        "/v1/ledger/proof/inclusion",
        "/v1/ledger/proof/consistency",
        "/v1/console/checkpoint",
        "/v1/console/ledger-history",
    }
)


def _late_request_bodies() -> dict[tuple[str, str], type[Any]]:
    """Bodies of routes that decode their JSON themselves without declaring it (imported
    here, late: those modules import this one)."""
    from silkgate.api import sandbox_routes as sandbox

    return {
        ("post", "/v1/sandbox/policies"): sandbox.ProposeBody,
        ("post", "/v1/sandbox/policies/{pack}/{version}/transition"): sandbox.TransitionBody,
        ("post", "/v1/sandbox/replay"): sandbox.ReplayBody,
        ("post", "/v1/sandbox/cohorts"): sandbox.CohortBody,
        ("post", "/v1/sandbox/cohorts/{cohort_id}/suspend"): sandbox.SuspendBody,
    }


def finish(document: dict[str, Any], bodies: dict[tuple[str, str], type[Any]]) -> None:
    """Security schemes, the request bodies routes do not declare, and the right media
    type for /metrics."""
    components = document.setdefault("components", {})
    components["securitySchemes"] = {
        SIGNATURE_SCHEME: {
            "type": "apiKey",
            "in": "header",
            "name": "Signature",
            "description": SIGNATURE_DESCRIPTION,
        }
    }
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict):
                continue
            operation["security"] = [] if path in PUBLIC_PATHS else [{SIGNATURE_SCHEME: []}]
            body = bodies.get((method, path))
            if body is not None and "requestBody" not in operation:
                operation["requestBody"] = json_body(body)["requestBody"]
    from silkgate.api.metrics import CONTENT_TYPE

    metrics = document.get("paths", {}).get("/metrics", {}).get("get")
    if metrics is not None:
        metrics["responses"]["200"] = {
            "description": "Prometheus text exposition format",
            "content": {CONTENT_TYPE.split(";")[0]: {"schema": {"type": "string"}}},
        }
