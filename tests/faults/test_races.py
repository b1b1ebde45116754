"""Races: two runs of one upload at once, a failure reported after a success, and refreshes
that overlap loads and each other, committing in any order."""

import threading

import psycopg

from tests.faults.steps import drop_file, rows, run_ingestion, start_ingestion
from tests.helpers import assert_platform_consistent
from txn_core import ingest, ledger, refresh
from txn_core.landing.folder import FolderLandingZone


def test_two_runs_of_one_upload_at_once_load_it_once_and_both_succeed(
    warehouse_url, landing_root, tmp_path
):
    """The sensor's run and a Materialize from the UI, side by side."""
    data = rows(150_000)
    upload_id = drop_file(warehouse_url, landing_root, "twice.csv", data.lines)
    runs = [
        start_ingestion(warehouse_url, landing_root, upload_id, tmp_path / f"s{n}")
        for n in range(2)
    ]
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        upload = ledger.get_upload(conn, upload_id)
    assert (upload["status"], upload["rows_loaded"], upload["rows_duplicate"]) == (
        "succeeded", data.count, 0,
    )  # fmt: skip
    assert_platform_consistent(warehouse_url, landing_root, data.count, data.total)


def test_a_failure_reported_after_a_success_changes_nothing(warehouse_url, landing_root, tmp_path):
    """A second run that failed (say, its file was already moved) must not undo the first."""
    data = rows(500)
    upload_id = drop_file(warehouse_url, landing_root, "once.csv", data.lines)
    assert run_ingestion(warehouse_url, landing_root, upload_id, tmp_path / "s").returncode == 0
    zone = FolderLandingZone(landing_root)
    ingest.give_up(warehouse_url, zone, upload_id, "FileNotFoundError: incoming/once.csv")
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        upload = ledger.get_upload(conn, upload_id)
    assert (upload["status"], upload["rows_loaded"], upload["error"]) == (
        "succeeded", data.count, None,
    )  # fmt: skip
    assert upload["landing_key"].startswith("processed/")
    assert_platform_consistent(warehouse_url, landing_root, data.count, data.total)


def test_refreshes_that_overlap_loads_and_each_other_skip_and_repeat_nothing(
    warehouse_url, landing_root, tmp_path
):
    """Refresh A stops inside its transaction; meanwhile a load commits rows for A's days and
    new ones, and refresh B starts; then A commits, and B after it. With change ids committed
    out of order, a watermark would skip B's changes; here each refresh folds in the queue
    entries its snapshot saw, so together they fold in everything exactly once."""
    first, second = rows(3_000), rows(3_000, first=500_000, users=11)
    first_id = drop_file(warehouse_url, landing_root, "first.csv", first.lines)
    second_id = drop_file(warehouse_url, landing_root, "second.csv", second.lines)
    zone = FolderLandingZone(landing_root)
    ingest.ingest_upload(warehouse_url, zone, first_id, scratch=tmp_path / "s1")

    a_inside, a_release = threading.Event(), threading.Event()

    def pause_inside(stage: str) -> None:
        if stage == "trend":
            a_inside.set()
            assert a_release.wait(60)

    def run_refresh(on_stage=None) -> refresh.RefreshResult:
        with psycopg.connect(warehouse_url, autocommit=True) as conn:
            return refresh.refresh_analytics(conn, on_stage=on_stage)

    results: dict[str, refresh.RefreshResult] = {}
    a = threading.Thread(target=lambda: results.update(a=run_refresh(pause_inside)))
    a.start()
    assert a_inside.wait(60)
    ingest.ingest_upload(warehouse_url, zone, second_id, scratch=tmp_path / "s2")
    b = threading.Thread(target=lambda: results.update(b=run_refresh()))
    b.start()
    b.join(timeout=2)
    assert b.is_alive(), "refresh B must wait for A"
    a_release.set()
    a.join(60)
    b.join(60)
    assert results["a"].days and results["b"].days  # each folded in its own snapshot's days
    assert run_refresh().days == []  # nothing left over
    assert_platform_consistent(
        warehouse_url, landing_root, first.count + second.count, first.total + second.total
    )
