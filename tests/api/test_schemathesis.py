"""The API against its own OpenAPI document (schemathesis): for every operation, generated
requests, signed by a participant of the cast (RFC 9421, as the SDK signs), never get a 5xx,
and every answer matches the document: a documented status code, a declared content type,
a body conforming to its schema. Bounded for CI (SILKGATE_SCHEMATHESIS_EXAMPLES per
operation, default 8)."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from api.cast import BASE_URL, CAST, Env, serve_cast
from silkgate.api.app import create_app
from silkgate.client import RequestSigner
from silkgate.hub import init_hub

EXAMPLES = int(os.environ.get("SILKGATE_SCHEMATHESIS_EXAMPLES", "8"))


def _document() -> dict[str, Any]:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        init_hub(data)
        app = create_app(data)
        try:
            return app.openapi()
        finally:
            app.state.silkgate.hub.close()


schema = schemathesis.openapi.from_dict(_document())
SIGNERS = itertools.cycle(sorted(CAST))


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    with serve_cast(tmp_path) as made:
        yield made


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_every_operation_conforms_and_never_fails(case: Any, env: Env) -> None:
    kwargs = case.as_transport_kwargs(base_url=BASE_URL)
    who = next(SIGNERS)
    signer = RequestSigner(env.rings[who], env.clock)
    request: dict[str, Any] = {
        k: v for k, v in kwargs.items() if k in ("method", "url", "headers", "params", "cookies")
    }
    if "json" in kwargs:
        request["json"] = kwargs["json"]
    elif kwargs.get("data") is not None:
        request["content"] = kwargs["data"]
    elif kwargs.get("content") is not None:
        request["content"] = kwargs["content"]
    response = env.http.request(**request, auth=signer)
    case.validate_response(
        response,
        checks=[not_a_server_error, status_code_conformance, content_type_conformance,
                response_schema_conformance],
    )  # fmt: skip
