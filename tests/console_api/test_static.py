"""The console and the API docs are served from the package: strict security headers on every
answer, the right MIME types, ETag revalidation, no way out of the static directory, no
inline script, and no URL to another host in anything served."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from api.cast import Env
from fastapi import FastAPI
from fastapi.testclient import TestClient

from silkgate.api.static import (
    CSP,
    MIME_TYPES,
    SECURITY_HEADERS,
    SWAGGER_FILES,
    SecurityHeaders,
    StaticFile,
    console_root,
    docs_files,
    index_files,
    static_router,
)

EXPECTED_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'none'"
)


def _served_paths() -> list[str]:
    console = [f"/console/{name}" for name in index_files(console_root())]
    docs = [f"/docs/assets/{name}" for name in docs_files() if name != "docs.html"]
    return ["/", "/docs", *console, *docs]


def _check_security_headers(headers: object) -> None:
    get = headers.get  # type: ignore[attr-defined]
    assert get("content-security-policy") == EXPECTED_CSP
    assert get("x-content-type-options") == "nosniff"
    assert get("referrer-policy") == "no-referrer"


def test_the_policy_is_the_one_asked_for() -> None:
    assert CSP == EXPECTED_CSP
    assert "unsafe-inline" not in CSP and "unsafe-eval" not in CSP


@pytest.mark.parametrize("path", ["/", "/console/", "/docs", "/console/app.js", "/v1/hub"])
def test_security_headers_on_console_docs_and_api(env: Env, path: str) -> None:
    answer = env.http.get(path)
    assert answer.status_code == 200
    _check_security_headers(answer.headers)


def test_security_headers_on_errors_too(env: Env) -> None:
    for path in ("/console/nothing.js", "/v1/batches", "/nowhere"):
        answer = env.http.get(path)
        assert answer.status_code in (401, 404)
        _check_security_headers(answer.headers)


def test_every_served_file_has_its_mime_type_and_validators(env: Env) -> None:
    paths = _served_paths()
    assert "/console/index.html" in paths and "/docs/assets/swagger-ui-bundle.js" in paths
    for path in paths:
        answer = env.http.get(path)
        assert answer.status_code == 200, path
        name = "index.html" if path == "/" else "docs.html" if path == "/docs" else path
        assert answer.headers["content-type"] == MIME_TYPES[Path(name).suffix], path
        assert answer.headers["cache-control"] == "no-cache"
        etag = answer.headers["etag"]
        again = env.http.get(path, headers={"If-None-Match": f'W/"x", {etag}'})
        assert again.status_code == 304 and again.content == b""
        assert env.http.get(path, headers={"If-None-Match": '"other"'}).status_code == 200


def test_head_answers_without_a_body(env: Env) -> None:
    answer = env.http.head("/console/app.js")
    assert answer.status_code == 200 and answer.content == b""
    assert answer.headers["content-length"] == str(len(env.http.get("/console/app.js").content))
    assert answer.headers["etag"] == env.http.get("/console/app.js").headers["etag"]


def test_index_is_the_console_page(env: Env) -> None:
    assert env.http.get("/").content == env.http.get("/console/index.html").content
    assert env.http.get("/").content == env.http.get("/console/").content
    assert b"<html" in env.http.get("/").content


@pytest.mark.parametrize(
    "path",
    [
        "/console/../pyproject.toml",
        "/console/..%2f..%2fpyproject.toml",
        "/console/%2e%2e/%2e%2e/api/app.py",
        "/console/%2e%2e%2fhub.py",
        "/console//etc/passwd",
        "/console/%2fetc%2fpasswd",
        "/console/..\\..\\hub.py",
        "/console/app.js%00.png",
        "/docs/assets/../docs.html",
        "/docs/assets/%2e%2e/static.py",
        "/docs/assets/docs.html",
        "/docs/assets/__init__.py",
    ],
)
def test_no_way_out_of_the_static_directories(env: Env, path: str) -> None:
    answer = env.http.get(path)
    assert answer.status_code == 404, path
    assert b"import" not in answer.content and b"root:" not in answer.content


def test_the_index_leaves_out_dotfiles_links_and_unknown_types(tmp_path: Path) -> None:
    root = tmp_path / "static"
    (root / "sub").mkdir(parents=True)
    (root / "index.html").write_text("<html></html>")
    (root / "sub" / "chart.js").write_text("export {}")
    (root / ".env").write_text("SECRET=1")
    (root / "sub" / ".hidden.js").write_text("x")
    (root / "tool.py").write_text("print()")
    (root / "data.bin").write_bytes(b"\0")
    outside = tmp_path / "secret.txt"
    outside.write_text("secret")
    os.symlink(outside, root / "linked.txt")
    os.symlink(tmp_path, root / "up")
    found = index_files(root)
    assert sorted(found) == ["index.html", "sub/chart.js"]
    assert found["sub/chart.js"].media_type == "text/javascript; charset=utf-8"
    app = FastAPI(docs_url=None, redoc_url=None)
    app.include_router(static_router(found, {}))
    app.add_middleware(SecurityHeaders)
    with TestClient(app) as http:
        assert http.get("/console/sub/chart.js").text == "export {}"
        for path in ("/console/.env", "/console/linked.txt", "/console/up/secret.txt"):
            assert http.get(path).status_code == 404, path
        assert http.get("/docs").status_code == 404  # no docs index given


def test_a_route_may_set_its_own_policy() -> None:
    app = FastAPI()
    own = "default-src 'none'"

    @app.get("/x")
    def x() -> dict[str, str]:
        return {}

    @app.get("/y")
    def y() -> object:
        from fastapi.responses import Response

        return Response(b"", headers={"Content-Security-Policy": own})

    app.add_middleware(SecurityHeaders)
    with TestClient(app) as http:
        for name, value in SECURITY_HEADERS.items():
            assert http.get("/x").headers[name] == value
        assert http.get("/y").headers["content-security-policy"] == own


_TAG = re.compile(r"<(script|style|link|img|iframe|object|embed|base|form)\b([^>]*)>", re.I)


@pytest.mark.parametrize("path", ["/", "/docs"])
def test_pages_have_no_inline_script_or_style(env: Env, path: str) -> None:
    html = env.http.get(path).text
    tags = _TAG.findall(html)
    assert tags
    for name, attributes in tags:
        assert name.lower() not in ("style", "iframe", "object", "embed", "base", "form"), name
        if name.lower() == "script":
            assert re.search(r'\bsrc="/', attributes), f"inline script in {path}"
    assert not re.search(r"<script\b[^>]*>[^<\s]", html), "script element with a body"
    assert not re.search(r"\son[a-z]+\s*=", html, re.I), "an inline event handler"
    assert not re.search(r"\sstyle\s*=", html, re.I), "an inline style attribute"
    assert "javascript:" not in html.lower()


def test_docs_start_swagger_from_a_file_on_our_document() -> None:
    init = docs_files()["swagger-init.js"].body.decode()
    assert 'url: "/openapi.json"' in init
    assert "validatorUrl: null" in init  # never asks an online validator
    for name in SWAGGER_FILES:
        assert docs_files()[name].body


# -- no URL to another host in anything served -------------------------------------------

_URL = re.compile(r"https?://[^\s\"'`<>()\\]+", re.I)
_BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.S)
_LINE_COMMENT = re.compile(r"^\s*//.*$", re.M)
LOCAL = {"localhost", "127.0.0.1", "[::1]"}
# Identifiers, not places anything is loaded from: XML namespaces.
NAMESPACES = {"www.w3.org"}
# Swagger UI's bundle (a vendored file we do not edit) names these in strings: links in
# rendered help and error messages, JSON Schema / OpenAPI dialect identifiers, and its
# Markdown linkifier's social-site patterns. None is fetched: /docs's CSP allows requests to
# the hub only, and swagger-init.js turns the online validator off.
SWAGGER_STRINGS = {
    "datatracker.ietf.org", "www.rfc-editor.org", "spec.openapis.org", "json-schema.org",
    "validator.swagger.io", "swagger.io", "spdx.org", "github.com", "redux.js.org",
    "reactjs.org", "example.com", "vladimirgorej.com", "twitter.com", "www.facebook.com",
    "instagram.com", "www.tiktok.com", "soundcloud.com", "petstore.swagger.io",
    "localhost", "developer.mozilla.org", "tools.ietf.org", "www.iana.org", "fb.me",
    "www.npmjs.com", "npms.io", "unpkg.com", "jsonapi.org", "실례.com",
}  # fmt: skip


def _hosts(text: str) -> set[str]:
    return {re.split(r"[/:?#]", u.split("://", 1)[1], maxsplit=1)[0].lower()
            for u in _URL.findall(text)}  # fmt: skip


def _without_comments(text: str) -> str:
    return _LINE_COMMENT.sub("", _HTML_COMMENT.sub("", _BLOCK_COMMENT.sub("", text)))


def _text_files() -> list[tuple[str, StaticFile]]:
    files = [(f"/console/{n}", f) for n, f in index_files(console_root()).items()]
    files += [(f"/docs/assets/{n}", f) for n, f in docs_files().items()]
    return [(p, f) for p, f in files if not f.media_type.startswith(("image/", "font/"))]


def test_no_served_file_names_another_host() -> None:
    files = _text_files()
    assert any(p.endswith("swagger-ui-bundle.js") for p, _ in files)
    for path, found in files:
        text = found.body.decode("utf-8", "replace")
        vendored = path.rsplit("/", 1)[-1] in SWAGGER_FILES or "/vendor/" in path
        hosts = _hosts(_without_comments(text)) - LOCAL - NAMESPACES
        if vendored:
            hosts -= SWAGGER_STRINGS
        assert not hosts, f"{path} names {sorted(hosts)}"


def test_the_scan_finds_a_url_when_there_is_one() -> None:
    text = 'fetch("https://cdn.example.net/x.js"); /* https://spec.example/ok */\n// http://x.y\n'
    assert _hosts(_without_comments(text)) == {"cdn.example.net"}
    assert _hosts(_without_comments("<img src='http://127.0.0.1:8000/a.png'>")) == {"127.0.0.1"}
