"""The query page and ``/docs`` in a real browser (headless Debian Chromium driven by Playwright)
on a live ``kg serve``, offline: every request to anywhere but the server is aborted, and fails
the test. Screenshots for review go to ``$KG_SCREENSHOTS`` (else a temporary folder).

Needs ``/usr/bin/chromium`` (``apt-get install chromium``) and Playwright for Python
(``pip install playwright``; its own browser download, ``playwright install``, is never used).
``.ci/run`` installs both, so CI runs this module; elsewhere it is skipped when either is missing.
"""

from __future__ import annotations

import csv
import io
import json
import re
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import TIMEOUT_MS, browser, offline_context, shots, sync_api, watch  # noqa: F401  (fixtures)
from live import live_server  # noqa: F401  (a fixture)

TITLES = {
    "Istanbul 2.0: A pre-meditated choreography of failure",
    "Istanbul-2: When diplomacy returns to reality",
}


@pytest.fixture(scope="module")
def examples(live_server: str) -> dict[str, dict[str, str]]:  # noqa: F811
    """The competency questions the page offers, by name (``cq01-meetings``, …)."""
    with urllib.request.urlopen(live_server + "/examples", timeout=10) as response:
        return {ex["name"]: ex for ex in json.load(response)}


@pytest.fixture()
def problems() -> list[str]:
    """JavaScript and console errors of the test's page, and requests to anywhere but the
    server; any left at the end fail the test."""
    return []


def open_query_page(page: Any, path: str = "/") -> None:
    """Go to the query page and wait until its editor and examples are there."""
    page.goto(path)
    # a selector, not a JavaScript predicate: the page's CSP forbids evaluating strings (no 'unsafe-eval')
    page.wait_for_selector("#examples option:nth-child(2)", state="attached")
    page.wait_for_selector(".cm-content")


@pytest.fixture()
def page(browser: Any, live_server: str, problems: list[str]) -> Iterator[Any]:  # noqa: F811
    """A fresh page on ``/``, failing the test on any JavaScript error, console error or request elsewhere."""
    context = offline_context(browser, live_server, problems, accept_downloads=True)
    page = context.new_page()
    watch(page, problems)
    open_query_page(page)
    yield page
    context.close()
    assert not problems, problems


def _editor_text(page: Any) -> str:
    """What the editor shows, line by line."""
    return "\n".join(page.locator(".cm-content .cm-line").all_text_contents())


def _type_query(page: Any, text: str) -> None:
    """Replace the editor's text by ``text``, as a user pasting it would."""
    page.click(".cm-content")
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(text)
    assert page.input_value("#query") == text  # the form's field follows the editor


def _expect_bad_request(problems: list[str]) -> None:
    """Chromium logs the 400 of a bad query as a console error: expected here, so taken off the list."""
    expected = [p for p in problems if "status of 400" in p and "/sparql" in p]
    assert len(expected) == 1, problems
    problems.remove(expected[0])


def _run_example(page: Any, example: dict[str, str]) -> list[str]:
    """Pick ``example`` in the select, click Run, wait for the table; its column names."""
    page.select_option("#examples", label=example["title"])
    assert page.input_value("#query") == example["query"]
    assert _editor_text(page) == example["query"]
    page.click("#run")
    page.wait_for_selector("#results table")
    return [th.inner_text() for th in page.locator("#results table th").all()]


def test_examples_fill_the_select_and_run_shows_rows(page: Any, examples: dict[str, dict[str, str]]) -> None:
    options = page.locator("#examples option").all_inner_texts()
    assert options[1:] == [ex["title"] for ex in examples.values()]

    columns = _run_example(page, examples["cq01-meetings"])
    assert columns[:2] == ["meeting", "meetingLabel"]
    rows = page.locator("#results table tbody tr").count()
    assert rows > 3
    assert page.text_content("#status") == f"{rows} rows"
    assert re.fullmatch(r"in \d+ ms|in \d+\.\d\d s", page.text_content("#elapsed")), page.text_content("#elapsed")
    assert "Istanbul" in page.locator("#results table").inner_text()


