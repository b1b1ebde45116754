"""GET /summary/{user_id}: exact figures over whole days from user_daily_spend, with the
reference's field names, inclusive range edges and its 400/404/422 answers."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import psycopg
import pytest

from tests.api.analytics_fixtures import daily_spend, insert_daily_spend
from tests.helpers import free_port
from txn_core.sql import load_sql

USER = 5
MARCH = [dt.date(2024, 3, day) for day in (1, 2, 3, 4, 5)]


@pytest.fixture
def spend(warehouse_url):
    """User 5 over five days of March; user 6 on one of them, to show users stay apart."""
    insert_daily_spend(
        warehouse_url,
        [
            daily_spend(USER, MARCH[0], ["1000.00"]),  # outside the ranges below
            daily_spend(USER, MARCH[1], ["10.00", "30.00"]),  # start of the range
            daily_spend(USER, MARCH[2], ["5.25", "0.01", "99.99"]),
            daily_spend(USER, MARCH[3], ["12.00"]),  # end of the range
            daily_spend(USER, MARCH[4], ["0.00", "2000.00"]),  # outside
            daily_spend(6, MARCH[2], ["0.00", "5000.00"]),
        ],
    )


def test_summary_is_exact_over_the_range_with_both_edges_counted(client, spend):
    response = client.get(
        f"/summary/{USER}", params={"start_date": "2024-03-02", "end_date": "2024-03-04"}
    )

    assert response.status_code == 200, response.text
    # 10 + 30 + 5.25 + 0.01 + 99.99 + 12 = 157.25 over 6 transactions: the mean is not rounded
    assert response.json() == {
        "user_id": USER,
        "max_transaction": 99.99,
        "min_transaction": 0.01,
        "mean_transaction": 157.25 / 6,
        "transaction_count": 6,
        "total_amount": 157.25,
        "start_date": "2024-03-02",
        "end_date": "2024-03-04",
    }


def test_the_mean_is_exact_as_the_reference_answers_it(client, warehouse_url):
    """The reference's own test: 100.25 and 201.00 have the mean 150.625, not 150.63."""
    insert_daily_spend(warehouse_url, [daily_spend(7, MARCH[0], ["100.25", "201.00"])])
    assert client.get("/summary/7").json()["mean_transaction"] == 150.625


def test_a_single_day_range_is_that_day(client, spend):
    body = client.get(
        f"/summary/{USER}", params={"start_date": "2024-03-04", "end_date": "2024-03-04"}
    ).json()

    assert (body["min_transaction"], body["max_transaction"], body["transaction_count"]) == (
        12.0,
        12.0,
        1,
    )


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        # open at the end: 2024-03-04 and 2024-03-05
        ({"start_date": "2024-03-04"}, (0.0, 2000.0, 2012 / 3, 3, 2012.0)),
        # open at the start: 2024-03-01 and 2024-03-02
        ({"end_date": "2024-03-02"}, (10.0, 1000.0, 1040 / 3, 3, 1040.0)),
        # no range at all: every day
        ({}, (0.0, 2000.0, 3157.25 / 9, 9, 3157.25)),
    ],
)
def test_open_ended_ranges(client, spend, params, expected):
    response = client.get(f"/summary/{USER}", params=params)

    assert response.status_code == 200, response.text
    body = response.json()
    assert (
        body["min_transaction"],
        body["max_transaction"],
        body["mean_transaction"],
        body["transaction_count"],
        body["total_amount"],
    ) == expected
    assert (body["start_date"], body["end_date"]) == (
        params.get("start_date"),
        params.get("end_date"),
    )


def test_start_after_end_is_400(client, spend):
    response = client.get(
        f"/summary/{USER}", params={"start_date": "2024-03-05", "end_date": "2024-03-01"}
    )

    assert response.status_code == 400
    assert response.json() == {"detail": "start_date 2024-03-05 is after end_date 2024-03-01"}


def test_no_transactions_in_the_range_is_404_saying_so(client, spend):
    response = client.get(
        f"/summary/{USER}", params={"start_date": "2024-04-01", "end_date": "2024-04-30"}
    )

    assert response.status_code == 404
    assert response.json() == {
        "detail": f"user {USER} has no transactions from 2024-04-01 to 2024-04-30"
    }


def test_an_unknown_user_is_404(client, spend):
    response = client.get("/summary/999")

    assert response.status_code == 404
    assert response.json() == {"detail": "no transactions for user 999"}


@pytest.mark.parametrize(
    ("path", "params", "where"),
    [
        (f"/summary/{USER}", {"start_date": "2024-13-01"}, ["query", "start_date"]),
        (f"/summary/{USER}", {"end_date": "yesterday"}, ["query", "end_date"]),
        ("/summary/0", {}, ["path", "user_id"]),
        ("/summary/-3", {}, ["path", "user_id"]),
        ("/summary/abc", {}, ["path", "user_id"]),
        ("/summary/2147483648", {}, ["path", "user_id"]),
    ],
)
def test_malformed_parameters_are_422_naming_the_parameter(client, path, params, where):
    response = client.get(path, params=params)

    assert response.status_code == 422
    assert [issue["loc"] for issue in response.json()["detail"]] == [where]


