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


def _ref(kind: type[Any]) -> dict[str, Any]:
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
            (_, components) = msgspec.json.schema_components(kinds, ref_template=_REF)
            document.setdefault("components", {}).setdefault("schemas", {}).update(components)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = build  # type: ignore[method-assign]
