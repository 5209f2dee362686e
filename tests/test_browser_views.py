"""The pictures at ``/views/…`` in a real browser (headless Debian Chromium driven by Playwright)
on a live ``kg serve``: each draws as many marks as SPARQL on the same store counts, a mark
leads to a claim page that exists, and a missing page is an HTML 404. No request may leave the
machine. Screenshots go to ``$KG_SCREENSHOTS`` (or a temporary folder) for a person to look at.

Needs ``/usr/bin/chromium`` and Playwright for Python, like ``tests/test_browser.py``.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import browser, offline_page, shots  # noqa: F401  (fixtures)
from live import live_server  # noqa: F401  (a fixture)
from test_views import ESTIMATES, MEETINGS, PARTICIPANTS, STANCES, WHOSE_WORDS


@pytest.fixture()
def page(browser: Any, live_server: str) -> Iterator[Any]:  # noqa: F811
    """A fresh page that reaches the live server only (see :func:`browser.offline_page`); the
    console's report of a 404 is expected (one test opens a missing page)."""
    yield from offline_page(browser, live_server, viewport={"width": 1280, "height": 900},
                            expected=lambda message: "404" in message.text)


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


def test_stances_in_no_words_of_the_actor_are_hatched_on_screen(page: Any, live_server: str, shots: Path) -> None:  # noqa: F811
    """As many bars are hatched as SPARQL finds stances with no quoted or paraphrased statement
    of the actor itself; the stripes are painted (a pattern the browser resolves), the legend
    shows them, and a hatched bar says why in its tooltip (not by colour alone)."""
    own = WHOSE_WORDS.replace("WHERE {", "WHERE { FILTER (?kind IN (nkg:QuotedStatement, nkg:ParaphrasedStatement) "
                              "&& ?claimant = ?a)", 1).replace("?claim ?kind ?claimant", "", 1)
    stated = _count(live_server, WHOSE_WORDS.replace("?claim ?kind ?claimant", "", 1))
    page.goto("/views/stances")
    hatched = page.locator("svg g.mark:has(rect.hatch)")
    assert hatched.count() == stated - _count(live_server, own) > 0
    assert page.locator("svg g.mark[data-basis=own] rect.hatch").count() == 0
    fill = hatched.first.locator("rect.hatch").evaluate("r => getComputedStyle(r).fill")
    assert fill.startswith("url(") and page.locator("svg pattern#hatch-light line").count() == 1
    legend = page.locator(".view-figure svg .legend")
    assert legend.get_by_text("hatched: not in the actor's own words").is_visible()
    assert "not its own words" in hatched.first.locator("a > title").first.text_content()
    page.locator(".view-figure").screenshot(path=str(shots / "view-stances-whose-words.png"))


def test_focus_highlights_in_the_browser(page: Any, shots: Path) -> None:  # noqa: F811
    page.goto("/views/stances?focus=" + urllib.parse.quote("https://w3id.org/negotiation-kg/id/actor/russia"))
    assert page.locator("svg rect.focus").count() == 1
    assert "Highlighted" in page.locator(".view-focus").inner_text()
    page.screenshot(path=str(shots / "view-stances-focus.png"), full_page=True)


def test_a_missing_page_is_an_html_404(page: Any, shots: Path) -> None:  # noqa: F811
    response = page.goto("/id/actor/nobody-at-all")
    assert response is not None and response.status == 404
    assert response.headers["content-type"].startswith("text/html")
    assert page.locator("h1").inner_text() == "404 Not Found"
    assert "nobody-at-all" in page.locator(".error-message").inner_text()
    page.screenshot(path=str(shots / "error-404.png"), full_page=True)
