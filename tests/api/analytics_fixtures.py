"""Small hand-made rows for the analytics tables (user_daily_spend, user_spend_trend,
user_risk_profile), so the API's reads can be tested without running the refresh that
normally fills them. Each helper writes through its own connection to the test's database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import psycopg

from txn_core.sql import load_statements

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
        for statement in load_statements("refresh/rebuild_monthly_spend"):
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
    """The rows, and the user's months rendered from them by the refresh's own statements."""
    rows = trend_rows(user_id, totals)
    _insert(url, "user_spend_trend", TREND_COLUMNS, rows)
    first, last = rows[0]["spend_date"], rows[-1]["spend_date"]
    with psycopg.connect(url) as conn, conn.transaction(), conn.cursor() as cur:
        cur.execute(
            "CREATE TEMP TABLE trend_scope ON COMMIT DROP AS SELECT %(user_id)s::integer AS "
            "user_id, %(first)s::date AS changed_from, %(first)s::date AS first_day, "
            "%(last)s::date AS last_day",
            {"user_id": user_id, "first": first, "last": last},
        )
        for statement in load_statements("refresh/render_spend_trend"):
            cur.execute(statement, {"earliest": first})
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


# The upload ledger, for the overview's ingestion panel.
UPLOAD_COLUMNS = (
    "upload_id", "source", "file_name", "landing_key", "status", "rows_read", "rows_loaded",
    "rows_duplicate", "rows_rejected", "error", "created_at", "started_at", "finished_at",
)  # fmt: skip
REJECTED_COLUMNS = ("upload_id", "line_number", "reason", "raw_line")


def upload(
    upload_id: str,
    finished_at: dt.datetime | None,
    seconds: float = 1.0,
    loaded: int = 0,
    duplicate: int = 0,
    rejected: int = 0,
    **columns: Any,
) -> dict[str, Any]:
    """A ledger row that ran `seconds` and finished at `finished_at` (None: still queued);
    succeeded unless `status` says otherwise."""
    started_at = finished_at - dt.timedelta(seconds=seconds) if finished_at else None
    row: dict[str, Any] = {
        "upload_id": upload_id,
        "source": "api",
        "file_name": f"{upload_id}.csv",
        "landing_key": f"incoming/{upload_id}.csv",
        "status": "succeeded" if finished_at else "queued",
        "rows_read": loaded + duplicate + rejected,
        "rows_loaded": loaded,
        "rows_duplicate": duplicate,
        "rows_rejected": rejected,
        "error": None,
        "created_at": (started_at or dt.datetime.now(UTC)) - dt.timedelta(seconds=5),
        "started_at": started_at,
        "finished_at": finished_at,
    }
    return row | columns


def rejections(upload_id: str, reasons: dict[str, int], first_line: int = 2) -> list[dict]:
    """`reasons[reason]` rejected rows of the upload for each reason, on consecutive lines."""
    each = [reason for reason, count in reasons.items() for _ in range(count)]
    return [
        {"upload_id": upload_id, "line_number": line, "reason": reason, "raw_line": "not,a,row"}
        for line, reason in enumerate(each, start=first_line)
    ]


def insert_ledger(
    url: str, uploads: Iterable[dict[str, Any]], rejected: Iterable[dict[str, Any]] = ()
) -> None:
    _insert(url, "uploads", UPLOAD_COLUMNS, uploads)
    _insert(url, "rejected_rows", REJECTED_COLUMNS, rejected)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=UTC)


# A week of ingestion ending today (UTC): what the panel over `INGESTION_DAYS` days shows.
INGESTION_DAYS = 7
SLOWEST_UPLOADS = ["u-big", "u-generated", "u-small"]  # 42.5 s, 12 s, 3 s
REJECTION_REASONS = [
    ("transaction_amount: not a decimal", 25),
    ("timestamp: not RFC 3339", 18),
    ("user_id: not a positive integer", 2),
]
LATEST_ERROR = "missing required column: user_id <b>bold</b>"


def seed_ingestion_ledger(url: str, today: dt.date) -> None:
    """Over the last INGESTION_DAYS days to `today`: three succeeded loads (yesterday's two
    rejecting rows, one today), a failure yesterday and one on the window's first second; a
    slow load with rejections one second before the window, and uploads not yet finished."""
    first_day = today - dt.timedelta(days=INGESTION_DAYS - 1)
    yesterday = today - dt.timedelta(days=1)
    uploads = [
        upload("u-big", at(yesterday, 10), 42.5, loaded=900, duplicate=60, rejected=40),
        upload("u-small", at(yesterday, 12), 3, loaded=95, rejected=5, source="landing"),
        upload("u-generated", at(today, 0, 30), 12, loaded=5000, source="generator"),
        upload("u-failed", at(yesterday, 13), status="failed", error=LATEST_ERROR),
        upload("u-failed-first", at(first_day, 0), status="failed", error="older error"),
        upload("u-before", at(first_day, 0) - dt.timedelta(seconds=1), 1000, loaded=1, rejected=7),
        upload("u-queued", None),
        upload("u-running", None, status="running", started_at=at(today, 0)),
    ]
    rejected = (
        rejections("u-big", {REJECTION_REASONS[0][0]: 25, REJECTION_REASONS[1][0]: 15})
        + rejections("u-small", {REJECTION_REASONS[1][0]: 3, REJECTION_REASONS[2][0]: 2})
        + rejections("u-before", {"outside the window": 7})
    )
    insert_ledger(url, uploads, rejected)
