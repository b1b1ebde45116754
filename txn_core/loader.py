"""Loads one landed CSV file into `transactions`, exactly once and atomically.

DuckDB parses and checks the file (txn_core.validate), outside any lock; PostgreSQL receives the
accepted rows with COPY and keeps those whose transaction_id it has never seen, in one
transaction with the rejected rows, the days the analytics must refresh and the ledger's counts.
A crash at any point leaves none of the upload's rows; running the load again, or twice at
once, gives the same result.
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from txn_core import ledger
from txn_core.contract import FileRejected
from txn_core.sql import load_sql, one
from txn_core.validate import CheckedFile, RejectLimits, checked_file

COPY_CHUNK_BYTES = 1024 * 1024
REJECTED_SAMPLE_SIZE = 5

log = logging.getLogger(__name__)

OnStage = Callable[[str], None]


class UploadNotRegistered(KeyError):
    """The ledger has no such upload: there is nothing to load it into."""


@dataclass
class LoadResult:
    upload_id: str
    rows_read: int
    rows_loaded: int
    rows_duplicate: int
    rows_rejected: int
    days_touched: list[dt.date]
    first_timestamp: dt.datetime | None
    last_timestamp: dt.datetime | None
    seconds: float = 0.0
    rejected_sample: list[tuple[int, str, str]] = field(default_factory=list)
    already_loaded: bool = False

    @classmethod
    def from_ledger(cls, row: dict) -> LoadResult:
        """The result of an upload that already succeeded, as its ledger row records it."""
        return cls(
            upload_id=row["upload_id"],
            rows_read=row["rows_read"],
            rows_loaded=row["rows_loaded"],
            rows_duplicate=row["rows_duplicate"],
            rows_rejected=row["rows_rejected"],
            days_touched=list(row["days_touched"] or []),
            first_timestamp=row["first_timestamp"],
            last_timestamp=row["last_timestamp"],
            already_loaded=True,
        )


def _copy_files(cursor: psycopg.Cursor, statement: str, paths) -> None:
    """Stream CSV files into one COPY ... FROM STDIN in fixed-size chunks (constant memory)."""
    with cursor.copy(statement) as copy:
        for path in paths:
            with open(path, "rb") as source:
                while chunk := source.read(COPY_CHUNK_BYTES):
                    copy.write(chunk)


def _rejected_sample(path: Path) -> list[tuple[int, str, str]]:
    with open(path, newline="", encoding="utf-8", errors="replace") as handle:
        reader = csv.reader(handle)
        return [(int(line), reason, raw) for line, reason, raw, *_ in _take(reader)]


def _take(rows, count: int = REJECTED_SAMPLE_SIZE):
    for index, row in enumerate(rows):
        if index >= count:
            return
        yield row


TRANSACTION_COLUMNS = (
    'transaction_id, user_id, product_id, "timestamp", transaction_amount, transaction_date, '
    "upload_id"
)


def _insert_accepted_rows(cur: psycopg.Cursor, upload_id: str, checked: CheckedFile) -> int:
    """Put the accepted rows into `transactions`; returns how many were new.

    Fast path: COPY straight into the table, which holds when no id was loaded before (the
    common case). A unique violation undoes just that attempt (a savepoint) and the rows go
    through a temporary table instead, keeping those never seen.
    """
    try:
        with cur.connection.transaction():
            _copy_files(
                cur,
                f"COPY transactions ({TRANSACTION_COLUMNS}) FROM STDIN (FORMAT csv)",
                checked.accepted,
            )
        return checked.accepted.rows_written
    except psycopg.errors.UniqueViolation:
        log.info("Upload %s repeats earlier transaction ids; keeping only new ones.", upload_id)
    cur.execute(load_sql("ingest/create_staging"))
    _copy_files(cur, "COPY staging_transactions FROM STDIN (FORMAT csv)", checked.accepted)
    cur.execute(load_sql("ingest/insert_new_transactions"))
    return cur.rowcount


def _commit_rows(
    conn: psycopg.Connection, upload_id: str, checked: CheckedFile, on_stage: OnStage
) -> int | None:
    """The one transaction of a load: rows, rejected rows, the days to refresh and the ledger,
    or nothing. None when another run of the same upload committed first."""
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(load_sql("ingest/lock_ingestion"))
        (status,) = one(cur.execute(load_sql("ledger/lock_upload"), {"upload_id": upload_id}))
        if status == "succeeded":
            return None
        on_stage("copying")
        rows_loaded = _insert_accepted_rows(cur, upload_id, checked)
        if checked.rows_rejected:
            cur.execute(load_sql("ingest/create_staging_rejected"))
            _copy_files(
                cur, "COPY staging_rejected FROM STDIN (FORMAT csv)", [checked.rejected_csv]
            )
            cur.execute(load_sql("ingest/insert_rejected"), {"upload_id": upload_id})
        if rows_loaded:
            cur.execute(
                load_sql("ingest/queue_days"), {"upload_id": upload_id, "days": checked.days}
            )
        cur.execute(
            load_sql("ledger/mark_succeeded"),
            {
                "upload_id": upload_id,
                "rows_read": checked.rows_read,
                "rows_loaded": rows_loaded,
                "rows_duplicate": checked.rows_read - checked.rows_rejected - rows_loaded,
                "rows_rejected": checked.rows_rejected,
                "first_timestamp": checked.first_timestamp,
                "last_timestamp": checked.last_timestamp,
                "days_touched": checked.days,
            },
        )
        on_stage("copied")
    return rows_loaded


def _registered(upload: dict | None, upload_id: str) -> dict:
    if upload is None:
        raise UploadNotRegistered(f"upload {upload_id!r} is not registered in the ledger")
    return upload


def load_upload(
    database_url: str,
    upload_id: str,
    path: Path,
    *,
    run_id: str | None = None,
    workdir: Path | None = None,
    logger: logging.Logger | logging.LoggerAdapter | None = None,
    on_stage: OnStage | None = None,
    limits: RejectLimits | None = None,
) -> LoadResult:
    """Load the registered upload `upload_id` from the local file `path`, once.

    Raises FileRejected (after marking the upload failed) when the file breaks the contract;
    any other error leaves nothing of the load and the upload as it was, for the caller to
    retry or give up. A second run of a succeeded upload, even one racing the first, returns
    the ledger's result and changes nothing. `on_stage` hears each step: "checking",
    "checked", "copying", "copied" (still inside the transaction) and "committed".
    """
    logger = logger or log
    stage = on_stage or (lambda _name: None)
    started = time.monotonic()
    with psycopg.connect(database_url, autocommit=True) as conn:
        existing = _registered(ledger.get_upload(conn, upload_id), upload_id)
        if existing["status"] == "succeeded":
            logger.info("Upload %s was already loaded; nothing to do.", upload_id)
            return LoadResult.from_ledger(existing)
        ledger.mark_running(conn, upload_id, run_id)

        if workdir is not None:
            workdir.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f"load-{upload_id}-", dir=workdir))
        try:
            logger.info("Checking %s against the data contract (DuckDB)...", path.name)
            stage("checking")
            with checked_file(path, scratch, upload_id, limits) as checked:
                stage("checked")
                logger.info(
                    "Checked %s rows: %s valid, %s rejected; loading into PostgreSQL...",
                    f"{checked.rows_read:,}",
                    f"{checked.rows_valid:,}",
                    f"{checked.rows_rejected:,}",
                )
                rows_loaded = _commit_rows(conn, upload_id, checked, stage)
                sample = _rejected_sample(checked.rejected_csv) if checked.rows_rejected else []
        except FileRejected as exc:
            ledger.mark_failed(conn, upload_id, str(exc))
            raise
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        if rows_loaded is None:
            logger.info("Upload %s was loaded by another run meanwhile; nothing to do.", upload_id)
            return LoadResult.from_ledger(
                _registered(ledger.get_upload(conn, upload_id), upload_id)
            )
    stage("committed")

    result = LoadResult(
        upload_id=upload_id,
        rows_read=checked.rows_read,
        rows_loaded=rows_loaded,
        rows_duplicate=checked.rows_read - checked.rows_rejected - rows_loaded,
        rows_rejected=checked.rows_rejected,
        days_touched=checked.days,
        first_timestamp=checked.first_timestamp,
        last_timestamp=checked.last_timestamp,
        seconds=time.monotonic() - started,
        rejected_sample=sample,
    )
    logger.info(
        "Upload %s: %s read, %s loaded, %s duplicate, %s rejected in %.1f s.",
        upload_id,
        f"{result.rows_read:,}",
        f"{result.rows_loaded:,}",
        f"{result.rows_duplicate:,}",
        f"{result.rows_rejected:,}",
        result.seconds,
    )
    return result
