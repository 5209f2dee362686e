"""Page weight and time to first paint of the query page, ``/docs``, a reading page, the search
and the three pictures, in headless Chromium.

    kg serve --read-only --port 8765 &
    python bench/page_weight.py http://127.0.0.1:8765 [--runs 5]

For each page, a fresh browser context per run (nothing cached), every request to anywhere but
the server aborted (and reported). From the Resource Timing entries: the bytes on the wire
(``transferSize``, headers included; the server gzips static files for clients that accept it,
as Chromium does) and the bytes once decoded (what an uncompressed transfer would carry); from
the Paint Timing entries: first paint and first contentful paint. The page's own "ready" point
is also timed: the editor shown (``.cm-content``), Swagger UI's first operation, the first
hit, the picture's ``<svg>``. Medians over the runs. Needs Playwright for Python and ``/usr/bin/chromium``.
"""

from __future__ import annotations

import argparse
import statistics
from typing import Any

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
PAGES = {"/": ".cm-content", "/docs": ".opblock-summary-path", "/id/proposal/thirty-day-ceasefire": "#stances",
         "/search?q=ceasefire": "ol.hits", "/views/timeline": ".view-figure svg", "/views/estimates": ".view-figure svg",
         "/views/stances": ".view-figure svg"}
_WEIGHTS = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const all = [nav, ...performance.getEntriesByType("resource")];
  const paint = Object.fromEntries(performance.getEntriesByType("paint").map((p) => [p.name, p.startTime]));
  return { requests: all.length, wire: all.reduce((n, e) => n + e.transferSize, 0),
           decoded: all.reduce((n, e) => n + e.decodedBodySize, 0),
           fp: paint["first-paint"], fcp: paint["first-contentful-paint"] };
}"""


def measure(browser: Any, url: str, path: str, ready: str) -> dict[str, float]:
    context = browser.new_context(base_url=url)
    elsewhere: list[str] = []

    def guard(route: Any) -> None:
        if route.request.url.startswith(url + "/"):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    page = context.new_page()
    page.goto(path)
    page.wait_for_selector(ready)
    page.wait_for_load_state("networkidle")
    result = page.evaluate(_WEIGHTS)
    result["ready"] = page.evaluate("performance.now()")
    context.close()
    if elsewhere:
        raise SystemExit(f"{path} asked for other hosts: {elsewhere}")
    return dict(result)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", help="the running server, e.g. http://127.0.0.1:8765")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    url = args.url.rstrip("/")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        print(f"{'page':36} {'requests':>8} {'wire KB':>8} {'decoded KB':>10} {'first paint ms':>14} "
              f"{'FCP ms':>7} {'ready ms':>8}")
        for path, ready in PAGES.items():
            runs = [measure(browser, url, path, ready) for _ in range(args.runs)]

            def median(key: str) -> float:
                return statistics.median(r[key] for r in runs if r[key] is not None)

            print(f"{path:36} {median('requests'):8.0f} {median('wire') / 1024:8.1f} {median('decoded') / 1024:10.1f} "
                  f"{median('fp'):14.0f} {median('fcp'):7.0f} {median('ready'):8.0f}")
        browser.close()


if __name__ == "__main__":
    main()
