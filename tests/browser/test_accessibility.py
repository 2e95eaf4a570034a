"""Accessibility of every console page, at 1280x800 and 390x844, checked in Chromium: the
`lang` attribute, a name for every control, captions and column headers on every table,
text contrast of at least 4.5:1 (computed colours against the effective background), no
`null` or `undefined` rendered as text, no page-wide sideways scrolling on a phone, and
keyboard focus that is visible."""

from __future__ import annotations

from typing import Any

import pytest

from browser.helpers import go, open_console, sign_in
from browser.world import EXPORTER, IMPORTER, OPERATOR, REGULATOR, World

SIZES = [(1280, 800), (390, 844)]
PAGES = {
    None: ["/", "/sign-in"],
    REGULATOR: ["/regulator/overview", "/regulator/thresholds", "/regulator/holds",
                "/regulator/sandbox"],
    EXPORTER: ["/exporter/batches", "/exporter/dry-run", "/exporter/counters",
               "/exporter/filings", "/exporter/receipts"],
    IMPORTER: ["/importer/mailbox", "/importer/receipts", "/importer/push"],
    OPERATOR: ["/operator/participants", "/operator/keys", "/operator/agreements",
               "/operator/health"],
}  # fmt: skip

AUDIT_JS = """() => {
  const problems = [];
  const where = (el) => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''} `
    + `"${(el.textContent || '').trim().slice(0, 30)}"`;
  if (document.documentElement.lang !== 'en') problems.push('html has no lang="en"');
  for (const el of document.querySelectorAll('input, select, textarea, button')) {
    const named = (el.labels && el.labels.length) || el.getAttribute('aria-label')
      || el.getAttribute('aria-labelledby') || (el.tagName === 'BUTTON' && el.textContent.trim());
    if (!named) problems.push(`control without a name: ${where(el)}`);
  }
  for (const t of document.querySelectorAll('table')) {
    if (!t.querySelector('caption')) problems.push('table without a caption');
    if (!t.querySelector('thead th[scope="col"]')) problems.push('table without column headers');
  }
  const rgb = (s) => {
    const m = s.match(/[\\d.]+/g).map(Number);
    return { r: m[0], g: m[1], b: m[2], a: m.length > 3 ? m[3] : 1 };
  };
  const lum = ({ r, g, b }) => {
    const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.a > 0.5) return c;
    }
    return { r: 255, g: 255, b: 255, a: 1 };
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (/^(null|undefined|NaN|\\[object Object\\])$/.test(n.textContent.trim())) {
      problems.push(`a value rendered as text: ${where(el)}`);
    }
    if (!n.textContent.trim() || seen.has(el)) continue;
    if (el.closest('svg, .visually-hidden, option, [disabled]')) continue;
    seen.add(el);
    if (!el.getClientRects().length || getComputedStyle(el).visibility === 'hidden') continue;
    const skip = el.closest('.skip-link');
    if (skip && document.activeElement !== skip) continue;  // off screen until focused
    const fg = lum(rgb(getComputedStyle(el).color));
    const bg = lum(background(el));
    const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
    if (ratio < 4.5) problems.push(`contrast ${ratio.toFixed(2)} < 4.5: ${where(el)}`);
  }
  if (document.documentElement.scrollWidth > window.innerWidth + 1) {
    const wide = document.documentElement.scrollWidth;
    problems.push(`the page scrolls sideways: ${wide} > ${window.innerWidth}`);
  }
  return problems;
}"""


def audit(page: Any) -> list[str]:
    problems: list[str] = page.evaluate(AUDIT_JS)
    return problems


def test_the_audit_finds_what_it_looks_for(page: Any, world: World) -> None:
    """The checks above can fail: a nameless control, a bare table, faint text."""
    open_console(page, world.url)
    page.evaluate(
        """() => {
          const main = document.querySelector('main');
          main.append(document.createElement('input'), document.createElement('table'));
          const faint = document.createElement('p');
          faint.textContent = 'faint';
          faint.className = 'hint';
          faint.style.color = '#bbbbbb';
          main.append(faint);
          main.append(document.createTextNode('null'));
        }"""
    )
    problems = audit(page)
    assert any(p.startswith("control without a name: input") for p in problems)
    assert "table without a caption" in problems and "table without column headers" in problems
    assert any(p.startswith("contrast") and '"faint"' in p for p in problems)
    assert any(p.startswith("a value rendered as text: main") for p in problems)


@pytest.mark.parametrize("who", list(PAGES), ids=lambda w: w or "public")
def test_every_page_is_accessible_at_both_sizes(page: Any, world: World, who: str | None) -> None:
    found: dict[str, list[str]] = {}
    if who is None:
        open_console(page, world.url)
    else:
        sign_in(page, world.url, world.key_file(who))
    for width, height in SIZES:
        page.set_viewport_size({"width": width, "height": height})
        for route in PAGES[who]:
            go(page, route)
            problems = audit(page)
            if problems:
                found[f"{route} at {width}x{height}"] = problems
    assert found == {}


def test_the_keyboard_reaches_the_skip_link_and_focus_is_visible(page: Any, world: World) -> None:
    open_console(page, world.url)
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "() => { const e = document.activeElement; const s = getComputedStyle(e);"
        " return [e.className, s.outlineStyle, s.outlineWidth]; }"
    )
    assert focused[0] == "skip-link" and focused[1] != "none" and focused[2] != "0px"
    page.keyboard.press("Enter")
    # Then the sign-in form can be reached and used from the keyboard alone.
    go(page, "/sign-in")
    page.focus("#sign-in-button")
    page.keyboard.press("Enter")
    page.wait_for_selector("#sign-in-status >> text=Choose your key file first")
