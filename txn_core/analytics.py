"""Refreshes the analytics tables in PostgreSQL, set-based, touching only what changed.

`user_daily_spend` is rebuilt a whole day at a time from `transactions`, and every (user, day)
it rewrites is appended to `daily_spend_changes`. The trend and the risk profile then apply
the changes they have not seen yet (each keeps a watermark), merging daily aggregates instead
of rereading transactions. Each refresh is one transaction: readers see the old tables or the
new ones, never a half state.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from dataclasses import dataclass

import psycopg

from txn_core.sql import load_sql

TREND = "user_spend_trend"
RISK = "user_risk_profile"


@dataclass
class RefreshStats:
    rows_written: int
    users_touched: int
    seconds: float


def _statements(name: str) -> list[str]:
    """The statements of a multi-statement SQL file (psycopg binds one statement at a time)."""
    chunks = re.split(r";\s*\n", load_sql(name))
    code = [chunk for chunk in chunks if any(
        line.strip() and not line.strip().startswith("--") for line in chunk.splitlines()
    )]
    return [chunk.strip() for chunk in code]


def _run_script(cur: psycopg.Cursor, name: str, params: dict | None = None) -> int:
    """Runs every statement of `sql/<name>.sql`; returns the last statement's row count."""
    for statement in _statements(name):
        cur.execute(statement, params or {})
    return cur.rowcount


def rebuild_daily_spend(conn: psycopg.Connection, days: list[dt.date]) -> RefreshStats:
    """Replaces the given days of user_daily_spend, whole, from `transactions`, and their
    months of user_monthly_spend, in one transaction."""
    started = time.monotonic()
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(load_sql("analytics/delete_daily_spend"), {"days": days})
        cur.execute(load_sql("analytics/insert_daily_spend"), {"days": days})
        written = cur.rowcount
        _run_script(cur, "analytics/rebuild_monthly_spend", {"days": days})
        users = cur.execute(
            "SELECT count(DISTINCT user_id) FROM user_daily_spend WHERE spend_date = ANY(%s)",
            [days],
        ).fetchone()[0]
    return RefreshStats(written, users, time.monotonic() - started)


def _apply_changes(conn: psycopg.Connection, consumer: str, apply) -> RefreshStats:
    started = time.monotonic()
    with conn.transaction(), conn.cursor() as cur:
        after, up_to = cur.execute(
            load_sql("analytics/pending_changes"), {"consumer": consumer}
        ).fetchone()
        if up_to <= after:
            return RefreshStats(0, 0, time.monotonic() - started)
        written, users = apply(cur, {"after": after, "up_to": up_to})
        cur.execute(load_sql("analytics/advance_watermark"), {"consumer": consumer, "up_to": up_to})
        cur.execute(load_sql("analytics/prune_changes"))
    return RefreshStats(written, users, time.monotonic() - started)


def refresh_spend_trend(conn: psycopg.Connection) -> RefreshStats:
    def apply(cur, window):
        written = _run_script(cur, "analytics/refresh_spend_trend", window)
        users = cur.execute("SELECT count(*) FROM trend_scope").fetchone()[0]
        return written, users

    return _apply_changes(conn, TREND, apply)


def refresh_risk_profile(conn: psycopg.Connection) -> RefreshStats:
    def apply(cur, window):
        _run_script(cur, "analytics/refresh_risk_profile", window)
        previous_from, previous_to = cur.execute(
            load_sql("analytics/risk_previous_days")
        ).fetchone()
        _run_script(
            cur, "analytics/finish_risk_profile",
            {"previous_from": previous_from, "previous_to": previous_to},
        )
        users = cur.execute("SELECT count(*) FROM risk_scope").fetchone()[0]
        return users, users  # one profile row written per user in scope

    return _apply_changes(conn, RISK, apply)


def days_with_transactions(conn: psycopg.Connection) -> list[dt.date]:
    return [row[0] for row in conn.execute(load_sql("analytics/days_with_transactions"))]


def rebuild_everything(conn: psycopg.Connection) -> dict[str, RefreshStats]:
    """A full rebuild of all three tables from `transactions` (the incremental path's yardstick)."""
    return {
        "user_daily_spend": rebuild_daily_spend(conn, days_with_transactions(conn)),
        TREND: refresh_spend_trend(conn),
        RISK: refresh_risk_profile(conn),
    }


def top_spenders(conn: psycopg.Connection, limit: int = 10) -> list[tuple]:
    return conn.execute(load_sql("analytics/top_spenders"), {"limit": limit}).fetchall()


def unreconciled_days(conn: psycopg.Connection, days: list[dt.date]) -> list[tuple]:
    return conn.execute(load_sql("analytics/reconcile_days"), {"days": days}).fetchall()


def unreconciled_months(conn: psycopg.Connection, days: list[dt.date]) -> list[tuple]:
    return conn.execute(load_sql("analytics/reconcile_months"), {"days": days}).fetchall()


def trend_gaps(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute(load_sql("analytics/trend_gaps")).fetchall()


def risk_coverage(conn: psycopg.Connection) -> tuple[int, int, int]:
    return conn.execute(load_sql("analytics/risk_coverage")).fetchone()
