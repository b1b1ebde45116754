"""The analytics benchmark's refresh phases: a full rebuild of the three analytics tables, and
the incremental path after a one-day append, which must leave the tables a rebuild leaves."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import psycopg

from bench import reference_queries
from bench.harness import execute, say, step
from bench.loads import copy_csv, load_ours
from txn_core import refresh
from txn_core.generator import WEEKDAY_PERCENT, rows_for_day, write_days

TABLES = ("user_daily_spend", "user_spend_trend", "user_risk_profile")
INCREMENTAL_AIM = 0.05  # incremental refresh < 5% of a full rebuild

# Per table, sums that a reader can compare by eye; the row hash catches everything else.
FINGERPRINT_SUMS = {
    "user_daily_spend": ("tx_count", "total_amount", "sum_squares", "max_amount"),
    "user_monthly_spend": ("tx_count", "total_amount", "min_amount", "max_amount"),
    "user_spend_trend": ("daily_total", "rolling_7d_avg"),
    "user_spend_trend_months": (),
    "user_risk_profile": (
        "tx_count",
        "total_spend",
        "global_whale_rank",
        "volatility_index",
        "tx_last_24h",
    ),
}


def refresh_tables(result: refresh.RefreshResult) -> dict[str, dict[str, Any]]:
    """One refresh's time and work per table (the stages of its transaction, and the trend a
    bulk refresh builds after it)."""
    stages = result.stage_seconds
    return {
        "user_daily_spend": {
            "seconds": stages.get("claimed", 0) + stages.get("daily_spend", 0),
            "rows_written": result.daily_rows,
            "users_touched": result.risk_users,
        },
        "user_spend_trend": {  # a bulk refresh builds it after its commit
            "seconds": stages.get("trend", 0),
            "rows_written": result.trend_rows,
            "users_touched": result.trend_users,
        },
        "user_risk_profile": {
            "seconds": stages.get("risk", 0) + stages.get("committed", 0),
            "rows_written": result.risk_users,
            "users_touched": result.risk_users,
        },
    }


def full_rebuild(url: str) -> dict[str, Any]:
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        result = refresh.rebuild_everything(conn)
    seconds = time.perf_counter() - started
    tables = refresh_tables(result)
    # rebuild_everything first queues every day with transactions; whatever the three
    # tables' own timings leave is that.
    tables_seconds = sum(table["seconds"] for table in tables.values())
    return {"seconds": seconds, "finding_days_seconds": seconds - tables_seconds, "tables": tables}


def incremental_refresh(url: str) -> dict[str, Any]:
    """The path the platform takes after a new day: the queued day rebuilt, changes merged."""
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        result = refresh.refresh_analytics(conn)
    return {"seconds": time.perf_counter() - started, "tables": refresh_tables(result)}


def fingerprints(url: str) -> dict[str, dict[str, str]]:
    """Per table: row count, a few sums, and the sum of a 64-bit hash of every row's text (the
    same rows give the same sum in any order; a single changed value changes it)."""
    result = {}
    with psycopg.connect(url, autocommit=True) as conn:
        for table in FINGERPRINT_SUMS:
            sums = [f"sum({column})::text" for column in FINGERPRINT_SUMS[table]]
            columns = ["count(*)::text", "sum(hashtextextended(t::text, 0)::numeric)::text", *sums]
            row = conn.execute(f"SELECT {', '.join(columns)} FROM {table} AS t").fetchone()
            names = ["rows", "row_hash_sum", *(f"sum_{c}" for c in FINGERPRINT_SUMS[table])]
            result[table] = dict(zip(names, row, strict=True))
    return result


def fingerprint_differences(
    left: dict[str, dict[str, str]], right: dict[str, dict[str, str]]
) -> list[str]:
    return [
        f"{table}.{key}: {value} != {right[table].get(key)}"
        for table, values in left.items()
        for key, value in values.items()
        if right[table].get(key) != value
    ]


def day_file(folder: Path, day: dt.date, rows: int) -> tuple[Path, int]:
    """One simulated day of about `rows` rows (the generator scales a day by its weekday)."""
    rows_per_day = max(1, round(rows * 100 / WEEKDAY_PERCENT[day.weekday()]))
    path = folder / f"analytics-day-{day.isoformat()}-{rows_for_day(day, rows_per_day)}.csv"
    generated = write_days(path, day, day, rows_per_day)
    return path, generated.rows


def _say_tables(result: dict[str, Any]) -> None:
    for name, table in result["tables"].items():
        say(
            f"   {name}: {table['seconds']:.2f} s, {table['rows_written']:,} rows written, "
            f"{table['users_touched']:,} users"
        )


def rebuild_phase(url: str, rows: int) -> dict[str, Any]:
    """The full rebuild from the loaded rows, then its tables' fingerprints."""
    with step(f"full rebuild of {', '.join(TABLES)} from {rows:,} rows"):
        rebuild = full_rebuild(url)
    _say_tables(rebuild)
    with step("after the rebuild: VACUUM ANALYZE (as autovacuum would), CHECKPOINT"):
        execute(url, "VACUUM ANALYZE", "CHECKPOINT")
    with step("fingerprints of the rebuilt tables"):
        rebuild["fingerprints"] = fingerprints(url)
    return rebuild


