"""Checks the tests share: the platform's invariants after anything was done to it."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import psycopg

from txn_core import analytics

ANALYTICS_TABLES = (
    "user_daily_spend",
    "user_monthly_spend",
    "user_spend_trend",
    "user_risk_profile",
)


def analytics_snapshot(conn: psycopg.Connection) -> dict[str, list[tuple]]:
    return {
        table: conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
        for table in ANALYTICS_TABLES
    }


def assert_analytics_equal_a_full_rebuild(conn: psycopg.Connection) -> None:
    """The analytics tables as they are equal those rebuilt from scratch over the same rows
    (the check rebuilds them, so it comes last in a test)."""
    incremental = analytics_snapshot(conn)
    for table in ANALYTICS_TABLES:
        conn.execute(f"TRUNCATE {table}")
    analytics.rebuild_everything(conn)
    full = analytics_snapshot(conn)
    for table in ANALYTICS_TABLES:
        assert incremental[table] == full[table], f"{table} differs from a full rebuild"


def assert_platform_consistent(
    warehouse_url: str, landing_root: Path | None, rows: int, total: Decimal
) -> None:
    """What must hold after any fault once the retries are done: every ledger row adds up and
    matches the rows its upload put in `transactions`, which hold exactly `rows` rows worth
    `total`; nothing waits for a refresh, and the analytics equal a full rebuild; no file is
    left in incoming/."""
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        ledger = conn.execute(
            "SELECT u.upload_id, u.status, u.rows_read, u.rows_loaded, u.rows_duplicate, "
            "       u.rows_rejected, coalesce(t.rows, 0) "
            "FROM uploads AS u "
            "LEFT JOIN (SELECT upload_id, count(*) AS rows FROM transactions GROUP BY 1) AS t "
            "USING (upload_id)"
        ).fetchall()
        for upload_id, status, read, loaded, duplicate, rejected, in_table in ledger:
            assert read == loaded + duplicate + rejected, upload_id
            assert status in ("succeeded", "failed"), (upload_id, status)
            assert loaded == in_table, f"{upload_id} ({status}): ledger {loaded}, table {in_table}"
        facts = conn.execute(
            "SELECT count(*), coalesce(sum(transaction_amount), 0), "
            "       count(*) = count(DISTINCT transaction_id) FROM transactions"
        ).fetchone()
        assert facts == (rows, total, True)
        assert analytics.backlog(conn).days == 0, "days still wait for a refresh"
        risk = conn.execute(
            "SELECT coalesce(sum(tx_count), 0), coalesce(sum(total_spend), 0) "
            "FROM user_risk_profile"
        ).fetchone()
        assert risk == (rows, total)
        assert_analytics_equal_a_full_rebuild(conn)
    if landing_root is not None:
        assert sorted(p.name for p in (landing_root / "incoming").iterdir()) == []
