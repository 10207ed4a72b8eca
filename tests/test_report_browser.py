"""The report of a real small comparison in headless Chromium: it loads without errors, every
image is there with a size, the headline table names the scenarios, and it screenshots.

Chromium is Debian's package, installed by the ``chromium_executable`` fixture (conftest.py)
when it is missing; playwright (PyPI) drives it through ``executable_path``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from conftest import HOSTILE_NAME

from heatsim.report.html import write_report

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_the_report_loads_in_headless_chromium_with_all_its_images(tiny_comparison, chromium_executable, tmp_path):
    from playwright.sync_api import sync_playwright

    comparison = Path(shutil.copytree(tiny_comparison, tmp_path / "cmp"))
    report = write_report(comparison)  # the figures drawn by heatsim.report.figures, as the CLI does
    table = json.loads((comparison / "indicators.json").read_text())
    names = [table["base"], *table["scenarios"]]
    assert HOSTILE_NAME in names  # the markup-named scenario is among them

    problems: list[str] = []
    shot = tmp_path / "report.png"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_executable, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
                    if m.type in ("error", "warning", "assert") else None)
            page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
            page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url[:120]} ({r.failure})"))
            page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
            requests: list[str] = []
            page.on("request", lambda r: requests.append(r.url))
            response = page.goto(report.as_uri(), wait_until="load")
            assert response is None or response.ok  # file:// gives no response object in some versions
            page.wait_for_load_state("networkidle")

            images = page.eval_on_selector_all(
                "img", "els => els.map(e => ({complete: e.complete, width: e.naturalWidth, height: e.naturalHeight,"
                       " src: e.getAttribute('src').slice(0, 22), alt: e.alt}))")
            figures = page.eval_on_selector_all("figure", "els => els.length")
            scripts = page.eval_on_selector_all("script", "els => els.length")
            headline = page.inner_text("#headline-table")
            headers = page.eval_on_selector_all("#headline-table thead th", "els => els.map(e => e.textContent)")
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()

    assert not problems, "\n".join(problems)
    # only the page itself was requested: the images are embedded, nothing comes from a network
    assert all(url.startswith(("file://", "data:")) for url in requests), requests
    assert images, "the report has no image"
    assert len(images) == figures  # one image per figure, none injected by a scenario text
    for image in images:
        assert image["src"] == "data:image/png;base64,", image
        assert image["complete"] and image["width"] > 0 and image["height"] > 0, image
    assert scripts == 0
    for name in names:
        assert name in headline, name
    assert any(HOSTILE_NAME in h for h in headers)
    data = shot.read_bytes()
    assert data[:8] == PNG_SIGNATURE and len(data) > 10_000
