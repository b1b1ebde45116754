"""DuckDB stage of ingestion: parse and check one CSV file, then hand PostgreSQL the rows to load.

DuckDB works in memory with a limit and spills to `workdir` beyond it, so a file of any size is
checked in bounded memory. The accepted rows leave as CSV chunks, each a range of ids in order,
written by a background thread: PostgreSQL copies one chunk while DuckDB sorts the next.
"""

from __future__ import annotations

import datetime as dt
import math
import queue
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from txn_core.contract import CsvLayout, FileRejected, inspect_file
from txn_core.csv_records import count_records, one_line_end
from txn_core.decompress import gunzip_capped
from txn_core.settings import get_settings
from txn_core.sql import load_sql, one

DUCKDB_MEMORY_LIMIT = "512MB"
ROWS_PER_CHUNK = 125_000
# Recording why a record is unparsable costs DuckDB ~13 us each: past this many, a file is
# screened first, so a file of junk is refused in seconds instead of read for minutes.
SCREEN_UNPARSABLE = 100_000
MAX_CHUNKS = 16  # each chunk scans the checked rows once: more chunks, more scans


def _raw_columns(layout: CsvLayout) -> dict[str, str]:
    """Every CSV column as VARCHAR: required ones by their contract name, others as extra_N."""
    names = {position: name for name, position in layout.positions.items()}
    return {names.get(i, f"extra_{i}"): "VARCHAR" for i in range(layout.column_count)}


