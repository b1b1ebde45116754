"""Ingestion benchmark: our loader side by side with plain COPY and the reference's method.

`python -m bench.ingest` (`make bench-ingest`) starts one PostgreSQL server of its own (the
project's LocalPostgres with its bulk-load settings, fresh in var/bench/pg) and measures, in one
run, rows per second and peak memory of:

  (a) our ingestion end to end: register an upload, `load_upload` the N-row reference file into
      a freshly migrated, empty warehouse (DuckDB check, COPY, dedup, ledger, one transaction);
  (b) a plain COPY of the same file into the reference system's table (primary key, 3 indexes);
  (c) the reference's method: pandas read_csv(chunksize=5000) and to_sql with
      INSERT ... ON CONFLICT DO NOTHING, on the first min(N, 1M) rows;
  (d) COPY into an UNLOGGED table without any index: the server's ceiling;
  (e) a second, different 1M-row file through `load_upload` into (a)'s warehouse, which already
      holds N rows; (f) the same file by plain COPY into (b)'s table, for comparison.

Each phase runs in a child process (bench.memory), so its peak resident memory is its own. The
benchmark prints ratios and writes them to var/bench/ingest.json; it never asserts a target.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import logging
import os
import platform
import shutil
import socket
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

import psycopg

from bench.memory import BackendMemory, ChildRun, run_phase
from bench.reference_data import write_reference_csv
from txn_core import ledger
from txn_core.loader import COPY_CHUNK_BYTES, load_upload
from txn_core.migrate import upgrade
from txn_dev.local_postgres import LocalPostgres

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DIR = PROJECT_ROOT / "var" / "bench"

MAIN_SEED = 0.42
SECOND_SEED = 0.77  # another seed, so the second file's ids never collide with the first's
REFERENCE_CHUNK_ROWS = 5000

# The reference system's table, as its stress test loaded into it.
REFERENCE_TABLE = """
CREATE TABLE transactions (
    transaction_id     uuid PRIMARY KEY,
    user_id            integer,
    product_id         integer,
    "timestamp"        timestamp,
    transaction_amount numeric(10, 2)
);
CREATE INDEX transactions_user_time_idx ON transactions (user_id, "timestamp");
CREATE INDEX transactions_time_idx ON transactions ("timestamp");
CREATE INDEX transactions_user_idx ON transactions (user_id);
"""

# The same columns with nothing to maintain and no WAL: what the server can take at best.
CEILING_TABLE = """
CREATE UNLOGGED TABLE transactions (
    transaction_id     uuid,
    user_id            integer,
    product_id         integer,
    "timestamp"        timestamp,
    transaction_amount numeric(10, 2)
);
"""

COPY_REFERENCE_CSV = (
    'COPY transactions (transaction_id, user_id, product_id, "timestamp", transaction_amount) '
    "FROM STDIN (FORMAT csv, HEADER true)"
)


class Phase(NamedTuple):
    label: str  # its row in the table
    title: str  # its progress line
    database: str
    function: str  # the function of this module that the phase's child process runs
    file: str  # "main" (N rows), "reference" (its first min(N, 1M) rows) or "second"


PHASES = {
    "a": Phase(
        label="our ingestion (load_upload), empty warehouse",
        title="our ingestion: register an upload, load_upload into an empty migrated warehouse",
        database="bench_ingest",
        function="ingest_upload",
        file="main",
    ),
    "b": Phase(
        label="plain COPY, reference table",
        title="plain COPY into the reference's table (primary key + 3 indexes)",
        database="bench_copy",
        function="copy_file",
        file="main",
    ),
    "c": Phase(
        label="reference method: pandas + INSERT",
        title="the reference's method: pandas read_csv chunks of 5000, to_sql INSERT ON CONFLICT",
        database="bench_reference",
        function="insert_like_reference",
        file="reference",
    ),
    "d": Phase(
        label="COPY, unlogged table, no index",
        title="COPY into an unlogged table without any index (the server's ceiling)",
        database="bench_ceiling",
        function="copy_file",
        file="main",
    ),
    "e": Phase(
        label="second ingestion, N rows already in",
        title="second ingestion: load_upload of another file into (a)'s warehouse of N rows",
        database="bench_ingest",
        function="ingest_upload",
        file="second",
    ),
    "f": Phase(
        label="plain COPY of it, N rows already in",
        title="plain COPY of that file into (b)'s table of N rows",
        database="bench_copy",
        function="copy_file",
        file="second",
    ),
}

# What each database holds before the phases: our migrated schema or the reference's table.
SCHEMAS = {
    "bench_ingest": None,
    "bench_copy": REFERENCE_TABLE,
    "bench_reference": REFERENCE_TABLE,
    "bench_ceiling": CEILING_TABLE,
}

# Ratios of rows per second, with the aim we hold ourselves to (information, never a verdict).
RATIOS = {
    "a/b": ("our ingestion vs plain COPY", ">= 2x"),
    "a/c": ("our ingestion vs the reference's method", ">= 25x"),
    "e/b": ("second ingestion (N rows already in) vs plain COPY", ">= 1.5x"),
    "e/f": ("second ingestion vs plain COPY of the same file into a full table", ""),
    "a/d": ("our ingestion vs the server's ceiling (unlogged, no index)", ""),
}


# --- Phases: each runs in a child process (bench.memory.run_phase) -------------------------


class _StageClock(logging.Handler):
    """Times the loader's stages from its own log lines, without touching the loader."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.marks: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        for stage in ("Checking", "Checked"):
            if str(record.msg).startswith(stage):
                self.marks.setdefault(stage, time.perf_counter())


