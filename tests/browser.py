"""A real headless Chromium for the page tests, and what went wrong while a page loaded.

Needs Debian's `chromium` package (or TXN_TEST_CHROMIUM pointing at a Chromium binary) and
Playwright for Python; its own browser downloads are not used. Either missing fails the test.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

CHROMIUM = os.environ.get("TXN_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1366, "height": 900}


@contextmanager
def launched_chromium() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (never a browser Playwright downloads)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(
            "Playwright for Python is missing: `pip install playwright` into the project's "
            "environment (its browser downloads are not needed: the test drives Chromium)"
        )
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        pytest.fail(
            f"no Chromium at {CHROMIUM}: install Debian's `chromium` package "
            "(apt-get install chromium) or set TXN_TEST_CHROMIUM to a Chromium binary"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class PageProblems:
    """Everything that went wrong while a page loaded, in words a failure message can show."""

    origin: str
    errors: list[str] = field(default_factory=list)

    def watch(self, page: Any) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        page.on("requestfailed", self._request_failed)
        page.on("response", self._response)
        page.route("**/*", self._only_this_service)

    def _console(self, message: Any) -> None:
        if message.type in ("error", "warning"):
            self.errors.append(f"console {message.type}: {message.text}")

    def _request_failed(self, request: Any) -> None:
        self.errors.append(f"request failed: {request.url} ({request.failure})")

    def _response(self, response: Any) -> None:
        if response.status >= 400:
            self.errors.append(f"HTTP {response.status}: {response.url}")

    def _only_this_service(self, route: Any) -> None:
        # The dashboards must work offline: anything outside this service is an error.
        url = route.request.url
        if url.startswith("data:") or _origin(url) == self.origin:
            route.continue_()
        else:
            self.errors.append(f"request outside the service: {url}")
            route.abort()


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def open_page(browser: Any, url: str, **context: Any) -> tuple[Any, PageProblems]:
    page = browser.new_page(viewport=VIEWPORT, **context)
    problems = PageProblems(_origin(url))
    problems.watch(page)
    response = page.goto(url, wait_until="networkidle")
    assert response is not None and response.status == 200, url
    page.wait_for_function(
        "() => document.querySelectorAll('.js-plotly-plot .main-svg').length > 0"
    )
    return page, problems
