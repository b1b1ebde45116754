"""kill -9 of an ingestion run at each stage, then the retry: the ledger, `transactions`, the
analytics and the landing zone end as if nothing had happened."""

import os
import signal

import psycopg
import pytest

from tests.faults.steps import drop_file, rows, run_ingestion, start_ingestion, wait_for_copy
from tests.helpers import assert_platform_consistent
from txn_core import ledger, refresh

STAGES = [
    "checking",  # DuckDB parsing and checking the file
    "copying",  # inside the load's transaction, before COPY
    "copied",  # rows, rejected rows, queued days and ledger written, not committed
    "committed",  # the load committed; the file is still in incoming/, nothing refreshed
    "filed",  # the file is under processed/; nothing refreshed
    "refresh:claimed",
    "refresh:daily_spend",
    "refresh:trend",
    "refresh:risk",  # everything refreshed, not committed
]


@pytest.fixture
def earlier(warehouse_url, landing_root, tmp_path):
    """An earlier upload, loaded and refreshed, so the retry's refresh is incremental."""
    earlier = rows(300, first=1_000_000)
    upload_id = drop_file(warehouse_url, landing_root, "earlier.csv", earlier.lines)
    assert run_ingestion(warehouse_url, landing_root, upload_id, tmp_path / "s0").returncode == 0
    return earlier


@pytest.mark.parametrize("stage", STAGES)
def test_a_run_killed_at_any_stage_is_finished_by_its_retry(
    warehouse_url, landing_root, tmp_path, earlier, stage
):
    new = rows(2_000)
    upload_id = drop_file(warehouse_url, landing_root, "new.csv", [*new.lines, "bad,row"])

    killed = run_ingestion(warehouse_url, landing_root, upload_id, tmp_path / "s1", die_at=stage)
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    assert killed.stdout.splitlines()[-1] == f"stage {stage}"
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        upload = ledger.get_upload(conn, upload_id)
        committed = upload["status"] == "succeeded"
        assert committed == (STAGES.index(stage) >= STAGES.index("committed"))
        loaded = conn.execute(
            "SELECT count(*) FROM transactions WHERE upload_id = %s", [upload_id]
        ).fetchone()[0]
        assert loaded == (new.count if committed else 0)  # all or nothing
        assert (refresh.backlog(conn).days > 0) == committed  # nothing lost or folded in

    retry = run_ingestion(warehouse_url, landing_root, upload_id, tmp_path / "s2")
    assert retry.returncode == 0, retry.stdout + retry.stderr
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        upload = ledger.get_upload(conn, upload_id)
    assert (upload["status"], upload["rows_read"], upload["rows_loaded"]) == (
        "succeeded", new.count + 1, new.count,
    )  # fmt: skip
    assert upload["rows_rejected"] == 1
    assert upload["landing_key"] == f"processed/{upload_id}--new.csv"
    assert_platform_consistent(
        warehouse_url, landing_root, earlier.count + new.count, earlier.total + new.total
    )


def test_a_run_killed_mid_copy_leaves_nothing_and_its_retry_loads_all(
    warehouse_url, landing_root, tmp_path, earlier
):
    big = rows(400_000)
    upload_id = drop_file(warehouse_url, landing_root, "big.csv", big.lines)
    run = start_ingestion(warehouse_url, landing_root, upload_id, tmp_path / "s1")
    wait_for_copy(warehouse_url, run)
    os.kill(run.pid, signal.SIGKILL)
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        run.wait()
        # The server notices the dropped connection and rolls the transaction back.
        assert (
            conn.execute(
                "SELECT count(*) FROM transactions WHERE upload_id = %s", [upload_id]
            ).fetchone()[0]
            == 0
        )

    retry = run_ingestion(warehouse_url, landing_root, upload_id, tmp_path / "s2")
    assert retry.returncode == 0, retry.stdout + retry.stderr
    assert_platform_consistent(
        warehouse_url, landing_root, earlier.count + big.count, earlier.total + big.total
    )