def append_day(url: str, folder: Path, day: dt.date, rows: int) -> dict[str, Any]:
    """A new day of about `rows` rows through our loader (which queues it for the refresh),
    and into the reference's table."""
    appended: dict[str, Any] = {"day": day.isoformat()}
    with step(f"setup: generating {day} (about {rows:,} rows)"):
        day_csv, day_rows = day_file(folder, day, rows)
    appended["day_rows"] = day_rows
    execute(url, "CHECKPOINT")
    with step(f"load_upload of the day's {day_rows:,} rows (not part of the refresh)"):
        appended["load"] = load_ours(url, f"bench-analytics-{day}", day_csv, folder / "work")
    with step("setup: the same day into transactions_ref (plain COPY)"):
        copy_csv(url, day_csv, reference_queries.COPY_CSV)
        execute(url, "ANALYZE transactions_ref")
    return appended


def incremental_phase(
    url: str, folder: Path, day: dt.date, rows: int, day_rows: int, rebuild: dict[str, Any]
) -> dict[str, Any]:
    """One new day, the incremental path, then a full rebuild over the same `rows` + day rows,
    whose tables the incremental path's must equal."""
    incremental = append_day(url, folder, day, day_rows)
    execute(url, "CHECKPOINT")
    with step("incremental refresh: refresh_analytics (the day the load queued)"):
        incremental.update(incremental_refresh(url))
    _say_tables(incremental)
    with step("fingerprints after the incremental path"):
        incremental["fingerprints"] = fingerprints(url)
    execute(url, "CHECKPOINT")
    with step(f"full rebuild again, from the same {rows + incremental['day_rows']:,} rows"):
        again = full_rebuild(url)
    _say_tables(again)
    with step("fingerprints after the full rebuild"):
        again["fingerprints"] = fingerprints(url)
    differences = fingerprint_differences(incremental["fingerprints"], again["fingerprints"])
    incremental.update(
        full_rebuild_after=again,
        equal_to_full_rebuild=not differences,
        differences=differences,
        ratio_to_full_rebuild=incremental["seconds"] / rebuild["seconds"],
        ratio_to_full_rebuild_after=incremental["seconds"] / again["seconds"],
        aim=INCREMENTAL_AIM,
    )
    say(f"   incremental = full rebuild: {'yes' if not differences else 'NO'}")
    for line in differences:
        say(f"     {line}")
    return incremental


# Our warehouse's tables (the reference's own table, transactions_ref, is left out).
DISK_TABLES = ("transactions", *FINGERPRINT_SUMS, "rejected_rows", "uploads")


def disk_use(url: str, rows: int) -> dict[str, Any]:
    """What the warehouse's tables take on disk (heap, indexes and TOAST), after VACUUM: per
    table in MiB, and in all per million rows loaded."""
    with psycopg.connect(url) as conn:
        sizes = {
            table: conn.execute("SELECT pg_total_relation_size(%s::regclass)", [table]).fetchone()[
                0
            ]
            / 2**20
            for table in DISK_TABLES
        }
    total = sum(sizes.values())
    return {"tables_mib": sizes, "total_mib": total, "mib_per_million_rows": total / rows * 1e6}
