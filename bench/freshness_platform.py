"""The platform as `make run` starts it, for the freshness benchmark: `python -m
txn_dev.run_local` on free ports, in a folder of its own, on fresh databases; and the Dagster
GraphQL queries that follow its runs."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from bench.harness import DEFAULT_DIR, execute, finished_at, free_port, load_average, publish
from txn_core.settings import local_database_url
from txn_dev.local_postgres import LocalPostgres

STARTUP_SECONDS = 180
RUNS_QUERY = """query Runs($filter: RunsFilter) { runsOrError(filter: $filter) { ... on Runs {
  results { jobName status creationTime startTime endTime assetSelection { path } } } } }"""
BUSY_QUERY = """{ runsOrError(filter: {statuses: [QUEUED, NOT_STARTED, STARTING, STARTED,
  CANCELING]}) { ... on Runs { results { runId } } }
  partitionBackfillsOrError(status: REQUESTED) { ... on PartitionBackfills { results { id } } } }"""


@dataclass
class Platform:
    api: httpx.Client
    dagster: httpx.Client
    warehouse_url: str
    process_id: int | None = None  # run_local's: its process tree is the platform

    def graphql(self, query: str, **variables: Any) -> dict[str, Any]:
        response = self.dagster.post("/graphql", json={"query": query, "variables": variables})
        response.raise_for_status()
        return response.json()["data"]

    def runs(self, **run_filter: Any) -> list[dict]:
        return self.graphql(RUNS_QUERY, filter=run_filter)["runsOrError"]["results"]

    def busy(self) -> bool:
        """A run, or a backfill, is not finished."""
        found = self.graphql(BUSY_QUERY)
        return any(found[field]["results"] for field in found)


def add_platform_options(parser: argparse.ArgumentParser) -> None:
    """Where a platform benchmark writes (--dir) and which server it uses (--database-url)."""
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="default: var/bench")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("TXN_DATABASE_URL"),
        help="a server to create fresh databases on (default: TXN_DATABASE_URL; unset: the "
        "project's own PostgreSQL, fresh, in the run's temporary folder)",
    )


@contextmanager
def platform_scratch(name: str, log: Path) -> Iterator[Path]:
    """A temporary folder for a platform's files, reachable by the server's account (when we
    are root); at the end the platform's log is kept at `log` and the folder removed."""
    scratch = Path(tempfile.mkdtemp(prefix=f"txn-bench-{name}-"))
    scratch.chmod(0o755)
    try:
        yield scratch
    finally:
        if (scratch / "platform.log").exists():
            shutil.copyfile(scratch / "platform.log", log)
        shutil.rmtree(scratch, ignore_errors=True)


def run_platform_benchmark(
    name: str,
    args: argparse.Namespace,
    options: dict[str, Any],
    measure: Callable[[argparse.Namespace, Path, dict[str, Any]], None],
    render: Callable[[dict[str, Any]], str],
) -> dict[str, Any]:
    """One platform benchmark from its start to its report: `measure(args, scratch, report)`
    runs in the platform's temporary folder and fills the report, which also gets the load
    averages, the total time and the finish time, and goes to `<--dir>/<name>.json` (the
    platform's log beside it)."""
    args.dir = args.dir.resolve()
    args.dir.mkdir(parents=True, exist_ok=True)
    started, log = time.perf_counter(), args.dir / f"{name}-platform.log"
    report: dict[str, Any] = {"benchmark": name, "options": options}
    report |= {"server": "given" if args.database_url else "fresh", "platform_log": str(log)}
    report["load_average"] = {"start": load_average()}
    with platform_scratch(name, log) as scratch:
        measure(args, scratch, report)
    report["load_average"]["end"] = load_average()
    report["total_seconds"] = time.perf_counter() - started
    report["finished_at"] = finished_at()
    publish(report, args.dir / f"{name}.json", render)
    return report


def database_url(url: str, name: str) -> str:
    return urlsplit(url)._replace(path=f"/{name}").geturl()


@contextmanager
def platform_storage(server_url: str | None, folder: Path) -> Iterator[tuple[dict, str]]:
    """run_local's environment and the warehouse's URL: fresh databases on the server at
    `server_url`, else (as `make run` does) the project's own PostgreSQL, fresh in `folder`."""
    if server_url is None:
        port, data = free_port(), folder / "pg"
        env = {"TXN_LOCAL_PG_DIR": str(data), "TXN_LOCAL_PG_PORT": str(port)}
        try:
            yield env, local_database_url(port, "txn")
        finally:  # run_local stops it, unless it was interrupted before it could
            LocalPostgres(data, port).stop()
        return
    names = {role: f"bench_freshness_{uuid.uuid4().hex[:8]}_{role}" for role in ("txn", "dagster")}
    for name in names.values():
        execute(server_url, f'CREATE DATABASE "{name}"')
    warehouse = database_url(server_url, names["txn"])
    try:
        yield {"TXN_DATABASE_URL": warehouse, "TXN_DAGSTER_PG_DB": names["dagster"]}, warehouse
    finally:
        for name in names.values():
            execute(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _wait_until_up(client: httpx.Client, path: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the platform exited early:\n{log.read_text()[-5000:]}")
        try:
            if client.get(path, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{path} did not answer within {STARTUP_SECONDS} s; see {log}")


@contextmanager
def running_platform(server_url: str | None, folder: Path) -> Iterator[Platform]:
    """`python -m txn_dev.run_local` on free ports with its own landing zone and Dagster home,
    stopped as Ctrl-C stops `make run`. Only the benchmark's TXN_* settings reach it."""
    api_port, dagster_port = free_port(), free_port()
    with platform_storage(server_url, folder) as (storage_env, warehouse):
        env = {name: value for name, value in os.environ.items() if not name.startswith("TXN_")}
        env |= storage_env | {"TXN_API_PORT": str(api_port), "TXN_DAGSTER_PORT": str(dagster_port)}
        env |= {"TXN_LANDING": str(folder / "landing"), "TXN_DAGSTER_HOME": str(folder / "dagster")}
        env |= {"TXN_RATE_LIMIT_READS": ""}  # polling every 0.15 s is one busy client
        command, log = [sys.executable, "-m", "txn_dev.run_local"], folder / "platform.log"
        with log.open("wb") as out:  # a session of its own: Ctrl-C reaches it only through us
            process = subprocess.Popen(
                command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        api = httpx.Client(base_url=f"http://127.0.0.1:{api_port}", timeout=30)
        dagster = httpx.Client(base_url=f"http://127.0.0.1:{dagster_port}", timeout=30)
        try:
            _wait_until_up(api, "/readyz", process, log)
            _wait_until_up(dagster, "/server_info", process, log)
            yield Platform(api, dagster, warehouse, process.pid)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGINT)  # run_local stops what it started
                try:
                    process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
            api.close()
            dagster.close()
