"""What the browser tests share: Debian's Chromium driven by Playwright, offline.

A module importing this is skipped when ``/usr/bin/chromium`` (``apt-get install chromium``) or
Playwright for Python (``pip install playwright``, in the ``[test]`` extra; its own browser
download, ``playwright install``, is never used) is missing. ``.ci/run`` installs both.

Every page a test opens goes through :func:`offline_context` and :func:`watch`: a request to
anywhere but the live server is aborted and recorded, and so is every JavaScript or console
error; a test ends by asserting that nothing was recorded. Screenshots go to
``$KG_SCREENSHOTS``, else a temporary folder, for a person to look at (never committed).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

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
TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the tests leave screenshots for a person to look at (never the repository)."""
    folder = Path(os.environ["KG_SCREENSHOTS"]) if os.environ.get("KG_SCREENSHOTS") else tmp_path_factory.mktemp("shots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def offline_context(browser: Any, live_server: str, problems: list[str], **options: Any) -> Any:
    """A browser context that reaches the server and nothing else: any other request is aborted
    and recorded in ``problems``."""
    context = browser.new_context(base_url=live_server, **options)
    origin = live_server + "/"

    def guard(route: Any) -> None:
        url = route.request.url
        if url.startswith(origin):
            route.continue_()
        else:
            problems.append(f"request to elsewhere: {url}")
            route.abort()

    context.route("**/*", guard)
    return context


def watch(page: Any, problems: list[str], *, expected: Callable[[Any], bool] = lambda message: False) -> None:
    """Record the page's JavaScript errors and console errors in ``problems``, but for those
    ``expected`` accepts (a test that opens a missing page expects its 404 to be reported)."""
    page.set_default_timeout(TIMEOUT_MS)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))

    def on_console(message: Any) -> None:
        # Chromium asks for /favicon.ico by itself; that 404 is not the page's doing.
        if message.type != "error" or message.location.get("url", "").endswith("/favicon.ico"):
            return
        if not expected(message):
            problems.append(f"console error: {message.text} at {message.location}")

    page.on("console", on_console)


def offline_page(browser: Any, live_server: str, **options: Any) -> Iterator[Any]:
    """A fresh page in its own offline context (for a fixture to ``yield from``); fails the test
    at its end on any request elsewhere, JavaScript error or console error."""
    problems: list[str] = []
    expected = options.pop("expected", lambda message: False)
    context = offline_context(browser, live_server, problems, **options)
    page = context.new_page()
    watch(page, problems, expected=expected)
    yield page
    context.close()
    assert problems == [], problems
