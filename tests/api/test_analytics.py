"""GET /analytics/risk-profile/{user_id} and /analytics/spend-trend/{user_id}: the reference's
field names over user_risk_profile and user_spend_trend, their values, order and 404s."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from pydantic import TypeAdapter

from tests.api.analytics_fixtures import (
    UTC,
    daily_spend,
    insert_daily_spend,
    insert_risk_profiles,
    insert_trend,
    risk_profile,
    trend_rows,
)
from tests.helpers import free_port
from txn_api.schemas import SpendTrendPoint
from txn_core.reads import risk_assessment

REFERENCE_RISK_METRICS = {
    "global_whale_rank",
    "spending_volatility_index",
    "total_lifetime_spend",
    "max_single_transaction_spike",
    "shortest_time_between_transactions_mins",
}


@pytest.fixture
def profiles(warehouse_url):
    insert_risk_profiles(
        warehouse_url,
        [
            risk_profile(
                3,
                tx_count=212,
                total_spend=Decimal("48210.55"),
                mean_amount=Decimal("227.41"),
                stddev_amount=Decimal("288.80"),
                volatility_index=Decimal("1.27"),
                global_whale_rank=2,
                max_single_transaction=Decimal("4999.00"),
                shortest_gap_minutes=1.5,
                first_transaction_at=dt.datetime(2024, 1, 2, 8, 14, tzinfo=UTC),
                last_transaction_at=dt.datetime(2024, 3, 31, 21, 40, 12, tzinfo=UTC),
                active_days=88,
                tx_per_active_day=Decimal("2.41"),
                tx_last_24h=4,
            ),
            # a single transaction: no gap yet
            risk_profile(4, tx_count=1, global_whale_rank=150, shortest_gap_minutes=None),
        ],
    )


def test_risk_profile_has_the_reference_fields_and_the_stored_values(client, profiles):
    response = client.get("/analytics/risk-profile/3")

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"user_id", "risk_metrics", "analysis"}
    assert set(body["risk_metrics"]) >= REFERENCE_RISK_METRICS
    assert body["user_id"] == 3
    assert body["risk_metrics"] == {
        "global_whale_rank": 2,
        "spending_volatility_index": 1.27,
        "total_lifetime_spend": 48210.55,
        "max_single_transaction_spike": 4999.0,
        "shortest_time_between_transactions_mins": 1.5,
        "transaction_count": 212,
        "mean_transaction": 227.41,
        "stddev_transaction": 288.8,
        "transactions_per_active_day": 2.41,
        "transactions_last_24h": 4,
        "first_transaction_at": "2024-01-02T08:14:00Z",
        "last_transaction_at": "2024-03-31T21:40:12Z",
    }
    assert body["analysis"] == (
        "Whale: rank 2 by lifetime spend, among the top 10 spenders. "
        "Highly volatile spending (volatility index 1.27). "
        "Rapid-fire activity: two transactions 1.5 minutes apart."
    )


def test_a_single_transaction_has_no_shortest_gap(client, profiles):
    body = client.get("/analytics/risk-profile/4").json()

    assert body["risk_metrics"]["shortest_time_between_transactions_mins"] is None
    assert body["analysis"] == (
        "Regular spender: rank 150 by lifetime spend. Stable spending (volatility index 0.32)."
    )


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        ({"global_whale_rank": 10}, "Whale: rank 10"),
        ({"global_whale_rank": 11}, "Big spender: rank 11"),
        ({"global_whale_rank": 100}, "Big spender: rank 100"),
        ({"global_whale_rank": 101}, "Regular spender: rank 101"),
        ({"volatility_index": Decimal("1.00")}, "Highly volatile spending"),
        ({"volatility_index": Decimal("0.99")}, "Moderately volatile spending"),
        ({"volatility_index": Decimal("0.50")}, "Moderately volatile spending"),
        ({"volatility_index": Decimal("0.49")}, "Stable spending"),
        ({"shortest_gap_minutes": 4.9}, "Rapid-fire activity: two transactions 4.9 minutes apart"),
    ],
)
def test_the_analysis_reads_rank_volatility_and_gap(columns, expected):
    assert expected in risk_assessment(risk_profile(1, **columns))


@pytest.mark.parametrize("gap", [5.0, 60.0, None])
def test_no_rapid_fire_at_five_minutes_and_more(gap):
    assert "Rapid-fire" not in risk_assessment(risk_profile(1, shortest_gap_minutes=gap))


def test_risk_profile_of_an_unknown_user_is_404(client, profiles):
    response = client.get("/analytics/risk-profile/99")

    assert response.status_code == 404
    assert response.json() == {"detail": "no risk profile for user 99"}


def test_risk_profiles_asked_together_each_get_their_own(client, profiles):
    """Concurrent requests share a lookup (see txn_api.batching); none gets another's row."""
    users = [3, 4, 99] * 16

    def ask(user):
        response = client.get(f"/analytics/risk-profile/{user}")
        return response.status_code, response.json()

    alone = [ask(user) for user in users]
    with ThreadPoolExecutor(max_workers=24) as pool:
        together = list(pool.map(ask, users))

    assert together == alone
    assert [body.get("user_id") for _, body in alone[:3]] == [3, 4, None]


def test_lookups_reuse_the_plan_prepared_for_them(client):
    """A batch's key array would otherwise be planned anew on every lookup (see
    txn_api.db.lookup_pool); the other reads keep PostgreSQL's default."""

    async def plan_cache_mode(pool) -> str:
        async with pool.connection() as conn:
            return (await (await conn.execute("SHOW plan_cache_mode")).fetchone())[0]

    state = client.app.state
    assert client.portal.call(plan_cache_mode, state.lookup_pool) == "force_generic_plan"
    assert client.portal.call(plan_cache_mode, state.read_pool) == "auto"