@pytest.mark.parametrize(
    "example,kind,label_column",
    [("cq01-meetings", "meeting", "meetingLabel"), ("cq08-documents", "document", "title")],
)
def test_iri_link_opens_the_resource_page_with_its_label(
    page: Any, live_server: str, examples: dict[str, dict[str, str]], example: str, kind: str, label_column: str  # noqa: F811
) -> None:
    columns = _run_example(page, examples[example])
    row = page.locator("#results table tbody tr").nth(0)
    label = row.locator("td").nth(columns.index(label_column)).inner_text()
    link = row.locator("td").nth(0).locator("a")
    iri = link.get_attribute("data-iri")
    assert iri.startswith(f"https://w3id.org/negotiation-kg/id/{kind}/")
    assert link.get_attribute("href") == "/id/" + iri.removeprefix("https://w3id.org/negotiation-kg/id/")
    # shown by its prefixed name (the project's prefixes), the whole IRI as its title, and its label
    sync_api.expect(link).to_have_text(f"{kind}:" + iri.removeprefix(f"https://w3id.org/negotiation-kg/id/{kind}/"))
    assert link.get_attribute("title") == iri
    sync_api.expect(row.locator("td").nth(0).locator(".label")).to_have_text(label)

    link.click()
    page.wait_for_url(f"{live_server}/id/{kind}/**")
    assert page.text_content("h1") == label
    if kind == "document":
        assert label in TITLES


def test_csv_download_link(page: Any, examples: dict[str, dict[str, str]]) -> None:
    page.select_option("#examples", label=examples["cq08-documents"]["title"])
    with page.expect_download() as caught:
        page.click("a.dl[data-format=csv]")
    download = caught.value
    assert "/sparql?" in download.url and "format=csv" in download.url
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert {row["title"] for row in rows} == TITLES
    assert all(row["document"].startswith("https://w3id.org/negotiation-kg/id/document/") for row in rows)

    response = page.request.get(download.url)  # the same URL, to see what the server answered
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/csv")


def test_bad_query_shows_the_servers_message(page: Any, problems: list[str]) -> None:
    _type_query(page, "SELECT ?x WHERE { ?x ?y }")
    page.click("#run")
    message = page.locator("#results .error").inner_text()
    assert "syntax error" in message.lower()
    assert page.locator("#results table").count() == 0
    _expect_bad_request(problems)


def test_bad_query_error_points_into_what_the_user_typed(page: Any, problems: list[str]) -> None:
    _type_query(page, "SELECT ?x WHERE { ?x ?y }")
    page.click("#run")
    message = page.locator("#results .error").inner_text()
    _expect_bad_request(problems)
    assert re.search(r"(?<!\d)1:26", message), message


#: every Content-Security-Policy violation of the page, recorded from its first script on
_RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation",
    (e) => window.__violations.push(e.violatedDirective + " " + (e.blockedURI || "inline")));
"""


def test_the_query_page_works_under_its_content_security_policy(
    browser: Any, live_server: str, examples: dict[str, dict[str, str]]  # noqa: F811
) -> None:
    """The pages are served with a strict policy (no inline script or style, nothing from
    elsewhere, no framing); Chromium enforces it, and the page, a resource page and the
    ontology page still work with no violation."""
    from kg.server.headers import PAGE_POLICY

    errors: list[str] = []
    context = offline_context(browser, live_server, errors)
    context.add_init_script(_RECORD_VIOLATIONS)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    response = page.goto("/")
    assert response is not None and response.headers["content-security-policy"] == PAGE_POLICY
    assert response.headers["x-frame-options"] == "DENY"
    # a selector, not a JavaScript predicate: the page's CSP forbids evaluating strings (no 'unsafe-eval')
    page.wait_for_selector("#examples option:nth-child(2)", state="attached")
    columns = _run_example(page, examples["cq01-meetings"])
    assert columns[:2] == ["meeting", "meetingLabel"]
    # the stylesheet applied: the results table is laid out by /static/style.css
    assert page.evaluate("getComputedStyle(document.body).maxWidth") != "none"
    assert page.evaluate("window.__violations") == []
    # an inline script slipped into the page would not run
    page.evaluate("""() => { const s = document.createElement('script');
                             s.textContent = 'window.__ran = true'; document.body.appendChild(s); }""")
    assert page.evaluate("window.__ran === undefined")
    assert any("script-src" in v for v in page.evaluate("window.__violations"))
    for path in ("/id/document/000_08f43cbfc8a050d9", "/ontology?format=html"):
        page.goto(path)
        assert page.evaluate("window.__violations") == [], path
        assert page.evaluate("getComputedStyle(document.body).maxWidth") != "none", path
    context.close()
    assert [e for e in errors if "Content Security Policy" not in e or "__ran" in e] == [], errors


# --- the editor, the table, /docs -----------------------------------------------------------

#: a SELECT with a number per row and more rows than a page holds
NUMBERS = """PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?thing (STRLEN(?label) AS ?length) WHERE { ?thing rdfs:label ?label }"""


def _answer(live_server: str, query: str) -> list[dict[str, Any]]:  # noqa: F811
    """The server's own JSON answer to ``query``, asked without the browser."""
    url = live_server + "/sparql?" + urllib.parse.urlencode({"query": query, "format": "json"})
    with urllib.request.urlopen(url, timeout=10) as response:
        return list(json.load(response)["results"]["bindings"])


