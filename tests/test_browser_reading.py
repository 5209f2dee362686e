"""The reading pages in a real browser (headless Debian Chromium driven by Playwright) on a live
``kg serve``, offline: every request that does not go to the loopback server is blocked.

What a researcher who has never seen SPARQL does: search for the 30-day ceasefire, open the
proposal, read every quote behind each stance; find a claim by a phrase of its quote; list
every actor. A keyboard user skips the header on every page. Screenshots go to
``$KG_SCREENSHOTS`` (or a temporary folder), never the repository.
"""

from __future__ import annotations

import json
import re
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import browser, offline_page, shots  # noqa: F401  (fixtures)
from live import live_server  # noqa: F401  (a fixture)

from kg.namespaces import sparql_prologue

CEASEFIRE = "https://w3id.org/negotiation-kg/id/proposal/thirty-day-ceasefire"


def _select(base: str, query: str) -> list[dict[str, str]]:
    """Rows of a SELECT asked of the live server (plain values)."""
    url = base + "/sparql?" + urllib.parse.urlencode({"query": sparql_prologue() + query})
    request = urllib.request.Request(url, headers={"Accept": "application/sparql-results+json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        data = json.load(response)
    return [{k: v["value"] for k, v in b.items()} for b in data["results"]["bindings"]]


@pytest.fixture()
def page(browser: Any, live_server: str) -> Iterator[Any]:  # noqa: F811
    """A fresh page that reaches the live server only (see :func:`browser.offline_page`)."""
    yield from offline_page(browser, live_server, viewport={"width": 1100, "height": 900})


def test_search_leads_to_the_proposal_and_its_whole_quotes(page: Any, live_server: str, shots: Path) -> None:  # noqa: F811
    page.goto("/id/")
    page.fill("header form.search input[name=q]", "30-day ceasefire")
    page.press("header form.search input[name=q]", "Enter")
    page.wait_for_selector("ol.hits li")
    page.screenshot(path=str(shots / "search-ceasefire.png"), full_page=True)
    page.locator("ol.hits li").first.locator("a").first.click()
    page.wait_for_url("**/id/proposal/thirty-day-ceasefire")
    assert page.text_content("h1") == "30-day ceasefire"
    rows = _select(live_server, f"""SELECT ?quote WHERE {{
        ?st rdf:subject <{CEASEFIRE}> ; rdf:predicate ?p ; rdf:object ?a .
        FILTER (?p IN (nkg:proposedBy, nkg:supportedBy, nkg:opposedBy)) ?c nkg:asserts ?st ; nkg:quote ?quote }}""")
    shown = page.locator("h3[id^=stances-] + ul.facts blockquote.evidence").all_inner_texts()
    assert len(shown) == len(rows) > 10
    assert sorted(s.strip() for s in shown) == sorted(r["quote"].strip() for r in rows)
    assert page.locator("details.raw").get_attribute("open") is None  # the raw triples start folded
    assert page.locator("#stances").is_visible() and page.locator("blockquote.evidence").first.is_visible()
    page.screenshot(path=str(shots / "proposal-ceasefire.png"), full_page=True)


def test_a_phrase_of_a_quote_finds_its_claim_highlighted(page: Any, live_server: str, shots: Path) -> None:  # noqa: F811
    row = _select(live_server, """SELECT ?claim ?quote WHERE { ?claim nkg:quote ?quote
        FILTER (CONTAINS(?quote, "cycle of history")) } LIMIT 1""")[0]
    page.goto("/search?" + urllib.parse.urlencode({"q": "cycle of history"}))
    hit = page.locator("ol.hits > li", has=page.locator(f"a[href='/id/{row['claim'].split('/id/', 1)[1]}']"))
    assert hit.count() == 1
    assert hit.locator("blockquote").inner_text() == row["quote"]
    assert [m.lower() for m in hit.locator("mark").all_inner_texts()] == ["cycle", "of", "history"]
    background = hit.locator("mark").first.evaluate("m => getComputedStyle(m).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent")
    page.screenshot(path=str(shots / "search-quote.png"), full_page=True)


def test_the_index_lists_every_actor(page: Any, live_server: str, shots: Path) -> None:  # noqa: F811
    actors = {r["a"] for r in _select(live_server, "SELECT DISTINCT ?a WHERE { ?a a nkg:Actor }")}
    page.goto("/id/")
    page.click("a[href='/id/actor/']")
    page.wait_for_url("**/id/actor/")
    links = page.locator("table.index td:first-child a").evaluate_all("as => as.map(a => a.getAttribute('href'))")
    assert sorted(links) == sorted("/id/" + a.split("/id/", 1)[1] for a in actors)
    # readable: the table fits the window (cells wrap), nothing scrolls sideways
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(shots / "index-actors.png"), full_page=True)
    page.goto("/id/actor/vladimir-putin")
    assert re.search(r"Stances \(\d+\)", page.locator("#stances").inner_text())
    page.screenshot(path=str(shots / "actor-putin.png"), full_page=True)


@pytest.mark.parametrize("path", ["/", "/id/actor/russia", "/views/stances", "/search?q=ceasefire", "/ontology", "/docs"])
def test_the_first_tab_shows_a_link_past_the_header(page: Any, shots: Path, path: str) -> None:  # noqa: F811
    """Keyboard order: the skip link first (hidden until focused, then in view), then the header's
    links; following it, the next Tab lands inside the page's own content, not in the header."""
    page.goto(path)
    skip = page.locator("a.skip")
    assert skip.count() == 1 and not _in_view(skip)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip" and _in_view(skip)
    page.screenshot(path=str(shots / f"skip-link{path.replace('/', '-').split('?')[0]}.png"))
    page.keyboard.press("Tab")  # without following it: the header comes next
    assert page.evaluate("document.activeElement.closest('header.site') !== null")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"  # the focus moved past the header
    page.keyboard.press("Tab")
    where = page.evaluate("[document.activeElement.closest('main#main') !== null,"
                          " document.activeElement.closest('header') !== null]")
    assert where == [True, False], path
    if path.startswith("/search"):  # one search box there: the page's own, labelled, holding the words
        assert page.locator("form[role=search]").count() == 1
        assert page.locator("main form[role=search] input[name=q]").input_value() == "ceasefire"


def _in_view(locator: Any) -> bool:
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] > 0 and box["x"] >= 0
