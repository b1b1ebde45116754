"""What every benchmark shares: a server of its own, phases, timing, memory, tables, the report.

- Progress: `say` prints a line at once, `step` announces a piece of work and its duration.
- The server: `own_server` starts a fresh LocalPostgres (the project's, with its bulk-load
  settings) for one run and stops and removes it at the end, unless kept.
- Phases: `measure` runs one phase in a child process of its own (bench.memory) after a
  CHECKPOINT, so its rows per second, its peak memory and its backend's are its own.
- The report: `table` lays out rows of figures, `phase_table` and `ratio_lines` are the rows/s
  report of the phased benchmarks, and `publish` writes the JSON and prints the report.

The benchmarks import these from here and never from one another.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import shutil
import socket
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from bench.memory import BackendMemory, run_phase
from txn_core.migrate import upgrade
from txn_dev.local_postgres import LocalPostgres

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DIR = PROJECT_ROOT / "var" / "bench"
BULK_LOAD_SERVER = "starting a fresh PostgreSQL server (bulk-load settings)"


# --- Progress --------------------------------------------------------------------------------


def say(message: str) -> None:
    print(message, flush=True)


@contextmanager
def step(title: str) -> Iterator[dict[str, float]]:
    """Announces a piece of work and its duration; the duration is also left in the yielded
    dict."""
    say(f"-> {title}")
    timing: dict[str, float] = {}
    started = time.perf_counter()
    yield timing
    timing["seconds"] = time.perf_counter() - started
    say(f"   done in {timing['seconds']:.1f} s")


# --- The server ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fresh_server(data_dir: Path, port: int) -> LocalPostgres:
    """A new cluster in `data_dir` (a previous run's, even one kept running, is removed first)."""
    if (data_dir / "PG_VERSION").exists():
        LocalPostgres(data_dir, port).stop()
    shutil.rmtree(data_dir, ignore_errors=True)
    server = LocalPostgres(data_dir, port)
    server.log_file.unlink(missing_ok=True)
    server.start()
    return server


@contextmanager
def own_server(
    data_dir: Path,
    port: int,
    keep: bool,
    title: str = BULK_LOAD_SERVER,
    shown_database: str = "postgres",
) -> Iterator[LocalPostgres]:
    """A fresh server for the run (on `port`, or a free one when 0), stopped and its data
    removed at the end unless `keep`; then its URL is printed instead."""
    with step(title):
        server = fresh_server(data_dir, port or free_port())
    try:
        yield server
    finally:
        if keep:
            say(f"server kept running: {server.url(shown_database)} (data in {server.data_dir})")
        else:
            with step("stopping the server and removing its data"):
                server.stop()
                shutil.rmtree(server.data_dir, ignore_errors=True)


def execute(url: str, *statements: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def admin(server: LocalPostgres, *statements: str, database: str = "postgres") -> None:
    execute(server.url(database), *statements)


def count_rows(server: LocalPostgres, database: str, table: str = "transactions") -> int:
    with psycopg.connect(server.url(database)) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def server_version(server: LocalPostgres) -> str:
    with psycopg.connect(server.url("postgres")) as conn:
        return conn.execute("SHOW server_version").fetchone()[0]


def create_databases(server: LocalPostgres, schemas: Mapping[str, str | None]) -> None:
    """Each database with its schema: None is our migrated warehouse, else the SQL to run."""
    for database, schema in schemas.items():
        admin(server, f'CREATE DATABASE "{database}"')
        if schema is None:
            upgrade(server.url(database))
        else:
            admin(server, schema, database=database)


# --- Phases in child processes ---------------------------------------------------------------


@dataclass(frozen=True)
class Phase:
    label: str  # its row in the report's table
    title: str  # its progress line
    database: str  # where it writes: its backends' memory is sampled, its rows counted after
    target: str  # "module:function" that the phase's child process runs


def measure(server: LocalPostgres, key: str, phase: Phase, kwargs: dict) -> dict[str, Any]:
    """Run one phase in its child process, after a checkpoint so no earlier phase's writes
    are paid for here; its rows/s, the child's peak memory and the backend's."""
    admin(server, "CHECKPOINT")
    say(f"-> ({key}) {phase.title}")
    with BackendMemory(server.url("postgres"), phase.database) as backend:
        child = run_phase(phase.target, kwargs)
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
        rows_in_table=count_rows(server, phase.database),
    )
    say(
        f"   done in {result['seconds']:.1f} s ({child.wall_seconds:.1f} s with its process): "
        f"{result['rows']:,} rows, {result['rows_per_second']:,.0f} rows/s, "
        f"peak RSS {mib(result['peak_rss_bytes'])}"
    )
    return result


# --- Figures ---------------------------------------------------------------------------------


def ratio(top: float | None, bottom: float | None) -> float | None:
    """top / bottom, or None when either is missing or zero."""
    return top / bottom if top and bottom else None


def rate_ratios(
    phases: Mapping[str, Mapping[str, Any]], names: Iterable[str]
) -> dict[str, float | None]:
    """For each "x/y" of `names`: phase x's rows per second over phase y's."""
    result = {}
    for name in names:
        top, bottom = name.split("/")
        result[name] = ratio(phases[top]["rows_per_second"], phases[bottom]["rows_per_second"])
    return result


def percentile(sorted_values: Sequence[float], fraction: float) -> float | None:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


def load_average() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def finished_at() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def report_head(
    name: str,
    started: float,
    args: argparse.Namespace,
    load_start: list[float],
    server: LocalPostgres,
    version: str,
) -> dict[str, Any]:
    """How a report of a benchmark with its own server begins: its name and times, every
    option, the machine (with the load average at the start and the end) and the server."""
    return {
        "benchmark": name,
        "finished_at": finished_at(),
        "total_seconds": time.perf_counter() - started,
        "options": {
            key: (str(value) if isinstance(value, Path) else value)
            for key, value in vars(args).items()
        },
        "machine": machine()
        | {"load_average_start": load_start, "load_average_end": load_average()},
        "server": {"version": version, "settings": dict(server.settings)},
    }


# --- The report ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    title: str
    width: int = 0
    align: str = ">"  # "<" for text, ">" for figures
    gap: int = 1  # spaces before the column (none before the first)


def table(
    columns: Sequence[Column], rows: Iterable[Sequence[str] | str], rule: bool = True
) -> list[str]:
    """The header, a rule under it, then one line per row of already formatted cells; a row may
    stop early, and a row that is a string is a line of its own (a note under the row above)."""
    header = _line(columns, [column.title for column in columns])
    lines = [header, "-" * len(header)] if rule else [header]
    for row in rows:
        lines.append(row if isinstance(row, str) else _line(columns, row))
    return lines


def _line(columns: Sequence[Column], cells: Sequence[str]) -> str:
    parts = [
        " " * (column.gap if index else 0) + f"{cell:{column.align}{column.width}}"
        for index, (column, cell) in enumerate(zip(columns, cells, strict=False))
    ]
    return "".join(parts).rstrip()


def mib(size: int | None) -> str:
    return "n/a" if size is None else f"{size / 2**20:,.0f} MiB"


PHASE_COLUMNS = (
    Column("phase", 46, "<"),
    Column("rows", 12),
    Column("seconds", 9),
    Column("rows/s", 11),
    Column("peak RSS", 10),
    Column("backend", 10),
)


def phase_table(phases: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """One row per phase run by `measure`: rows, seconds, rows/s and both peaks of memory."""
    rows = [
        (
            f"({phase['key']}) {phase['label']}",
            f"{phase['rows']:,}",
            f"{phase['seconds']:.1f}",
            f"{phase['rows_per_second']:,.0f}",
            mib(phase["peak_rss_bytes"]),
            mib(phase["backend_private_peak_bytes"]),
        )
        for phase in phases.values()
    ]
    return table(PHASE_COLUMNS, rows)


def ratio_lines(
    ratios: Mapping[str, float | None], meanings: Mapping[str, tuple[str, str]]
) -> list[str]:
    """The ratios of rows/s, each with what it compares and the aim we hold it to, if any."""
    lines = ["ratios of rows/s:"]
    for name, value in ratios.items():
        meaning, aim = meanings[name]
        top, bottom = name.split("/")
        shown = "n/a" if value is None else f"{value:.2f}x"
        aim_note = f"  (aim {aim})" if aim else ""
        lines.append(f"  ({top})/({bottom}) {shown:>8}  {meaning}{aim_note}")
    return lines


def publish(report: dict[str, Any], output: Path, render: Callable[[dict], str]) -> None:
    """Write a benchmark's report as JSON to `output` and print its table."""
    output.write_text(json.dumps(report, indent=2, default=str) + "\n")
    say("")
    say(render(report))
    say(f"\nresults: {output}")


def add_server_options(parser: argparse.ArgumentParser, dir_help: str, keep_help: str) -> None:
    """--dir, --port and --keep, the options of every benchmark with a server of its own."""
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help=dir_help)
    parser.add_argument("--port", type=int, default=0, help="server port (default: a free one)")
    parser.add_argument("--keep", action="store_true", help=keep_help)