def test_risk_profile_is_503_saying_so_when_the_warehouse_is_down(make_client, monkeypatch):
    monkeypatch.setattr("txn_api.db.CONNECT_TIMEOUT_SECONDS", 0.5)
    client = make_client(database_url=f"postgresql://txn@127.0.0.1:{free_port()}/txn")

    response = client.get("/analytics/risk-profile/3")

    assert response.status_code == 503
    assert response.json()["detail"].startswith("the warehouse is unavailable")


@pytest.fixture
def trend(warehouse_url):
    # Inserted out of order, with a day without spend in the middle; user 8 is someone else.
    rows = insert_trend(
        warehouse_url,
        7,
        {
            dt.date(2024, 3, 4): "40.00",
            dt.date(2024, 3, 1): "10.00",
            dt.date(2024, 3, 2): "20.50",
        },
    )
    insert_trend(warehouse_url, 8, {dt.date(2024, 3, 2): "999.00"})
    return rows


def test_spend_trend_is_every_day_in_date_order_with_the_reference_fields(client, trend):
    response = client.get("/analytics/spend-trend/7")

    assert response.status_code == 200, response.text
    assert response.json() == [
        {"spend_date": "2024-03-01", "daily_total": 10.0, "rolling_7d_avg": 10.0},
        {"spend_date": "2024-03-02", "daily_total": 20.5, "rolling_7d_avg": 15.25},
        {"spend_date": "2024-03-03", "daily_total": 0.0, "rolling_7d_avg": 10.17},
        {"spend_date": "2024-03-04", "daily_total": 40.0, "rolling_7d_avg": 17.63},
    ]
    # Built by PostgreSQL, and still exactly what the documented response model describes.
    TypeAdapter(list[SpendTrendPoint]).validate_json(response.content, strict=True)
    assert all(isinstance(day["daily_total"], float) for day in response.json())
    assert response.headers["content-type"] == "application/json"


def test_spend_trend_dates_narrow_the_range_inclusively(client, trend):
    response = client.get(
        "/analytics/spend-trend/7", params={"start_date": "2024-03-02", "end_date": "2024-03-03"}
    )

    assert [day["spend_date"] for day in response.json()] == ["2024-03-02", "2024-03-03"]


def test_spend_trend_of_an_unknown_user_is_404(client, trend):
    response = client.get("/analytics/spend-trend/99")

    assert response.status_code == 404
    assert response.json() == {"detail": "no spend trend for user 99"}


def test_spend_trend_outside_the_users_days_is_404_saying_so(client, trend):
    response = client.get("/analytics/spend-trend/7", params={"start_date": "2024-04-01"})

    assert response.status_code == 404
    assert response.json() == {"detail": "user 7 has no trend days on or after 2024-04-01"}


def test_a_trend_not_yet_built_is_answered_from_the_users_days(client, warehouse_url):
    """Right after a bulk refresh commits, a user has days but no trend rows yet: the trend is
    answered from the days, every day and a range alike, as the built rows would answer."""
    totals = {
        dt.date(2024, 3, 4): "40.00",
        dt.date(2024, 3, 1): "10.00",
        dt.date(2024, 3, 2): "20.50",
    }
    insert_daily_spend(
        warehouse_url, [daily_spend(7, day, [amount]) for day, amount in totals.items()]
    )
    built = [
        {
            "spend_date": row["spend_date"].isoformat(),
            "daily_total": float(row["daily_total"]),
            "rolling_7d_avg": float(row["rolling_7d_avg"]),
        }
        for row in trend_rows(7, totals)
    ]

    assert client.get("/analytics/spend-trend/7").json() == built
    march_2_and_3 = {"start_date": "2024-03-02", "end_date": "2024-03-03"}
    assert client.get("/analytics/spend-trend/7", params=march_2_and_3).json() == built[1:3]
    after = client.get("/analytics/spend-trend/7", params={"start_date": "2024-04-01"})
    assert after.json() == {"detail": "user 7 has no trend days on or after 2024-04-01"}


def test_spend_trend_start_after_end_is_400(client, trend):
    response = client.get(
        "/analytics/spend-trend/7", params={"start_date": "2024-03-04", "end_date": "2024-03-01"}
    )

    assert response.status_code == 400


@pytest.mark.parametrize(
    "path",
    [
        "/analytics/risk-profile/0",
        "/analytics/spend-trend/0",
        "/analytics/spend-trend/7?start_date=2024-02-30",
    ],
)
def test_malformed_parameters_are_422(client, path):
    assert client.get(path).status_code == 422


def test_openapi_lists_each_routes_errors_and_examples(client):
    spec = client.get("/openapi.json").json()
    risk = spec["paths"]["/analytics/risk-profile/{user_id}"]["get"]["responses"]
    trend = spec["paths"]["/analytics/spend-trend/{user_id}"]["get"]["responses"]

    assert {"404", "422"} <= set(risk)
    assert {"400", "404", "422"} <= set(trend)
    assert all(response["description"] for response in [*risk.values(), *trend.values()])
    schemas = spec["components"]["schemas"]
    assert schemas["RiskProfile"]["examples"][0]["risk_metrics"]["global_whale_rank"] == 3
    assert schemas["SpendTrendPoint"]["examples"][0]["rolling_7d_avg"] == 86.1
