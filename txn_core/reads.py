"""Reads of the materialised analytics tables, for the API and its dashboards.

Every function answers from user_daily_spend, user_spend_trend (or its rendered months) or
user_risk_profile with index lookups and range scans (the named SQL under `sql/reads/`); none
reads `transactions`. Rows come back as dicts keyed by the SQL column names; amounts are
Decimals, as PostgreSQL stores them.

The reads are async (psycopg's AsyncConnection): the API awaits them on its event loop, with no
thread per request.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.rows import dict_row

from txn_core.sql import load_sql

Row = dict[str, Any]

# Thresholds of the risk assessment: the whale ranks are dense ranks by lifetime spend, the
# volatility index is stddev / mean of a user's amounts, the gap is in minutes.
WHALE_RANK = 10
BIG_SPENDER_RANK = 100
HIGH_VOLATILITY = Decimal("1.0")
MODERATE_VOLATILITY = Decimal("0.5")
RAPID_FIRE_MINUTES = 5.0


async def _one(conn: psycopg.AsyncConnection, name: str, params: Row) -> Row | None:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(load_sql(name), params)
        return await cur.fetchone()


async def _all(conn: psycopg.AsyncConnection, name: str, params: Row) -> list[Row]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(load_sql(name), params)
        return await cur.fetchall()


async def _value(conn: psycopg.AsyncConnection, name: str, params: Row) -> Any:
    cur = await conn.execute(load_sql(name), params)
    row = await cur.fetchone()
    return row[0] if row else None


SummaryAsk = tuple[int, dt.date | None, dt.date | None]
"""A summary's question: a user and a range of whole UTC days (None: open-ended)."""


async def user_summaries(conn: psycopg.AsyncConnection, asks: list[SummaryAsk]) -> list[Row]:
    """One row per ask, in order: count, total, min, max and exact mean of the user's
    transactions over the range, both ends inclusive (all None when there are none), and
    `has_spend`, whether the user has any spend at all."""
    user_ids, start_dates, end_dates = (list(column) for column in zip(*asks, strict=True))
    params = {"user_ids": user_ids, "start_dates": start_dates, "end_dates": end_dates}
    return await _all(conn, "reads/user_summaries", params)


async def risk_profiles(conn: psycopg.AsyncConnection, user_ids: list[int]) -> dict[int, Row]:
    """The users' rows of user_risk_profile by user id; a user without one is left out."""
    rows = await _all(conn, "reads/risk_profiles", {"user_ids": user_ids})
    return {row["user_id"]: row for row in rows}


async def risk_profile(conn: psycopg.AsyncConnection, user_id: int) -> Row | None:
    return (await risk_profiles(conn, [user_id])).get(user_id)


async def spend_trend(
    conn: psycopg.AsyncConnection,
    user_id: int,
    start_date: dt.date | None = None,
    end_date: dt.date | None = None,
) -> list[Row]:
    """The user's days in date order: spend_date, daily_total, rolling_7d_avg."""
    return await _all(
        conn,
        "reads/spend_trend",
        {"user_id": user_id, "start_date": start_date, "end_date": end_date},
    )


def trend_from_months(bodies: Iterable[bytes]) -> bytes:
    """The JSON array of a trend from its rendered months, in order (each a comma-separated
    run of day objects), joined in one copy. `b"[" + b",".join(...) + b"]"` would copy the half
    megabyte twice more, and every fresh buffer that large costs its page faults: 0.5 ms, a
    third of the API's CPU per answer at 10M rows."""
    parts: list[bytes] = []
    for body in bodies:
        parts += (b",", body)
    parts[:1] = [b"["]  # the first separator opens the array (or an empty one)
    parts.append(b"]")
    return b"".join(parts)


async def spend_trend_json(
    conn: psycopg.AsyncConnection,
    user_id: int,
    start_date: dt.date | None = None,
    end_date: dt.date | None = None,
) -> bytes:
    """The same days as `spend_trend`, as a JSON array of objects built by PostgreSQL (b"[]"
    when there are none): what the API sends as it is. The whole trend is joined from its
    pre-rendered months, once there are any; a range is rendered from the days it holds."""
    if start_date is None and end_date is None:
        async with conn.cursor(binary=True) as cur:
            await cur.execute(load_sql("reads/spend_trend_months"), {"user_id": user_id})
            if months := await cur.fetchall():
                return trend_from_months(body for (body,) in months)
        # None rendered: no trend, or a bulk refresh's trend still being built.
    days = await _value(
        conn,
        "reads/spend_trend_json",
        {"user_id": user_id, "start_date": start_date, "end_date": end_date},
    )
    return days.encode()


