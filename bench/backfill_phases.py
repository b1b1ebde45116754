"""The backfill benchmark's phases (a) and (b), each run in a child process of its own by
`bench.harness.measure`: the backfill through Dagster, and the same work without it."""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg

from bench.loads import StageClock
from txn_core import generator
from txn_core.generated_days import load_generated_days
from txn_dev.run_local import DAGSTER_PROCESS_ENV


@contextmanager
def _stderr_to(path: Path) -> Iterator[None]:
    """Send this process's stderr (file descriptor 2) to `path` for the block: Dagster's console
    logger keeps writing every event as in a real run, into a file instead of the report."""
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "ab") as log:
        os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def _dagster_storage(storage: str, database_url: str | None) -> dict[str, Any]:
    if storage == "sqlite":
        return {}
    url = urlsplit(database_url)
    return {
        "storage": {
            "postgres": {
                "postgres_db": {
                    "hostname": url.hostname,
                    "port": url.port,
                    "username": url.username,
                    "password": url.password or "",
                    "db_name": url.path.lstrip("/"),
                    # As dagster.yaml: psycopg2, because SQLAlchemy 2.1's psycopg 3 default
                    # breaks Dagster's event writes.
                    "scheme": "postgresql+psycopg2",
                }
            }
        }
    }


def _event_stages(records, started_wall: float, finished_wall: float) -> dict[str, Any]:
    """Where the run's time went, from its event log: the asset's body runs from its first log
    line to its last ("Month N of N done"); Dagster's own time is before and after it."""
    from dagster import DagsterEventType

    marks: dict[str, float] = {}
    counts: Counter[str] = Counter()
    for record in records:
        event = record.dagster_event
        if event is not None:
            counts[event.event_type.name] += 1
            if event.event_type == DagsterEventType.RUN_START:
                marks.setdefault("run_start", record.timestamp)
            continue
        message = record.user_message or ""
        if message.startswith("Generating and loading"):
            marks.setdefault("body_start", record.timestamp)
        elif message.startswith("Checked"):
            marks.setdefault("first_copy", record.timestamp)
        elif message.startswith("Month "):
            marks["body_end"] = record.timestamp
    found = {"event_counts": dict(counts), "materializations": counts["ASSET_MATERIALIZATION"]}
    if not {"run_start", "body_start", "first_copy", "body_end"} <= marks.keys():
        return {**found, "marks": marks}
    return {
        **found,
        "dagster_before_body": marks["body_start"] - started_wall,
        "dagster_before_run_start": marks["run_start"] - started_wall,
        "body": marks["body_end"] - marks["body_start"],
        "before_first_copy": marks["first_copy"] - marks["body_start"],
        "dagster_after_body": finished_wall - marks["body_end"],
        "marks": {name: value - started_wall for name, value in marks.items()},
    }


def _warehouse_counts(database_url: str) -> dict[str, int]:
    """The ledger's counts over every upload of the phase (one per month)."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT sum(rows_read), sum(rows_loaded), sum(rows_duplicate), sum(rows_rejected), "
            "count(*) FROM uploads WHERE status = 'succeeded'"
        ).fetchone()
    names = ("rows_read", "rows_loaded", "rows_duplicate", "rows_rejected", "uploads")
    return {name: int(value or 0) for name, value in zip(names, row, strict=True)}


def _materialize(
    home: str, overrides: dict, database_url: str, days: tuple[str, str], rows_per_day: int
) -> tuple[Any, list, dict[str, Any], dict[str, float]]:
    """`daily_transactions` materialized once over `days` (first, last) with the range tags, on
    a local instance in `home`: the result, the run's records, where its time went, and the
    seconds of importing Dagster and the assets, of creating the instance and of the run."""
    imports_started = time.perf_counter()
    from dagster import DagsterInstance, materialize

    from txn_assets.assets.generation import daily_transactions
    from txn_assets.resources import WarehouseResource
    from txn_assets.schedules import RANGE_END_TAG, RANGE_START_TAG

    times = {"import_seconds": time.perf_counter() - imports_started}
    instance_started = time.perf_counter()
    with DagsterInstance.local_temp(home, overrides=overrides) as instance:
        times["instance_seconds"] = time.perf_counter() - instance_started
        started_wall, started = time.time(), time.perf_counter()
        result = materialize(
            [daily_transactions],
            instance=instance,
            resources={"warehouse": WarehouseResource(database_url=database_url)},
            tags={RANGE_START_TAG: days[0], RANGE_END_TAG: days[1]},
            run_config={"ops": {"daily_transactions": {"config": {"rows_per_day": rows_per_day}}}},
        )
        times["seconds"] = time.perf_counter() - started
        finished_wall = time.time()
        records = instance.all_logs(result.run_id)
        stages = _event_stages(records, started_wall, finished_wall)
    return result, records, stages, times


def dagster_backfill(
    database_url: str,
    first_day: str,
    last_day: str,
    rows_per_day: int,
    dagster_log: str,
    storage: str = "sqlite",
    storage_url: str | None = None,
) -> dict[str, Any]:
    """(a): the range of days as one run of `daily_transactions`, as a UI backfill of a
    single-run asset makes it: the range tags on one run, executed by Dagster in process."""
    for name, value in DAGSTER_PROCESS_ENV.items():
        os.environ.setdefault(name, value)  # as the platform's Dagster processes run
    overrides = {"telemetry": {"enabled": False}, **_dagster_storage(storage, storage_url)}
    with (
        _stderr_to(Path(dagster_log)),  # Dagster's warnings and console log, as a run writes them
        tempfile.TemporaryDirectory(prefix="bench-dagster-home-") as home,
    ):
        days = (first_day, last_day)
        result, records, stages, times = _materialize(
            home, overrides, database_url, days, rows_per_day
        )

    counts = _warehouse_counts(database_url)
    return {
        "rows": counts["rows_read"],
        "seconds": times["seconds"],
        "success": result.success,
        "run_id": result.run_id,
        **counts,
        "materializations": stages.pop("materializations"),
        "event_counts": stages.pop("event_counts"),
        "events": len(records),
        "import_seconds": times["import_seconds"],
        "instance_seconds": times["instance_seconds"],
        "dagster_storage": storage,
        "stages": stages,
    }


def work_alone(
    database_url: str,
    first_day: str,
    last_day: str,
    rows_per_day: int,
    keep_csv: str,
    loader_log: str,
) -> dict[str, Any]:
    """(b): the asset's body, `load_generated_days`, called directly; then, untimed, the same
    range as one CSV for (c)."""
    first, last = dt.date.fromisoformat(first_day), dt.date.fromisoformat(last_day)
    clock = StageClock()
    logger = logging.getLogger("bench.backfill.work")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.addHandler(clock)
    file_handler = logging.FileHandler(loader_log)
    file_handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    logger.addHandler(file_handler)

    started = time.perf_counter()
    result = load_generated_days(database_url, first, last, rows_per_day, logger=logger)
    finished = time.perf_counter()
    file_handler.close()
    generated = generator.write_days(Path(keep_csv), first, last, rows_per_day)
    return {
        "rows": result.rows_read,
        "seconds": finished - started,
        "rows_generated": generated.rows,
        **_warehouse_counts(database_url),
        "csv_bytes": generated.path.stat().st_size,
        "stages": {"before_first_copy": clock.marks.get("Checked", finished) - started},
    }