def ingest_upload(database_url: str, upload_id: str, path: str, workdir: str) -> dict[str, Any]:
    """(a) and (e): register the file as an upload and load it, as a landed file would be."""
    clock = _StageClock()
    logger = logging.getLogger(f"bench.ingest.{upload_id}")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.addHandler(clock)

    source = Path(path)
    started = time.perf_counter()
    with psycopg.connect(database_url, autocommit=True) as conn:
        ledger.register_upload(
            conn,
            upload_id=upload_id,
            source="bench",
            file_name=source.name,
            landing_key=str(source),
            size_bytes=source.stat().st_size,
        )
    result = load_upload(database_url, upload_id, source, workdir=Path(workdir), logger=logger)
    finished = time.perf_counter()

    check_started = clock.marks.get("Checking", started)
    check_finished = clock.marks.get("Checked", check_started)
    return {
        "rows": result.rows_read,
        "seconds": finished - started,
        "rows_read": result.rows_read,
        "rows_loaded": result.rows_loaded,
        "rows_duplicate": result.rows_duplicate,
        "rows_rejected": result.rows_rejected,
        "stages": {
            "register_and_start": check_started - started,
            "duckdb_check": check_finished - check_started,
            "postgres_copy_and_commit": finished - check_finished,
        },
    }


def copy_file(database_url: str, path: str) -> dict[str, Any]:
    """(b), (d), (f): the file as it is, COPY ... FROM STDIN in 1 MiB chunks, one transaction."""
    started = time.perf_counter()
    with psycopg.connect(database_url) as conn, conn.cursor() as cur:
        with open(path, "rb") as source, cur.copy(COPY_REFERENCE_CSV) as copy:
            while chunk := source.read(COPY_CHUNK_BYTES):
                copy.write(chunk)
        rows = cur.rowcount
        conn.commit()
    return {"rows": rows, "seconds": time.perf_counter() - started, "rows_loaded": rows}


def insert_like_reference(database_url: str, path: str) -> dict[str, Any]:
    """(c): the reference's ingestion, pandas chunks and INSERT ... ON CONFLICT DO NOTHING."""
    import pandas as pd
    from sqlalchemy import create_engine
    from sqlalchemy.dialects.postgresql import insert

    def insert_on_conflict_nothing(table, conn, keys, data_iter):
        rows = [dict(zip(keys, row, strict=True)) for row in data_iter]
        statement = (
            insert(table.table)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["transaction_id"])
        )
        return conn.execute(statement).rowcount

    # psycopg2, the driver postgresql:// meant before SQLAlchemy 2.1: under psycopg 3 (2.1's
    # default) to_sql binds the ids as text and PostgreSQL refuses them for a uuid column.
    engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg2://", 1))
    started = time.perf_counter()
    rows_read = rows_inserted = 0
    try:
        for chunk in pd.read_csv(path, chunksize=REFERENCE_CHUNK_ROWS):
            rows_read += len(chunk)
            rows_inserted += chunk.to_sql(
                "transactions",
                engine,
                if_exists="append",
                index=False,
                method=insert_on_conflict_nothing,
            )
    finally:
        engine.dispose()
    return {
        "rows": rows_read,
        "seconds": time.perf_counter() - started,
        "rows_read": rows_read,
        "rows_loaded": rows_inserted,
    }


