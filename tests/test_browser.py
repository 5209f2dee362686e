"""The query page in a real browser (headless Debian Chromium driven by Playwright) on a live ``kg serve``.

Needs ``/usr/bin/chromium`` (``apt-get install chromium``) and Playwright for Python
(``pip install playwright``; its own browser download, ``playwright install``, is never used).
``.ci/run`` installs both, so CI runs this module; elsewhere it is skipped when either is missing.
"""

from __future__ import annotations

import csv
import io
import json
import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from live import live_server  # noqa: F401  (a fixture)

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
TITLES = {
    "Istanbul 2.0: A pre-meditated choreography of failure",
    "Istanbul-2: When diplomacy returns to reality",
}
TIMEOUT_MS = 10_000


@pytest.fixture(scope="module")
def examples(live_server: str) -> dict[str, dict[str, str]]:  # noqa: F811
    """The competency questions the page offers, by name (``cq01-meetings``, …)."""
    with urllib.request.urlopen(live_server + "/examples", timeout=10) as response:
        return {ex["name"]: ex for ex in json.load(response)}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture()
def problems() -> list[str]:
    """JavaScript and console errors of the test's page; any left at the end fail the test."""
    return []


@pytest.fixture()
def page(browser: Any, live_server: str, problems: list[str]) -> Iterator[Any]:  # noqa: F811
    """A fresh page on ``/``, failing the test on any JavaScript error or console error."""
    context = browser.new_context(base_url=live_server, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))

    def on_console(message: Any) -> None:
        # Chromium asks for /favicon.ico by itself; the page has none, and that 404 is not the page's doing.
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            problems.append(f"console error: {message.text} at {message.location}")

    page.on("console", on_console)
    page.goto("/")
    # a selector, not a JavaScript predicate: the page's CSP forbids evaluating strings (no 'unsafe-eval')
    page.wait_for_selector("#examples option:nth-child(2)", state="attached")
    yield page
    context.close()
    assert not problems, problems


def _expect_bad_request(problems: list[str]) -> None:
    """Chromium logs the 400 of a bad query as a console error: expected here, so taken off the list."""
    expected = [p for p in problems if "status of 400" in p and "/sparql" in p]
    assert len(expected) == 1, problems
    problems.remove(expected[0])


def _run_example(page: Any, example: dict[str, str]) -> list[str]:
    """Pick ``example`` in the select, click Run, wait for the table; its column names."""
    page.select_option("#examples", label=example["title"])
    assert page.input_value("#query") == example["query"]
    page.click("#run")
    page.wait_for_selector("#results table")
    return [th.inner_text() for th in page.locator("#results table th").all()]


def test_examples_fill_the_select_and_run_shows_rows(page: Any, examples: dict[str, dict[str, str]]) -> None:
    options = page.locator("#examples option").all_inner_texts()
    assert options[1:] == [ex["title"] for ex in examples.values()]

    columns = _run_example(page, examples["cq01-meetings"])
    assert columns[:2] == ["meeting", "meetingLabel"]
    rows = page.locator("#results table tr").count() - 1
    assert rows > 3
    assert page.text_content("#status") == f"{rows} rows"
    assert "Istanbul" in page.locator("#results table").inner_text()


@pytest.mark.parametrize(
    "example,kind,label_column",
    [("cq01-meetings", "meeting", "meetingLabel"), ("cq08-documents", "document", "title")],
)
def test_iri_link_opens_the_resource_page_with_its_label(
    page: Any, live_server: str, examples: dict[str, dict[str, str]], example: str, kind: str, label_column: str  # noqa: F811
) -> None:
    columns = _run_example(page, examples[example])
    row = page.locator("#results table tr").nth(1)
    label = row.locator("td").nth(columns.index(label_column)).inner_text()
    link = row.locator("td").nth(0).locator("a")
    iri = link.inner_text()
    assert iri.startswith(f"https://w3id.org/negotiation-kg/id/{kind}/")
    assert link.get_attribute("href") == "/id/" + iri.removeprefix("https://w3id.org/negotiation-kg/id/")

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
    page.fill("#query", "SELECT ?x WHERE { ?x ?y }")
    page.click("#run")
    message = page.locator("#results .error").inner_text()
    assert "syntax error" in message.lower()
    assert page.locator("#results table").count() == 0
    _expect_bad_request(problems)


def test_bad_query_error_points_into_what_the_user_typed(page: Any, problems: list[str]) -> None:
    page.fill("#query", "SELECT ?x WHERE { ?x ?y }")
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

    context = browser.new_context(base_url=live_server)
    context.add_init_script(_RECORD_VIOLATIONS)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
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
