"""The reads' SQL without HTTP: the reference's queries under concurrent load, each endpoint's
queries alone on an open connection, what opening a connection costs, and the query plans."""

from __future__ import annotations

import asyncio
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg

from bench import reference_queries
from bench.analytics_endpoints import ENDPOINTS, SUMMARY_RANGE
from bench.harness import percentile
from txn_api.db import LOOKUP_SESSION_OPTIONS
from txn_core import reads
from txn_core.sql import load_sql

REFERENCE_SQL = {
    "summary": lambda conn, user: reference_queries.summary(conn, user, *SUMMARY_RANGE),
    "risk-profile": reference_queries.risk_profile,
    "spend-trend": reference_queries.spend_trend,
}


def drive_sql(url: str, endpoint: str, users: list[int], clients: int) -> dict[str, Any]:
    """The reference's query alone, no HTTP: `clients` threads, each on its own open
    connection, take the users in turn; the same figures as `analytics_load.drive`."""
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


def _per_user_median(query: Callable[[int], Any], users: list[int]) -> float:
    timings = []
    for user in users:
        started = time.perf_counter()
        query(user)
        timings.append(time.perf_counter() - started)
    return 1000 * statistics.median(timings)


def _median_ms(run: Callable[[], Any], repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        timings.append(time.perf_counter() - started)
    return 1000 * statistics.median(timings)


def _our_queries() -> dict[str, tuple[Callable, str]]:
    """Each endpoint's read with the session options of the API's pool that serves it: the
    lookups' pool, or the other reads' pool."""
    start, end = SUMMARY_RANGE
    return {
        "summary": (
            lambda conn, u: reads.user_summaries(conn, [(u, start, end)]),
            LOOKUP_SESSION_OPTIONS,
        ),
        "risk-profile": (reads.risk_profile, LOOKUP_SESSION_OPTIONS),
        "spend-trend": (reads.spend_trend_json, ""),
    }


def sql_alone(url: str, users: list[int], reference_risk_users: list[int]) -> dict[str, Any]:
    """Each endpoint's queries on an already open connection (no HTTP, no connect), median of
    one run per user; and what opening a connection costs, as an API without a pool would."""
    result: dict[str, Any] = {endpoint: {} for endpoint in ENDPOINTS}

    async def time_ours() -> None:
        for endpoint, (query, options) in _our_queries().items():
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
    """The execution time an EXPLAIN ANALYZE plan reports, in ms."""
    for line in reversed(plan.splitlines()):
        if line.strip().startswith("Execution Time:"):
            return float(line.split(":")[1].split()[0])
    return None