# --- The run: files, server, phases, report -----------------------------------------------


def say(message: str) -> None:
    print(message, flush=True)


@contextmanager
def step(title: str) -> Iterator[dict[str, float]]:
    """Announces a phase and its duration; the duration is also left in the yielded dict."""
    say(f"-> {title}")
    timing: dict[str, float] = {}
    started = time.perf_counter()
    yield timing
    timing["seconds"] = time.perf_counter() - started
    say(f"   done in {timing['seconds']:.1f} s")


def reference_file(folder: Path, rows: int, seed: float) -> Path:
    """The reference's stress-test file of `rows` rows, generated once and kept in `folder`."""
    path = folder / f"reference-{rows}-seed{seed}.csv"
    if not path.exists():
        with step(f"generating {path.name} ({rows:,} rows, DuckDB)"):
            partial = path.with_name(f"{path.stem}.partial.csv")
            write_reference_csv(partial, rows, seed=seed)
            partial.replace(path)
    return path


def file_prefix(source: Path, rows: int) -> Path:
    """The first `rows` data rows of `source` (header kept), cut once and kept beside it."""
    path = source.with_name(f"{source.stem}-first{rows}.csv")
    if not path.exists() or path.stat().st_mtime < source.stat().st_mtime:
        with step(f"cutting the first {rows:,} rows of {source.name}"):
            partial = path.with_name(f"{path.stem}.partial.csv")
            with open(source, "rb") as whole, open(partial, "wb") as part:
                part.writelines(itertools.islice(whole, rows + 1))
            partial.replace(path)
    return path


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


