"""GET /dashboard/{user_id} and /dashboard: HTML pages whose charts use the plotly.js this
service serves itself (no CDN, no outside address), with every value escaped."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import plotly
import pytest

from tests.api.analytics_fixtures import (
    DASHBOARD_TREND_DAYS,
    DASHBOARD_USER,
    insert_risk_profiles,
    risk_profile,
    seed_dashboard_platform,
)

SCRIPT_SOURCES = re.compile(r"<script[^>]*\bsrc=\"([^\"]*)\"", re.IGNORECASE)
FIGURES = re.compile(
    r"<script type=\"application/json\" data-chart-for=\"([^\"]+)\">(.*?)</script>", re.DOTALL
)


@pytest.fixture
def platform(warehouse_url):
    seed_dashboard_platform(warehouse_url)


def figures(html: str) -> dict[str, dict]:
    return {target: json.loads(source) for target, source in FIGURES.findall(html)}


def assert_scripts_are_served_here(html: str) -> None:
    sources = SCRIPT_SOURCES.findall(html)
    assert sources[0] == f"/static/plotly.min.js?v={plotly.__version__}"
    assert [source.split("?")[0] for source in sources[1:]] == ["/static/dashboard.js"]
    assert "<script>" not in html  # no inline code: the pages' policy allows none
    assert "cdn.plot.ly" not in html
    assert not re.search(r"<script[^>]*\bsrc=\"(https?:)?//", html)


def test_user_dashboard_has_the_chart_and_the_risk_metrics(client, platform):
    response = client.get(f"/dashboard/{DASHBOARD_USER}")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert '<div id="spend-trend" class="chart"></div>' in html
    assert_scripts_are_served_here(html)
    trend = figures(html)["spend-trend"]
    assert [(trace["type"], trace.get("mode")) for trace in trend["data"]] == [
        ("bar", None),
        ("scatter", "lines"),
    ]
    assert [len(trace["x"]) for trace in trend["data"]] == [DASHBOARD_TREND_DAYS] * 2
    assert trend["data"][0]["x"][3] == "2024-03-04"  # the day without spend is drawn as 0
    assert trend["data"][0]["y"][3] == 0
    for shown in ("Risk metrics", "Global whale rank", "1,102.99", "310.25", "2.5 min", "0.73"):
        assert shown in html
    assert "Whale: rank 1 by lifetime spend" in html


def test_unknown_user_gets_a_404_page_that_says_so(client, platform):
    response = client.get("/dashboard/999")

    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "No data for user 999" in response.text
    assert 'href="/dashboard"' in response.text


def test_a_user_with_a_profile_but_no_trend_yet_still_has_a_page(client, warehouse_url):
    insert_risk_profiles(warehouse_url, [risk_profile(5)])

    response = client.get("/dashboard/5")

    assert response.status_code == 200
    assert "No daily spend for this user yet." in response.text
    assert "<script" not in response.text  # nothing to draw, so no plotly.js to load


def test_user_dashboard_rejects_a_non_positive_id(client):
    assert client.get("/dashboard/0").status_code == 422


def test_overview_shows_top_spenders_volatility_and_daily_volume(client, platform):
    response = client.get("/dashboard")

    assert response.status_code == 200
    html = response.text
    assert_scripts_are_served_here(html)
    charts = figures(html)
    assert set(charts) == {"top-spenders", "volatility", "volume"}
    for target in charts:
        assert f'<div id="{target}" class="chart"></div>' in html
    top = charts["top-spenders"]["data"][0]
    assert top["y"][0] == f"User {DASHBOARD_USER}"  # rank 1 first
    assert top["x"][0] == 1102.99
    assert len(top["y"]) == 6
    assert sum(charts["volatility"]["data"][0]["y"]) == 6  # every user in some bin
    spend, transactions = charts["volume"]["data"]
    assert spend["x"][:2] == ["2024-03-01", "2024-03-02"]
    assert spend["y"][:2] == [120.5, 80.0 + 30.5]  # user 42 plus user 7 on March 2nd
    assert transactions["y"][:2] == [1, 3]
    assert f'<a href="/dashboard/{DASHBOARD_USER}">User {DASHBOARD_USER}</a>' in html
    assert "1,265.49" in html  # total spend: 1102.99 + 30.50 + 31.50 + ... + 34.50


def test_overview_days_limits_the_volume_window(client, platform):
    charts = figures(client.get("/dashboard", params={"days": 3}).text)

    assert charts["volume"]["data"][0]["x"] == ["2024-03-08", "2024-03-09", "2024-03-10"]
    assert client.get("/dashboard", params={"days": 0}).status_code == 422


def test_overview_works_with_empty_tables(client):
    response = client.get("/dashboard")

    assert response.status_code == 200
    assert "No analytics yet" in response.text
    assert "No daily spend yet" in response.text
    assert "<script" not in response.text


def test_plotly_js_is_served_here_as_javascript_with_a_long_cache(client):
    response = client.get(f"/static/plotly.min.js?v={plotly.__version__}")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert "max-age=31536000" in response.headers["cache-control"]
    bundled = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    assert response.content == bundled.read_bytes()


def test_values_reach_the_page_escaped(client, warehouse_url, monkeypatch):
    """Whatever a template shows goes through autoescape, the figures through tojson."""
    insert_risk_profiles(warehouse_url, [risk_profile(6, volatility_index=Decimal("0.10"))])
    monkeypatch.setattr(
        "txn_core.analytics_queries.risk_assessment", lambda _: "<script>alert(1)</script>"
    )

    html = client.get("/dashboard/6").text

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_openapi_documents_the_dashboards_errors(client):
    paths = client.get("/openapi.json").json()["paths"]
    user = paths["/dashboard/{user_id}"]["get"]["responses"]

    assert "text/html" in user["200"]["content"]
    assert "text/html" in user["404"]["content"]
    assert user["404"]["description"] and user["422"]["description"]
    assert "/static/plotly.min.js" not in paths