def test_the_editor_highlights_and_runs_with_ctrl_enter(page: Any, shots: Path) -> None:  # noqa: F811
    keyword = page.locator(".cm-content .tok-keyword", has_text="SELECT")
    assert keyword.count() == 1
    assert keyword.evaluate("e => getComputedStyle(e).fontWeight") == "600"  # editor.css reached the shadow root
    assert page.locator(".cm-content .tok-variableName2, .cm-content .tok-variableName").count() > 0
    _type_query(page, "PREFIX nkg: <https://w3id.org/negotiation-kg/ontology#>\n"
                      "SELECT ?meeting WHERE { ?meeting a nkg:Meeting }")
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#results table")
    rows = page.locator("#results table tbody tr").count()
    assert rows > 0 and page.text_content("#status") == f"{rows} rows"
    assert page.locator("#results table th").all_inner_texts() == ["meeting"]
    page.screenshot(path=str(shots / "query-page.png"), full_page=True)


def test_a_permalink_restores_the_query_and_history_keeps_it(
    page: Any, browser: Any, live_server: str, problems: list[str]  # noqa: F811
) -> None:
    query = "SELECT ?s WHERE { ?s a ?type } LIMIT 7"
    _type_query(page, query)
    page.click("#run")
    page.wait_for_selector("#results table")
    link = page.get_attribute("#permalink", "href")
    assert urllib.parse.parse_qs(urllib.parse.urlparse(link).query) == {"query": [query]}
    assert page.url == live_server + link  # the address bar holds it too
    other = page.context.new_page()
    watch(other, problems)
    open_query_page(other, link)
    assert other.input_value("#query") == query
    assert _editor_text(other) == query
    # the history menu offers the query run before, and loads it
    assert other.locator("#history option").nth(1).inner_text() == query
    _type_query(other, "ASK {}")
    other.select_option("#history", index=1)
    assert other.input_value("#query") == query


def test_the_table_pages_and_sorts(page: Any, live_server: str, shots: Path) -> None:  # noqa: F811
    lengths = sorted(int(row["length"]["value"]) for row in _answer(live_server, NUMBERS))
    assert len(lengths) > 60
    _type_query(page, NUMBERS)
    page.click("#run")
    page.wait_for_selector("#results table")
    assert page.text_content("#status") == f"{len(lengths)} rows"
    page.select_option(".pager select", "25")
    body = page.locator("#results table tbody tr")
    assert body.count() == 25
    assert page.text_content(".pager .where") == f"rows 1–25 of {len(lengths)}"
    first = body.nth(0).inner_text()
    page.click(".pager button:has-text('next')")
    assert page.text_content(".pager .where") == f"rows 26–50 of {len(lengths)}"
    assert body.nth(0).inner_text() != first

    def column() -> list[int]:
        return [int(t) for t in page.locator("#results table tbody tr td:nth-child(2)").all_inner_texts()]

    page.click("#results th button:text-is('length')")
    assert page.get_attribute("#results th:nth-child(2)", "aria-sort") == "ascending"
    assert page.text_content(".pager .where") == f"rows 1–25 of {len(lengths)}"  # back to the first page
    assert column() == lengths[:25]
    page.click("#results th button:text-is('length')")
    assert page.get_attribute("#results th:nth-child(2)", "aria-sort") == "descending"
    assert column() == lengths[::-1][:25]
    page.screenshot(path=str(shots / "results-sorted.png"), full_page=True)


