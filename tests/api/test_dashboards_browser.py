"""The dashboards in a real headless Chromium (tests/browser.py), served by a real uvicorn
server: the pages load without a console error or a failed request, never leave this service,
and Plotly draws the expected traces. Screenshots go to test-artifacts/ for a human to look at.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from tests.api.analytics_fixtures import (
    DASHBOARD_TREND_DAYS,
    DASHBOARD_USER,
    INGESTION_DAYS,
    SLOWEST_UPLOADS,
    seed_dashboard_platform,
    seed_ingestion_ledger,
)
from tests.browser import launched_chromium, open_page
from tests.helpers import free_port
from txn_api.main import create_app

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
SERVER_START_SECONDS = 20

TRACES = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(plot => ({
    id: plot.id,
    traces: plot.data.map(trace => ({type: trace.type, mode: trace.mode || null,
                                     points: trace.x.length}))
}))"""


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """`app` on a free loopback port, in a uvicorn server of its own thread."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="dashboard-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + SERVER_START_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail(f"the API server did not start on port {port}")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def api_server(make_settings, warehouse_url) -> Iterator[str]:
    seed_dashboard_platform(warehouse_url)
    seed_ingestion_ledger(warehouse_url, dt.datetime.now(dt.UTC).date())
    with serving(create_app(make_settings())) as url:
        yield url


API_KEY = "dashboards-key-0123456789abcdef"


@pytest.fixture
def keyed_api_server(make_settings, warehouse_url) -> Iterator[str]:
    """The same, with a key: what production serves."""
    seed_dashboard_platform(warehouse_url)
    with serving(create_app(make_settings(api_key=API_KEY))) as url:
        yield url


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with launched_chromium() as browser:
        yield browser


def screenshot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_user_dashboard_draws_the_trend_and_shows_the_metrics(chromium, api_server):
    page, problems = open_page(chromium, f"{api_server}/dashboard/{DASHBOARD_USER}")
    try:
        plots = page.evaluate(TRACES)
        screenshot(page, "dashboard-user.png")

        assert problems.errors == []
        assert plots == [
            {
                "id": "spend-trend",
                "traces": [
                    {"type": "bar", "mode": None, "points": DASHBOARD_TREND_DAYS},
                    {"type": "scatter", "mode": "lines", "points": DASHBOARD_TREND_DAYS},
                ],
            }
        ]
        # Plotly drew the bars, not only an empty frame.
        assert page.locator("#spend-trend .bars .point").count() == DASHBOARD_TREND_DAYS
        metrics = page.locator("#risk-metrics")
        assert metrics.is_visible()
        text = metrics.inner_text()
        for shown in ("Global whale rank", "1,102.99", "310.25", "2.5 min", "Whale: rank 1"):
            assert shown in text
    finally:
        page.close()


def test_overview_draws_its_four_charts(chromium, api_server):
    page, problems = open_page(chromium, f"{api_server}/dashboard")
    try:
        plots = page.evaluate(TRACES)
        screenshot(page, "dashboard-overview.png")

        assert problems.errors == []
        assert {plot["id"]: len(plot["traces"]) for plot in plots} == {
            "volume": 2,
            "ingestion": 5,
            "top-spenders": 1,
            "volatility": 1,
        }
        assert page.get_by_role("link", name=f"User {DASHBOARD_USER}").is_visible()
    finally:
        page.close()


def test_overview_draws_the_ingestion_panel(chromium, api_server):
    page, problems = open_page(chromium, f"{api_server}/dashboard?days={INGESTION_DAYS}")
    try:
        panel = page.locator("#ingestion-health")
        panel.scroll_into_view_if_needed()
        ARTIFACTS.mkdir(exist_ok=True)
        panel.screenshot(path=str(ARTIFACTS / "dashboard-ingestion.png"))

        assert problems.errors == []
        # Three stacked bar traces, each a bar per day of the window, drawn by Plotly.
        assert page.locator("#ingestion .barlayer .trace").count() == 3
        assert page.locator("#ingestion .bars .point").count() == 3 * INGESTION_DAYS
        slowest = page.locator("#slowest-uploads tbody tr td:first-child").all_inner_texts()
        assert slowest == SLOWEST_UPLOADS
        assert page.locator("#rejection-reasons").is_visible()
        assert "older error" not in panel.inner_text()
        assert page.locator("#last-failure").is_visible()
    finally:
        page.close()


def test_a_click_on_a_top_spender_opens_their_dashboard(chromium, api_server):
    page, problems = open_page(chromium, f"{api_server}/dashboard")
    try:
        page.get_by_role("link", name=f"User {DASHBOARD_USER}").click()
        page.wait_for_url(f"{api_server}/dashboard/{DASHBOARD_USER}")
        page.wait_for_selector("#spend-trend .main-svg")

        assert problems.errors == []
    finally:
        page.close()


def test_with_a_key_a_person_opens_the_dashboard_with_basic_auth(chromium, keyed_api_server):
    """The browser answers the service's Basic challenge with the key as the password; the
    page, its scripts and its chart load with no error under the pages' security policy."""
    page, problems = open_page(
        chromium,
        f"{keyed_api_server}/dashboard/{DASHBOARD_USER}",
        http_credentials={"username": "analyst", "password": API_KEY},
    )
    try:
        assert problems.errors == []
        assert page.locator("#spend-trend .bars .point").count() == DASHBOARD_TREND_DAYS
    finally:
        page.close()

    anonymous = httpx.get(f"{keyed_api_server}/dashboard/{DASHBOARD_USER}", timeout=10)
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Basic")
    assert "Global whale rank" not in anonymous.text
