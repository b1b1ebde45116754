"""The whole platform as `make run` starts it: the real Dagster webserver and daemon with the
project's dagster.yaml, and the real API, against the test PostgreSQL server."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.helpers import create_database, drop_database, free_port

STARTUP_SECONDS = 180


@dataclass
class Platform:
    api: str
    dagster: str
    landing: Path
    warehouse_url: str
    process: subprocess.Popen

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        response = httpx.post(
            f"{self.dagster}/graphql",
            json={"query": query, "variables": variables or {}},
            timeout=30,
        )
        response.raise_for_status()
        return response.json()["data"]


def _wait_until_up(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the platform exited early:\n{log.read_text()[-5000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    pytest.fail(f"{url} did not answer within {STARTUP_SECONDS} s:\n{log.read_text()[-5000:]}")


@pytest.fixture(scope="module")
def platform(postgres_server, template_database, tmp_path_factory) -> Iterator[Platform]:
    warehouse_url = create_database(postgres_server, template_database)
    dagster_url = create_database(postgres_server)
    dagster_db = urlsplit(dagster_url)
    workdir = tmp_path_factory.mktemp("platform")
    api_port, dagster_port = free_port(), free_port()
    env = {
        **os.environ,
        "TXN_DATABASE_URL": warehouse_url,
        "TXN_LANDING": str(workdir / "landing"),
        "TXN_API_PORT": str(api_port),
        "TXN_DAGSTER_PORT": str(dagster_port),
        "TXN_DAGSTER_HOME": str(workdir / "dagster_home"),
        "TXN_DAGSTER_PG_HOST": dagster_db.hostname,
        "TXN_DAGSTER_PG_PORT": str(dagster_db.port),
        "TXN_DAGSTER_PG_USER": dagster_db.username,
        "TXN_DAGSTER_PG_PASSWORD": dagster_db.password or "",
        "TXN_DAGSTER_PG_DB": dagster_db.path.lstrip("/"),
        "TXN_SETTLE_SECONDS": "1",
        # The tests poll as one busy client; the limits have their own tests.
        "TXN_RATE_LIMIT_READS": "",
    }
    log = workdir / "platform.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "txn_dev.run_local"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=Path(__file__).parents[2],
        )
    platform = Platform(
        api=f"http://127.0.0.1:{api_port}",
        dagster=f"http://127.0.0.1:{dagster_port}",
        landing=workdir / "landing",
        warehouse_url=warehouse_url,
        process=process,
    )
    try:
        _wait_until_up(f"{platform.api}/readyz", process, log)
        _wait_until_up(f"{platform.dagster}/server_info", process, log)
        yield platform
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # what Ctrl-C does
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        print(log.read_text()[-3000:])
        drop_database(postgres_server, warehouse_url)
        drop_database(postgres_server, dagster_url)
