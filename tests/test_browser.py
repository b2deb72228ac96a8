"""The built site in a real browser (Chromium through Playwright).

Pages load without console errors and without a single request to another
host; search finds a term; the ladder diagram is visible; the hover notes
of annotated bytes appear with CSS alone; dark mode toggles (and inverts
the ladder).  A screenshot of chapter 2 is left in the session's temporary
directory for a human to look at.
"""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

from conftest import missing, require_tool
from test_docs import sphinx_build

pytestmark = pytest.mark.slow

from conftest import ROOT

# Every page of the handbook, so a new chapter is checked without editing this list.
PAGES = sorted(
    str(rel.with_suffix(""))
    for rel in (p.relative_to(ROOT / "docs") for p in (ROOT / "docs").rglob("*.md"))
    if not any(part.startswith("_") for part in rel.parts)  # _static, _inv
)
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run", "--disable-sync"]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    build = sphinx_build("html", tmp_path_factory)
    assert build.returncode == 0, build.log[-4000:]

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(build.out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    chromium = require_tool("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("the playwright package is not installed")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=chromium,
            headless=True,
            args=LAUNCH_ARGS,
            viewport={"width": 1280, "height": 900},
            color_scheme="light",
        )
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def page(browser, site):
    """A fresh tab that records console errors and every URL it requests."""
    tab = browser.new_page()
    tab.errors = []
    tab.requests = []
    tab.on("console", lambda m: m.type == "error" and tab.errors.append(m.text))
    tab.on("pageerror", lambda e: tab.errors.append(str(e)))
    tab.on("request", lambda r: tab.requests.append(r.url))
    yield tab
    tab.close()


def _foreign(requests: list[str], site: str) -> list[str]:
    ours = urlparse(site).netloc
    return [u for u in requests
            if urlparse(u).scheme not in ("data", "blob", "about") and urlparse(u).netloc != ours]


def test_pages_load_cleanly_and_only_from_this_host(page, site):
    for name in PAGES:
        response = page.goto(f"{site}/{name}.html", wait_until="networkidle")
        assert response is not None and response.ok, name
        assert page.title(), name
    assert page.errors == []
    assert _foreign(page.requests, site) == []
    assert len(page.requests) > len(PAGES)  # stylesheets and scripts were fetched, from here


def test_search_finds_a_term(page, site):
    page.goto(f"{site}/search.html?q=sequence", wait_until="networkidle")
    results = page.locator("ul.search li")
    results.first.wait_for(timeout=15000)
    titles = results.all_inner_texts()
    assert any("three-way handshake" in t for t in titles), titles
    assert page.errors == []


def test_ladder_is_visible_and_hover_notes_work(page, site, tmp_path_factory):
    page.goto(f"{site}/tcp-handshake.html", wait_until="networkidle")
    ladder = page.locator("figure.tlsdoc-ladder img").first
    ladder.scroll_into_view_if_needed()
    assert ladder.is_visible()
    size = ladder.evaluate("img => [img.complete, img.naturalWidth, img.getBoundingClientRect().width]")
    assert size[0] and size[1] > 300 and size[2] > 300, size
    piece = page.locator("p.tlsdoc-hex .tlsdoc-piece").nth(2)
    tip = piece.locator(".tlsdoc-tip")
    assert not tip.is_visible()
    piece.hover()
    assert tip.is_visible() and "sequence number" in tip.inner_text()
    shot = tmp_path_factory.mktemp("screenshots") / "tcp-handshake.png"
    page.screenshot(path=str(shot))
    print(f"\nscreenshot: {shot}")
    assert page.errors == []


def test_dark_mode_toggles(page, site, tmp_path_factory):
    page.goto(f"{site}/tcp-handshake.html", wait_until="networkidle")
    body = page.locator("body")
    light = body.evaluate("b => getComputedStyle(b).backgroundColor")
    assert body.get_attribute("data-theme") in ("auto", "light", None)
    toggle = page.locator("button.theme-toggle:visible").first
    for _ in range(3):  # auto → dark → light → auto, whichever way round it starts
        toggle.click()
        if body.get_attribute("data-theme") == "dark":
            break
    assert body.get_attribute("data-theme") == "dark"
    dark = body.evaluate("b => getComputedStyle(b).backgroundColor")
    assert dark != light
    ladder = page.locator("figure.tlsdoc-ladder img").first
    assert "invert" in ladder.evaluate("img => getComputedStyle(img).filter")
    ladder.scroll_into_view_if_needed()
    shot = tmp_path_factory.mktemp("screenshots") / "tcp-handshake-dark.png"
    page.screenshot(path=str(shot))
    print(f"\nscreenshot: {shot}")
    assert page.errors == []
