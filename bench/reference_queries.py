"""The reference system's read queries, reconstructed, and a tiny API that serves them.

The predecessor answered every read straight from its raw `transactions` table (here
`transactions_ref`, with the same columns and indexes: a uuid primary key and b-trees on
(user_id, timestamp), (timestamp) and (user_id)). Its README describes the queries; this module
writes them as that README describes them, so `bench.analytics` can time them beside ours:

- the summary: MAX/MIN/AVG of the user's transactions between the two dates;
- the risk profile: CTEs and window functions over ALL users on every request (per-user totals,
  STDDEV / AVG as the volatility, DENSE_RANK() OVER (ORDER BY total DESC) as the global whale
  rank, LAG() over each user's timestamps for the shortest gap, the largest single amount), then
  the one user is picked out;
- the spend trend: generate_series over the user's first to last day, LEFT JOIN the daily
  totals, AVG() OVER (ROWS BETWEEN 6 PRECEDING AND CURRENT ROW).

`app` serves them under the reference's paths and field names (`uvicorn
bench.reference_queries:app`). It opens a connection per request (`txn_api.db.
connect_warehouse`, a few ms beside its queries' tens to thousands) and its trend goes through
the response model, day by day, as a plain FastAPI service would; ours awaits pooled
connections and sends the trend's JSON as PostgreSQL builds it.

The SQL sits here rather than under `sql/`: it is the benchmark's yardstick, not the platform's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Annotated, Any

import psycopg
from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request, status
from psycopg.rows import dict_row

from txn_api.db import connect_warehouse
from txn_api.schemas import SpendTrendPoint
from txn_core import reads
from txn_core.settings import Settings

TABLE = "transactions_ref"

# The reference's table. The secondary indexes are built after the bulk COPY (setup only: the
# table ends up the same as when they exist during the load, only sooner).
CREATE_TABLE = f"""
CREATE TABLE {TABLE} (
    transaction_id     uuid PRIMARY KEY,
    user_id            integer,
    product_id         integer,
    "timestamp"        timestamp,
    transaction_amount numeric(10, 2)
)
"""
CREATE_INDEXES = (
    f'CREATE INDEX {TABLE}_user_time_idx ON {TABLE} (user_id, "timestamp")',
    f'CREATE INDEX {TABLE}_time_idx ON {TABLE} ("timestamp")',
    f"CREATE INDEX {TABLE}_user_idx ON {TABLE} (user_id)",
)
COPY_CSV = (
    f'COPY {TABLE} (transaction_id, user_id, product_id, "timestamp", transaction_amount) '
    "FROM STDIN (FORMAT csv, HEADER true)"
)

# MAX/MIN/AVG "BETWEEN the dates". The bounds are the first and the last instant of the two
# days (see `summary`): a bare BETWEEN '2024-01-01' AND '2024-12-31' on a timestamp would stop at
# midnight of the last day, and our API counts both days whole.
SUMMARY_SQL = f"""
SELECT MAX(transaction_amount) AS max_transaction,
       MIN(transaction_amount) AS min_transaction,
       AVG(transaction_amount) AS mean_transaction
FROM {TABLE}
WHERE user_id = %(user_id)s
  AND "timestamp" BETWEEN %(start_at)s AND %(end_at)s
"""

# Every request ranks every user: the whale rank is global, so the CTEs run over the whole table
# and only the last SELECT picks the user out.
RISK_PROFILE_SQL = f"""
WITH user_totals AS (
    SELECT user_id,
           SUM(transaction_amount) AS total_lifetime_spend,
           MAX(transaction_amount) AS max_single_transaction_spike,
           STDDEV(transaction_amount) / NULLIF(AVG(transaction_amount), 0)
               AS spending_volatility_index
    FROM {TABLE}
    GROUP BY user_id
),
whale_ranking AS (
    SELECT user_id, total_lifetime_spend, max_single_transaction_spike,
           spending_volatility_index,
           DENSE_RANK() OVER (ORDER BY total_lifetime_spend DESC) AS global_whale_rank
    FROM user_totals
),
transaction_gaps AS (
    SELECT user_id,
           EXTRACT(EPOCH FROM "timestamp" - LAG("timestamp") OVER (
               PARTITION BY user_id ORDER BY "timestamp"
           )) / 60 AS minutes_since_previous
    FROM {TABLE}
),
velocity AS (
    SELECT user_id, MIN(minutes_since_previous) AS shortest_time_between_transactions_mins
    FROM transaction_gaps
    GROUP BY user_id
)
SELECT w.user_id,
       w.global_whale_rank,
       ROUND(w.spending_volatility_index, 2) AS spending_volatility_index,
       w.total_lifetime_spend,
       w.max_single_transaction_spike,
       v.shortest_time_between_transactions_mins
