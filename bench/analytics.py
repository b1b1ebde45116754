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
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import math
import os
import platform
import random
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import psycopg

from bench import reference_queries
from bench.harness import free_port as _free_port
from bench.harness import fresh_server, publish, say, step
from bench.reference_data import MAIN_SEED, reference_file
from txn_api.db import LOOKUP_SESSION_OPTIONS
from txn_core import ledger, reads, refresh
from txn_core.generator import WEEKDAY_PERCENT, rows_for_day, write_days
from txn_core.loader import COPY_CHUNK_BYTES, load_upload
from txn_core.migrate import upgrade
from txn_core.sql import load_sql
from txn_dev.local_postgres import LocalPostgres

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DIR = PROJECT_ROOT / "var" / "bench"
DATABASE = "bench_analytics"

TABLES = ("user_daily_spend", "user_spend_trend", "user_risk_profile")

# Per table, sums that a reader can compare by eye; the row hash catches everything else.
FINGERPRINT_SUMS = {
    "user_daily_spend": ("tx_count", "total_amount", "sum_squares", "max_amount"),
    "user_monthly_spend": ("tx_count", "total_amount", "min_amount", "max_amount"),
    "user_spend_trend": ("daily_total", "rolling_7d_avg"),
    "user_risk_profile": (
        "tx_count",
        "total_spend",
        "global_whale_rank",
        "volatility_index",
        "tx_last_24h",
    ),
}

# The whole of the reference data set (its 10M rows span 2024-2043): a user's summary over all
# their history, which is what the "about 20 ms" for the reference's query measures.
SUMMARY_RANGE = (dt.date(2024, 1, 1), dt.date(2043, 12, 31))

ENDPOINTS = {
    "summary": "/summary/{user}?start_date={start}&end_date={end}",
    "risk-profile": "/analytics/risk-profile/{user}",
    "spend-trend": "/analytics/spend-trend/{user}",
}

# What the issue asks of each endpoint (information only, never a verdict).
AIMS = {
    "summary": {"speedup": 5, "p99_ms": 50},
    "risk-profile": {"speedup": 500, "p99_ms": 50},
    "spend-trend": {"speedup": 3, "p99_ms": None},
}
INCREMENTAL_AIM = 0.05  # incremental refresh < 5% of a full rebuild

SERVERS = {
    "ours": "txn_api.main:app",
    "reference": "bench.reference_queries:app",
}

USERS = range(1, 1000)


# --- Reporting helpers ---------------------------------------------------------------------


