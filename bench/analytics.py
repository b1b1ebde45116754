"""Analytics benchmark: refresh times, and the read API against the reference's queries.

`python -m bench.analytics` (`make bench-analytics`) starts one PostgreSQL server of its own (the
project's LocalPostgres, fresh in var/bench/pg-analytics) and measures, in one run:

  1. setup (timed, not compared): the reference's N-row stress file goes into a migrated
     warehouse through our loader (`load_upload`), and by plain COPY into `transactions_ref`, the
     reference's table with its indexes, which the reference's queries read;
  2. a full rebuild of the three analytics tables from N rows (`rebuild_everything`), per table;
  3. the incremental path after a one-day append: a simulated day of ~30,000 rows dated the day
     after the data's last day is loaded (which queues that day), then `refresh_analytics` is
     timed, per table, and set against the full rebuild.
     A second full rebuild over the same N + day rows follows, and the three tables' fingerprints
     (row count, sums, a hash of every row) after the incremental path must equal its own;
  4. the read API under load: the real API (`uvicorn txn_api.main:app`, one worker) and the
     reference's queries served the same way (`bench.reference_queries:app`), each driven by
     concurrent HTTP clients over random users (fixed seed) per endpoint: p50, p99, requests/s,
     and the speed-up. For a few users, our answers are compared with the reference's;
  5. where the time goes: each endpoint's SQL alone on an open connection, the cost of opening a
     connection, and the plans (EXPLAIN ANALYZE) in the JSON.

It prints a table and writes everything to var/bench/analytics.json; it never asserts a target.
This module runs the phases in order; their parts live beside it: analytics_endpoints (what is
compared), analytics_refresh (2 and 3), analytics_load (4 over HTTP), analytics_sql (the
reference's query alone in 4, and 5), analytics_compare (the answers) and analytics_report.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

from bench import reference_queries
from bench.analytics_endpoints import USERS, check_users
from bench.analytics_load import api_phase
from bench.analytics_refresh import disk_use, incremental_phase, rebuild_phase
from bench.analytics_report import render
from bench.analytics_sql import plans, sql_alone
from bench.harness import (
    add_server_options,
    execute,
    load_average,
    own_server,
    publish,
    report_head,
    say,
    server_version,
    step,
)
from bench.loads import copy_csv, load_ours
from bench.reference_data import MAIN_SEED, reference_file
from txn_core.migrate import upgrade
from txn_dev.local_postgres import LocalPostgres

DATABASE = "bench_analytics"


def setup(url: str, main_csv: Path, workdir: Path) -> dict[str, Any]:
    """The same rows in our warehouse and in the reference's table (timed, never compared)."""
    load: dict[str, Any] = {}
    with step(f"setup: load_upload of {main_csv.name} into the migrated warehouse"):
        load["ours"] = load_ours(url, "bench-analytics-main", main_csv, workdir)
    with step("setup: plain COPY of the same file into transactions_ref") as timing:
        rows = copy_csv(url, main_csv, reference_queries.COPY_CSV)
    load["reference_copy"] = {"seconds": timing["seconds"], "rows": rows}
    with step(
        "setup: transactions_ref's indexes (user_id, timestamp), (timestamp), (user_id)"
    ) as timing:
        execute(url, *reference_queries.CREATE_INDEXES)
    load["reference_indexes_seconds"] = timing["seconds"]
    with step("setup: VACUUM ANALYZE transactions, transactions_ref; CHECKPOINT") as timing:
        execute(url, "VACUUM ANALYZE transactions", "VACUUM ANALYZE transactions_ref", "CHECKPOINT")
    load["vacuum_seconds"] = timing["seconds"]
    with psycopg.connect(url) as conn:
        last_day = conn.execute("SELECT max(transaction_date) FROM transactions").fetchone()[0]
        first_day = conn.execute("SELECT min(transaction_date) FROM transactions").fetchone()[0]
    load.update(first_day=first_day.isoformat(), last_day=last_day.isoformat())
    return load


def where_time_goes(url: str, args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, str]]:
    """Each endpoint's SQL alone and the cost of a connection; the plans of the first user."""
    with step("the SQL alone (open connection), connection cost, EXPLAIN ANALYZE"):
        users = check_users(min(20, len(USERS)), args.seed + 1)
        return sql_alone(url, users, users[: args.reference_sql_users]), plans(url, users[0])


