"""Scaling benchmark: what ingestion, refresh, reads and disk cost from 1M to 30M rows.

`python -m bench.scaling` (`make bench-scaling`) starts one PostgreSQL server of its own (fresh
in var/bench/pg-scaling) and measures each size of --sizes in a freshly migrated database,
dropped once the size is measured so a run needs the disk of its largest size only:

  1. ingest: the reference's N-row file through our loader in a child process of its own
     (bench.harness.measure): rows/s, its peak RSS and its backend's;
  2. full refresh: the first `refresh_analytics` after that load, which queued every day (what
     a user waits for after a first load): N / seconds, per stage; then the size on disk;
  3. incremental refresh: one more day of about 30,000 rows, the day after the data's last;
  4. reads: the real API under 32 concurrent clients: p50, p99, requests/s, its peak RSS.

Then each figure's growth across sizes (bench.scaling_report). It prints a table, writes
var/bench/scaling.json and never asserts an aim.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import psycopg

from bench.analytics_load import ApiServer, drive
from bench.analytics_refresh import day_file, disk_use
from bench.harness import (
    Phase,
    add_server_options,
    admin,
    execute,
    load_average,
    measure,
    own_server,
    publish,
    report_head,
    say,
    server_version,
    step,
)
from bench.loads import load_ours
from bench.memory import BackendMemory
from bench.reference_data import MAIN_SEED, reference_file
from bench.scaling_report import growth, render, size_figures, size_label, stage_exponents
from txn_core import refresh
from txn_core.migrate import upgrade
from txn_dev.local_postgres import LocalPostgres

SERVER_FOLDER = "pg-scaling"
DEFAULT_SIZES = (1_000_000, 3_000_000, 10_000_000, 30_000_000)
READS = {
    # No date range: the summary of a user's whole history, however long it is at this size.
    "summary": "/summary/{user}",
    "risk-profile": "/analytics/risk-profile/{user}",
    "spend-trend": "/analytics/spend-trend/{user}",
}
REQUEST_TIMEOUT = 300.0  # seconds; a request slower than this is counted as an error


def load_file(database_url: str, upload_id: str, path: str, workdir: str) -> dict[str, Any]:
    """The ingest phase, run by bench.harness.measure in a child process: our loader, timed."""
    loaded = load_ours(database_url, upload_id, Path(path), Path(workdir))
    return loaded | {"rows": loaded["rows_read"]}


def ingest(server: LocalPostgres, database: str, rows: int, csv: Path, work: Path) -> dict:
    phase = Phase(
        label="ingest",
        title=f"load_upload of {csv.name} into the empty migrated warehouse",
        database=database,
        target="bench.scaling:load_file",
    )
    upload = {"upload_id": f"bench-scaling-{rows}", "path": str(csv), "workdir": str(work)}
    return measure(
        server, size_label(rows), phase, {"database_url": server.url(database), **upload}
    )


def fetch_one(url: str, statement: str) -> tuple:
    with psycopg.connect(url) as conn:
        return conn.execute(statement).fetchone()


def risk_profile_counts(url: str) -> dict[str, int]:
    """Users with a risk profile and the transactions it counts: every loaded row, once the
    refresh folded them all in (999 rows to read, where the daily tables have millions)."""
    users, transactions = fetch_one(
        url, "SELECT count(*), coalesce(sum(tx_count), 0) FROM user_risk_profile"
    )
    return {"risk_profile_users": users, "risk_profile_transactions": int(transactions)}


def timed_refresh(server: LocalPostgres, database: str, title: str) -> dict[str, Any]:
    """`refresh_analytics` after a checkpoint, with its stages and its backend's peak memory."""
    url = server.url(database)
    admin(server, "CHECKPOINT")
    with step(title), BackendMemory(server.url("postgres"), database) as backend:
        started = time.perf_counter()
        with psycopg.connect(url, autocommit=True) as conn:
            result = refresh.refresh_analytics(conn)
        seconds = time.perf_counter() - started
    say("   stages: " + ", ".join(f"{k} {v:.2f} s" for k, v in result.stage_seconds.items()))
    return {
        "seconds": seconds,
        "stage_seconds": result.stage_seconds,
        "bulk": result.bulk,  # the bulk path builds the trend after its commit
        "days": len(result.days),
        "daily_rows_written": result.daily_rows,
        "trend_rows_written": result.trend_rows,
        "risk_users": result.risk_users,
        "backend_private_peak_bytes": backend.peak_bytes,
        **risk_profile_counts(url),
    }