FROM whale_ranking AS w
JOIN velocity AS v ON v.user_id = w.user_id
WHERE w.user_id = %(user_id)s
"""

# The calendar from the user's first to last day, gaps at zero, the moving average over the
# day and the 6 rows before it (rounded to cents, as our table stores it).
SPEND_TREND_SQL = f"""
WITH daily_totals AS (
    SELECT DATE("timestamp") AS spend_date, SUM(transaction_amount) AS daily_total
    FROM {TABLE}
    WHERE user_id = %(user_id)s
    GROUP BY DATE("timestamp")
),
calendar AS (
    SELECT generate_series(MIN(spend_date), MAX(spend_date), INTERVAL '1 day')::date
               AS spend_date
    FROM daily_totals
)
SELECT c.spend_date,
       COALESCE(d.daily_total, 0) AS daily_total,
       ROUND(AVG(COALESCE(d.daily_total, 0)) OVER (
           ORDER BY c.spend_date ROWS BETWEEN 6 PRECEDING AND CURRENT ROW
       ), 2) AS rolling_7d_avg
FROM calendar AS c
LEFT JOIN daily_totals AS d ON d.spend_date = c.spend_date
ORDER BY c.spend_date
"""


def _day_bounds(
    start_date: dt.date | None, end_date: dt.date | None
) -> tuple[dt.datetime, dt.datetime]:
    start_at = dt.datetime.combine(start_date or dt.date.min, dt.time.min)
    end_at = dt.datetime.combine(end_date or dt.date.max, dt.time.max)
    return start_at, end_at


def summary(
    conn: psycopg.Connection,
    user_id: int,
    start_date: dt.date | None = None,
    end_date: dt.date | None = None,
) -> dict[str, Any] | None:
    """max_transaction, min_transaction, mean_transaction; None without transactions."""
    start_at, end_at = _day_bounds(start_date, end_date)
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            SUMMARY_SQL, {"user_id": user_id, "start_at": start_at, "end_at": end_at}
        ).fetchone()
    if row is None or row["max_transaction"] is None:
        return None
    return row


def risk_profile(conn: psycopg.Connection, user_id: int) -> dict[str, Any] | None:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(RISK_PROFILE_SQL, {"user_id": user_id}).fetchone()


def spend_trend(conn: psycopg.Connection, user_id: int) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(SPEND_TREND_SQL, {"user_id": user_id}).fetchall()


def _analysis(row: dict[str, Any]) -> str:
    """The same reading of the numbers as our API gives (so both pay for it)."""
    return reads.risk_assessment(
        {
            "global_whale_rank": row["global_whale_rank"],
            "volatility_index": row["spending_volatility_index"] or Decimal(0),
            "shortest_gap_minutes": row["shortest_time_between_transactions_mins"],
        }
    )


UserId = Annotated[int, Path(gt=0, le=2**31 - 1)]


def reference_connection(request: Request) -> Iterator[psycopg.Connection]:
    """A connection of its own per request: no pool, so however slow the queries, no request
    waits for a free connection or fails waiting (see bench/README.md)."""
    with connect_warehouse(request.app.state.settings) as conn:
        yield conn


ConnectionDep = Annotated[psycopg.Connection, Depends(reference_connection)]


def create_app(settings: Settings | None = None) -> FastAPI:
    """The reference's three reads under its paths, over `settings.warehouse_url`."""
    app = FastAPI(title="Reference queries (benchmark yardstick)")
    app.state.settings = settings or Settings()

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/summary/{user_id}")
    def get_summary(
        user_id: UserId,
        conn: ConnectionDep,
        start_date: Annotated[dt.date | None, Query()] = None,
        end_date: Annotated[dt.date | None, Query()] = None,
    ) -> dict[str, Any]:
        row = summary(conn, user_id, start_date, end_date)
        if row is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no transactions")
        return {
            "user_id": user_id,
            "max_transaction": float(row["max_transaction"]),
            "min_transaction": float(row["min_transaction"]),
            "mean_transaction": float(row["mean_transaction"]),
        }

    @app.get("/analytics/risk-profile/{user_id}")
    def get_risk_profile(user_id: UserId, conn: ConnectionDep) -> dict[str, Any]:
        row = risk_profile(conn, user_id)
        if row is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no transactions")
        gap = row["shortest_time_between_transactions_mins"]
        volatility = row["spending_volatility_index"]
        return {
            "user_id": user_id,
            "risk_metrics": {
                "global_whale_rank": row["global_whale_rank"],
                "spending_volatility_index": None if volatility is None else float(volatility),
                "total_lifetime_spend": float(row["total_lifetime_spend"]),
                "max_single_transaction_spike": float(row["max_single_transaction_spike"]),
                "shortest_time_between_transactions_mins": None if gap is None else float(gap),
            },
            "analysis": _analysis(row),
        }

    @app.get("/analytics/spend-trend/{user_id}", response_model=list[SpendTrendPoint])
    def get_spend_trend(user_id: UserId, conn: ConnectionDep) -> list[SpendTrendPoint]:
        days = spend_trend(conn, user_id)
        if not days:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no transactions")
        return [SpendTrendPoint.model_validate(day) for day in days]

    return app


app = create_app()
