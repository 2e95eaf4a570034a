"""Browser tests: Playwright drives Debian's Chromium (/usr/bin/chromium, never a downloaded
browser) against a hub served on 127.0.0.1 after demo traffic. One browser per module, one
hub per session; every test gets a fresh browser context whose network log must show no
request leaving 127.0.0.1. With CI=true a missing Chromium or Playwright is a failure;
elsewhere the tests are skipped."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from browser.world import World, demo_world

CHROMIUM = Path(os.environ.get("SILKGATE_CHROMIUM", "/usr/bin/chromium"))
LOCAL_HOSTS = {"127.0.0.1"}
LOCAL_SCHEMES = {"data", "blob", "about"}


def _unavailable(why: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser tests cannot run in CI: {why}", pytrace=False)
    pytest.skip(why)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per test module. Not per session: Playwright's sync API keeps an asyncio
    loop running on this thread while it is up, which breaks `asyncio.run` in the tests
    that the same worker runs after these."""
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing: apt-get install --no-install-recommends chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed: pip install -e '.[test]'")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with demo_world(tmp_path_factory.mktemp("console")) as built:
        yield built


class NetworkLog:
    def __init__(self) -> None:
        self.urls: list[str] = []

    def outside(self) -> list[str]:
        """Requests to anything but 127.0.0.1 (blob:/data: URLs never leave the page)."""
        bad = []
        for url in self.urls:
            parts = urlsplit(url)
            if parts.scheme in LOCAL_SCHEMES:
                continue
            if parts.hostname not in LOCAL_HOSTS:
                bad.append(url)
        return bad


@pytest.fixture
def network() -> NetworkLog:
    return NetworkLog()


@pytest.fixture
def page(browser: Any, world: World, network: NetworkLog) -> Iterator[Any]:
    """A fresh context (own IndexedDB, no shared state) with its network log checked."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    context.on("request", lambda request: network.urls.append(request.url))
    errors: list[str] = []
    tab = context.new_page()
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.set_default_timeout(15_000)
    yield tab
    context.close()
    assert network.urls, "the test made no request at all"
    assert network.outside() == [], f"requests left 127.0.0.1: {network.outside()}"
    assert errors == [], f"uncaught errors in the page: {errors}"
