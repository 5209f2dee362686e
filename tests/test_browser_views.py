"""The pictures at ``/views/…`` in a real browser (headless Debian Chromium driven by Playwright)
on a live ``kg serve``: each draws as many marks as SPARQL on the same store counts, a mark
leads to a claim page that exists, and a missing page is an HTML 404. No request may leave the
machine. Screenshots go to ``$KG_SCREENSHOTS`` (or a temporary folder) for a person to look at.

Needs ``/usr/bin/chromium`` and Playwright for Python, like ``tests/test_browser.py``.
"""

from __future__ import annotations

import json
import os
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from live import live_server  # noqa: F401  (a fixture)
from test_views import ESTIMATES, MEETINGS, PARTICIPANTS, STANCES

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.is_file():
    pytest.skip(f"no {CHROMIUM}: install it with 'apt-get install chromium'", allow_module_level=True)
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright for Python is missing: 'pip install playwright' (in the [test] extra)"
)

CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
TIMEOUT_MS = 10_000
LOOPBACK = {"127.0.0.1", "localhost", "[::1]"}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: ``$KG_SCREENSHOTS``, else a temporary folder (never the repository)."""
    folder = Path(os.environ["KG_SCREENSHOTS"]) if os.environ.get("KG_SCREENSHOTS") else tmp_path_factory.mktemp("shots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture()
def page(browser: Any, live_server: str) -> Iterator[Any]:  # noqa: F811
    """A page that may reach the live server only, failing the test on any script or console error."""
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    outside: list[str] = []
    problems: list[str] = []

    def only_loopback(route: Any) -> None:
        host = urllib.parse.urlsplit(route.request.url).hostname or ""
        if host in LOOPBACK or f"[{host}]" in LOOPBACK:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_loopback)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" and "favicon" not in
            m.location.get("url", "") and "404" not in m.text else None)
    yield page
    context.close()
    assert outside == [], f"requests that would leave the machine: {outside}"
    assert problems == [], problems


def _count(live: str, query: str) -> int:
    url = f"{live}/sparql?" + urllib.parse.urlencode({"query": query, "format": "json"})
    with urllib.request.urlopen(url, timeout=30) as response:
        return len(json.load(response)["results"]["bindings"])


@pytest.mark.parametrize("view,selector,query", [
    ("timeline", "svg g.meeting", MEETINGS),
    ("timeline", "svg a.participant", PARTICIPANTS),
    ("estimates", "svg a.estimate", ESTIMATES),
    ("stances", "svg a.claim-dot", STANCES.replace("UNION { ?p ?prop ?a } }", "}")),  # the claims only
], ids=["timeline-meetings", "timeline-participants", "estimates", "stances-claims"])
def test_each_picture_draws_a_mark_per_fact(page: Any, live_server: str, shots: Path, view: str, selector: str,  # noqa: F811
                                            query: str) -> None:
    response = page.goto(f"/views/{view}")
    assert response is not None and response.status == 200
    figure = page.locator(".view-figure svg")
    box = figure.bounding_box()
    assert box is not None and box["width"] > 600 and box["height"] > 100  # drawn, and styled by its own sheet
    expected = _count(live_server, query)
    assert expected > 0
    assert page.locator(selector).count() == expected
    assert page.locator(".view-figure svg .legend").is_visible()
    page.screenshot(path=str(shots / f"view-{view}.png"), full_page=True)


def test_stance_marks_count_the_stances(page: Any, live_server: str) -> None:  # noqa: F811
    page.goto("/views/stances")
    stances = _count(live_server, STANCES.replace("?a ?claim WHERE", "?a WHERE"))
    assert page.locator("svg g.mark").count() == stances


@pytest.mark.parametrize("view,selector", [("stances", "svg a.claim-dot"), ("timeline", "svg a.participant"),
                                           ("estimates", "svg a.estimate")])
def test_a_mark_opens_its_claim(page: Any, view: str, selector: str) -> None:
    page.goto(f"/views/{view}")
    mark = page.locator(selector).first
    target = mark.get_attribute("href")
    assert target and target.startswith("/id/claim/")
    with page.expect_navigation():
        mark.locator("circle, text").first.click()  # the drawn shape (an <a>'s box has gaps between its shapes)
    assert page.url.endswith(target)
    assert page.locator("h1").inner_text().strip()
    assert page.locator("blockquote.quote").count() >= 1  # the claim's words, from its document


def test_focus_highlights_in_the_browser(page: Any, shots: Path) -> None:
    page.goto("/views/stances?focus=" + urllib.parse.quote("https://w3id.org/negotiation-kg/id/actor/russia"))
    assert page.locator("svg rect.focus").count() == 1
    assert "Highlighted" in page.locator(".view-focus").inner_text()
    page.screenshot(path=str(shots / "view-stances-focus.png"), full_page=True)


def test_a_missing_page_is_an_html_404(page: Any, shots: Path) -> None:
    response = page.goto("/id/actor/nobody-at-all")
    assert response is not None and response.status == 404
    assert response.headers["content-type"].startswith("text/html")
    assert page.locator("h1").inner_text() == "404 Not Found"
    assert "nobody-at-all" in page.locator(".error-message").inner_text()
    page.screenshot(path=str(shots / "error-404.png"), full_page=True)