def one_day(
    server: LocalPostgres, database: str, work: Path, day: dt.date, day_rows: int
) -> dict[str, Any]:
    """A new day of about `day_rows` rows, loaded (timed apart), then folded in."""
    url = server.url(database)
    with step(f"generating {day} (about {day_rows:,} rows)"):
        day_csv, generated = day_file(work, day, day_rows)
    admin(server, "CHECKPOINT")
    with step(f"load_upload of the day's {generated:,} rows (not part of the refresh)"):
        load = load_ours(url, f"bench-scaling-{day}", day_csv, work)
    refreshed = timed_refresh(server, database, "incremental refresh: refresh_analytics")
    return refreshed | {
        "day": day.isoformat(),
        "day_rows": generated,
        "load": load,
        "csv": str(day_csv),
    }


def read_users(url: str, endpoint: str, count: int, seed: int) -> list[int]:
    """Random users among those with data (every one of 1-999 from 1M rows on, where these are
    bench.analytics_endpoints' users for the same seed), so a tiny size asks no unknown user."""
    with psycopg.connect(url) as conn:
        users = [user for (user,) in conn.execute("SELECT user_id FROM user_risk_profile")]
    return random.Random(f"{seed}:{endpoint}").choices(sorted(users), k=count)


def peak_rss_bytes(pid: int) -> int | None:
    """A live process's high-water mark of resident memory (VmHWM); for the API, uvicorn with
    one worker serves in its own process."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return None
    peaks = (int(line.split()[1]) * 1024 for line in lines if line.startswith("VmHWM:"))
    return next(peaks, None)


def api_cpu_seconds(pid: int) -> float:
    """The CPU time (user and system) the API's process has used so far."""
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def reads(url: str, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Each endpoint under `args.clients` concurrent clients, after an uncounted warm-up."""
    server = ApiServer("txn_api.main:app", url, 1, work / "api-scaling.log")
    result: dict[str, Any] = {"clients": args.clients, "endpoints": {}}
    try:
        with step("starting the API (uvicorn txn_api.main:app, one worker)"):
            server.wait_ready()
        for endpoint, template in READS.items():
            users = read_users(url, endpoint, args.requests, args.seed)
            paths = [template.format(user=user) for user in users]
            drive(server.base_url, paths[: args.clients], args.clients, REQUEST_TIMEOUT)
            api_cpu = api_cpu_seconds(server.process.pid)
            with step(f"{endpoint}: {len(paths):,} requests, {args.clients} clients"):
                run = drive(server.base_url, paths, args.clients, REQUEST_TIMEOUT)
            run["api_cpu_ms"] = 1000 * (api_cpu_seconds(server.process.pid) - api_cpu) / len(paths)
            say(
                f"   p50 {run['p50_ms']:.1f} ms, p99 {run['p99_ms']:.1f} ms, "
                f"{run['rps']:,.1f} requests/s, errors {run['errors']}, "
                f"API CPU {run['api_cpu_ms']:.2f} ms/request"
            )
            result["endpoints"][endpoint] = run
        result["api_peak_rss_bytes"] = peak_rss_bytes(server.process.pid)
    finally:
        server.stop()
    return result


def measure_size(
    server: LocalPostgres, rows: int, args: argparse.Namespace, keep_database: bool
) -> dict[str, Any]:
    """Every figure of one size, in a fresh migrated database dropped at the end (so a run needs
    the disk of its largest size, not of all of them), unless `keep_database`."""
    folder, database = args.dir, f"bench_scaling_{rows}"
    url, work = server.url(database), args.dir / "scaling-work"
    say(f"\n== {size_label(rows)}: {rows:,} rows ==")
    csv = reference_file(folder, rows, MAIN_SEED)
    with step(f"fresh database {database}, migrated"):
        admin(server, f'DROP DATABASE IF EXISTS "{database}"', f'CREATE DATABASE "{database}"')
        upgrade(url)
    result: dict[str, Any] = {"rows": rows, "database": database, "csv": str(csv)}
    try:
        result["ingest"] = ingest(server, database, rows, csv, work)
        result["full_refresh"] = timed_refresh(
            server, database, "full refresh: refresh_analytics of every day the load queued"
        )
        with step("VACUUM ANALYZE (as autovacuum would), CHECKPOINT; the size on disk"):
            execute(url, "VACUUM ANALYZE", "CHECKPOINT")
            # The whole database too: the catalogs and whatever else its files hold.
            (database_bytes,) = fetch_one(url, "SELECT pg_database_size(current_database())")
            result["disk"] = disk_use(url, rows) | {"database_mib": database_bytes / 2**20}
        first_day, last_day = fetch_one(
            url, "SELECT min(transaction_date), max(transaction_date) FROM transactions"
        )
        result.update(first_day=first_day.isoformat(), last_day=last_day.isoformat())
        next_day = last_day + dt.timedelta(days=1)
        result["incremental"] = one_day(server, database, work, next_day, args.day_rows)
        result["reads"] = reads(url, args, work)
    finally:
        if not keep_database:
            with step(f"dropping {database}"):
                admin(server, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        if args.delete_files:
            csv.unlink(missing_ok=True)
            if "incremental" in result:
                Path(result["incremental"]["csv"]).unlink(missing_ok=True)
    result["figures"] = size_figures(result)
    return result


def parse_sizes(text: str) -> list[int]:
    sizes = sorted({int(part.replace("_", "")) for part in text.split(",") if part.strip()})
    if not sizes or sizes[0] < 1:
        raise argparse.ArgumentTypeError(f"sizes must be positive row counts, not {text!r}")
    return sizes


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.scaling",
        description="Scaling benchmark: ingestion, full and incremental refresh, reads and disk "
        "at each size, and how each figure grows with the rows, on one PostgreSQL server of "
        "its own.",
    )
    default_sizes = ",".join(str(size) for size in DEFAULT_SIZES)
    parser.add_argument(
        "--sizes",
        type=parse_sizes,
        default=list(DEFAULT_SIZES),
        help=f"row counts, comma-separated, measured smallest first (default: {default_sizes})",
    )
    parser.add_argument(
        "--requests", type=int, default=1000, help="requests per endpoint (default: 1,000)"
    )
    parser.add_argument(
        "--clients", type=int, default=32, help="concurrent HTTP clients (default: 32)"
    )
    parser.add_argument(
        "--day-rows", type=int, default=30_000, help="rows of the appended day (default: 30,000)"
    )
    parser.add_argument("--seed", type=int, default=42, help="random users' seed (default: 42)")
    parser.add_argument(
        "--delete-files",
        action="store_true",
        help="delete each size's CSVs once it is measured (default: keep them for the next run)",
    )
    add_server_options(
        parser,
        dir_help="files, the server's data and scaling.json (default: var/bench; must be "
        "traversable by the server's account)",
        keep_help="leave the server running at the end, with the largest size's database",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    args.dir = args.dir.resolve()
    args.dir.mkdir(parents=True, exist_ok=True)
    started, load_start = time.perf_counter(), load_average()
    say(f"sizes: {', '.join(f'{rows:,}' for rows in args.sizes)} rows; load average {load_start}")
    largest = args.sizes[-1]
    with own_server(
        args.dir / SERVER_FOLDER, args.port, args.keep, shown_database=f"bench_scaling_{largest}"
    ) as server:
        version = server_version(server)
        sizes = [
            measure_size(server, rows, args, args.keep and rows == largest) for rows in args.sizes
        ]
    report = report_head("scaling", started, args, load_start, server, version)
    report |= {"sizes": sizes, "growth": growth(sizes), "stage_exponents": stage_exponents(sizes)}
    publish(report, args.dir / "scaling.json", render)
    return report


if __name__ == "__main__":
    main(sys.argv[1:])
