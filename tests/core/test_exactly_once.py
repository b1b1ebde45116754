"""Exactly once: duplicates are counted, never loaded twice; a failed load leaves nothing."""

import os
import signal
import subprocess
import sys
import time

import psycopg
import pytest

from tests.conftest import HEADER, write_csv
from txn_core import ledger
from txn_core.ledger import get_upload


def rows(ids, amount="1.00", user=1):
    return [f"00000000-0000-4000-8000-{i:012d},{user},1,2024-03-01 10:00:00,{amount}" for i in ids]


def counts(result):
    return (result.rows_read, result.rows_loaded, result.rows_duplicate, result.rows_rejected)


def test_the_same_file_twice_adds_nothing_the_second_time(tmp_path, load, db):
    path = write_csv(tmp_path / "a.csv", [HEADER, *rows(range(100))])
    assert counts(load(path)) == (100, 100, 0, 0)
    assert counts(load(path)) == (100, 0, 100, 0)
    assert db.execute("SELECT count(*) FROM transactions").fetchone()[0] == 100


def test_overlapping_files_keep_the_first_seen_row(tmp_path, load, db):
    first = write_csv(tmp_path / "first.csv", [HEADER, *rows(range(0, 100), amount="1.00")])
    second = write_csv(tmp_path / "second.csv", [HEADER, *rows(range(50, 150), amount="2.00")])
    load(first, upload_id="first")
    assert counts(load(second, upload_id="second")) == (100, 50, 50, 0)
    by_upload = dict(
        db.execute("SELECT upload_id, sum(transaction_amount) FROM transactions GROUP BY 1")
    )
    assert by_upload == {"first": 100, "second": 100}  # 100 x 1.00 and 50 x 2.00


def test_duplicates_within_a_file_keep_the_first_line(tmp_path, load, db):
    lines = [HEADER, *rows([7], amount="1.00"), *rows([8]), *rows([7], amount="9.99")]
    result = load(write_csv(tmp_path / "dups.csv", lines))
    assert counts(result) == (3, 2, 1, 0)
    amount = db.execute(
        "SELECT transaction_amount FROM transactions "
        "WHERE transaction_id::text LIKE '%000000000007'"
    ).fetchone()[0]
    assert str(amount) == "1.00"


def test_rerunning_a_succeeded_upload_changes_nothing(tmp_path, load, db):
    path = write_csv(tmp_path / "a.csv", [HEADER, *rows(range(10)), "bad,row"])
    first = load(path, upload_id="once")
    again = load(path, upload_id="once")
    assert counts(again) == counts(first) == (11, 10, 0, 1)
    assert again.already_loaded
    assert db.execute("SELECT count(*) FROM rejected_rows").fetchone()[0] == 1


def test_every_ledger_row_adds_up(tmp_path, load, db):
    load(write_csv(tmp_path / "a.csv", [HEADER, *rows(range(20)), "x,y,z"]))
    load(write_csv(tmp_path / "b.csv", [HEADER, *rows(range(10, 40)), *rows([39])]))
    bad = db.execute(
        "SELECT count(*) FROM uploads "
        "WHERE rows_read <> rows_loaded + rows_duplicate + rows_rejected"
    ).fetchone()[0]
    assert bad == 0
    assert db.execute("SELECT sum(rows_loaded) FROM uploads").fetchone()[0] == db.execute(
        "SELECT count(*) FROM transactions"
    ).fetchone()[0]


def test_a_failure_at_the_last_moment_leaves_nothing_and_the_retry_loads_all(
    tmp_path, load, db
):
    path = write_csv(tmp_path / "a.csv", [HEADER, *rows(range(1000)), "bad"])

    def fail():
        raise RuntimeError("disk full (injected)")

    with pytest.raises(RuntimeError, match="injected"):
        load(path, upload_id="atomic", before_commit=fail)
    assert db.execute("SELECT count(*) FROM transactions").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM rejected_rows").fetchone()[0] == 0
    failed = get_upload(db, "atomic")
    assert failed["status"] == "failed" and "injected" in failed["error"]

    assert counts(load(path, upload_id="atomic")) == (1001, 1000, 0, 1)
    assert get_upload(db, "atomic")["status"] == "succeeded"


LOAD_SCRIPT = """
import sys
from pathlib import Path
from txn_core.loader import load_upload
load_upload(sys.argv[1], sys.argv[2], Path(sys.argv[3]))
"""


def test_a_load_killed_mid_copy_leaves_nothing_and_the_retry_loads_all(
    tmp_path, warehouse_url, db
):
    path = write_csv(tmp_path / "big.csv", [HEADER, *rows(range(600_000))])
    ledger.register_upload(
        db, upload_id="killed", source="test", file_name="big.csv",
        landing_key=str(path), size_bytes=path.stat().st_size,
    )
    loader = subprocess.Popen([sys.executable, "-c", LOAD_SCRIPT, warehouse_url, "killed", path])
    try:
        deadline = time.monotonic() + 120
        while not db.execute("SELECT count(*) FROM pg_stat_progress_copy").fetchone()[0]:
            assert loader.poll() is None, "the load finished before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        os.kill(loader.pid, signal.SIGKILL)
    finally:
        loader.wait()
    # The server notices the dropped connection and rolls the transaction back.
    with psycopg.connect(warehouse_url, autocommit=True) as fresh:
        assert fresh.execute("SELECT count(*) FROM transactions").fetchone()[0] == 0
        assert get_upload(fresh, "killed")["status"] == "running"

    from txn_core.loader import load_upload

    result = load_upload(warehouse_url, "killed", path, workdir=tmp_path)
    assert counts(result) == (600_000, 600_000, 0, 0)
    assert db.execute("SELECT count(*) FROM transactions").fetchone()[0] == 600_000