def admin(server: LocalPostgres, *statements: str, database: str = "postgres") -> None:
    with psycopg.connect(server.url(database), autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def count_rows(server: LocalPostgres, database: str, table: str = "transactions") -> int:
    with psycopg.connect(server.url(database)) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def measure(server: LocalPostgres, key: str, phase: Phase, kwargs: dict) -> dict[str, Any]:
    """Run one phase in its child process, after a checkpoint so no earlier phase's writes
    are paid for here; its rows/s, the child's peak memory and the backend's."""
    admin(server, "CHECKPOINT")
    say(f"-> ({key}) {phase.title}")
    with BackendMemory(server.url("postgres"), phase.database) as backend:
        child: ChildRun = run_phase(f"bench.ingest:{phase.function}", kwargs)
    result = dict(child.result)
    result.update(
        key=key,
        label=phase.label,
        title=phase.title,
        database=phase.database,
        file=kwargs["path"],
        rows_per_second=result["rows"] / result["seconds"] if result["seconds"] else None,
        peak_rss_bytes=child.peak_rss_bytes,
        backend_private_peak_bytes=backend.peak_bytes,
        process_seconds=child.wall_seconds,
        rows_in_table=count_rows(server, phase.database),
    )
    say(
        f"   done in {result['seconds']:.1f} s: {result['rows']:,} rows, "
        f"{result['rows_per_second']:,.0f} rows/s, peak RSS {_mib(result['peak_rss_bytes'])}"
    )
    return result


def run_phases(
    server: LocalPostgres, files: dict[str, Path], workdir: Path
) -> dict[str, dict[str, Any]]:
    for database, schema in SCHEMAS.items():
        admin(server, f'CREATE DATABASE "{database}"')
        if schema is None:
            upgrade(server.url(database))
        else:
            admin(server, schema, database=database)
    workdir.mkdir(parents=True, exist_ok=True)

    results = {}
    for key, phase in PHASES.items():
        kwargs = {"database_url": server.url(phase.database), "path": str(files[phase.file])}
        if phase.function == "ingest_upload":
            kwargs.update(upload_id=f"bench-{key}", workdir=str(workdir))
        results[key] = measure(server, key, phase, kwargs)
    return results


def ratios(phases: dict[str, dict[str, Any]]) -> dict[str, float | None]:
    def rate(key: str) -> float | None:
        return phases[key]["rows_per_second"]

    result = {}
    for name in RATIOS:
        top, bottom = rate(name[0]), rate(name[2])
        result[name] = top / bottom if top and bottom else None
    return result


def publish(report: dict[str, Any], output: Path, render: Callable[[dict], str]) -> None:
    """Write a benchmark's report as JSON to `output` and print its table."""
    output.write_text(json.dumps(report, indent=2, default=str) + "\n")
    say("")
    say(render(report))
    say(f"\nresults: {output}")


def _mib(size: int | None) -> str:
    return "n/a" if size is None else f"{size / 2**20:,.0f} MiB"


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
    lines += ["", "where the time of our ingestion went:"]
    for key in ("a", "e"):
        stages = phases[key]["stages"]
        lines.append(
            f"  ({key}) DuckDB check {stages['duckdb_check']:.1f} s, PostgreSQL COPY + commit "
            f"{stages['postgres_copy_and_commit']:.1f} s, ledger and start "
            f"{stages['register_and_start']:.1f} s"
        )
    lines += [
        "",
        "peak RSS: the phase's own process (interpreter and imports included), from wait4.",
        "backend: private memory (RssAnon) of the PostgreSQL backend(s) serving the phase, a "
        "separate process of the server, sampled every 0.2 s; shared_buffers "
        f"({report['server']['settings']['shared_buffers']}) are shared and in neither column.",
    ]
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.ingest",
        description="Ingestion benchmark: our loader against plain COPY and the reference's "
        "pandas method, on one PostgreSQL server of its own.",
    )
    parser.add_argument(
        "--rows",
        type=int,
        default=10_000_000,
        help="rows of the main file, phases (a), (b), (d) (default: 10,000,000, "
        "the reference's stress test)",
    )
    parser.add_argument(
        "--reference-rows",
        type=int,
        default=1_000_000,
        help="rows for the reference's method (c), at most --rows (default: 1,000,000)",
    )
    parser.add_argument(
        "--second-rows",
        type=int,
        default=1_000_000,
        help="rows of the second file, phases (e) and (f) (default: 1,000,000)",
    )
    parser.add_argument(
        "--dir",
        type=Path,
        default=DEFAULT_DIR,
        help="generated files, the server's data and ingest.json "
        "(default: var/bench; must be traversable by the server's account)",
    )
    parser.add_argument("--port", type=int, default=0, help="server port (default: a free one)")
    parser.add_argument(
        "--keep", action="store_true", help="leave the server running with its databases at the end"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    folder = args.dir.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    reference_rows = min(args.rows, args.reference_rows)
    started = time.perf_counter()

    main_csv = reference_file(folder, args.rows, MAIN_SEED)
    prefix_csv = main_csv if reference_rows == args.rows else file_prefix(main_csv, reference_rows)
    second_csv = reference_file(folder, args.second_rows, SECOND_SEED)
    files = {"main": main_csv, "reference": prefix_csv, "second": second_csv}

    with step("starting a fresh PostgreSQL server (bulk-load settings)"):
        server = fresh_server(folder / "pg", args.port or free_port())
    try:
        with psycopg.connect(server.url("postgres")) as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]
        phases = run_phases(server, files, folder / "work")
    finally:
        if args.keep:
            say(f"server kept running: {server.url('postgres')} (data in {server.data_dir})")
        else:
            with step("stopping the server and removing its data"):
                server.stop()
                shutil.rmtree(server.data_dir, ignore_errors=True)

    report = {
        "benchmark": "ingest",
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "total_seconds": time.perf_counter() - started,
        "options": {
            "rows": args.rows,
            "reference_rows": reference_rows,
            "second_rows": args.second_rows,
        },
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "server": {"version": version, "settings": dict(server.settings)},
        "files": {name: str(path) for name, path in files.items()},
        "phases": phases,
        "ratios": ratios(phases),
    }
    publish(report, folder / "ingest.json", render)
    return report


if __name__ == "__main__":
    main(sys.argv[1:])
