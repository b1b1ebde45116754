"""Steps of the fault tests: a file dropped as a user drops it, and the ingestion run in a
process of its own (tests.faults.ingestion_run), to kill, starve or race."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import psycopg

from txn_core import ledger
from txn_core.landing.folder import FolderLandingZone
from txn_core.landing.zone import INCOMING

REPO = Path(__file__).resolve().parents[2]
HEADER = "transaction_id,user_id,product_id,timestamp,transaction_amount"
# Inside the daily partitions and far outside them: every one must reach the analytics.
DAYS = ("2024-03-01", "2024-03-02", "2023-12-31", "2043-05-17")


@dataclass
class Rows:
    lines: list[str]
    total: Decimal

    @property
    def count(self) -> int:
        return len(self.lines)


def rows(count: int, *, first: int = 0, users: int = 7) -> Rows:
    """`count` valid rows with ids first..first+count-1, over DAYS and `users` users."""
    lines, total = [], Decimal(0)
    for i in range(first, first + count):
        amount = Decimal(i % 9973) / 100 + 1
        day = DAYS[i % len(DAYS)]
        lines.append(
            f"00000000-0000-4000-8000-{i:012d},{1 + i % users},{1 + i % 5},"
            f"{day}T{i % 24:02d}:{i % 60:02d}:{(i // 60) % 60:02d}Z,{amount}"
        )
        total += amount
    return Rows(lines, total)


def drop_file(warehouse_url: str, landing_root: Path, name: str, lines: list[str]) -> str:
    """Write a CSV into incoming/ (complete at once, by rename) and register it as the landing
    sensor does; returns its upload id."""
    zone = FolderLandingZone(landing_root)
    staging = landing_root / f".{name}.tmp"
    staging.write_text("\n".join([HEADER, *lines]) + "\n")
    staging.rename(landing_root / INCOMING / name)
    (landed,) = [item for item in zone.list_incoming() if item.name == name]
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        ledger.register_upload(
            conn,
            upload_id=landed.upload_id,
            source="landing",
            file_name=landed.original_name,
            landing_key=landed.key,
            size_bytes=landed.size,
        )
    return landed.upload_id


def ingestion_command(
    warehouse_url: str, landing: str, upload_id: str, scratch: Path, die_at: str | None = None
) -> list[str]:
    scratch.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "tests.faults.ingestion_run"]
    command += [warehouse_url, landing, upload_id, str(scratch)]
    return command + (["--die-at", die_at] if die_at else [])


def run_ingestion(
    warehouse_url: str,
    landing: str | Path,
    upload_id: str,
    scratch: Path,
    die_at: str | None = None,
    prefix: tuple[str, ...] = (),
    env: dict | None = None,
) -> subprocess.CompletedProcess:
    command = ingestion_command(warehouse_url, str(landing), upload_id, scratch, die_at)
    return subprocess.run(
        [*prefix, *command], cwd=REPO, capture_output=True, text=True, timeout=300, env=env
    )


def start_ingestion(
    warehouse_url: str, landing: str | Path, upload_id: str, scratch: Path
) -> subprocess.Popen:
    command = ingestion_command(warehouse_url, str(landing), upload_id, scratch)
    return subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def wait_for_copy(database_url: str, run: subprocess.Popen, timeout: float = 120) -> None:
    """Returns once the server is receiving a COPY (the load is mid-way), while `run` lives."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(database_url, autocommit=True) as conn:
        while not conn.execute("SELECT count(*) FROM pg_stat_progress_copy").fetchone()[0]:
            assert run.poll() is None, "the load ended before its COPY was seen"
            assert time.monotonic() < deadline, "the load never reached its COPY"
            time.sleep(0.02)
