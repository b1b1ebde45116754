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
(bench.harness.measure; the bodies of (a) and (b) are in bench.backfill_phases), so its peak
resident memory is its own. The benchmark prints the table and ratios and writes them to
var/bench/backfill.json; it never asserts a target.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path
from typing import Any

from bench.harness import (
    Phase,
    add_server_options,
    admin,
    create_databases,
    finished_at,
    load_average,
    machine,
    measure,
    own_server,
    phase_table,
    publish,
    rate_ratios,
    ratio_lines,
    say,
    server_version,
)
from bench.reference_data import REFERENCE_TABLE
from txn_core import generator
from txn_dev.local_postgres import LocalPostgres

SERVER_FOLDER = "backfill-pg"  # not ingest's "pg": the two benchmarks may run side by side
FIRST_DAY = dt.date(2024, 1, 1)

PHASES = {
    "a": Phase(
        label="single-run backfill through Dagster",
        title="single-run backfill of daily_transactions through Dagster (materialize, "
        "range tags), empty warehouse",
        database="bench_backfill",
        target="bench.backfill_phases:dagster_backfill",
    ),
    "b": Phase(
        label="the same work without Dagster",
        title="the same work without Dagster: load_generated_days, empty warehouse",
        database="bench_work",
        target="bench.backfill_phases:work_alone",
    ),
    "c": Phase(
        label="plain COPY of its CSV, reference table",
        title="plain COPY of the same rows as one CSV into the reference's table (primary "
        "key + 3 indexes)",
        database="bench_copy_ref",
        target="bench.loads:copy_file",
    ),
}

# What each database holds before the phases: our migrated schema or the reference's table.
SCHEMAS = {"bench_backfill": None, "bench_work": None, "bench_copy_ref": REFERENCE_TABLE}
DAGSTER_DATABASE = "bench_dagster"  # the instance's storage with --dagster-storage postgres
LOGS = {"dagster": "backfill-dagster.log", "loader": "backfill-loader.log"}

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


# --- The run: phases, overhead, report -----------------------------------------------------


def measure_with_load(server: LocalPostgres, key: str, kwargs: dict) -> dict[str, Any]:
    """`measure`, with the load average before and after: a busy machine moves the overhead."""
    before = load_average()
    result = measure(server, key, PHASES[key], kwargs)
    return result | {"load_average_before": before, "load_average_after": load_average()}


def run_phases(
    server: LocalPostgres, args: argparse.Namespace, folder: Path, csv_path: Path
) -> dict[str, dict[str, Any]]:
    create_databases(server, SCHEMAS)
    if args.dagster_storage == "postgres":
        admin(server, f'CREATE DATABASE "{DAGSTER_DATABASE}"')
    for log in LOGS.values():
        (folder / log).unlink(missing_ok=True)

    def url(key: str) -> str:
        return server.url(PHASES[key].database)

    last = args.first_day + dt.timedelta(days=args.days - 1)
    days = {
        "first_day": args.first_day.isoformat(),
        "last_day": last.isoformat(),
        "rows_per_day": args.rows_per_day,
    }
    dagster = {
        "dagster_log": str(folder / LOGS["dagster"]),
        "storage": args.dagster_storage,
        "storage_url": server.url(DAGSTER_DATABASE),
    }
    work = {"keep_csv": str(csv_path), "loader_log": str(folder / LOGS["loader"])}
    return {
        "a": measure_with_load(server, "a", {"database_url": url("a"), **days, **dagster}),
        "b": measure_with_load(server, "b", {"database_url": url("b"), **days, **work}),
        "c": measure_with_load(server, "c", {"database_url": url("c"), "path": str(csv_path)}),
    }


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