def _id_ranges(chunks: int) -> list[tuple[str, str | None]]:
    """`chunks` consecutive ranges [low, high) covering the whole UUID space, in order."""
    bounds = [str(uuid.UUID(int=k * 2**128 // chunks)) for k in range(chunks)]
    return list(zip(bounds, [*bounds[1:], None], strict=True))


class AcceptedChunks:
    """The accepted rows as CSV files, one per id range, produced in the background.

    Iterating yields each chunk's path once it is complete, in id order; iterating again
    replays the chunks from the start (the load's slow path needs them twice).
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, workdir: Path, upload_id: str, rows: int):
        self.rows_written = 0
        self._paths: list[Path] = []
        self._finished = False
        self._ready: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self._con = con
        chunks = max(1, min(MAX_CHUNKS, math.ceil(rows / ROWS_PER_CHUNK)))
        self._thread = threading.Thread(
            target=self._write_all,
            args=(con.cursor(), workdir, upload_id, _id_ranges(chunks)),
            name="accepted-chunks",
            daemon=True,
        )
        self._thread.start()

    def _write_all(self, cursor, workdir: Path, upload_id: str, ranges) -> None:
        try:
            for index, (low, high) in enumerate(ranges):
                if self._stop.is_set():
                    return
                path = workdir / f"accepted-{index:03d}.csv"
                (rows,) = cursor.execute(
                    load_sql("ingest/export_accepted_range"),
                    {"path": str(path), "low": low, "high": high, "upload_id": upload_id},
                ).fetchone()
                self._ready.put((path, rows))
            self._ready.put(None)
        except BaseException as exc:  # surfaced to the consumer
            self._ready.put(exc)
        finally:
            cursor.close()

    def _receive(self) -> None:
        item = self._ready.get()
        if item is None:
            self._finished = True
        elif isinstance(item, BaseException):
            self._finished = True
            raise item
        else:
            path, rows = item
            self._paths.append(path)
            self.rows_written += rows

    def __iter__(self) -> Iterator[Path]:
        index = 0
        while True:
            while index >= len(self._paths) and not self._finished:
                self._receive()
            if index >= len(self._paths):
                return
            yield self._paths[index]
            index += 1

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._con.interrupt()
        self._thread.join()


@dataclass(frozen=True)
class RejectLimits:
    """When a file is refused as a whole instead of loading its good rows (like Snowflake's
    ON_ERROR = SKIP_FILE_n%): more than `fraction` of its rows bad, and at least `min_rows`."""

    fraction: float = 0.10
    min_rows: int = 1000
    max_decompressed_bytes: int = 8 * 1024**3

    @classmethod
    def from_settings(cls) -> RejectLimits:
        settings = get_settings()
        return cls(
            settings.reject_file_fraction,
            settings.reject_file_min_rows,
            settings.max_decompressed_bytes,
        )

    def refuses(self, rows_read: int, rows_rejected: int) -> bool:
        return rows_rejected >= self.min_rows and rows_rejected > self.fraction * rows_read


def _refusal(
    con: duckdb.DuckDBPyConnection, rows_read: int, rows_rejected: int, limits: RejectLimits
) -> FileRejected:
    reasons = con.execute(load_sql("ingest/common_reasons")).fetchall()
    commonest = "; ".join(f"{reason} ({rows:,})" for reason, rows in reasons)
    return FileRejected(
        f"too many bad rows: {rows_rejected:,} of {rows_read:,} "
        f"({rows_rejected / rows_read:.1%}) break the contract, over the limit of "
        f"{limits.fraction:.0%} (and at least {limits.min_rows:,} rows); the commonest: "
        f"{commonest}. Nothing was loaded."
    )


def _parse(
    con: duckdb.DuckDBPyConnection, parameters: dict, limits: RejectLimits, workdir: Path
) -> int | None:
    """Screen the file for junk, then check every record into `checked`; returns the file's
    record count when it was screened. A file that mixes line ends (which DuckDB's reader
    refuses whole) is checked again with them made one: CRLF becomes LF, and a lone CR a
    control character, which rejects its row alone."""
    try:
        return _screen_and_check(con, parameters, limits)
    except duckdb.InvalidInputException as exc:
        if "state machine reached an invalid state" not in str(exc):
            raise FileRejected(f"could not read the file as CSV: {exc}") from exc
    con.execute("DROP TABLE IF EXISTS reject_errors; DROP TABLE IF EXISTS reject_scans")
    parameters["path"] = str(one_line_end(Path(parameters["path"]), workdir / "line-ends.csv"))
    try:
        return _screen_and_check(con, parameters, limits)
    except duckdb.Error as exc:
        raise FileRejected(f"could not read the file as CSV: {exc}") from exc


def _screen_and_check(
    con: duckdb.DuckDBPyConnection, parameters: dict, limits: RejectLimits
) -> int | None:
    records = _screen_for_junk(con, Path(parameters["path"]), parameters, limits)
    try:
        con.execute(load_sql("ingest/check_rows"), parameters)
    except duckdb.InvalidInputException:
        raise
    except duckdb.Error as exc:
        raise FileRejected(f"could not read the file as CSV: {exc}") from exc
    return records


def _screen_for_junk(
    con: duckdb.DuckDBPyConnection, path: Path, parameters: dict, limits: RejectLimits
) -> int | None:
    """Refuse a file whose unparsable records alone are over the limit, before the full check
    spends its time recording why each one is unparsable; returns its records (None: too few
    to screen)."""
    records = count_records(path) - 1  # the header is no row
    if records <= SCREEN_UNPARSABLE:
        return None
    unparsable = records - one(con.execute(load_sql("ingest/count_parsable"), parameters))[0]
    if unparsable > SCREEN_UNPARSABLE and limits.refuses(records, unparsable):
        columns = len(parameters["columns"])
        raise FileRejected(
            f"too many bad rows: {unparsable:,} of {records:,} records "
            f"({unparsable / records:.1%}) are not CSV rows of the header's {columns} columns, "
            f"over the limit of {limits.fraction:.0%} (and at least {limits.min_rows:,} rows). "
            "Nothing was loaded."
        )
    return records


@dataclass
class CheckedFile:
    """What the DuckDB stage found in one file; `accepted` streams the rows to load."""

    accepted: AcceptedChunks
    rejected_csv: Path  # line_number, reason, raw_line
    rows_read: int
    rows_valid: int
    rows_rejected: int
    first_timestamp: dt.datetime | None
    last_timestamp: dt.datetime | None
    days: list[dt.date] = field(default_factory=list)


@contextmanager
def checked_file(
    path: Path, workdir: Path, upload_id: str, limits: RejectLimits | None = None
) -> Iterator[CheckedFile]:
    """Check `path` against the data contract. FileRejected if the file as a whole is bad: not
    CSV text, a required column missing, too big decompressed, or too many bad rows.

    The accepted rows are labelled with `upload_id`, ready to COPY into `transactions`.
    """
    limits = limits or RejectLimits.from_settings()
    layout = inspect_file(path)
    workdir.mkdir(parents=True, exist_ok=True)
    if layout.compression == "gzip":
        path = gunzip_capped(path, workdir / "decompressed.csv", limits.max_decompressed_bytes)
        layout = CsvLayout("none", layout.column_count, layout.positions)
    con = duckdb.connect(":memory:")
    accepted = None
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET enable_progress_bar = false")
        con.execute(f"SET memory_limit = '{DUCKDB_MEMORY_LIMIT}'")
        con.execute("SET temp_directory = ?", [str(workdir / "spill")])
        parameters = {
            "path": str(path),
            "columns": _raw_columns(layout),
            "compression": layout.compression,
        }
        records = _parse(con, parameters, limits, workdir)
        con.execute(load_sql("ingest/judge_unparsable"))
        (valid, invalid, malformed, first_ts, last_ts, days) = one(
            con.execute(load_sql("ingest/summarise_checked"))
        )
        rows_read, rows_rejected = valid + invalid + malformed, invalid + malformed
        if records is not None and rows_read < records:
            raise FileRejected(
                f"the CSV reader accounted for {rows_read:,} of the file's {records:,} records "
                "(a quote left open, or more unparsable lines than it can record); a row would "
                "be lost uncounted, so nothing was loaded"
            )
        if limits.refuses(rows_read, rows_rejected):
            raise _refusal(con, rows_read, rows_rejected, limits)
        rejected_csv = workdir / "rejected.csv"
        if invalid or malformed:
            con.execute(load_sql("ingest/record_shifts"))
            con.execute(
                load_sql("ingest/export_rejected"),
                {**parameters, "rejected_path": str(rejected_csv)},
            )
        accepted = AcceptedChunks(con, workdir, upload_id, valid)
        yield CheckedFile(
            accepted=accepted,
            rejected_csv=rejected_csv,
            rows_read=rows_read,
            rows_valid=valid,
            rows_rejected=rows_rejected,
            first_timestamp=first_ts,
            last_timestamp=last_ts,
            days=list(days or []),
        )
    finally:
        if accepted is not None:
            accepted.close()
        con.close()