def test_the_summary_reads_both_tables_by_their_keys_and_never_transactions(warehouse_url, spend):
    """Whole months from user_monthly_spend, the cut months' days from user_daily_spend, each
    by its primary key's range; `transactions` is never read."""
    params = {"user_ids": [USER], "start_dates": [dt.date(2024, 3, 2)], "end_dates": [None]}
    with psycopg.connect(warehouse_url) as conn:
        conn.execute("SET enable_seqscan = off")  # a five-row table would rather scan
        plan = "\n".join(
            row[0]
            for row in conn.execute(
                f"EXPLAIN {load_sql('reads/user_summaries')}", params
            ).fetchall()
        )

    assert "user_daily_spend_pkey" in plan and "user_monthly_spend_pkey" in plan
    assert "Index Cond" in plan and "spend_date >=" in plan
    assert " transactions" not in plan


LONG_USER = 9
LONG_HISTORY = [dt.date(2023, 11, 20) + dt.timedelta(days=i) for i in range(0, 480, 3)]


@pytest.fixture
def long_history(warehouse_url):
    """User 9 every third day for about 16 months, with amounts that differ day by day."""
    rows = [
        daily_spend(LONG_USER, day, [f"{(i * 37) % 500 + 1}.{i % 100:02d}", f"{i % 7}.50"])
        for i, day in enumerate(LONG_HISTORY)
    ]
    insert_daily_spend(warehouse_url, rows)
    return rows


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2024-01-01", "2024-12-31"),  # whole months only
        ("2024-01-15", "2024-03-10"),  # two cut months and a whole one
        ("2024-02-03", "2024-02-20"),  # inside one month
        ("2023-12-31", "2024-01-01"),  # across a year end, no whole month
        ("2024-02-29", "2024-03-31"),  # a leap day, then a whole month ending the range
        (None, "2024-06-30"),
        ("2024-06-02", None),
        (None, None),
    ],
)
def test_long_ranges_merge_whole_months_and_cut_days_exactly(client, long_history, start, end):
    lo = dt.date.fromisoformat(start) if start else dt.date.min
    hi = dt.date.fromisoformat(end) if end else dt.date.max
    inside = [row for row in long_history if lo <= row["spend_date"] <= hi]
    params = {name: value for name, value in (("start_date", start), ("end_date", end)) if value}

    body = client.get(f"/summary/{LONG_USER}", params=params).json()

    count = sum(row["tx_count"] for row in inside)
    total = sum(row["total_amount"] for row in inside)
    assert body["transaction_count"] == count
    assert Decimal(str(body["total_amount"])) == total
    assert Decimal(str(body["max_transaction"])) == max(row["max_amount"] for row in inside)
    assert Decimal(str(body["min_transaction"])) == min(row["min_amount"] for row in inside)


def test_concurrent_summaries_each_answer_their_own_user_and_range(client, spend, long_history):
    """Summaries asked at the same time are looked up together (one query per batch): each
    still gets exactly what it gets alone, 404s included."""
    asks = [
        (user, {"start_date": start, "end_date": end})
        for user in (USER, 6, LONG_USER, 77)
        for start, end in (
            ("2024-03-02", "2024-03-04"),
            ("2024-01-15", "2024-03-10"),
            ("2023-12-31", "2024-01-01"),
            ("2024-03-03", "2024-03-03"),
        )
    ] * 3
    asks += [(LONG_USER, {}), (USER, {"start_date": "2024-03-05"})] * 4

    def ask(user_and_params):
        user, params = user_and_params
        response = client.get(f"/summary/{user}", params=params)
        return response.status_code, response.json()

    alone = [ask(one) for one in asks]
    with ThreadPoolExecutor(max_workers=24) as pool:
        together = list(pool.map(ask, asks))

    assert together == alone
    assert {status for status, _ in alone} == {200, 404}


def test_summary_is_503_saying_so_when_the_warehouse_is_down(make_client, monkeypatch):
    monkeypatch.setattr("txn_api.db.CONNECT_TIMEOUT_SECONDS", 0.5)
    client = make_client(database_url=f"postgresql://txn@127.0.0.1:{free_port()}/txn")

    response = client.get(f"/summary/{USER}")

    assert response.status_code == 503
    assert response.json()["detail"].startswith("the warehouse is unavailable")


def test_openapi_documents_the_summary_with_its_errors(client):
    operation = client.get("/openapi.json").json()["paths"]["/summary/{user_id}"]["get"]

    assert {"400", "404", "422"} <= set(operation["responses"])
    for code in ("400", "404", "422"):
        assert operation["responses"][code]["description"]
    schema_name = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    schema = client.get("/openapi.json").json()["components"]["schemas"][
        schema_name.rsplit("/", 1)[1]
    ]
    assert schema["examples"][0]["mean_transaction"] == 187.6200350877193
