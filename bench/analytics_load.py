"""The read APIs under load: ours and the reference's, each served by uvicorn and driven over
HTTP by concurrent clients, set against the reference's queries alone (bench.analytics_sql)."""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import signal
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import httpx

from bench.analytics_compare import compare_answers
from bench.analytics_endpoints import (
    AIMS,
    ENDPOINTS,
    SERVERS,
    SUMMARY_RANGE,
    check_users,
    endpoint_path,
    endpoint_users,
)
from bench.analytics_sql import drive_sql
from bench.harness import PROJECT_ROOT, free_port, load_average, percentile, say, step


class ApiServer:
    """`uvicorn <target> --workers N` in a process group of its own, on a free port."""

    def __init__(self, target: str, database_url: str, workers: int, log_path: Path) -> None:
        self.target = target
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        # One load generator is one client: measured here is the API, not its rate limits.
        env = dict(os.environ, TXN_DATABASE_URL=database_url, TXN_RATE_LIMIT_READS="")
        self.log = open(log_path, "wb")  # noqa: SIM115 (closed in stop)
        command = [sys.executable, "-m", "uvicorn", target, "--host", "127.0.0.1"]
        command += ["--port", str(self.port), "--workers", str(workers)]
        command += ["--log-level", "warning", "--no-access-log"]
        self.process = subprocess.Popen(
            command,
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
    codes, and the wall time of the whole run. aiohttp, not httpx: a client that spends more
    CPU per request than the API would set the pace itself (see bench/README.md)."""
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


def load_endpoint(
    base_url: str, side: str, endpoint: str, args: argparse.Namespace
) -> dict[str, Any]:
    """Warm-up, then the measured requests from concurrent clients, then one client alone."""
    requests = args.requests if side == "ours" else args.reference_requests
    heavy = side == "reference" and endpoint == "risk-profile"
    if heavy:
        requests = min(requests, args.reference_risk_requests)
    paths = [
        endpoint_path(endpoint, user) for user in endpoint_users(endpoint, requests, args.seed)
    ]
    # Warm-up, not counted: every worker imports, connects and plans once.
    drive(base_url, paths[: args.workers if heavy else args.clients], args.clients, args.timeout)
    with step(f"{side} {endpoint}: {requests:,} requests, {min(args.clients, requests)} clients"):
        measured = drive(base_url, paths, args.clients, args.timeout)
    say(
        f"   p50 {measured['p50_ms']:.1f} ms, p99 {measured['p99_ms']:.1f} ms, "
        f"{measured['rps']:,.1f} requests/s, errors {measured['errors']}"
    )
    # One client alone: the service time of a request, without queueing behind others.
    alone = args.single_client_requests if not heavy else args.workers
    measured["single_client"] = drive(base_url, paths[:alone], 1, args.timeout)
    say(
        f"   one client alone: p50 {measured['single_client']['p50_ms']:.1f} ms over "
        f"{alone} requests"
    )
    return measured


def fetch_answers(base_url: str, users: list[int], timeout: float) -> dict[str, dict]:
    """Every endpoint's status and body for each of `users`."""
    answers: dict[str, dict] = {}
    with httpx.Client(base_url=base_url, timeout=timeout) as client:
        for endpoint in ENDPOINTS:
            answers[endpoint] = {}
            for user in users:
                response = client.get(endpoint_path(endpoint, user))
                answers[endpoint][str(user)] = {
                    "status": response.status_code,
                    "body": response.json(),
                }
    return answers


def run_api_side(
    side: str, database_url: str, args: argparse.Namespace, folder: Path, users_checked: list[int]
) -> dict[str, Any]:
    """Start one side's API, load each endpoint, then fetch the checked users' answers."""
    server = ApiServer(SERVERS[side], database_url, args.workers, folder / f"api-{side}.log")
    result: dict[str, Any] = {"target": SERVERS[side], "endpoints": {}, "answers": {}}
    try:
        with step(f"{side}: starting uvicorn {SERVERS[side]} with {args.workers} workers"):
            server.wait_ready()
        result["load_average_before"] = load_average()
        for endpoint in ENDPOINTS:
            result["endpoints"][endpoint] = load_endpoint(server.base_url, side, endpoint, args)
        with step(f"{side}: the answers for users {users_checked}"):
            result["answers"] = fetch_answers(server.base_url, users_checked, args.timeout)
    finally:
        server.stop()
    return result


def reference_sql_run(url: str, endpoint: str, ref: dict, args: argparse.Namespace) -> dict:
    """The same users as the reference's HTTP run, its query alone (no HTTP, no pool)."""
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
    return ref_sql


def speedups(ours: dict[str, Any], other: dict[str, Any]) -> dict[str, float]:
    """How much faster ours is than `other`: in requests/s, and in latency (p50, p99, one
    client's p50)."""
    return {
        "rps": ours["rps"] / other["rps"],
        "p50": other["p50_ms"] / ours["p50_ms"],
        "p99": other["p99_ms"] / ours["p99_ms"],
        "single_client_p50": other["single_client"]["p50_ms"] / ours["single_client"]["p50_ms"],
    }


def api_phase(
    url: str, args: argparse.Namespace, folder: Path
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Both APIs under load, the reference's queries alone, and the checked users' answers
    compared; the API's figures and the comparison."""
    users_checked = check_users(args.check_users, args.seed)
    sides = {side: run_api_side(side, url, args, folder, users_checked) for side in SERVERS}
    endpoints = {}
    for endpoint in ENDPOINTS:
        ours, ref = sides["ours"]["endpoints"][endpoint], sides["reference"]["endpoints"][endpoint]
        ref_sql = reference_sql_run(url, endpoint, ref, args)
        over_http = speedups(ours, ref)
        endpoints[endpoint] = {
            "ours": ours,
            "reference": ref,
            "reference_sql": ref_sql,
            "speedup_vs_sql": speedups(ours, ref_sql),
            **{f"speedup_{name}": value for name, value in over_http.items()},
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
