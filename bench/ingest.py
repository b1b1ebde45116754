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

Each phase runs in a child process (bench.harness.measure), so its peak resident memory is its
own. The benchmark prints ratios and writes them to var/bench/ingest.json; it never asserts a
target.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.harness import (
    Phase,
    add_server_options,
    create_databases,
    finished_at,
    machine,
    measure,
    own_server,
    phase_table,
    publish,
    rate_ratios,
    ratio_lines,
    server_version,
    step,
)
from bench.loads import StageClock, register_and_load
from bench.reference_data import MAIN_SEED, REFERENCE_TABLE, reference_file
from txn_dev.local_postgres import LocalPostgres

SECOND_SEED = 0.77  # another seed, so the second file's ids never collide with the first's
REFERENCE_CHUNK_ROWS = 5000

# The same columns as the reference's table with nothing to maintain and no WAL: what the
# server can take at best.
CEILING_TABLE = """
CREATE UNLOGGED TABLE transactions (
    transaction_id     uuid,
    user_id            integer,
    product_id         integer,
    "timestamp"        timestamp,
    transaction_amount numeric(10, 2)
);
"""

OURS = "bench.ingest:ingest_upload"
COPY = "bench.loads:copy_file"
REFERENCE = "bench.ingest:insert_like_reference"


@dataclass(frozen=True)
class IngestPhase(Phase):
    file: str  # "main" (N rows), "reference" (its first min(N, 1M) rows) or "second"


PHASES = {
    "a": IngestPhase(
        label="our ingestion (load_upload), empty warehouse",
        title="our ingestion: register an upload, load_upload into an empty migrated warehouse",
        database="bench_ingest",
        target=OURS,
        file="main",
    ),
    "b": IngestPhase(
        label="plain COPY, reference table",
        title="plain COPY into the reference's table (primary key + 3 indexes)",
        database="bench_copy",
        target=COPY,
        file="main",
    ),
    "c": IngestPhase(
        label="reference method: pandas + INSERT",
        title="the reference's method: pandas read_csv chunks of 5000, to_sql INSERT ON CONFLICT",
        database="bench_reference",
        target=REFERENCE,
        file="reference",
    ),
    "d": IngestPhase(
        label="COPY, unlogged table, no index",
        title="COPY into an unlogged table without any index (the server's ceiling)",
        database="bench_ceiling",
        target=COPY,
        file="main",
    ),
    "e": IngestPhase(
        label="second ingestion, N rows already in",
        title="second ingestion: load_upload of another file into (a)'s warehouse of N rows",
        database="bench_ingest",
        target=OURS,
        file="second",
    ),
    "f": IngestPhase(
        label="plain COPY of it, N rows already in",
        title="plain COPY of that file into (b)'s table of N rows",
        database="bench_copy",
        target=COPY,
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


# --- Phases: each runs in a child process (bench.harness.measure) --------------------------


def ingest_upload(database_url: str, upload_id: str, path: str, workdir: str) -> dict[str, Any]:
    """(a) and (e): register the file as an upload and load it, as a landed file would be."""
    clock = StageClock()
    logger = logging.getLogger(f"bench.ingest.{upload_id}")
    logger.setLevel(logging.INFO)
    logger.propagate = False
    logger.addHandler(clock)

    started = time.perf_counter()
    result = register_and_load(database_url, upload_id, Path(path), Path(workdir), logger)
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


# --- The run: files, phases, report ---------------------------------------------------------


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


def input_files(folder: Path, rows: int, reference_rows: int, second_rows: int) -> dict:
    """The phases' files by name (see IngestPhase.file), generated once and kept in `folder`."""
    main_csv = reference_file(folder, rows, MAIN_SEED)
    prefix_csv = main_csv if reference_rows == rows else file_prefix(main_csv, reference_rows)
    second_csv = reference_file(folder, second_rows, SECOND_SEED)
    return {"main": main_csv, "reference": prefix_csv, "second": second_csv}


def run_phases(
    server: LocalPostgres, files: dict[str, Path], workdir: Path
) -> dict[str, dict[str, Any]]:
    create_databases(server, SCHEMAS)
    workdir.mkdir(parents=True, exist_ok=True)
    results = {}
    for key, phase in PHASES.items():
        kwargs = {"database_url": server.url(phase.database), "path": str(files[phase.file])}
        if phase.target == OURS:
            kwargs.update(upload_id=f"bench-{key}", workdir=str(workdir))
        results[key] = measure(server, key, phase, kwargs) | {"file": kwargs["path"]}
    return results


def render(report: dict[str, Any]) -> str:
    phases = report["phases"]
    lines = [*phase_table(phases), "", *ratio_lines(report["ratios"], RATIOS)]
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
    add_server_options(
        parser,
        dir_help="generated files, the server's data and ingest.json "
        "(default: var/bench; must be traversable by the server's account)",
        keep_help="leave the server running with its databases at the end",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    folder = args.dir.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    reference_rows = min(args.rows, args.reference_rows)
    started = time.perf_counter()

    files = input_files(folder, args.rows, reference_rows, args.second_rows)
    with own_server(folder / "pg", args.port, args.keep) as server:
        version = server_version(server)
        phases = run_phases(server, files, folder / "work")

    report = {
        "benchmark": "ingest",
        "finished_at": finished_at(),
        "total_seconds": time.perf_counter() - started,
        "options": {
            "rows": args.rows,
            "reference_rows": reference_rows,
            "second_rows": args.second_rows,
        },
        "machine": machine(),
        "server": {"version": version, "settings": dict(server.settings)},
        "files": {name: str(path) for name, path in files.items()},
        "phases": phases,
        "ratios": rate_ratios(phases, RATIOS),
    }
    publish(report, folder / "ingest.json", render)
    return report


if __name__ == "__main__":
    main(sys.argv[1:])
