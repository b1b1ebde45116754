"""Backfill benchmark: a year of `daily_transactions` in one Dagster run, against the same work
without Dagster and against a plain COPY of the same rows.

`python -m bench.backfill` (`make bench-backfill`) starts one PostgreSQL server of its own (the
project's LocalPostgres with its bulk-load settings, fresh in var/bench/backfill-pg) and
measures, in one run:

  (a) a single-run backfill of `daily_transactions` over --days days (365 from 2024-01-01) at
      --rows-per-day rows (30,000, scaled by the weekday rhythm), executed by Dagster
      (`materialize` with the range tags, a real local DagsterInstance) into an empty migrated
      warehouse: month by month, generation and DuckDB check of the next month overlapping the
      COPY of the current one, one materialization per day;
  (b) the same work without Dagster, in a second empty warehouse: the asset's body,
      `generated_days.load_generated_days`, called directly;
  (c) a plain COPY of the same rows as one CSV (written by `generator.write_days` after (b),
      untimed) into the reference system's table (uuid primary key and three indexes), streamed
      in 1 MiB chunks, in a third database.

Dagster's overhead is ((a) - (b)) / (a) in seconds. Each phase runs in a child process
(bench.memory), so its peak resident memory is its own. The benchmark prints the table and
ratios and writes them to var/bench/backfill.json; it never asserts a target.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import platform
import shutil
import sys
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

import psycopg

from bench.ingest import (
    REFERENCE_TABLE,
    _mib,
    _StageClock,
    admin,
    count_rows,
    free_port,
    fresh_server,
    publish,
    say,
    step,
)
from bench.memory import BackendMemory, ChildRun, run_phase
from txn_core import generator
from txn_core.generated_days import load_generated_days
from txn_core.migrate import upgrade
from txn_dev.local_postgres import LocalPostgres
from txn_dev.run_local import DAGSTER_PROCESS_ENV

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DIR = PROJECT_ROOT / "var" / "bench"
SERVER_FOLDER = "backfill-pg"  # not ingest's "pg": the two benchmarks may run side by side
FIRST_DAY = dt.date(2024, 1, 1)


class Phase(NamedTuple):
    label: str  # its row in the table
    title: str  # its progress line
    database: str
    table: str
    function: str  # "module:function" that the phase's child process runs


PHASES = {
    "a": Phase(
        label="single-run backfill through Dagster",
        title="single-run backfill of daily_transactions through Dagster (materialize, "
        "range tags), empty warehouse",
        database="bench_backfill",
        table="transactions",
        function="bench.backfill:dagster_backfill",
    ),
    "b": Phase(
        label="the same work without Dagster",
        title="the same work without Dagster: load_generated_days, empty warehouse",
        database="bench_work",
        table="transactions",
        function="bench.backfill:work_alone",
    ),
    "c": Phase(
        label="plain COPY of its CSV, reference table",
        title="plain COPY of the same rows as one CSV into the reference's table (primary "
        "key + 3 indexes)",
        database="bench_copy_ref",
        table="transactions",
        function="bench.ingest:copy_file",
    ),
}

# What each database holds before the phases: our migrated schema or the reference's table.
SCHEMAS = {"bench_backfill": None, "bench_work": None, "bench_copy_ref": REFERENCE_TABLE}
DAGSTER_DATABASE = "bench_dagster"  # the instance's storage with --dagster-storage postgres

# Ratios of rows per second, with the aim we hold ourselves to (information, never a verdict).
RATIOS = {
    "a/c": ("backfill through Dagster vs plain COPY", ">= 2x"),
    "b/c": ("the same work without Dagster vs plain COPY", ""),
}
OVERHEAD_AIM = "< 10%"


def expected_rows(first_day: dt.date, last_day: dt.date, rows_per_day: int) -> int:
    days = (last_day - first_day).days + 1
    return sum(
        generator.rows_for_day(first_day + dt.timedelta(days=i), rows_per_day) for i in range(days)
    )


# --- Phases: each runs in a child process (bench.memory.run_phase) -------------------------


@contextmanager
def _stderr_to(path: Path):
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
    from urllib.parse import urlsplit

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
    with (
        _stderr_to(Path(dagster_log)),  # Dagster's warnings and console log, as a run writes them
        tempfile.TemporaryDirectory(prefix="bench-dagster-home-") as home,
    ):
        imports_started = time.perf_counter()
        from dagster import DagsterInstance, materialize

        from txn_assets.assets.generation import daily_transactions
        from txn_assets.resources import WarehouseResource
        from txn_assets.schedules import RANGE_END_TAG, RANGE_START_TAG

        import_seconds = time.perf_counter() - imports_started
        run_config = {"ops": {"daily_transactions": {"config": {"rows_per_day": rows_per_day}}}}
        tags = {RANGE_START_TAG: first_day, RANGE_END_TAG: last_day}
        overrides = {"telemetry": {"enabled": False}, **_dagster_storage(storage, storage_url)}

        instance_started = time.perf_counter()
        with DagsterInstance.local_temp(home, overrides=overrides) as instance:
            instance_seconds = time.perf_counter() - instance_started
            started_wall, started = time.time(), time.perf_counter()
            result = materialize(
                [daily_transactions],
                instance=instance,
                resources={"warehouse": WarehouseResource(database_url=database_url)},
                tags=tags,
                run_config=run_config,
            )
            seconds = time.perf_counter() - started
            finished_wall = time.time()
            records = instance.all_logs(result.run_id)
            stages = _event_stages(records, started_wall, finished_wall)

    counts = _warehouse_counts(database_url)
    return {
        "rows": counts["rows_read"],
        "seconds": seconds,
        "success": result.success,
        "run_id": result.run_id,
        **counts,
        "materializations": stages.pop("materializations"),
        "event_counts": stages.pop("event_counts"),
        "events": len(records),
        "import_seconds": import_seconds,
        "instance_seconds": instance_seconds,
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
    clock = _StageClock()
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


# --- The run: server, phases, report -------------------------------------------------------


def measure(server: LocalPostgres, key: str, phase: Phase, kwargs: dict) -> dict[str, Any]:
    """Run one phase in its child process, after a checkpoint so no earlier phase's writes
    are paid for here; its rows/s, the child's peak memory and the backend's."""
    admin(server, "CHECKPOINT")
    say(f"-> ({key}) {phase.title}")
    load_before = os.getloadavg()
    with BackendMemory(server.url("postgres"), phase.database) as backend:
        child: ChildRun = run_phase(phase.function, kwargs)
    result = dict(child.result)
    result.update(
        key=key,
        label=phase.label,
        title=phase.title,
        database=phase.database,
        rows_per_second=result["rows"] / result["seconds"] if result["seconds"] else None,
        peak_rss_bytes=child.peak_rss_bytes,
        backend_private_peak_bytes=backend.peak_bytes,
        process_seconds=child.wall_seconds,
        rows_in_table=count_rows(server, phase.database, phase.table),
        load_average_before=load_before,
        load_average_after=os.getloadavg(),
    )
    say(
        f"   done in {result['seconds']:.1f} s ({child.wall_seconds:.1f} s with its process): "
        f"{result['rows']:,} rows, {result['rows_per_second']:,.0f} rows/s, "
        f"peak RSS {_mib(result['peak_rss_bytes'])}"
    )
    return result


def run_phases(
    server: LocalPostgres, args: argparse.Namespace, folder: Path, csv_path: Path
) -> dict[str, dict[str, Any]]:
    for database, schema in SCHEMAS.items():
        admin(server, f'CREATE DATABASE "{database}"')
        if schema is None:
            upgrade(server.url(database))
        else:
            admin(server, schema, database=database)
    if args.dagster_storage == "postgres":
        admin(server, f'CREATE DATABASE "{DAGSTER_DATABASE}"')

    first = args.first_day
    last = first + dt.timedelta(days=args.days - 1)
    days = {"first_day": first.isoformat(), "last_day": last.isoformat()}
    for log in ("backfill-dagster.log", "backfill-loader.log"):
        (folder / log).unlink(missing_ok=True)

    results = {}
    results["a"] = measure(
        server,
        "a",
        PHASES["a"],
        {
            "database_url": server.url(PHASES["a"].database),
            **days,
            "rows_per_day": args.rows_per_day,
            "dagster_log": str(folder / "backfill-dagster.log"),
            "storage": args.dagster_storage,
            "storage_url": server.url(DAGSTER_DATABASE),
        },
    )
    results["b"] = measure(
        server,
        "b",
        PHASES["b"],
        {
            "database_url": server.url(PHASES["b"].database),
            **days,
            "rows_per_day": args.rows_per_day,
            "keep_csv": str(csv_path),
            "loader_log": str(folder / "backfill-loader.log"),
        },
    )
    results["c"] = measure(
        server,
        "c",
        PHASES["c"],
        {"database_url": server.url(PHASES["c"].database), "path": str(csv_path)},
    )
    return results


def ratios(phases: dict[str, dict[str, Any]]) -> dict[str, float | None]:
    result = {}
    for name in RATIOS:
        top, bottom = phases[name[0]]["rows_per_second"], phases[name[2]]["rows_per_second"]
        result[name] = top / bottom if top and bottom else None
    return result


def overhead(phases: dict[str, dict[str, Any]]) -> dict[str, float | None]:
    """Dagster's share of the backfill's time: ((a) - (b)) / (a), on the timed work and on the
    child processes' whole lives (interpreter start and imports included)."""
    backfill, work = phases["a"], phases["b"]

    def share(top: float, bottom: float) -> float | None:
        return (top - bottom) / top if top else None

    result = {
        "seconds": backfill["seconds"] - work["seconds"],
        "share": share(backfill["seconds"], work["seconds"]),
        "process_seconds": backfill["process_seconds"] - work["process_seconds"],
        "process_share": share(backfill["process_seconds"], work["process_seconds"]),
    }
    stages = backfill["stages"]
    if "dagster_before_body" in stages and backfill["seconds"]:
        # Measured inside the one run, so the machine's other load moves it far less than the
        # difference of two runs: what Dagster did before and after the asset's body.
        own = stages["dagster_before_body"] + stages["dagster_after_body"]
        result.update(event_log_seconds=own, event_log_share=own / backfill["seconds"])
    return result


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def render(report: dict[str, Any]) -> str:
    phases, lines = report["phases"], []
    header = (
        f"{'phase':<46} {'rows':>12} {'seconds':>9} {'rows/s':>11} {'peak RSS':>10} {'backend':>10}"
    )
    lines += [header, "-" * len(header)]
    for phase in phases.values():
        label = f"({phase['key']}) {phase['label']}"
        lines.append(
            f"{label:<46} {phase['rows']:>12,} {phase['seconds']:>9.1f} "
            f"{phase['rows_per_second']:>11,.0f} {_mib(phase['peak_rss_bytes']):>10} "
            f"{_mib(phase['backend_private_peak_bytes']):>10}"
        )
    lines += ["", "ratios of rows/s:"]
    for name, value in report["ratios"].items():
        meaning, aim = RATIOS[name]
        shown = "n/a" if value is None else f"{value:.2f}x"
        aim_note = f"  (aim {aim})" if aim else ""
        lines.append(f"  ({name[0]})/({name[2]}) {shown:>8}  {meaning}{aim_note}")

    cost = report["dagster_overhead"]
    backfill, work = phases["a"], phases["b"]
    lines += [
        "",
        f"Dagster overhead, ((a) - (b)) / (a): {_percent(cost['share'])} "
        f"({cost['seconds']:.1f} s of {backfill['seconds']:.1f} s)  (aim {OVERHEAD_AIM})",
        f"  with interpreter start and imports (whole child processes): "
        f"{_percent(cost['process_share'])} ({backfill['process_seconds']:.1f} s against "
        f"{work['process_seconds']:.1f} s; importing Dagster and the assets "
        f"{backfill['import_seconds']:.1f} s, the instance {backfill['instance_seconds']:.1f} s)",
    ]
    if "event_log_share" in cost:
        lines.append(
            f"  from the run's own event log (Dagster's time before and after the asset's body, "
            f"measured inside the one run): {_percent(cost['event_log_share'])} "
            f"({cost['event_log_seconds']:.1f} s)"
        )
    lines += ["", "where the time went:"]
    stages = backfill["stages"]
    if "body" in stages:
        counts = backfill["event_counts"]
        lines.append(
            f"  (a) Dagster before the asset's body {stages['dagster_before_body']:.1f} s "
            f"({stages['dagster_before_run_start']:.1f} s of it before RUN_START, with "
            f"{counts.get('ASSET_MATERIALIZATION_PLANNED', 0)} ASSET_MATERIALIZATION_PLANNED "
            f"events); the body {stages['body']:.1f} s ({backfill['uploads']} monthly uploads; "
            f"the first COPY began after {stages['before_first_copy']:.1f} s of generation and "
            f"DuckDB check); Dagster after the body {stages['dagster_after_body']:.1f} s "
            f"({backfill['materializations']} ASSET_MATERIALIZATION events, step and run end); "
            f"{backfill['events']} events in all, {backfill['dagster_storage']} storage"
        )
    else:
        lines.append("  (a) the run's event log lacks the asset's lines; see backfill.json")
    lines.append(
        f"  (b) {work['uploads']} monthly uploads; the first COPY began after "
        f"{work['stages']['before_first_copy']:.1f} s"
    )
    load = report["load_average"]
    lines += [
        "",
        f"rows: {report['expected_rows']:,} expected ({report['options']['days']} days from "
        f"{report['options']['first_day']}, {report['options']['rows_per_day']:,} per day "
        "before the weekday rhythm); CSV "
        f"{work['csv_bytes'] / 2**20:,.0f} MiB",
        f"load average (1 min) at start {load['start'][0]:.2f}, at end {load['end'][0]:.2f}; "
        f"{report['machine']['cpus']} CPUs",
        "seconds: the phase's work timed inside its process ((a): the materialize call; (b): "
        "from the ledger lookup to the load's commit; (c): connect to commit).",
        "peak RSS: the phase's own process (interpreter and imports included), from wait4.",
        "backend: private memory (RssAnon) of the PostgreSQL backend(s) serving the phase's "
        "warehouse, sampled every 0.2 s; shared_buffers "
        f"({report['server']['settings']['shared_buffers']}) are shared and in neither column.",
    ]
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.backfill",
        description="Backfill benchmark: a single-run backfill of daily_transactions through "
        "Dagster, the same work without Dagster, and a plain COPY of the same rows, on one "
        "PostgreSQL server of its own.",
    )
    parser.add_argument("--days", type=int, default=365, help="days of the backfill (default: 365)")
    parser.add_argument(
        "--rows-per-day",
        type=int,
        default=30_000,
        help="rows per day before the weekday rhythm (default: 30,000)",
    )
    parser.add_argument(
        "--first-day",
        type=dt.date.fromisoformat,
        default=FIRST_DAY,
        help="first day of the range (default: 2024-01-01, the first partition)",
    )
    parser.add_argument(
        "--dagster-storage",
        choices=("sqlite", "postgres"),
        default="postgres",
        help="where the Dagster instance keeps runs and events: a database on the benchmark's "
        "server, as dagster.yaml has it for the platform (postgres, default), or a temporary "
        "local SQLite instance (sqlite)",
    )
    parser.add_argument(
        "--dir",
        type=Path,
        default=DEFAULT_DIR,
        help="the server's data, the CSV, logs and backfill.json (default: var/bench; must be "
        "traversable by the server's account)",
    )
    parser.add_argument("--port", type=int, default=0, help="server port (default: a free one)")
    parser.add_argument(
        "--keep",
        action="store_true",
        help="leave the server running with its databases, and the CSV, at the end",
    )
    args = parser.parse_args(argv)
    if args.days < 1 or args.rows_per_day < 1:
        parser.error("--days and --rows-per-day must be at least 1")
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    folder = args.dir.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    first = args.first_day
    last = first + dt.timedelta(days=args.days - 1)
    expected = expected_rows(first, last, args.rows_per_day)
    csv_path = folder / f"backfill-{first}-to-{last}-{args.rows_per_day}.csv"
    load_start = os.getloadavg()
    started = time.perf_counter()
    say(
        f"backfill of {first}..{last} ({args.days} days) at {args.rows_per_day:,} rows per day: "
        f"{expected:,} rows; load average {load_start[0]:.2f}"
    )

    with step("starting a fresh PostgreSQL server (bulk-load settings)"):
        server = fresh_server(folder / SERVER_FOLDER, args.port or free_port())
    try:
        with psycopg.connect(server.url("postgres")) as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]
        phases = run_phases(server, args, folder, csv_path)
    finally:
        if args.keep:
            say(f"server kept running: {server.url('postgres')} (data in {server.data_dir})")
            say(f"CSV kept: {csv_path}")
        else:
            with step("stopping the server and removing its data and the CSV"):
                server.stop()
                shutil.rmtree(server.data_dir, ignore_errors=True)
                csv_path.unlink(missing_ok=True)

    report = {
        "benchmark": "backfill",
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "total_seconds": time.perf_counter() - started,
        "options": {
            "days": args.days,
            "rows_per_day": args.rows_per_day,
            "first_day": first.isoformat(),
            "last_day": last.isoformat(),
            "dagster_storage": args.dagster_storage,
        },
        "expected_rows": expected,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "load_average": {"start": load_start, "end": os.getloadavg()},
        "server": {"version": version, "settings": dict(server.settings)},
        "csv": str(csv_path),
        "logs": {
            "dagster": str(folder / "backfill-dagster.log"),
            "loader": str(folder / "backfill-loader.log"),
        },
        "phases": phases,
        "ratios": ratios(phases),
        "dagster_overhead": overhead(phases),
    }
    publish(report, folder / "backfill.json", render)
    return report


if __name__ == "__main__":
    main(sys.argv[1:])