def test_completion_offers_the_ontologys_terms_and_declares_their_prefix(page: Any, shots: Path) -> None:  # noqa: F811
    _type_query(page, "SELECT * WHERE { ?m a ")
    page.keyboard.type("nkg:")
    options = page.locator(".cm-tooltip-autocomplete li")
    sync_api.expect(options.first).to_be_visible()
    names = options.all_inner_texts()
    assert any(n.startswith("nkg:Meeting") for n in names), names
    assert all(n.startswith("nkg:") for n in names), names
    page.keyboard.type("Meet")
    sync_api.expect(options.first).to_contain_text("nkg:Meeting")
    page.screenshot(path=str(shots / "completion.png"))
    page.keyboard.press("Enter")
    # the query declared no nkg: prefix: taking the term declares it
    assert page.input_value("#query") == ("PREFIX nkg: <https://w3id.org/negotiation-kg/ontology#>\n"
                                          "SELECT * WHERE { ?m a nkg:Meeting")
    # after "?", the query's own variables (not keywords)
    _type_query(page, "SELECT ?meeting ?label WHERE { ")
    page.keyboard.type("?me")
    sync_api.expect(options.first).to_have_text("meeting")
    assert options.count() == 1


def test_cancel_stops_waiting_for_the_answer(page: Any) -> None:
    page.route("**/sparql", lambda route: None)  # the answer never comes
    _type_query(page, "ASK { ?s ?p ?o }")
    page.click("#run")
    sync_api.expect(page.locator("#status")).to_have_text("running…")
    assert page.is_enabled("#cancel") and not page.is_enabled("#run")
    page.click("#cancel")
    sync_api.expect(page.locator("#status")).to_have_text("cancelled")
    assert page.is_enabled("#run") and not page.is_enabled("#cancel")


def test_the_page_fits_a_phone(browser: Any, live_server: str, problems: list[str],  # noqa: F811
                               examples: dict[str, dict[str, str]], shots: Path) -> None:  # noqa: F811
    context = offline_context(browser, live_server, problems, viewport={"width": 375, "height": 740},
                              is_mobile=True, has_touch=True)
    phone = context.new_page()
    watch(phone, problems)
    open_query_page(phone)
    _run_example(phone, examples["cq08-documents"])
    width = phone.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
    assert width[0] <= width[1], width  # nothing sticks out sideways
    assert phone.locator(".cm-editor").bounding_box()["width"] <= 375
    phone.screenshot(path=str(shots / "query-page-phone.png"), full_page=True)
    context.close()
    assert not problems, problems


def test_without_javascript_the_form_posts_the_query(browser: Any, live_server: str) -> None:  # noqa: F811
    problems: list[str] = []
    context = offline_context(browser, live_server, problems, java_script_enabled=False)
    plain = context.new_page()
    plain.set_default_timeout(TIMEOUT_MS)
    plain.goto("/?" + urllib.parse.urlencode({"query": "ASK { ?s ?p ?o }"}))
    assert plain.locator("a.dl").first.is_hidden()  # links that need the script are not shown
    plain.select_option("select[name=format]", "json")
    with plain.expect_response("**/sparql") as caught:
        plain.click("#run")
    response = caught.value
    assert response.status == 200 and json.loads(response.body())["boolean"] is True
    context.close()
    assert not problems, problems


def test_the_api_docs_render_offline(browser: Any, live_server: str, shots: Path) -> None:  # noqa: F811
    problems: list[str] = []
    context = offline_context(browser, live_server, problems)
    context.add_init_script(_RECORD_VIOLATIONS)
    docs = context.new_page()
    watch(docs, problems)
    docs.goto("/docs")
    operations = docs.locator(".opblock-summary-path")
    sync_api.expect(operations.first).to_be_visible()
    paths = set(operations.all_inner_texts())
    assert {"/sparql", "/graph-store", "/examples"} <= {p.replace("\u200b", "") for p in paths}, paths
    docs.locator(".opblock-get .opblock-summary").first.click()  # an operation opens, its parameters shown
    sync_api.expect(docs.locator(".opblock-body .parameters").first).to_be_visible()
    assert docs.evaluate("window.__violations") == []
    docs.screenshot(path=str(shots / "api-docs.png"), full_page=True)
    context.close()
    assert not problems, problems
