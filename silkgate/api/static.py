"""The web console and the API docs, served from the package with nothing from the internet.

- ``GET /`` and ``GET /console/`` answer the console's ``index.html``; ``GET /console/<path>``
  its assets, all from ``silkgate/console/static/`` inside the installed package.
- ``GET /docs`` is Swagger UI over ``/openapi.json``: its HTML here, its start-up code in
  ``docs_assets/swagger-init.js`` (no inline script), Swagger UI's own files from the pinned
  ``fastapi-offline`` package under ``/docs/assets/``.

Files are indexed once, when the app is built: a request names an entry of that index or
gets 404, so no path a client sends ever reaches the file system (no traversal, no symlinks
followed, no dotfiles). Only known file types are served, each with its MIME type.

Every response of the app carries `SECURITY_HEADERS` (`SecurityHeaders`): a strict
Content-Security-Policy without inline scripts or styles, ``nosniff``, ``no-referrer``. The
static files are sent with an ETag and ``Cache-Control: no-cache`` (revalidate, then 304),
since their names carry no version.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path, PurePosixPath

from fastapi import APIRouter, Request
from fastapi.responses import Response

from silkgate.api.limits import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'none'"
)
SECURITY_HEADERS: Mapping[str, str] = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}
MIME_TYPES: Mapping[str, str] = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".webp": "image/webp",
    ".woff2": "font/woff2",
}
REVALIDATE = "no-cache"
CONSOLE_PREFIX = "/console/"
DOCS_ASSETS = "/docs/assets/"
# Swagger UI's own files, from the fastapi-offline package (pinned in pyproject.toml).
SWAGGER_FILES = ("swagger-ui-bundle.js", "swagger-ui.css", "favicon.png")
MAX_FILES = 2000  # a runaway static directory is a packaging mistake, not something to serve


@dataclass(frozen=True)
class StaticFile:
    body: bytes
    media_type: str
    etag: str


def _entry(body: bytes, media_type: str) -> StaticFile:
    return StaticFile(body, media_type, '"' + hashlib.sha256(body).hexdigest()[:32] + '"')


def _walk(root: Traversable, prefix: PurePosixPath) -> Iterator[tuple[str, Traversable]]:
    for child in sorted(root.iterdir(), key=lambda c: c.name):
        if child.name.startswith("."):
            continue  # dotfiles (.gitkeep, editor swap files) are never served
        if isinstance(child, Path) and child.is_symlink():
            continue  # a link could point out of the directory: ship real files
        path = prefix / child.name
        if child.is_dir():
            yield from _walk(child, path)
        elif child.is_file():
            yield str(path), child


def index_files(root: Traversable) -> dict[str, StaticFile]:
    """Every servable file under `root`: relative POSIX path -> its bytes, MIME type, ETag.
    Files of unknown types are left out."""
    found: dict[str, StaticFile] = {}
    if not root.is_dir():
        return found
    for name, item in _walk(root, PurePosixPath()):
        media_type = MIME_TYPES.get(PurePosixPath(name).suffix.lower())
        if media_type is None:
            continue
        if len(found) >= MAX_FILES:
            break
        found[name] = _entry(item.read_bytes(), media_type)
    return found


def console_root() -> Traversable:
    return resources.files("silkgate") / "console" / "static"


def docs_files() -> dict[str, StaticFile]:
    """Swagger UI's files and our start-up script, by the name they have under /docs/assets/."""
    found = index_files(resources.files("silkgate.api") / "docs_assets")
    swagger = resources.files("fastapi_offline") / "static"
    for name in SWAGGER_FILES:
        media_type = MIME_TYPES[PurePosixPath(name).suffix]
        found[name] = _entry((swagger / name).read_bytes(), media_type)
    return found


def send(request: Request, found: StaticFile | None) -> Response:
    """`found` with its validators (304 when the client's copy is current), or 404."""
    if found is None:
        return Response(b"not found\n", status_code=404, media_type="text/plain; charset=utf-8")
    headers = {"ETag": found.etag, "Cache-Control": REVALIDATE}
    if found.etag in _etags(request.headers.get("if-none-match", "")):
        return Response(status_code=304, headers=headers)
    if request.method == "HEAD":
        headers["Content-Length"] = str(len(found.body))
        return Response(media_type=found.media_type, headers=headers)
    return Response(found.body, media_type=found.media_type, headers=headers)


def _etags(header: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()}


def static_router(
    console: Mapping[str, StaticFile] | None = None,
    docs: Mapping[str, StaticFile] | None = None,
) -> APIRouter:
    """`/`, `/console/...`, `/docs` and `/docs/assets/...` (none in the OpenAPI document).
    The indexes default to the installed package's files."""
    console_files = dict(console) if console is not None else index_files(console_root())
    docs_index = dict(docs) if docs is not None else docs_files()
    router = APIRouter(include_in_schema=False)
    methods = ["GET", "HEAD"]

    @router.api_route("/", methods=methods)
    def console_index(request: Request) -> Response:
        return send(request, console_files.get("index.html"))

    @router.api_route(CONSOLE_PREFIX + "{path:path}", methods=methods)
    def console_asset(path: str, request: Request) -> Response:
        return send(request, console_files.get(path or "index.html"))

    @router.api_route("/docs", methods=methods)
    def docs_page(request: Request) -> Response:
        return send(request, docs_index.get("docs.html"))

    @router.api_route(DOCS_ASSETS + "{path:path}", methods=methods)
    def docs_asset(path: str, request: Request) -> Response:
        return send(request, docs_index.get(path) if path != "docs.html" else None)

    return router


class SecurityHeaders:
    """ASGI middleware: `SECURITY_HEADERS` on every HTTP response (API answers included;
    a header the route set itself is left alone)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._extra = [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def adding(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {bytes(k).lower() for k, _ in headers}
                headers += [(k, v) for k, v in self._extra if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, adding)
