"""`make run`: the whole platform on one machine, in the foreground.

Starts (or reuses) the project's own PostgreSQL server unless TXN_DATABASE_URL names one,
applies the schema, then runs the Dagster webserver with its daemon and the API. Ctrl-C stops
every process it started, the database server included.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

from txn_core.migrate import upgrade
from txn_core.settings import PROJECT_ROOT, Settings, get_settings
from txn_dev.local_postgres import LocalPostgres

log = logging.getLogger("txn.run")


# Dagster writes the per-partition events of a run (one "planned" and one materialization per day
# of a backfill) in batches of this many instead of one statement each, which halves its share of
# a long backfill (figures: bench/README.md, backfill). The Docker image sets the same.
DAGSTER_PROCESS_ENV = {"DAGSTER_EVENT_BATCH_SIZE": "1000"}


def dagster_storage_env(database_url: str) -> dict[str, str]:
    """Dagster's instance storage: the `dagster` database beside the warehouse, unless the
    TXN_DAGSTER_PG_* variables already say otherwise."""
    parts = urlsplit(database_url)
    derived = {
        "TXN_DAGSTER_PG_HOST": parts.hostname or "127.0.0.1",
        "TXN_DAGSTER_PG_PORT": str(parts.port or 5432),
        "TXN_DAGSTER_PG_USER": parts.username or "postgres",
        "TXN_DAGSTER_PG_PASSWORD": parts.password or "",
        "TXN_DAGSTER_PG_DB": "dagster",
    }
    return {name: os.environ.get(name, value) for name, value in derived.items()}


def prepare_dagster_home(home: Path) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    return home


def platform_commands(settings: Settings) -> dict[str, list[str]]:
    bin_dir = Path(sys.executable).parent
    return {
        "dagster": [
            str(bin_dir / "dagster"),
            "dev",
            "-w",
            str(PROJECT_ROOT / "workspace.yaml"),
            "-h",
            "127.0.0.1",
            "-p",
            str(settings.dagster_port),
        ],
        "api": [
            str(bin_dir / "uvicorn"),
            "txn_api.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(settings.api_port),
        ],
    }


def _stop(processes: dict[str, subprocess.Popen]) -> None:
    for name, process in processes.items():
        if process.poll() is None:
            log.info("Stopping %s...", name)
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 20
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s run  %(message)s")
    settings = get_settings()
    server = None
    env = dict(os.environ)
    if settings.database_url is None:
        server = LocalPostgres(settings.local_pg_dir, settings.local_pg_port)
        log.info("Starting PostgreSQL (data in %s)...", server.data_dir)
        server.start()
        env["TXN_DATABASE_URL"] = settings.warehouse_url
    log.info("Applying the warehouse schema...")
    upgrade(settings.warehouse_url)
    env.update(dagster_storage_env(settings.warehouse_url))
    env["DAGSTER_HOME"] = str(prepare_dagster_home(settings.dagster_home))
    for name, value in DAGSTER_PROCESS_ENV.items():
        env.setdefault(name, value)
    env.setdefault("TXN_LANDING", settings.landing)
    # A local platform shows its daily history with simulated days; production asks for none.
    env.setdefault("TXN_GENERATE_DAILY", "true")

    processes: dict[str, subprocess.Popen] = {}
    stopping = False

    def request_stop(signum, _frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        for name, command in platform_commands(settings).items():
            # Each child leads its own process group, so stopping it stops its children too.
            processes[name] = subprocess.Popen(command, env=env, start_new_session=True)
        log.info(
            "Dagster UI: http://127.0.0.1:%s   API docs: http://127.0.0.1:%s/docs   "
            "landing zone: %s   (Ctrl-C stops everything)",
            settings.dagster_port,
            settings.api_port,
            settings.landing,
        )
        while not stopping:
            if exited := [name for name, p in processes.items() if p.poll() is not None]:
                log.error("%s exited; stopping the platform.", ", ".join(exited))
                return 1
            time.sleep(0.5)
        return 0
    finally:
        _stop(processes)
        if server is not None:
            log.info("Stopping PostgreSQL...")
            server.stop()


if __name__ == "__main__":
    sys.exit(main())