def load_average() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def percentile(sorted_values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


# --- Setup: files, server, loads ----------------------------------------------------------


def day_file(folder: Path, day: dt.date, rows: int) -> tuple[Path, int]:
    """One simulated day of about `rows` rows (the generator scales a day by its weekday)."""
    rows_per_day = max(1, round(rows * 100 / WEEKDAY_PERCENT[day.weekday()]))
    path = folder / f"analytics-day-{day.isoformat()}-{rows_for_day(day, rows_per_day)}.csv"
    generated = write_days(path, day, day, rows_per_day)
    return path, generated.rows


def load_ours(url: str, upload_id: str, path: Path, workdir: Path) -> dict[str, Any]:
    """Register the file as an upload and load it with the project's loader."""
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        ledger.register_upload(
            conn,
            upload_id=upload_id,
            source="bench",
            file_name=path.name,
            landing_key=str(path),
            size_bytes=path.stat().st_size,
        )
    workdir.mkdir(parents=True, exist_ok=True)
    result = load_upload(url, upload_id, path, workdir=workdir)
    return {
        "seconds": time.perf_counter() - started,
        "rows_read": result.rows_read,
        "rows_loaded": result.rows_loaded,
        "rows_rejected": result.rows_rejected,
        "rows_duplicate": result.rows_duplicate,
        "days_touched": len(result.days_touched),
    }


def copy_reference(url: str, path: Path) -> int:
    """The file as it is into transactions_ref, COPY ... FROM STDIN, one transaction."""
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        with open(path, "rb") as source, cur.copy(reference_queries.COPY_CSV) as copy:
            while chunk := source.read(COPY_CHUNK_BYTES):
                copy.write(chunk)
        rows = cur.rowcount
        conn.commit()
    return rows


def execute(url: str, *statements: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


# --- Refresh: full rebuild, incremental path, fingerprints ---------------------------------


def refresh_tables(result: refresh.RefreshResult) -> dict[str, dict[str, Any]]:
    """One refresh's time and work per table (the stages of its one transaction)."""
    stages = result.stage_seconds
    return {
        "user_daily_spend": {
            "seconds": stages.get("claimed", 0) + stages.get("daily_spend", 0),
            "rows_written": result.daily_rows,
            "users_touched": result.risk_users,
        },
        "user_spend_trend": {
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
            sums = ", ".join(f"sum({column})::text" for column in FINGERPRINT_SUMS[table])
            row = conn.execute(
                f"SELECT count(*)::text, sum(hashtextextended(t::text, 0)::numeric)::text, {sums} "
                f"FROM {table} AS t"
            ).fetchone()
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


# --- The API under load ---------------------------------------------------------------------


class ApiServer:
    """`uvicorn <target> --workers N` in a process group of its own, on a free port."""

    def __init__(self, target: str, database_url: str, workers: int, log_path: Path) -> None:
        self.target = target
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        # One load generator is one client: measured here is the API, not its rate limits.
        env = dict(os.environ, TXN_DATABASE_URL=database_url, TXN_RATE_LIMIT_READS="")
        self.log = open(log_path, "wb")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                target,
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(workers),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            process_group=0,  # its own group: stop() may signal uvicorn and its workers
        )

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.target} exited early; see {self.log.name}")
            try:
                if httpx.get(f"{self.base_url}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.target} did not answer within {timeout:.0f} s")
            time.sleep(0.3)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # uvicorn stops its workers itself
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)  # the group started above
                self.process.wait()
        self.log.close()


async def _drive(
    base_url: str, paths: list[str], clients: int, timeout: float
) -> tuple[list[float], Counter, float]:
    """`clients` concurrent clients take the paths in turn; each request's latency, the status
    codes, and the wall time of the whole run. aiohttp, not httpx: on this machine httpx spent
    a whole core to send ~180 requests/s, so the client, not the API, set the pace."""
    latencies: list[float] = []
    statuses: Counter = Counter()
    queue = iter(paths)
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(
        base_url=base_url, connector=connector, timeout=aiohttp.ClientTimeout(total=timeout)
    ) as session:

        async def client_loop() -> None:
            for path in queue:  # the iterator is shared: each path is taken once
                started = time.perf_counter()
                try:
                    async with session.get(path) as response:
                        await response.read()
                except (aiohttp.ClientError, TimeoutError) as exc:  # counted, never fatal
                    statuses[f"transport: {type(exc).__name__}"] += 1
                    continue
                latencies.append(time.perf_counter() - started)
                statuses[response.status] += 1

        started = time.perf_counter()
        await asyncio.gather(*(client_loop() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return latencies, statuses, elapsed


def drive(base_url: str, paths: list[str], clients: int, timeout: float) -> dict[str, Any]:
    cpu_before = time.process_time()
    latencies, statuses, elapsed = asyncio.run(
        _drive(base_url, paths, min(clients, len(paths)), timeout)
    )
    latencies = sorted(latencies) or [math.nan]  # every request failed: no latency to show
    return {
        "requests": len(paths),
        "clients": min(clients, len(paths)),
        "seconds": elapsed,
        "rps": len(paths) / elapsed if elapsed else None,
        "p50_ms": 1000 * percentile(latencies, 0.50),
        "p90_ms": 1000 * percentile(latencies, 0.90),
        "p99_ms": 1000 * percentile(latencies, 0.99),
        "max_ms": 1000 * latencies[-1],
        "mean_ms": 1000 * statistics.fmean(latencies),
        "status_codes": {str(code): count for code, count in statuses.items()},
        "errors": sum(count for code, count in statuses.items() if code != 200),
        "client_cpu_seconds": time.process_time() - cpu_before,
    }


REFERENCE_SQL = {
    "summary": lambda conn, user: reference_queries.summary(conn, user, *SUMMARY_RANGE),
    "risk-profile": reference_queries.risk_profile,
    "spend-trend": reference_queries.spend_trend,
}


def drive_sql(url: str, endpoint: str, users: list[int], clients: int) -> dict[str, Any]:
    """The reference's query alone, no HTTP: `clients` threads, each on its own open
    connection, take the users in turn; the same figures as `drive`."""
    query = REFERENCE_SQL[endpoint]
    clients = min(clients, len(users))
    queue = iter(users)
    lock = threading.Lock()
    latencies: list[float] = []

    def client_loop() -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            while True:
                with lock:
                    user = next(queue, None)
                if user is None:
                    return
                started = time.perf_counter()
                query(conn, user)
                latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    threads = [threading.Thread(target=client_loop) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(users),
        "clients": clients,
        "seconds": elapsed,
        "rps": len(users) / elapsed if elapsed else None,
        "p50_ms": 1000 * percentile(latencies, 0.50),
        "p99_ms": 1000 * percentile(latencies, 0.99),
        "errors": len(users) - len(latencies),
    }


def endpoint_path(endpoint: str, user: int) -> str:
    start, end = SUMMARY_RANGE
    return ENDPOINTS[endpoint].format(user=user, start=start, end=end)


def endpoint_users(endpoint: str, count: int, seed: int) -> list[int]:
    """The same random users for both sides (a fixed seed per endpoint)."""
    rng = random.Random(f"{seed}:{endpoint}")
    return rng.choices(USERS, k=count)


def check_users(count: int, seed: int) -> list[int]:
    return random.Random(f"{seed}:check").sample(USERS, count)


def run_api_side(
    side: str,
    database_url: str,
    args: argparse.Namespace,
    folder: Path,
    users_checked: list[int],
) -> dict[str, Any]:
    """Start one side's API, fetch the checked users' answers, then load each endpoint."""
    server = ApiServer(SERVERS[side], database_url, args.workers, folder / f"api-{side}.log")
    result: dict[str, Any] = {"target": SERVERS[side], "endpoints": {}, "answers": {}}
    try:
        with step(f"{side}: starting uvicorn {SERVERS[side]} with {args.workers} workers"):
            server.wait_ready()
        result["load_average_before"] = load_average()
        for endpoint in ENDPOINTS:
            requests = args.requests if side == "ours" else args.reference_requests
            if side == "reference" and endpoint == "risk-profile":
                requests = min(requests, args.reference_risk_requests)
            users = endpoint_users(endpoint, requests, args.seed)
            paths = [endpoint_path(endpoint, user) for user in users]
            # Warm-up, not counted: every worker imports, connects and plans once.
            heavy = side == "reference" and endpoint == "risk-profile"
            warm = args.workers if heavy else args.clients
            drive(server.base_url, paths[:warm], args.clients, args.timeout)
            with step(
                f"{side} {endpoint}: {requests:,} requests, {min(args.clients, requests)} clients"
            ):
                measured = drive(server.base_url, paths, args.clients, args.timeout)
            say(
                f"   p50 {measured['p50_ms']:.1f} ms, p99 {measured['p99_ms']:.1f} ms, "
                f"{measured['rps']:,.1f} requests/s, errors {measured['errors']}"
            )
            # One client alone: the service time of a request, without queueing behind others.
            alone = args.single_client_requests if not heavy else args.workers
            measured["single_client"] = drive(server.base_url, paths[:alone], 1, args.timeout)
            say(
                f"   one client alone: p50 {measured['single_client']['p50_ms']:.1f} ms over "
                f"{alone} requests"
            )
            result["endpoints"][endpoint] = measured
        with (
            step(f"{side}: the answers for users {users_checked}"),
            httpx.Client(base_url=server.base_url, timeout=args.timeout) as client,
        ):
            for endpoint in ENDPOINTS:
                answers = {}
                for user in users_checked:
                    response = client.get(endpoint_path(endpoint, user))
                    answers[str(user)] = {
                        "status": response.status_code,
                        "body": response.json(),
                    }
                result["answers"][endpoint] = answers
    finally:
        server.stop()
    return result


# --- Our answers against the reference's -----------------------------------------------------

CENT = 0.005 + 1e-9


def _close(left: float | None, right: float | None, tolerance: float = 1e-9) -> bool:
    if left is None or right is None:
        return left is right
    return abs(left - right) <= tolerance


def compare_summary(ours: dict, ref: dict) -> tuple[bool, dict[str, Any]]:
    detail = {
        "max": [ours["max_transaction"], ref["max_transaction"]],
        "min": [ours["min_transaction"], ref["min_transaction"]],
        "mean": [ours["mean_transaction"], ref["mean_transaction"]],
    }
    equal = (
        _close(ours["max_transaction"], ref["max_transaction"])
        and _close(ours["min_transaction"], ref["min_transaction"])
        # ours is rounded to cents; the reference's AVG is not
        and _close(ours["mean_transaction"], ref["mean_transaction"], CENT)
    )
    return equal, detail


def compare_risk(ours: dict, ref: dict) -> tuple[bool, dict[str, Any]]:
    mine, theirs = ours["risk_metrics"], ref["risk_metrics"]
    count = mine["transaction_count"]
    # Ours is the population standard deviation over the mean; the reference's STDDEV is
    # PostgreSQL's sample one. Both are rounded to 2 places, so the converted figure may be a
    # cent off either way.
    ref_volatility = theirs["spending_volatility_index"]
    as_population = (
        ref_volatility * math.sqrt((count - 1) / count)
        if ref_volatility is not None and count > 1
        else 0.0
    )
    detail = {
        "global_whale_rank": [mine["global_whale_rank"], theirs["global_whale_rank"]],
        "volatility": [mine["spending_volatility_index"], ref_volatility],
        "volatility_reference_as_population": round(as_population, 4),
        "volatility_equal_as_printed": mine["spending_volatility_index"] == ref_volatility,
        "total": [mine["total_lifetime_spend"], theirs["total_lifetime_spend"]],
        "max_single": [
            mine["max_single_transaction_spike"],
            theirs["max_single_transaction_spike"],
        ],
        "shortest_gap_mins": [
            mine["shortest_time_between_transactions_mins"],
            theirs["shortest_time_between_transactions_mins"],
        ],
        "transaction_count": count,
    }
    equal = (
        mine["global_whale_rank"] == theirs["global_whale_rank"]
        and _close(mine["total_lifetime_spend"], theirs["total_lifetime_spend"], 1e-6)
        and _close(mine["max_single_transaction_spike"], theirs["max_single_transaction_spike"])
        and _close(
            mine["shortest_time_between_transactions_mins"],
            theirs["shortest_time_between_transactions_mins"],
            1e-6,
        )
        and _close(mine["spending_volatility_index"], as_population, 0.01 + 1e-9)
    )
    return equal, detail


def compare_trend(ours: list, ref: list) -> tuple[bool, dict[str, Any]]:
    same_days = [day["spend_date"] for day in ours] == [day["spend_date"] for day in ref]
    mismatches = [
        mine["spend_date"]
        for mine, theirs in zip(ours, ref, strict=False)
        if not _close(mine["daily_total"], theirs["daily_total"], 1e-6)
        or not _close(mine["rolling_7d_avg"], theirs["rolling_7d_avg"], 1e-6)
    ]
    detail = {
        "days": [len(ours), len(ref)],
        "first_day": [
            ours[0]["spend_date"] if ours else None,
            ref[0]["spend_date"] if ref else None,
        ],
        "last_day": [
            ours[-1]["spend_date"] if ours else None,
            ref[-1]["spend_date"] if ref else None,
        ],
        "sum_daily_total": [
            round(sum(day["daily_total"] for day in ours), 2),
            round(sum(day["daily_total"] for day in ref), 2),
        ],
        "days_with_other_values": mismatches[:5],
    }
    return same_days and not mismatches, detail


COMPARE = {"summary": compare_summary, "risk-profile": compare_risk, "spend-trend": compare_trend}


def compare_answers(ours: dict, reference: dict, users: list[int]) -> dict[str, Any]:
    checks = []
    for endpoint, compare in COMPARE.items():
        for user in users:
            mine, theirs = ours[endpoint][str(user)], reference[endpoint][str(user)]
            if mine["status"] != 200 or theirs["status"] != 200:
                equal = mine["status"] == theirs["status"]
                detail = {"status": [mine["status"], theirs["status"]]}
            else:
                equal, detail = compare(mine["body"], theirs["body"])
            checks.append({"endpoint": endpoint, "user_id": user, "equal": equal, **detail})
    volatility_as_printed = [
        check["volatility_equal_as_printed"] for check in checks if "volatility" in check
    ]
    return {
        "users": users,
        "checks": checks,
        "all_equal": all(check["equal"] for check in checks),
        "volatility_equal_as_printed": f"{sum(volatility_as_printed)}/{len(volatility_as_printed)}",
    }


# --- Where the time goes: SQL alone, connections, plans -------------------------------------


def _median_ms(run: Callable[[], Any], repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        timings.append(time.perf_counter() - started)
    return 1000 * statistics.median(timings)


def sql_alone(url: str, users: list[int], reference_risk_users: list[int]) -> dict[str, Any]:
    """Each endpoint's queries on an already open connection (no HTTP, no connect), median of
    one run per user; and what opening a connection costs, as an API without a pool would."""
    start, end = SUMMARY_RANGE
    result: dict[str, Any] = {endpoint: {} for endpoint in ENDPOINTS}
    # Each on a session set up as the API's: the lookups' pool, or the other reads' pool.
    ours = {
        "summary": (
            lambda conn, u: reads.user_summaries(conn, [(u, start, end)]),
            LOOKUP_SESSION_OPTIONS,
        ),
        "risk-profile": (reads.risk_profile, LOOKUP_SESSION_OPTIONS),
        "spend-trend": (reads.spend_trend_json, ""),
    }

    async def time_ours() -> None:
        for endpoint, (query, options) in ours.items():
            async with await psycopg.AsyncConnection.connect(
                url, autocommit=True, options=options
            ) as conn:
                timings = []
                for user in users:
                    started = time.perf_counter()
                    await query(conn, user)
                    timings.append(time.perf_counter() - started)
            result[endpoint]["ours_ms"] = 1000 * statistics.median(timings)

    asyncio.run(time_ours())
    with psycopg.connect(url, autocommit=True) as conn:
        for endpoint, query in REFERENCE_SQL.items():
            checked = reference_risk_users if endpoint == "risk-profile" else users
            result[endpoint].update(
                reference_ms=_per_user_median(lambda u, query=query: query(conn, u), checked),
                reference_users=len(checked),
            )
    result["connect_ms"] = _median_ms(
        lambda: psycopg.connect(url, autocommit=True, connect_timeout=5).close(), len(users)
    )
    return result


def _per_user_median(query: Callable[[int], Any], users: list[int]) -> float:
    timings = []
    for user in users:
        started = time.perf_counter()
        query(user)
        timings.append(time.perf_counter() - started)
    return 1000 * statistics.median(timings)


def plans(url: str, user: int) -> dict[str, str]:
    """EXPLAIN (ANALYZE, BUFFERS) of each endpoint's query, ours and the reference's."""
    start, end = SUMMARY_RANGE
    start_at, end_at = reference_queries._day_bounds(start, end)
    queries = {
        "ours summary": (
            load_sql("reads/user_summaries"),
            {"user_ids": [user], "start_dates": [start], "end_dates": [end]},
        ),
        "ours risk-profile": (load_sql("reads/risk_profiles"), {"user_ids": [user]}),
        "ours spend-trend": (
            load_sql("reads/spend_trend_json"),
            {"user_id": user, "start_date": None, "end_date": None},
        ),
        "reference summary": (
            reference_queries.SUMMARY_SQL,
            {"user_id": user, "start_at": start_at, "end_at": end_at},
        ),
        "reference risk-profile": (reference_queries.RISK_PROFILE_SQL, {"user_id": user}),
        "reference spend-trend": (reference_queries.SPEND_TREND_SQL, {"user_id": user}),
    }
    result = {}
    with psycopg.connect(url, autocommit=True) as conn:
        for name, (sql, params) in queries.items():
            rows = conn.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params).fetchall()
            result[name] = "\n".join(row[0] for row in rows)
    return result


def execution_ms(plan: str) -> float | None:
    for line in reversed(plan.splitlines()):
        if line.strip().startswith("Execution Time:"):
            return float(line.split(":")[1].split()[0])
    return None


# --- The run ------------------------------------------------------------------------------------


def api_phase(
    url: str, args: argparse.Namespace, folder: Path
) -> tuple[dict[str, Any], dict[str, Any]]:
    users_checked = check_users(args.check_users, args.seed)
    sides = {side: run_api_side(side, url, args, folder, users_checked) for side in SERVERS}
    endpoints = {}
    for endpoint in ENDPOINTS:
        ours, ref = sides["ours"]["endpoints"][endpoint], sides["reference"]["endpoints"][endpoint]
        # The same users as the reference's HTTP run, its query alone (no HTTP, no pool).
        users = endpoint_users(endpoint, ref["requests"], args.seed)
        with step(
            f"reference {endpoint}, the query alone: {len(users):,} queries, "
            f"{min(args.clients, len(users))} clients"
        ):
            ref_sql = drive_sql(url, endpoint, users, args.clients)
        ref_sql["single_client"] = drive_sql(
            url, endpoint, users[: ref["single_client"]["requests"]], 1
        )
        say(
            f"   p50 {ref_sql['p50_ms']:.1f} ms, p99 {ref_sql['p99_ms']:.1f} ms, "
            f"{ref_sql['rps']:,.1f} queries/s; one client alone: p50 "
            f"{ref_sql['single_client']['p50_ms']:.1f} ms"
        )
        endpoints[endpoint] = {
            "ours": ours,
            "reference": ref,
            "reference_sql": ref_sql,
            "speedup_vs_sql": {
                "rps": ours["rps"] / ref_sql["rps"],
                "p50": ref_sql["p50_ms"] / ours["p50_ms"],
                "p99": ref_sql["p99_ms"] / ours["p99_ms"],
                "single_client_p50": (
                    ref_sql["single_client"]["p50_ms"] / ours["single_client"]["p50_ms"]
                ),
            },
            "speedup_rps": ours["rps"] / ref["rps"],
            "speedup_p50": ref["p50_ms"] / ours["p50_ms"],
            "speedup_p99": ref["p99_ms"] / ours["p99_ms"],
            "speedup_single_client_p50": (
                ref["single_client"]["p50_ms"] / ours["single_client"]["p50_ms"]
            ),
            "aim": AIMS[endpoint],
        }
    api = {
        "workers": args.workers,
        "clients": args.clients,
        "summary_range": [day.isoformat() for day in SUMMARY_RANGE],
        "connection": "ours: an async connection pool per worker; the reference: a connection "
        "per request",
        "endpoints": endpoints,
        "load_average_before": {side: sides[side]["load_average_before"] for side in SERVERS},
    }
    answers = compare_answers(
        sides["ours"]["answers"], sides["reference"]["answers"], users_checked
    )
    answers["bodies"] = {side: sides[side]["answers"] for side in SERVERS}
    return api, answers


def run(server: LocalPostgres, args: argparse.Namespace, folder: Path, main_csv: Path):
    execute(server.url("postgres"), f'CREATE DATABASE "{DATABASE}"')
    url = server.url(DATABASE)
    upgrade(url)
    execute(url, reference_queries.CREATE_TABLE)
    phases: dict[str, Any] = {}

    # 1. Setup: the same rows in our warehouse and in the reference's table.
    load: dict[str, Any] = {}
    with step(f"setup: load_upload of {main_csv.name} into the migrated warehouse") as timing:
        load["ours"] = load_ours(url, "bench-analytics-main", main_csv, folder / "work")
    with step("setup: plain COPY of the same file into transactions_ref") as timing:
        rows = copy_reference(url, main_csv)
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
    phases["load"] = load

    # 2. Full rebuild from N rows.
    with step(f"full rebuild of {', '.join(TABLES)} from {args.rows:,} rows"):
        rebuild = full_rebuild(url)
    _say_tables(rebuild)
    with step("after the rebuild: VACUUM ANALYZE (as autovacuum would), CHECKPOINT"):
        execute(url, "VACUUM ANALYZE", "CHECKPOINT")
    with step("fingerprints of the rebuilt tables"):
        rebuild["fingerprints"] = fingerprints(url)
    phases["full_rebuild"] = rebuild

    # 3. One new day, the incremental path, then a full rebuild over the same rows.
    day = last_day + dt.timedelta(days=1)
    incremental: dict[str, Any] = {"day": day.isoformat()}
    with step(f"setup: generating {day} (about {args.day_rows:,} rows)"):
        day_csv, day_rows = day_file(folder, day, args.day_rows)
    incremental["day_rows"] = day_rows
    execute(url, "CHECKPOINT")
    with step(f"load_upload of the day's {day_rows:,} rows (not part of the refresh)") as timing:
        incremental["load"] = load_ours(url, f"bench-analytics-{day}", day_csv, folder / "work")
    with step("setup: the same day into transactions_ref (plain COPY)"):
        copy_reference(url, day_csv)
        execute(url, "ANALYZE transactions_ref")
    execute(url, "CHECKPOINT")
    with step("incremental refresh: refresh_analytics (the day the load queued)"):
        incremental.update(incremental_refresh(url))
    _say_tables(incremental)
    with step("fingerprints after the incremental path"):
        incremental["fingerprints"] = fingerprints(url)
    execute(url, "CHECKPOINT")
    with step(f"full rebuild again, from the same {args.rows + day_rows:,} rows"):
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
    phases["incremental"] = incremental

    with step("before the API: VACUUM ANALYZE (the rebuild left dead rows), CHECKPOINT"):
        execute(url, "VACUUM ANALYZE", "CHECKPOINT")

    # 4. The API under load, ours against the reference's queries; the answers compared.
    phases["api"], phases["answers"] = api_phase(url, args, folder)
    say(f"   our answers equal the reference's: {phases['answers']['all_equal']}")

    # 5. Where the time goes.
    with step("the SQL alone (open connection), connection cost, EXPLAIN ANALYZE"):
        users = check_users(min(20, len(USERS)), args.seed + 1)
        phases["sql_alone"] = sql_alone(url, users, users[: args.reference_sql_users])
        phases["plans"] = plans(url, users[0])
    return phases


def _say_tables(result: dict[str, Any]) -> None:
    for name, table in result["tables"].items():
        say(
            f"   {name}: {table['seconds']:.2f} s, {table['rows_written']:,} rows written, "
            f"{table['users_touched']:,} users"
        )


def _fmt_ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.1f}"


def render(report: dict[str, Any]) -> str:
    phases, options = report["phases"], report["options"]
    rebuild, incremental = phases["full_rebuild"], phases["incremental"]
    again = incremental["full_rebuild_after"]
    lines = [
        f"Analytics benchmark: {options['rows']:,} reference rows + one day of "
        f"{incremental['day_rows']:,} ({incremental['day']}); {report['machine']['cpus']} CPUs; "
        f"load average at start {report['machine']['load_average_start']}, "
        f"at end {report['machine']['load_average_end']}",
        "",
    ]
    header = (
        f"{'refresh':<34} {'full rebuild':>13} {'again (N+day)':>14} {'incremental':>12} "
        f"{'incr/full':>10}"
    )
    lines += [header, "-" * len(header)]
    for table in TABLES:
        full_s, again_s = rebuild["tables"][table]["seconds"], again["tables"][table]["seconds"]
        incr_s = incremental["tables"][table]["seconds"]
        lines.append(
            f"{table:<34} {full_s:>11.2f} s {again_s:>12.2f} s {incr_s:>10.3f} s "
            f"{100 * incr_s / full_s:>9.2f}%"
        )
    lines.append(
        f"{'(listing the days)':<34} {rebuild['finding_days_seconds']:>11.2f} s "
        f"{again['finding_days_seconds']:>12.2f} s {'-':>12} {'':>10}"
    )
    lines.append(
        f"{'total':<34} {rebuild['seconds']:>11.2f} s {again['seconds']:>12.2f} s "
        f"{incremental['seconds']:>10.3f} s {100 * incremental['ratio_to_full_rebuild']:>9.2f}%"
    )
    lines += [
        f"incremental / full rebuild: {100 * incremental['ratio_to_full_rebuild']:.2f}% "
        f"(against the rebuild over the same N+day rows: "
        f"{100 * incremental['ratio_to_full_rebuild_after']:.2f}%); aim < "
        f"{100 * INCREMENTAL_AIM:.0f}%",
        f"loading the day (load_upload, before the refresh): "
        f"{incremental['load']['seconds']:.2f} s for {incremental['load']['rows_loaded']:,} rows",
        "incremental tables = full rebuild's (count, sums, hash of every row): "
        + (
            "yes"
            if incremental["equal_to_full_rebuild"]
            else "NO: " + "; ".join(incremental["differences"])
        ),
        "",
    ]

    api = phases["api"]
    lines.append(
        f"read API over HTTP: uvicorn --workers {api['workers']}, {api['clients']} concurrent "
        f"clients, random users 1-999 (fixed seed); {api['connection']}"
    )
    header = (
        f"{'endpoint':<14} {'side':<10} {'requests':>8} {'p50 ms':>9} {'p99 ms':>9} "
        f"{'req/s':>9} {'errors':>6} {'1-client p50':>12}   {'speed-up rps':>12} {'p50':>8} "
        f"{'p99':>8}   aim"
    )
    lines += [header, "-" * len(header)]
    for endpoint, result in api["endpoints"].items():
        for side in ("ours", "reference"):
            row = result[side]
            line = (
                f"{endpoint if side == 'ours' else '':<14} {side:<10} {row['requests']:>8,} "
                f"{row['p50_ms']:>9,.1f} {row['p99_ms']:>9,.1f} {row['rps']:>9,.1f} "
                f"{row['errors']:>6} {row['single_client']['p50_ms']:>9,.1f} ms"
            )
            if side == "ours":
                aim = result["aim"]
                aim_text = f">= {aim['speedup']}x" + (
                    f", p99 < {aim['p99_ms']} ms" if aim["p99_ms"] else ""
                )
                line += (
                    f"   {result['speedup_rps']:>11,.1f}x {result['speedup_p50']:>7,.1f}x "
                    f"{result['speedup_p99']:>7,.1f}x   {aim_text}"
                )
            lines.append(line)
        row, speedup = result["reference_sql"], result["speedup_vs_sql"]
        lines.append(
            f"{'':<14} {'ref. SQL':<10} {row['requests']:>8,} {row['p50_ms']:>9,.1f} "
            f"{row['p99_ms']:>9,.1f} {row['rps']:>9,.1f} {row['errors']:>6} "
            f"{row['single_client']['p50_ms']:>9,.1f} ms   {speedup['rps']:>11,.1f}x "
            f"{speedup['p50']:>7,.1f}x {speedup['p99']:>7,.1f}x   (ours over HTTP vs this)"
        )
    reduced = api["endpoints"]["risk-profile"]["reference"]["requests"]
    reference_requests = api["endpoints"]["summary"]["reference"]["requests"]
    if reduced < reference_requests:
        lines.append(
            f"(the reference's risk profile ranks every user on every request: it ran "
            f"{reduced} requests, not {reference_requests:,})"
        )
    client_cpu = sum(
        result[side]["client_cpu_seconds"]
        for result in api["endpoints"].values()
        for side in ("ours", "reference")
    )
    client_wall = sum(
        result[side]["seconds"]
        for result in api["endpoints"].values()
        for side in ("ours", "reference")
    )
    lines.append(
        "ref. SQL: the reference's query alone, no HTTP, one open connection per client thread, "
        "the same users; the speed-ups on the 'ours' rows are against the reference's own API"
    )
    lines.append(
        f"the load-generating client (aiohttp, asyncio, same machine) used "
        f"{client_cpu:,.1f} CPU-s over {client_wall:,.1f} s of load"
    )

    answers = phases["answers"]
    by_endpoint = Counter(check["endpoint"] for check in answers["checks"] if check["equal"])
    lines += [
        "",
        f"our answers = the reference's for users {answers['users']}: "
        + ", ".join(
            f"{endpoint} {by_endpoint[endpoint]}/{len(answers['users'])}" for endpoint in ENDPOINTS
        )
        + ("" if answers["all_equal"] else "  (DIFFERENCES: see analytics.json)"),
        f"  volatility: ours is stddev_pop / mean, the reference's STDDEV is stddev_samp; "
        f"equal after converting, equal as printed for {answers['volatility_equal_as_printed']}",
    ]

    alone = phases["sql_alone"]
    lines += [
        "",
        "where the time goes: the SQL alone on an open connection (median ms per user)",
    ]
    for endpoint in ENDPOINTS:
        entry = alone[endpoint]
        lines.append(
            f"  {endpoint:<14} ours {_fmt_ms(entry['ours_ms']):>9}   reference "
            f"{_fmt_ms(entry['reference_ms']):>10} ({entry['reference_users']} users)"
        )
    lines.append(
        f"  opening a connection (both APIs keep a pool instead): {_fmt_ms(alone['connect_ms'])} ms"
    )
    lines.append(
        "  EXPLAIN ANALYZE execution times (first user): "
        + ", ".join(
            f"{name} {_fmt_ms(execution_ms(plan))} ms" for name, plan in phases["plans"].items()
        )
    )
    return "\n".join(lines)


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
        help="uvicorn worker processes per API (default: 1, as the image runs it; with 2 on "
        "two cores the 32 keep-alive connections split unevenly between the workers and the "
        "busier one sets p99)",
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
    parser.add_argument("--seed", type=int, default=42, help="random users' seed (default: 42)")
    parser.add_argument(
        "--timeout",
        type=float,
        default=900.0,
        help="HTTP timeout per request, seconds (default: 900)",
    )
    parser.add_argument(
        "--dir",
        type=Path,
        default=DEFAULT_DIR,
        help="files, the server's data and analytics.json (default: var/bench; "
        "must be traversable by the server's account)",
    )
    parser.add_argument("--port", type=int, default=0, help="server port (default: a free one)")
    parser.add_argument(
        "--keep", action="store_true", help="leave the server running with its database at the end"
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
    with step("starting a fresh PostgreSQL server"):
        server = fresh_server(folder / "pg-analytics", args.port or _free_port())
    try:
        with psycopg.connect(server.url("postgres")) as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]
        phases = run(server, args, folder, main_csv)
    finally:
        if args.keep:
            say(f"server kept running: {server.url(DATABASE)} (data in {server.data_dir})")
        else:
            with step("stopping the server and removing its data"):
                server.stop()
                shutil.rmtree(server.data_dir, ignore_errors=True)

    report = {
        "benchmark": "analytics",
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "total_seconds": time.perf_counter() - started,
        "options": {
            key: (str(value) if isinstance(value, Path) else value)
            for key, value in vars(args).items()
        },
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_start": load_start,
            "load_average_end": load_average(),
        },
        "server": {"version": version, "settings": dict(server.settings)},
        "files": {"main": str(main_csv)},
        "phases": phases,
    }
    publish(report, folder / "analytics.json", render)
    return report


if __name__ == "__main__":
    main(sys.argv[1:])
