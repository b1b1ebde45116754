"""The statements of a refresh that its incremental and bulk paths share (txn_core.refresh).

Each step runs SQL from `sql/refresh/` on a cursor: the refresh's own transaction on the
incremental path, or one of its workers' on the bulk path (txn_core.bulk_refresh), where a
worker handles one slice of the users and the others' rows are not its to see.
"""

from __future__ import annotations

import datetime as dt

import psycopg

from txn_core.sql import load_sql, load_statements, one

# The slice parameters (low <= user_id < high) of a statement that covers every user.
ALL_USERS = {"low": None, "high": None}


class AnalyticsMismatch(RuntimeError):
    """The rebuilt days do not add up to their transactions: nothing of the refresh is kept."""


def run_script(cur: psycopg.Cursor, name: str, params: dict | None = None) -> int:
    """Runs every statement of `sql/<name>.sql`; returns the last statement's row count."""
    for statement in load_statements(name):
        cur.execute(statement, params or {})
    return cur.rowcount


def reconcile(
    cur: psycopg.Cursor, days: list[dt.date], months_of: list[dt.date], users: dict = ALL_USERS
) -> None:
    """Raises AnalyticsMismatch unless the rebuilt `days` add up to their transactions (over
    the `users` slice) and the months of `months_of` to their days."""
    mismatched_days = cur.execute(
        load_sql("refresh/reconcile_days"), {"days": days, **users}
    ).fetchall()
    mismatched_months = cur.execute(
        load_sql("refresh/reconcile_months"), {"days": months_of}
    ).fetchall()
    if mismatched_days or mismatched_months:
        raise AnalyticsMismatch(
            f"daily spend does not reconcile with transactions on {len(mismatched_days)} day(s) "
            f"{[str(row[0]) for row in mismatched_days[:5]]} and {len(mismatched_months)} "
            f"month(s) {[str(row[0]) for row in mismatched_months[:5]]}; nothing was refreshed"
        )


def scope(cur: psycopg.Cursor, script: str, table: str) -> dict[str, dt.date | None]:
    """Creates the temporary table `table` by `sql/refresh/<script>.sql`; returns its earliest
    changed day, as the parameter `earliest` of the statements that use it."""
    run_script(cur, f"refresh/{script}")
    return {"earliest": one(cur.execute(f"SELECT min(changed_from) FROM {table}"))[0]}


def rewrite_trend(cur: psycopg.Cursor) -> tuple[int, int]:
    """Rewrites the trend and its rendered months for the users of the trend scope; returns
    the rows written and the users."""
    earliest = scope(cur, "trend_scope", "trend_scope")
    written = run_script(cur, "refresh/rewrite_spend_trend", earliest)
    run_script(cur, "refresh/render_spend_trend", earliest)
    return written, one(cur.execute("SELECT count(*) FROM trend_scope"))[0]


def render_missing_trends(cur: psycopg.Cursor, users: dict) -> tuple[int, int]:
    """Builds the trend rows, then the rendered months, of every user of the `users` slice who
    has days but no trend (a bulk refresh commits before building them); returns the rows
    written and the users."""
    missing = one(cur.execute(load_sql("refresh/missing_trend_users"), users))[0]
    written = 0
    if missing:
        cur.execute(load_sql("refresh/insert_trends_from_days"), {"users": missing})
        written = cur.rowcount
    run_script(cur, "refresh/render_missing_months", users)
    return written, len(missing)


def update_risk_profiles(cur: psycopg.Cursor) -> int:
    """Brings the merged sums of the changed users' risk profiles up to date; the figures
    derived from them, the 24-hour counts and the whale rank come in finish_risk.sql. Returns
    how many users."""
    earliest = scope(cur, "risk_scope", "risk_scope")
    run_script(cur, "refresh/refresh_risk_profile", earliest)
    return one(cur.execute("SELECT count(*) FROM risk_scope"))[0]
