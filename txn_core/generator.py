"""Simulated transactions: CSV files in the data contract's format, for days or in bulk.

`write_days` makes the transactions of a range of days (what `daily_transactions` loads);
`write_bulk` makes a file of a given size for trying the platform out. DuckDB writes each file
with one set-based COPY, whatever its size; nothing loops over rows or days in Python.

Every row is a pure function of (stream, day, row index): each random quantity is a hash of
those and a purpose, never random(). A day therefore has the same rows and ids whether it is
generated alone or inside a range, and re-generating it loads nothing new. `write_days` uses the
stream "day"; `write_bulk` the stream "bulk-<seed>", so bulk files never reuse those ids.
Row i of day D has the id md5("<stream>:<D>:<i>") as a version-4 UUID (the exact recipe is in
`sql/generate/write_transactions.sql`). md5 is the same in every DuckDB version; the other
draws use DuckDB's faster hash(), so after a DuckDB upgrade a day keeps its ids (and loads
nothing twice) even if its amounts or times were to come out differently.

What the data shows (the constants below, documented where they are used in
`sql/generate/*.sql`):
- a weekly rhythm: a day has `rows_for_day(day, rows_per_day)` rows, rows_per_day scaled by
  WEEKDAY_PERCENT (Mondays -10%, Fridays +10%, weekends +30%);
- a daily rhythm: HOUR_WEIGHTS, quiet at night, peaking in the evening;
- users with their own habits: a mean amount log-normal between users (about 95% between ~20
  and ~300), 1% whales at 10-50 times that, each user's own volatility; activity skewed by a
  power law (a few users make many of the transactions);
- bursts: 2% of users now and then make 3-8 transactions within BURST_SECONDS, about once per
  ROWS_PER_BURST rows, within the day's total.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from txn_core.sql import load_sql, one

DAY_STREAM = "day"

# Monday first. Rows of a day = rows_per_day * percent / 100, rounded half up, at least 1.
WEEKDAY_PERCENT = (90, 100, 100, 100, 110, 130, 130)
# Relative share of each UTC hour, 00:00 first, in whole tickets (a row draws one ticket):
# under 1% an hour at night, 9% an hour at 18:00-20:00.
HOUR_WEIGHTS = (
    10,
    6,
    4,
    3,
    3,
    5,
    10,
    20,
    30,
    40,
    50,
    60,
    70,
    65,
    60,
    65,
    75,
    85,
    100,
    100,
    90,
    70,
    50,
    30,
)

TYPICAL_MEAN = 77.5  # geometric middle of 20 and 300
LEVEL_SPREAD = 0.68  # log-sd between users: 2 deviations reach ~20 and ~300
WHALE_SHARE = 0.01
WHALE_FACTOR = (10.0, 50.0)
AMOUNT_SIGMA = (0.25, 0.9)  # log-sd of a user's amounts, drawn per user
ACTIVITY_SKEW = 2.5  # the most active of 999 users makes ~6% of the transactions
PRODUCT_SKEW = 1.5
BURSTY_SHARE = 0.02
ROWS_PER_BURST = 150
BURST_SECONDS = 300
MIN_AMOUNT = 1.00
MAX_AMOUNT = 99_999_999.99

MAX_ID = 2_147_483_647  # user and product ids must fit the warehouse's integer columns
DUCKDB_MEMORY_LIMIT = "512MB"


@dataclass(frozen=True)
class GeneratedFile:
    """A CSV file of simulated transactions and what it covers."""

    path: Path
    rows: int
    first_day: dt.date
    last_day: dt.date


def rows_for_day(day: dt.date, rows_per_day: int) -> int:
    """How many rows `write_days` makes for `day`: the weekday's share of `rows_per_day`."""
    return max(1, (rows_per_day * WEEKDAY_PERCENT[day.weekday()] + 50) // 100)


def write_days(
    path: Path,
    first_day: dt.date,
    last_day: dt.date,
    rows_per_day: int = 150,
    *,
    users: int = 999,
    products: int = 499,
) -> GeneratedFile:
    """Write the simulated transactions of `first_day`..`last_day` (inclusive) to `path`.

    Each day has `rows_for_day(day, rows_per_day)` rows, all timestamped within that UTC day;
    a day's rows and ids are the same in every file that covers it.
    """
    if rows_per_day < 1:
        raise ValueError(f"rows_per_day must be at least 1, not {rows_per_day}")
    _check_range(first_day, last_day, users, products)
    plan = {
        "first_day": first_day,
        "last_day": last_day,
        "rows_per_day": rows_per_day,
        "weekday_percent": list(WEEKDAY_PERCENT),
        "stream": DAY_STREAM,
    }
    rows = _write(Path(path), "generate/plan_days", plan, users, products)
    return GeneratedFile(Path(path), rows, first_day, last_day)


def write_bulk(
    path: Path,
    num_rows: int,
    first_day: dt.date,
    last_day: dt.date,
    *,
    seed: int = 0,
    users: int = 999,
    products: int = 499,
) -> GeneratedFile:
    """Write exactly `num_rows` simulated transactions spread over `first_day`..`last_day`.

    The same seed gives the same file; ids never repeat those of another seed or of
    `write_days`. Days get rows in proportion to their weekday's share.
    """
    if num_rows < 0:
        raise ValueError(f"num_rows must not be negative, not {num_rows}")
    _check_range(first_day, last_day, users, products)
    plan = {
        "first_day": first_day,
        "last_day": last_day,
        "num_rows": num_rows,
        "weekday_percent": list(WEEKDAY_PERCENT),
        "stream": f"bulk-{int(seed)}",
    }
    rows = _write(Path(path), "generate/plan_bulk", plan, users, products)
    return GeneratedFile(Path(path), rows, first_day, last_day)


def _check_range(first_day: dt.date, last_day: dt.date, users: int, products: int) -> None:
    if last_day < first_day:
        raise ValueError(f"last_day {last_day} is before first_day {first_day}")
    for name, value in (("users", users), ("products", products)):
        if not 1 <= value <= MAX_ID:
            raise ValueError(f"{name} must be between 1 and {MAX_ID}, not {value}")


def _write(path: Path, plan_sql: str, plan: dict[str, Any], users: int, products: int) -> int:
    """Plan the days and users, then write the file with one COPY; returns its row count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written under a temporary name and renamed when complete: whoever watches the folder
    # never sees half a file.
    partial = path.with_name(f".{path.name}.partial")
    try:
        with tempfile.TemporaryDirectory(prefix=".generate-", dir=path.parent) as spill:
            con = duckdb.connect(":memory:")
            try:
                rows = _run(con, Path(spill), partial, path, plan_sql, plan, users, products)
            finally:
                con.close()
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return rows


def _run(
    con: duckdb.DuckDBPyConnection,
    spill: Path,
    partial: Path,
    path: Path,
    plan_sql: str,
    plan: dict[str, Any],
    users: int,
    products: int,
) -> int:
    con.execute("SET enable_progress_bar = false")
    # Sorting a large file by time needs more than the limit; DuckDB spills the rest to disk.
    con.execute(f"SET memory_limit = '{DUCKDB_MEMORY_LIMIT}'")
    con.execute("SET temp_directory = ?", [str(spill)])
    con.execute(load_sql("generate/define_draws"))
    con.execute(load_sql(plan_sql), plan)
    bursty_users = max(1, round(users * BURSTY_SHARE))
    con.execute(
        load_sql("generate/user_profiles"),
        {
            "users": users,
            "whales": max(1, round(users * WHALE_SHARE)),
            "bursty_users": bursty_users,
            "typical_mean": TYPICAL_MEAN,
            "level_spread": LEVEL_SPREAD,
            "whale_factor_min": WHALE_FACTOR[0],
            "whale_factor_max": WHALE_FACTOR[1],
            "sigma_min": AMOUNT_SIGMA[0],
            "sigma_max": AMOUNT_SIGMA[1],
        },
    )
    (rows,) = one(
        con.execute(
            load_sql("generate/write_transactions"),
            {
                "path": str(partial),
                "compression": "gzip" if path.name.endswith(".gz") else "none",
                "users": users,
                "bursty_users": bursty_users,
                "products": products,
                "activity_skew": ACTIVITY_SKEW,
                "product_skew": PRODUCT_SKEW,
                "hour_weights": list(HOUR_WEIGHTS),
                "rows_per_burst": ROWS_PER_BURST,
                "burst_seconds": BURST_SECONDS,
                "min_amount": MIN_AMOUNT,
                "max_amount": MAX_AMOUNT,
            },
        )
    )
    return int(rows)