async def user_has_trend(conn: psycopg.AsyncConnection, user_id: int) -> bool:
    return bool(await _value(conn, "reads/user_has_trend", {"user_id": user_id}))


async def platform_totals(conn: psycopg.AsyncConnection) -> Row:
    """users, transactions, total_spend, first_transaction_at, last_transaction_at."""
    row = await _one(conn, "reads/platform_totals", {})
    assert row is not None  # an aggregate without GROUP BY always returns one row
    return row


async def top_spenders(conn: psycopg.AsyncConnection, limit: int = 20) -> list[Row]:
    """The users with the highest lifetime spend, by global_whale_rank."""
    return await _all(conn, "reads/top_spenders", {"limit": limit})


async def volatility_histogram(conn: psycopg.AsyncConnection, bins: int = 20) -> list[Row]:
    """Non-empty bins of the volatility index: bin_start, bin_end, users."""
    return await _all(conn, "reads/volatility_histogram", {"bins": bins})


async def platform_daily_volume(conn: psycopg.AsyncConnection, days: int = 90) -> list[Row]:
    """Spend, transactions and active users per day over the last `days` days up to the latest
    day with data, in date order."""
    return await _all(conn, "reads/platform_daily_volume", {"days": days})


# The ingestion panel reads the upload ledger (uploads, rejected_rows: one row per file, and per
# rejected row) rather than the analytics tables, and never `transactions`. Its window runs on
# the wall clock, by when each upload finished, whatever dates the uploaded rows carry.
INGESTION_TOP = 10


def ingestion_window(days: int) -> Row:
    """The last `days` UTC days, today included, as the ingestion reads' bind parameters."""
    last_day = dt.datetime.now(dt.UTC).date()
    return {"first_day": last_day - dt.timedelta(days=days - 1), "last_day": last_day}


async def ingestion_health(
    conn: psycopg.AsyncConnection, days: int, top: int = INGESTION_TOP
) -> Row:
    """The upload ledger over `ingestion_window(days)`: `first_day`, `last_day`, `daily` (every
    day in order: uploads, failed, rows_loaded, rows_duplicate, rows_rejected), the `top`
    `slowest` succeeded loads, the `top` commonest rejection `reasons` and the `last_failure`
    (None when none failed). A window where no upload finished asks nothing more."""
    window = ingestion_window(days)
    daily = await _all(conn, "reads/ingestion_daily", window)
    health = window | {"daily": daily, "slowest": [], "reasons": [], "last_failure": None}
    if not any(day["uploads"] for day in daily):
        return health
    ranked = window | {"limit": top}
    health["slowest"] = await _all(conn, "reads/ingestion_slowest", ranked)
    health["reasons"] = await _all(conn, "reads/ingestion_rejection_reasons", ranked)
    health["last_failure"] = await _one(conn, "reads/ingestion_last_failure", window)
    return health


def risk_assessment(profile: Row) -> str:
    """A short reading of a risk profile row: whale status, volatility, rapid-fire activity."""
    rank = profile["global_whale_rank"]
    if rank <= WHALE_RANK:
        parts = [f"Whale: rank {rank} by lifetime spend, among the top {WHALE_RANK} spenders."]
    elif rank <= BIG_SPENDER_RANK:
        parts = [f"Big spender: rank {rank} by lifetime spend."]
    else:
        parts = [f"Regular spender: rank {rank} by lifetime spend."]

    volatility = Decimal(profile["volatility_index"])
    if volatility >= HIGH_VOLATILITY:
        parts.append(f"Highly volatile spending (volatility index {volatility:.2f}).")
    elif volatility >= MODERATE_VOLATILITY:
        parts.append(f"Moderately volatile spending (volatility index {volatility:.2f}).")
    else:
        parts.append(f"Stable spending (volatility index {volatility:.2f}).")

    gap = profile["shortest_gap_minutes"]
    if gap is not None and gap < RAPID_FIRE_MINUTES:
        parts.append(f"Rapid-fire activity: two transactions {gap:.1f} minutes apart.")
    return " ".join(parts)
