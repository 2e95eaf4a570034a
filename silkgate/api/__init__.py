"""The HTTP API: FastAPI app, RFC 9421 request authentication and per-tenant authorization.

``create_app(data_dir)`` builds the app; ``silkgate serve`` runs it with uvicorn.
"""

from __future__ import annotations

__all__ = ["create_app"]


def __getattr__(name: str) -> object:
    if name == "create_app":
        from silkgate.api.app import create_app

        return create_app
    raise AttributeError(name)
