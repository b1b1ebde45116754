"""Loads that several benchmarks time: ours (ledger and `load_upload`) and a plain COPY."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import psycopg

from bench.reference_data import COPY_REFERENCE_CSV
from txn_core import ledger
from txn_core.loader import COPY_CHUNK_BYTES, LoadResult, load_upload


class StageClock(logging.Handler):
    """Times the loader's stages from its own log lines, without touching the loader:
    `marks` holds when "Checking" (the DuckDB check starts) and "Checked" were first logged."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.marks: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        for stage in ("Checking", "Checked"):
            if str(record.msg).startswith(stage):
                self.marks.setdefault(stage, time.perf_counter())


def register_and_load(
    url: str, upload_id: str, path: Path, workdir: Path, logger: logging.Logger | None = None
) -> LoadResult:
    """The file registered as an upload and loaded, as a landed file would be."""
    with psycopg.connect(url, autocommit=True) as conn:
        ledger.register_upload(
            conn,
            upload_id=upload_id,
            source="bench",
            file_name=path.name,
            landing_key=str(path),
            size_bytes=path.stat().st_size,
        )
    workdir.mkdir(parents=True, exist_ok=True)
    return load_upload(url, upload_id, path, workdir=workdir, logger=logger)


def load_ours(url: str, upload_id: str, path: Path, workdir: Path) -> dict[str, Any]:
    """Register the file as an upload and load it with the project's loader, timed."""
    started = time.perf_counter()
    result = register_and_load(url, upload_id, path, workdir)
    return {
        "seconds": time.perf_counter() - started,
        "rows_read": result.rows_read,
        "rows_loaded": result.rows_loaded,
        "rows_rejected": result.rows_rejected,
        "rows_duplicate": result.rows_duplicate,
        "days_touched": len(result.days_touched),
    }


def copy_csv(url: str, path: Path, statement: str) -> int:
    """The file as it is, `statement` (a COPY ... FROM STDIN) in 1 MiB chunks, one
    transaction; the rows copied."""
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        with open(path, "rb") as source, cur.copy(statement) as copy:
            while chunk := source.read(COPY_CHUNK_BYTES):
                copy.write(chunk)
        rows = cur.rowcount
        conn.commit()
    return rows


def copy_file(database_url: str, path: str) -> dict[str, Any]:
    """A phase (bench.harness.measure): plain COPY of the file into the reference's table."""
    started = time.perf_counter()
    rows = copy_csv(database_url, Path(path), COPY_REFERENCE_CSV)
    return {"rows": rows, "seconds": time.perf_counter() - started, "rows_loaded": rows}