def run(
    server: LocalPostgres, args: argparse.Namespace, folder: Path, main_csv: Path
) -> dict[str, Any]:
    execute(server.url("postgres"), f'CREATE DATABASE "{DATABASE}"')
    url = server.url(DATABASE)
    upgrade(url)
    execute(url, reference_queries.CREATE_TABLE)
    phases: dict[str, Any] = {"load": setup(url, main_csv, folder / "work")}
    phases["full_rebuild"] = rebuild_phase(url, args.rows)
    # Measured now, as a first load leaves the warehouse: the phases after rebuild it again.
    phases["disk"] = disk_use(url, args.rows)
    day = dt.date.fromisoformat(phases["load"]["last_day"]) + dt.timedelta(days=1)
    phases["incremental"] = incremental_phase(
        url, folder, day, args.rows, args.day_rows, phases["full_rebuild"]
    )
    with step("before the API: VACUUM ANALYZE (the rebuild left dead rows), CHECKPOINT"):
        execute(url, "VACUUM ANALYZE", "CHECKPOINT")
    phases["api"], phases["answers"] = api_phase(url, args, folder)
    say(f"   our answers equal the reference's: {phases['answers']['all_equal']}")
    phases["sql_alone"], phases["plans"] = where_time_goes(url, args)
    return phases


def _add_load_options(parser: argparse.ArgumentParser) -> None:
    """How hard and how long the APIs are driven, and how many answers are compared."""
    parser.add_argument(
        "--requests",
        type=int,
        default=5000,
        help="measured requests per endpoint to our API (default: 5,000, so that p99 is the "
        "50th slowest answer, not one pause)",
    )
    parser.add_argument(
        "--reference-requests",
        type=int,
        default=1000,
        help="measured requests per endpoint to the reference's API and its query alone "
        "(default: 1,000)",
    )
    parser.add_argument(
        "--reference-risk-requests",
        type=int,
        default=64,
        help="requests for the reference's risk profile, which ranks every user "
        "on each (default: 64)",
    )
    parser.add_argument(
        "--clients", type=int, default=32, help="concurrent HTTP clients (default: 32)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="uvicorn worker processes per API (default: 1, as the image runs it; see "
        "bench/README.md before raising it)",
    )
    parser.add_argument(
        "--single-client-requests",
        type=int,
        default=100,
        help="requests per endpoint from one client alone, for the service time "
        "without queueing (default: 100; the reference's risk profile: --workers)",
    )
    parser.add_argument(
        "--check-users", type=int, default=5, help="users whose answers are compared (default: 5)"
    )
    parser.add_argument(
        "--reference-sql-users",
        type=int,
        default=3,
        help="users for the reference risk query's SQL-alone timing (default: 3)",
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.analytics",
        description="Analytics benchmark: full rebuild against the incremental refresh, and the "
        "read API against the reference's queries, on one PostgreSQL server of its own.",
    )
    parser.add_argument(
        "--rows",
        type=int,
        default=10_000_000,
        help="rows of the reference file (default: 10,000,000)",
    )
    parser.add_argument(
        "--day-rows",
        type=int,
        default=30_000,
        help="rows of the appended day, about (default: 30,000)",
    )
    _add_load_options(parser)
    parser.add_argument("--seed", type=int, default=42, help="random users' seed (default: 42)")
    parser.add_argument(
        "--timeout",
        type=float,
        default=900.0,
        help="HTTP timeout per request, seconds (default: 900)",
    )
    add_server_options(
        parser,
        dir_help="files, the server's data and analytics.json (default: var/bench; "
        "must be traversable by the server's account)",
        keep_help="leave the server running with its database at the end",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    folder = args.dir.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    load_start = load_average()
    say(f"load average at start: {load_start} ({os.cpu_count()} CPUs)")

    main_csv = reference_file(folder, args.rows, MAIN_SEED)
    with own_server(
        folder / "pg-analytics",
        args.port,
        args.keep,
        title="starting a fresh PostgreSQL server",
        shown_database=DATABASE,
    ) as server:
        version = server_version(server)
        phases = run(server, args, folder, main_csv)

    report = report_head("analytics", started, args, load_start, server, version)
    report |= {"files": {"main": str(main_csv)}, "phases": phases}
    publish(report, folder / "analytics.json", render)
    return report


if __name__ == "__main__":
    main(sys.argv[1:])
