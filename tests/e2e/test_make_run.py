"""`make run` on its own: it starts a PostgreSQL server of its own (no TXN_DATABASE_URL),
applies the schema, serves the API and the Dagster UI, and Ctrl-C stops every process."""

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil
import pytest

from tests.helpers import free_port
from txn_dev.local_postgres import LocalPostgres

pytestmark = pytest.mark.e2e


def wait_for(url: str, process: subprocess.Popen, log: Path, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()[-4000:]
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(1)
    pytest.fail(f"{url} did not answer:\n{log.read_text()[-4000:]}")


def test_make_run_brings_up_its_own_database_and_ctrl_c_stops_everything():
    workdir = Path(tempfile.mkdtemp(prefix="txn-make-run-"))
    workdir.chmod(0o755)  # the server may run as an unprivileged user
    pg_port, api_port, dagster_port = free_port(), free_port(), free_port()
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("TXN_", "DAGSTER_"))
    }
    env.update(
        {
            "TXN_LOCAL_PG_DIR": str(workdir / "pgdata"),
            "TXN_LOCAL_PG_PORT": str(pg_port),
            "TXN_LANDING": str(workdir / "landing"),
            "TXN_DAGSTER_HOME": str(workdir / "dagster_home"),
            "TXN_API_PORT": str(api_port),
            "TXN_DAGSTER_PORT": str(dagster_port),
        }
    )
    log = workdir / "run.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "txn_dev.run_local"],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=Path(__file__).parents[2],
        )
    try:
        wait_for(f"http://127.0.0.1:{api_port}/readyz", process, log)
        wait_for(f"http://127.0.0.1:{dagster_port}/server_info", process, log)
        children = psutil.Process(process.pid).children(recursive=True)
        assert len(children) >= 2  # Dagster and the API, each with helpers of its own
        assert LocalPostgres(workdir / "pgdata", pg_port).is_running()
        health = httpx.get(f"http://127.0.0.1:{api_port}/readyz", timeout=5).json()
        assert health["database"] == "ok"  # migrated, and the API reaches it

        process.send_signal(signal.SIGINT)  # Ctrl-C
        assert process.wait(timeout=90) == 0
        _, alive = psutil.wait_procs(children, timeout=30)
        assert not alive, f"still running after Ctrl-C: {[p.cmdline() for p in alive]}"
        assert not LocalPostgres(workdir / "pgdata", pg_port).is_running()
        assert (workdir / "pgdata" / "PG_VERSION").exists()  # the data stays for the next run
    finally:
        if process.poll() is None:
            process.kill()
        LocalPostgres(workdir / "pgdata", pg_port).stop()
