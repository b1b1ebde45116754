"""DuckDB stage of ingestion: parse and check one CSV file, write what PostgreSQL will COPY.

DuckDB works in a private database file under `workdir` with a memory limit, so a file of any
size is processed in bounded memory and spills to disk instead of growing the process.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from txn_core.contract import REQUIRED_COLUMNS, CsvLayout, FileRejected, inspect_file
from txn_core.sql import load_sql

DUCKDB_MEMORY_LIMIT = "512MB"


@dataclass
class CheckedFile:
    """What the DuckDB stage found in one file, and the CSV files it wrote."""

    accepted_csv: Path  # unique valid rows, sorted by transaction_id
    rejected_csv: Path  # line_number, reason, raw_line
    rows_read: int
    rows_valid: int
    rows_unique: int
    rows_rejected: int
    first_timestamp: dt.datetime | None
    last_timestamp: dt.datetime | None
    days: list[dt.date] = field(default_factory=list)

    @property
    def rows_duplicate_in_file(self) -> int:
        return self.rows_valid - self.rows_unique


def _raw_columns(layout: CsvLayout) -> dict[str, str]:
    """Every CSV column as VARCHAR: required ones by their contract name, others as extra_N."""
    names = {position: name for name, position in layout.positions.items()}
    return {names.get(i, f"extra_{i}"): "VARCHAR" for i in range(layout.column_count)}


def check_file(
    path: Path, workdir: Path, upload_id: str, threads: int | None = None
) -> CheckedFile:
    """Validate `path` against the data contract; raise FileRejected if the file as a whole is bad.

    The accepted rows are written labelled with `upload_id`, ready to COPY into `transactions`.
    """
    layout = inspect_file(path)
    workdir.mkdir(parents=True, exist_ok=True)
    # In memory, spilling to `workdir` beyond the limit: bounded memory without paying for
    # writing every intermediate table to a database file.
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET enable_progress_bar = false")
        con.execute(f"SET memory_limit = '{DUCKDB_MEMORY_LIMIT}'")
        con.execute("SET temp_directory = ?", [str(workdir / "spill")])
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        parameters = {
            "path": str(path),
            "columns": _raw_columns(layout),
            "compression": layout.compression,
        }
        try:
            con.execute(load_sql("ingest/check_rows"), parameters)
        except duckdb.Error as exc:
            raise FileRejected(f"could not read the file as CSV: {exc}") from exc
        con.execute(load_sql("ingest/record_shifts"))

        accepted_csv, rejected_csv = workdir / "accepted.csv", workdir / "rejected.csv"
        con.execute(
            load_sql("ingest/export_accepted"),
            {"path": str(accepted_csv), "upload_id": upload_id},
        )
        con.execute(load_sql("ingest/export_rejected"), {"path": str(rejected_csv)})
        (valid, unique, invalid, malformed, first_ts, last_ts, days) = con.execute(
            load_sql("ingest/summarise_checked")
        ).fetchone()
    finally:
        con.close()
    rejected = invalid + malformed
    return CheckedFile(
        accepted_csv=accepted_csv,
        rejected_csv=rejected_csv,
        rows_read=valid + rejected,
        rows_valid=valid,
        rows_unique=unique,
        rows_rejected=rejected,
        first_timestamp=first_ts,
        last_timestamp=last_ts,
        days=list(days or []),
    )


__all__ = ["REQUIRED_COLUMNS", "CheckedFile", "FileRejected", "check_file"]