def _overhead_lines(cost: dict[str, Any], backfill: dict, work: dict) -> list[str]:
    lines = [
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
    return lines


def _time_lines(backfill: dict[str, Any], work: dict[str, Any]) -> list[str]:
    """Where the time of (a) and (b) went."""
    stages = backfill["stages"]
    if "body" not in stages:
        lines = ["  (a) the run's event log lacks the asset's lines; see backfill.json"]
    else:
        counts = backfill["event_counts"]
        lines = [
            f"  (a) Dagster before the asset's body {stages['dagster_before_body']:.1f} s "
            f"({stages['dagster_before_run_start']:.1f} s of it before RUN_START, with "
            f"{counts.get('ASSET_MATERIALIZATION_PLANNED', 0)} ASSET_MATERIALIZATION_PLANNED "
            f"events); the body {stages['body']:.1f} s ({backfill['uploads']} monthly uploads; "
            f"the first COPY began after {stages['before_first_copy']:.1f} s of generation and "
            f"DuckDB check); Dagster after the body {stages['dagster_after_body']:.1f} s "
            f"({backfill['materializations']} ASSET_MATERIALIZATION events, step and run end); "
            f"{backfill['events']} events in all, {backfill['dagster_storage']} storage"
        ]
    lines.append(
        f"  (b) {work['uploads']} monthly uploads; the first COPY began after "
        f"{work['stages']['before_first_copy']:.1f} s"
    )
    return lines


def render(report: dict[str, Any]) -> str:
    phases, options = report["phases"], report["options"]
    backfill, work = phases["a"], phases["b"]
    load = report["load_average"]
    return "\n".join(
        [
            *phase_table(phases),
            "",
            *ratio_lines(report["ratios"], RATIOS),
            "",
            *_overhead_lines(report["dagster_overhead"], backfill, work),
            "",
            "where the time went:",
            *_time_lines(backfill, work),
            "",
            f"rows: {report['expected_rows']:,} expected ({options['days']} days from "
            f"{options['first_day']}, {options['rows_per_day']:,} per day before the weekday "
            f"rhythm); CSV {work['csv_bytes'] / 2**20:,.0f} MiB",
            f"load average (1 min) at start {load['start'][0]:.2f}, at end {load['end'][0]:.2f}; "
            f"{report['machine']['cpus']} CPUs",
            "seconds: the phase's work timed inside its process ((a): the materialize call; (b): "
            "from the ledger lookup to the load's commit; (c): connect to commit).",
            "peak RSS: the phase's own process (interpreter and imports included), from wait4.",
            "backend: private memory (RssAnon) of the PostgreSQL backend(s) serving the phase's "
            "warehouse, sampled every 0.2 s; shared_buffers "
            f"({report['server']['settings']['shared_buffers']}) are shared and in neither "
            "column.",
        ]
    )


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
    add_server_options(
        parser,
        dir_help="the server's data, the CSV, logs and backfill.json (default: var/bench; must "
        "be traversable by the server's account)",
        keep_help="leave the server running with its databases, and the CSV, at the end",
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
    load_start = load_average()
    started = time.perf_counter()
    say(
        f"backfill of {first}..{last} ({args.days} days) at {args.rows_per_day:,} rows per day: "
        f"{expected:,} rows; load average {load_start[0]:.2f}"
    )

    try:
        with own_server(folder / SERVER_FOLDER, args.port, args.keep) as server:
            version = server_version(server)
            phases = run_phases(server, args, folder, csv_path)
    finally:
        if args.keep:
            say(f"CSV kept: {csv_path}")
        else:
            csv_path.unlink(missing_ok=True)

    report = {
        "benchmark": "backfill",
        "finished_at": finished_at(),
        "total_seconds": time.perf_counter() - started,
        "options": {
            "days": args.days,
            "rows_per_day": args.rows_per_day,
            "first_day": first.isoformat(),
            "last_day": last.isoformat(),
            "dagster_storage": args.dagster_storage,
        },
        "expected_rows": expected,
        "machine": machine(),
        "load_average": {"start": load_start, "end": load_average()},
        "server": {"version": version, "settings": dict(server.settings)},
        "csv": str(csv_path),
        "logs": {name: str(folder / log) for name, log in LOGS.items()},
        "phases": phases,
        "ratios": rate_ratios(phases, RATIOS),
        "dagster_overhead": overhead(phases),
    }
    publish(report, folder / "backfill.json", render)
    return report


if __name__ == "__main__":
    main(sys.argv[1:])
