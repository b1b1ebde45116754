"""Exactly once: duplicates are counted, never loaded twice; a failed load leaves nothing.
(Kills, races and infrastructure faults: tests/faults.)"""

import pytest

from tests.helpers import HEADER, write_csv
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
    assert (
        db.execute("SELECT sum(rows_loaded) FROM uploads").fetchone()[0]
        == db.execute("SELECT count(*) FROM transactions").fetchone()[0]
    )


def test_a_failure_at_the_last_moment_leaves_nothing_and_the_retry_loads_all(tmp_path, load, db):
    path = write_csv(tmp_path / "a.csv", [HEADER, *rows(range(1000)), "bad"])

    def fail(stage: str) -> None:
        if stage == "copied":  # everything written, inside the load's transaction
            raise RuntimeError("disk full (injected)")

    with pytest.raises(RuntimeError, match="injected"):
        load(path, upload_id="atomic", on_stage=fail)
    assert db.execute("SELECT count(*) FROM transactions").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM rejected_rows").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM analytics_pending_days").fetchone()[0] == 0
    assert get_upload(db, "atomic")["status"] == "running"  # its caller retries or gives up

    assert counts(load(path, upload_id="atomic")) == (1001, 1000, 0, 1)
    assert get_upload(db, "atomic")["status"] == "succeeded"
