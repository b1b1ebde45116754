"""Small hand-made rows for the analytics tables (user_daily_spend, user_spend_trend,
user_risk_profile), so the API's reads can be tested without running the refresh that
normally fills them. Each helper writes through its own connection to the test's database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import psycopg

from txn_core.analytics import _statements

UTC = dt.UTC
TWO_PLACES = Decimal("0.01")

DAILY_SPEND_COLUMNS = (
    "user_id", "spend_date", "tx_count", "total_amount", "min_amount", "max_amount",
    "sum_squares", "first_at", "last_at", "min_gap_seconds",
)  # fmt: skip
TREND_COLUMNS = ("user_id", "spend_date", "daily_total", "rolling_7d_avg")
RISK_PROFILE_COLUMNS = (
    "user_id", "tx_count", "total_spend", "mean_amount", "stddev_amount", "sum_squares",
    "volatility_index",
    "global_whale_rank", "max_single_transaction", "shortest_gap_minutes",
    "first_transaction_at", "last_transaction_at", "active_days", "tx_per_active_day",
    "tx_last_24h",
)  # fmt: skip


def _insert(url: str, table: str, columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> None:
    # Table and column names are this module's constants, never input.
    statement = (
        f"INSERT INTO {table} ({', '.join(columns)}) "
        f"VALUES ({', '.join(f'%({column})s' for column in columns)})"
    )
    with psycopg.connect(url, autocommit=True) as conn, conn.cursor() as cur:
        cur.executemany(statement, list(rows))


def daily_spend(
    user_id: int, day: dt.date, amounts: Sequence[str | Decimal], gap_minutes: float = 30
) -> dict[str, Any]:
    """The user_daily_spend row of a day whose transactions are `amounts`, the first at 10:00
    UTC and each next one `gap_minutes` later."""
    values = [Decimal(amount) for amount in amounts]
    first_at = dt.datetime.combine(day, dt.time(10, 0), tzinfo=UTC)
    return {
        "user_id": user_id,
        "spend_date": day,
        "tx_count": len(values),
        "total_amount": sum(values, Decimal(0)),
        "min_amount": min(values),
        "max_amount": max(values),
        "sum_squares": sum((value * value for value in values), Decimal(0)),
        "first_at": first_at,
        "last_at": first_at + dt.timedelta(minutes=gap_minutes * (len(values) - 1)),
        "min_gap_seconds": gap_minutes * 60 if len(values) > 1 else None,
    }


def insert_daily_spend(url: str, rows: Iterable[dict[str, Any]]) -> None:
    """The rows, and their months of user_monthly_spend merged again, as a refresh leaves them."""
    rows = list(rows)
    _insert(url, "user_daily_spend", DAILY_SPEND_COLUMNS, rows)
    days = sorted({row["spend_date"] for row in rows})
    with psycopg.connect(url, autocommit=True) as conn, conn.cursor() as cur:
        for statement in _statements("analytics/rebuild_monthly_spend"):
            cur.execute(statement, {"days": days})


def trend_rows(user_id: int, totals: dict[dt.date, str | Decimal]) -> list[dict[str, Any]]:
    """Every calendar day from the first to the last day of `totals` (0 where a day is missing),
    with the mean of the day and up to 6 days before it."""
    first, last = min(totals), max(totals)
    days = [first + dt.timedelta(days=offset) for offset in range((last - first).days + 1)]
    daily = [Decimal(totals.get(day, "0")) for day in days]
    rows = []
    for index, day in enumerate(days):
        window = daily[max(0, index - 6) : index + 1]
        rows.append(
            {
                "user_id": user_id,
                "spend_date": day,
                "daily_total": daily[index],
                "rolling_7d_avg": (sum(window, Decimal(0)) / len(window)).quantize(
                    TWO_PLACES, ROUND_HALF_UP
                ),
            }
        )
    return rows


def insert_trend(url: str, user_id: int, totals: dict[dt.date, str | Decimal]) -> list[dict]:
    rows = trend_rows(user_id, totals)
    _insert(url, "user_spend_trend", TREND_COLUMNS, rows)
    return rows


def risk_profile(user_id: int, **columns: Any) -> dict[str, Any]:
    """A user_risk_profile row: plausible defaults, any column overridden by keyword."""
    row: dict[str, Any] = {
        "user_id": user_id,
        "tx_count": 12,
        "total_spend": Decimal("1500.00"),
        "mean_amount": Decimal("125.00"),
        "stddev_amount": Decimal("40.00"),
        "sum_squares": Decimal("206700.00"),  # 12 x (125^2 + 40^2): the mean and stddev above
        "volatility_index": Decimal("0.32"),
        "global_whale_rank": 50,
        "max_single_transaction": Decimal("310.00"),
        "shortest_gap_minutes": 45.0,
        "first_transaction_at": dt.datetime(2024, 3, 1, 10, 0, tzinfo=UTC),
        "last_transaction_at": dt.datetime(2024, 3, 10, 18, 30, tzinfo=UTC),
        "active_days": 6,
        "tx_per_active_day": Decimal("2.00"),
        "tx_last_24h": 2,
    }
    unknown = set(columns) - set(row)
    assert not unknown, f"not columns of user_risk_profile: {sorted(unknown)}"
    return row | columns


def insert_risk_profiles(url: str, rows: Iterable[dict[str, Any]]) -> None:
    _insert(url, "user_risk_profile", RISK_PROFILE_COLUMNS, rows)


# A small platform for the dashboards: user 42 is the richest, with a gap day in March.
DASHBOARD_USER = 42
DASHBOARD_TREND = {
    dt.date(2024, 3, 1): "120.50",
    dt.date(2024, 3, 2): "80.00",
    dt.date(2024, 3, 3): "310.25",
    # 2024-03-04: no spend, so the trend has a zero there
    dt.date(2024, 3, 5): "45.10",
    dt.date(2024, 3, 6): "99.99",
    dt.date(2024, 3, 7): "150.00",
    dt.date(2024, 3, 8): "12.40",
    dt.date(2024, 3, 9): "220.00",
    dt.date(2024, 3, 10): "64.75",
}
DASHBOARD_TREND_DAYS = 10
OTHER_USERS = (7, 8, 9, 11, 12)


def seed_dashboard_platform(url: str) -> None:
    """User 42 with its daily spend, trend and risk profile, and five smaller users."""
    insert_daily_spend(
        url,
        [daily_spend(DASHBOARD_USER, day, [total]) for day, total in DASHBOARD_TREND.items()]
        + [
            daily_spend(user_id, dt.date(2024, 3, 2 + index), ["10.00", f"{20 + index}.50"])
            for index, user_id in enumerate(OTHER_USERS)
        ],
    )
    insert_trend(url, DASHBOARD_USER, DASHBOARD_TREND)
    insert_risk_profiles(
        url,
        [
            risk_profile(
                DASHBOARD_USER,
                tx_count=9,
                total_spend=Decimal("1102.99"),
                mean_amount=Decimal("122.55"),
                stddev_amount=Decimal("90.03"),
                volatility_index=Decimal("0.73"),
                global_whale_rank=1,
                max_single_transaction=Decimal("310.25"),
                shortest_gap_minutes=2.5,
                active_days=9,
                tx_per_active_day=Decimal("1.00"),
                tx_last_24h=1,
            )
        ]
        + [
            risk_profile(
                user_id,
                tx_count=2,
                total_spend=Decimal(f"{30 + index}.50"),
                mean_amount=Decimal(f"{30 + index}.50") / 2,
                volatility_index=Decimal("0.35") + Decimal(index) / 10,
                global_whale_rank=len(OTHER_USERS) + 1 - index,
                first_transaction_at=dt.datetime(2024, 3, 2 + index, 10, tzinfo=UTC),
                last_transaction_at=dt.datetime(2024, 3, 2 + index, 10, 30, tzinfo=UTC),
                active_days=1,
            )
            for index, user_id in enumerate(OTHER_USERS)
        ],
    )
