"""Steps a person takes in the console, for the browser tests and the screenshot script."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def open_console(page: Any, url: str, route: str = "/") -> None:
    page.goto(f"{url}/#{route}")
    page.wait_for_selector("html[data-ready='true']")
    wait_idle(page)


def wait_idle(page: Any) -> None:
    """Until the page has rendered (no section is busy loading)."""
    page.wait_for_function("() => !document.querySelector('[aria-busy=\"true\"]')")


def sign_in(page: Any, url: str, key_file: Path, *, remember: bool = False) -> None:
    open_console(page, url, "/sign-in")
    page.get_by_label("Participant key file").set_input_files(str(key_file))
    if remember:
        page.get_by_label("Remember on this device", exact=False).check()
    page.get_by_role("button", name="Sign in").click()
    # A signed-in console goes to the participant's first page.
    page.wait_for_function("() => window.location.hash !== '#/sign-in'")
    page.wait_for_selector("#sign-out")
    wait_idle(page)


def go(page: Any, route: str) -> None:
    page.evaluate("(r) => { window.location.hash = r; }", route)
    page.wait_for_function("(r) => window.location.hash === '#' + r", arg=route)
    page.wait_for_function("() => document.querySelector('main h1')")
    wait_idle(page)
