"""What guards the data: a key on every data endpoint, no upload from another site's page,
rate limits per client, statement timeouts, and the headers every response carries."""

from __future__ import annotations

import base64
import datetime as dt

import pytest

from tests.api.analytics_fixtures import daily_spend, insert_daily_spend
from tests.api.test_uploads import csv_bytes, post_file

KEY = "s3cret-key-for-the-security-tests"
DATA_READS = [
    "/uploads/u1",
    "/uploads/u1/rejected",
    "/summary/1",
    "/analytics/risk-profile/1",
    "/analytics/spend-trend/1",
    "/dashboard",
    "/dashboard/1",
    "/static/dashboard.js",
]


def basic(password: str, user: str = "anyone") -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.fixture
def keyed(make_client):
    return make_client(api_key=KEY)


@pytest.mark.parametrize("path", DATA_READS)
def test_with_a_key_every_read_needs_it_in_the_header_or_as_basic_password(keyed, path):
    missing = keyed.get(path)
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"].startswith('Basic realm="transactions"')
    assert keyed.get(path, headers={"X-API-Key": "guess"}).status_code == 401
    assert keyed.get(path, headers=basic("guess")).status_code == 401
    for good in ({"X-API-Key": KEY}, basic(KEY), basic(KEY, user="")):
        assert keyed.get(path, headers=good).status_code in (200, 404)  # 404: no such data


def test_with_a_key_uploads_need_it_too(keyed, incoming):
    assert post_file(keyed, "a.csv", csv_bytes()).status_code == 401
    assert post_file(keyed, "a.csv", csv_bytes(), headers=basic("guess")).status_code == 401
    assert incoming() == []
    accepted = post_file(keyed, "a.csv", csv_bytes(), headers={"X-API-Key": KEY})
    assert accepted.status_code == 202, accepted.text
    assert len(incoming()) == 1


def test_without_a_key_the_service_is_open_as_locally(client, warehouse_url):
    insert_daily_spend(warehouse_url, [daily_spend(1, dt.date(2024, 3, 1), ["5.00"])])
    assert client.get("/summary/1").status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
        {"Origin": "https://evil.example"},  # an older browser: Origin alone
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": "null"},  # a sandboxed page or a local file
    ],
)
def test_a_cross_site_form_post_cannot_upload_even_with_a_browsers_saved_login(
    keyed, incoming, headers
):
    refused = post_file(keyed, "a.csv", csv_bytes(), headers={**headers, **basic(KEY)})
    assert refused.status_code == 403
    assert incoming() == []


def test_the_services_own_pages_and_plain_clients_can_upload(client, incoming):
    same_site = {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}
    assert post_file(client, "a.csv", csv_bytes(), headers=same_site).status_code == 202
    assert post_file(client, "b.csv", csv_bytes()).status_code == 202  # curl sends neither
    assert len(incoming()) == 2


def test_a_client_past_its_budget_gets_429_with_retry_after(make_client, incoming):
    client = make_client(rate_limit_reads="3/minute", rate_limit_uploads="1/minute")
    reads = [client.get("/summary/1").status_code for _ in range(4)]
    assert reads == [404, 404, 404, 429]
    limited = client.get("/analytics/risk-profile/1")
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["retry-after"]) <= 60

    assert post_file(client, "a.csv", csv_bytes()).status_code == 202
    assert post_file(client, "b.csv", csv_bytes()).status_code == 429
    assert len(incoming()) == 1
    assert client.get("/livez").status_code == 200  # health is never limited


def test_every_statement_of_the_api_has_a_timeout(make_client):
    client = make_client(statement_timeout_seconds=2.5)

    async def setting(pool) -> str:
        async with pool.connection() as conn:
            return (await (await conn.execute("SHOW statement_timeout")).fetchone())[0]

    state = client.app.state
    for pool in (state.read_pool, state.lookup_pool):
        assert client.portal.call(setting, pool) == "2500ms"


def test_responses_carry_the_security_headers_and_pages_a_strict_policy(client):
    for path in ("/livez", "/dashboard", "/summary/1"):
        headers = client.get(path).headers
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"
    policy = client.get("/dashboard").headers["content-security-policy"]
    assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy
    assert "content-security-policy" not in client.get("/summary/1").headers  # not a page
    assert client.get("/docs").status_code == 200  # the docs' CDN scripts still load


@pytest.mark.parametrize("key", ["change-me", "short"])
def test_a_key_anyone_could_guess_stops_the_service_from_starting(make_settings, key):
    with pytest.raises(ValueError, match="TXN_API_KEY is shorter than 24 characters"):
        make_settings(api_key=key)
