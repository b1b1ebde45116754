"""GET /dashboard/{user_id} and /dashboard: HTML pages whose charts use the plotly.js this
service serves itself (no CDN, no outside address), with every value escaped."""

from __future__ import annotations

import datetime as dt
import html as html_text
import json
import re
from decimal import Decimal
from pathlib import Path

import plotly
import psycopg
import pytest

from tests.api.analytics_fixtures import (
    DASHBOARD_TREND_DAYS,
    DASHBOARD_USER,
    INGESTION_DAYS,
    LATEST_ERROR,
    REJECTION_REASONS,
    SLOWEST_UPLOADS,
    at,
    insert_ledger,
    insert_risk_profiles,
    risk_profile,
    seed_dashboard_platform,
    seed_ingestion_ledger,
    upload,
)
from txn_core.reads import ingestion_window
from txn_core.sql import load_sql

SCRIPT_SOURCES = re.compile(r"<script[^>]*\bsrc=\"([^\"]*)\"", re.IGNORECASE)
FIGURES = re.compile(
    r"<script type=\"application/json\" data-chart-for=\"([^\"]+)\">(.*?)</script>", re.DOTALL
)

INGESTION_SQL = (
    "reads/ingestion_daily",
    "reads/ingestion_slowest",
    "reads/ingestion_rejection_reasons",
    "reads/ingestion_last_failure",
)


@pytest.fixture
def platform(warehouse_url):
    seed_dashboard_platform(warehouse_url)


@pytest.fixture
def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


@pytest.fixture
def ledger(warehouse_url, today):
    seed_ingestion_ledger(warehouse_url, today)


def figures(html: str) -> dict[str, dict]:
    return {target: json.loads(source) for target, source in FIGURES.findall(html)}


def table_rows(html: str, table_id: str) -> list[list[str]]:
    """The text of each body cell of the table, row by row, unescaped."""
    table = re.search(rf'<table id="{table_id}".*?<tbody>(.*?)</tbody>', html, re.DOTALL)
    assert table, f"no table {table_id}"
    return [
        [html_text.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in cells]
        for cells in (
            re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL)
            for row in re.findall(r"<tr>(.*?)</tr>", table.group(1), re.DOTALL)
        )
    ]


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
    assert "No upload finished in the last 90 days." in response.text
    assert "<script" not in response.text


def test_overview_stacks_each_days_ingested_rows_with_its_uploads_and_failures(
    client, ledger, today
):
    html = client.get("/dashboard", params={"days": INGESTION_DAYS}).text

    chart = figures(html)["ingestion"]
    days = [(today - dt.timedelta(days=back)).isoformat() for back in range(6, -1, -1)]
    traces = {trace["name"]: trace for trace in chart["data"]}
    assert [(trace["type"], trace.get("yaxis")) for trace in chart["data"]] == [
        ("bar", None), ("bar", None), ("bar", None), ("scatter", "y2"), ("scatter", "y2"),
    ]  # fmt: skip
    assert chart["layout"]["barmode"] == "stack"
    assert all(trace["x"] == days for trace in chart["data"])  # every day, quiet ones as 0
    # The window's first day holds the failure at its first second; yesterday two loads and
    # a failure; today the generated load. The load one second before the window is not there.
    assert traces["Rows loaded"]["y"] == [0, 0, 0, 0, 0, 995, 5000]
    assert traces["Duplicate"]["y"] == [0, 0, 0, 0, 0, 60, 0]
    assert traces["Rejected"]["y"] == [0, 0, 0, 0, 0, 45, 0]
    assert traces["Uploads"]["y"] == [1, None, None, None, None, 3, 1]  # no mark for none
    assert traces["Failed uploads"]["y"] == [1, None, None, None, None, 1, None]
    assert '<div id="ingestion" class="chart"></div>' in html
    assert_scripts_are_served_here(html)


def test_overview_lists_the_slowest_succeeded_loads_slowest_first(client, ledger, today):
    html = client.get("/dashboard", params={"days": INGESTION_DAYS}).text

    rows = table_rows(html, "slowest-uploads")
    assert [row[0] for row in rows] == SLOWEST_UPLOADS
    yesterday = today - dt.timedelta(days=1)
    assert rows[0] == [
        "u-big", "u-big.csv", "api", "1,000", "42.5", f"{yesterday} 10:00 UTC",
    ]  # fmt: skip
    assert rows[1][2:5] == ["generator", "5,000", "12.0"]
    assert rows[2][2:5] == ["landing", "100", "3.0"]
    assert 'href="/uploads/u-big"' in html


def test_overview_counts_the_commonest_rejection_reasons_of_the_window(client, ledger):
    html = client.get("/dashboard", params={"days": INGESTION_DAYS}).text

    rows = table_rows(html, "rejection-reasons")
    assert rows == [[reason, str(count)] for reason, count in REJECTION_REASONS]
    assert "outside the window" not in html


def test_overview_shows_failures_and_the_latest_error_escaped(client, ledger, today):
    html = client.get("/dashboard", params={"days": INGESTION_DAYS}).text

    failure = re.search(r'<div class="analysis" id="last-failure">(.*?)</div>', html, re.DOTALL)
    assert failure
    assert "u-failed.csv" in failure.group(1)
    assert f"{today - dt.timedelta(days=1)} 13:00 UTC" in failure.group(1)
    assert html_text.escape(LATEST_ERROR, quote=False) in failure.group(1)
    assert "<b>bold</b>" not in html
    assert "older error" not in html  # only the latest failure's error
    assert re.search(r'<div class="label">Failed</div>\s*<div class="value">2</div>', html)


def test_a_window_without_finished_uploads_says_so_instead_of_a_chart(client, warehouse_url, today):
    two_days_ago = today - dt.timedelta(days=2)
    insert_ledger(
        warehouse_url,
        [upload("u-old", at(two_days_ago, 23, 59), loaded=10), upload("u-waiting", None)],
    )

    html = client.get("/dashboard", params={"days": 2}).text

    assert "No upload finished in the last 2 days." in html
    assert "ingestion" not in figures(html)
    assert 'id="slowest-uploads"' not in html
    assert 'id="ingestion"' not in html
    assert "ingestion" in figures(client.get("/dashboard", params={"days": 3}).text)


def test_ingestion_reads_never_touch_transactions(warehouse_url):
    """The plans of the panel's statements read the ledger alone, whatever the window."""
    params = ingestion_window(INGESTION_DAYS) | {"limit": 10}
    with psycopg.connect(warehouse_url) as conn:
        for name in INGESTION_SQL:
            plan = conn.execute(f"EXPLAIN (FORMAT JSON) {load_sql(name)}", params).fetchone()[0]
            relations = set(re.findall(r'"Relation Name": "(\w+)"', json.dumps(plan)))
            assert relations and relations <= {"uploads", "rejected_rows"}, (name, relations)


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
    monkeypatch.setattr("txn_core.reads.risk_assessment", lambda _: "<script>alert(1)</script>")

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
