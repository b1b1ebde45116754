"""The raw_uploads asset and the landing-zone sensor, on a real warehouse and landing folder."""

import json
import time
import uuid

import psycopg
from dagster import DagsterRun, DagsterRunStatus, build_sensor_context, materialize

from tests.helpers import HEADER
from txn_assets import sensors
from txn_assets.assets.ingestion import raw_uploads
from txn_assets.sensors import landing_zone_sensor
from txn_core import ledger
from txn_core.loader import load_upload

ROWS = [
    "6f1c2a48-3f0c-4a57-9a43-0c3f8b0f7a11,1,2,2024-03-01 10:00:00,12.50",
    "7f1c2a48-3f0c-4a57-9a43-0c3f8b0f7a11,2,2,2024-03-02 10:00:00,2.00",
    "not-a-uuid,2,2,2024-03-02 10:00:00,2.00",
]


def drop(zone, name, lines):
    path = zone.root / "incoming" / name
    path.write_text("\n".join(lines) + "\n")
    return path


def tick(instance, resources, cursor=None):
    """One sensor evaluation; returns its result (whose cursor feeds the next tick)."""
    with build_sensor_context(instance=instance, resources=resources, cursor=cursor) as context:
        return landing_zone_sensor(context)


def test_sensor_waits_for_a_dropped_file_to_settle_then_requests_one_run(
    instance, resources, zone, warehouse_url
):
    drop(zone, "sales.csv", [HEADER, *ROWS])
    first = tick(instance, resources)
    assert not first.run_requests  # seen once: it may still be growing
    seen = first

    second = tick(instance, resources, cursor=seen.cursor)
    (request,) = second.run_requests
    assert request.run_key == request.partition_key
    (add,) = second.dynamic_partitions_requests
    assert list(add.partition_keys) == [request.partition_key]
    with psycopg.connect(warehouse_url) as conn:
        upload = ledger.get_upload(conn, request.partition_key)
    assert (upload["status"], upload["source"], upload["file_name"]) == (
        "queued",
        "landing",
        "sales.csv",
    )


def test_a_file_still_being_written_is_not_picked_up(instance, resources, zone):
    path = drop(zone, "growing.csv", [HEADER, ROWS[0]])
    seen = tick(instance, resources)
    with path.open("a") as handle:
        handle.write(ROWS[1] + "\n")
    result = tick(instance, resources, cursor=seen.cursor)
    assert not result.run_requests
    result = tick(instance, resources, cursor=result.cursor)
    assert len(result.run_requests) == 1


def test_the_same_file_gets_the_same_run_key_on_every_evaluation(instance, resources, zone):
    drop(zone, "again.csv", [HEADER, *ROWS])
    seen = tick(instance, resources)
    first = tick(instance, resources, cursor=seen.cursor)
    second = tick(instance, resources, cursor=seen.cursor)
    assert [r.run_key for r in first.run_requests] == [r.run_key for r in second.run_requests]


def test_hidden_part_files_are_never_picked_up(instance, resources, zone):
    drop(zone, ".u123.part", [HEADER, *ROWS])
    seen = tick(instance, resources)
    result = tick(instance, resources, cursor=seen.cursor)
    assert not result.run_requests
    assert json.loads(result.cursor) == {}


def test_materialising_an_upload_loads_it_and_reports_counts_in_the_ui(
    instance, resources, zone, warehouse_url
):
    drop(zone, "sales.csv", [HEADER, *ROWS])
    seen = tick(instance, resources)
    sensor_result = tick(instance, resources, cursor=seen.cursor)
    upload_id = sensor_result.run_requests[0].partition_key
    instance.add_dynamic_partitions("uploads", [upload_id])

    started = time.monotonic()
    result = materialize(
        [raw_uploads], instance=instance, resources=resources, partition_key=upload_id
    )
    assert result.success
    events = result.asset_materializations_for_node("raw_uploads")
    # Only its own: the days' partitions are recorded once a refresh makes them readable.
    (event,) = events
    assert event.asset_key.path == ["raw_uploads"]
    metadata = {key: value.value for key, value in event.metadata.items()}
    assert (metadata["rows_read"], metadata["rows_loaded"]) == (3, 2)
    assert (metadata["rows_duplicate"], metadata["rows_rejected"]) == (0, 1)
    assert (metadata["first_day"], metadata["last_day"]) == ("2024-03-01", "2024-03-02")
    assert "transaction_id is not a UUID" in metadata["rejected_preview"]
    assert 0 < metadata["seconds"] < time.monotonic() - started + 1

    assert not list((zone.root / "incoming").iterdir())
    assert (zone.root / "processed" / f"{upload_id}--sales.csv").exists()
    with psycopg.connect(warehouse_url) as conn:
        upload = ledger.get_upload(conn, upload_id)
        assert upload["status"] == "succeeded"
        assert upload["landing_key"] == f"processed/{upload_id}--sales.csv"
        assert conn.execute("SELECT count(*) FROM transactions").fetchone()[0] == 2

    again = materialize(
        [raw_uploads], instance=instance, resources=resources, partition_key=upload_id
    )
    assert again.success  # a re-run finds the upload done and changes nothing
    with psycopg.connect(warehouse_url) as conn:
        assert conn.execute("SELECT count(*) FROM transactions").fetchone()[0] == 2


def ingest(instance, resources, zone, name, lines):
    """Drop a file, let the sensor register it, materialise its partition; the run's result."""
    drop(zone, name, lines)
    seen = tick(instance, resources)
    (request,) = tick(instance, resources, cursor=seen.cursor).run_requests
    instance.add_dynamic_partitions("uploads", [request.partition_key])
    result = materialize(
        [raw_uploads],
        instance=instance,
        resources=resources,
        partition_key=request.partition_key,
        raise_on_error=False,
    )
    return request.partition_key, result


def attempts(result) -> int:
    return 1 + sum(event.event_type_value == "STEP_UP_FOR_RETRY" for event in result.all_events)


def test_a_wrong_file_fails_once_and_leaves_incoming_with_its_reason(
    instance, resources, zone, warehouse_url
):
    upload_id, result = ingest(instance, resources, zone, "notes.csv", ["just notes", "no table"])
    assert not result.success
    assert attempts(result) == 1  # the contract fails the same way every time: no retry
    with psycopg.connect(warehouse_url) as conn:
        upload = ledger.get_upload(conn, upload_id)
    assert upload["status"] == "failed"
    assert "missing required column" in upload["error"]
    assert not list((zone.root / "incoming").iterdir())
    assert upload["landing_key"] == f"failed/{upload_id}--notes.csv"
    reason = (zone.root / "failed" / f"{upload_id}--notes.csv.error.txt").read_text()
    assert "missing required column" in reason


def test_a_fixed_file_dropped_under_a_failed_ones_name_is_a_new_upload(
    instance, resources, zone, warehouse_url
):
    failed_id, failed = ingest(instance, resources, zone, "sales.csv", ["oops", "not a table"])
    assert not failed.success
    fixed_id, fixed = ingest(instance, resources, zone, "sales.csv", [HEADER, *ROWS])
    assert fixed.success and fixed_id != failed_id
    with psycopg.connect(warehouse_url) as conn:
        statuses = ledger.statuses(conn, [failed_id, fixed_id])
        assert conn.execute("SELECT count(*) FROM transactions").fetchone()[0] == 2
    assert statuses == {failed_id: "failed", fixed_id: "succeeded"}
    again_id, again = ingest(instance, resources, zone, "sales.csv", [HEADER, ROWS[0]])
    assert again.success  # a third file of that name: its processed copy overwrites none
    assert sorted(path.name for path in (zone.root / "processed").iterdir()) == sorted(
        [f"{fixed_id}--sales.csv", f"{again_id}--sales.csv"]
    )


def test_the_sensor_files_a_loaded_file_its_run_left_in_incoming(
    instance, resources, zone, warehouse_url, tmp_path
):
    """A run killed after its load committed, and never retried: the next tick files it."""
    path = drop(zone, "late.csv", [HEADER, *ROWS])
    seen = tick(instance, resources)
    (request,) = tick(instance, resources, cursor=seen.cursor).run_requests
    load_upload(warehouse_url, request.partition_key, path, workdir=tmp_path)  # no filing
    result = tick(instance, resources, cursor=seen.cursor)
    assert not result.run_requests
    assert not list((zone.root / "incoming").iterdir())
    assert (zone.root / "processed" / f"{request.partition_key}--late.csv").exists()
    with psycopg.connect(warehouse_url) as conn:
        upload = ledger.get_upload(conn, request.partition_key)
    assert upload["landing_key"] == f"processed/{request.partition_key}--late.csv"


def test_an_upload_whose_runs_all_died_is_given_up_with_its_file(
    instance, resources, zone, warehouse_url, monkeypatch
):
    """Its run was killed, and its re-executions too: no run will load it, so the sensor says
    so in the ledger and moves the file out of incoming/, instead of leaving it there."""
    drop(zone, "doomed.csv", [HEADER, *ROWS])
    seen = tick(instance, resources)
    (request,) = tick(instance, resources, cursor=seen.cursor).run_requests
    upload_id = request.partition_key
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        ledger.mark_running(conn, upload_id)  # what the killed run left
    died = instance.add_run(
        DagsterRun(
            job_name="ingest_upload",
            run_id=str(uuid.uuid4()),
            status=DagsterRunStatus.STARTED,
            tags={"dagster/partition": upload_id},
        )
    )
    assert len(tick(instance, resources, cursor=seen.cursor).run_requests) == 1  # still running
    instance.report_run_failed(died)
    assert len(tick(instance, resources, cursor=seen.cursor).run_requests) == 1  # may run again

    monkeypatch.setattr(sensors, "ABANDONED_AFTER_SECONDS", 0)
    assert not tick(instance, resources, cursor=seen.cursor).run_requests
    with psycopg.connect(warehouse_url) as conn:
        upload = ledger.get_upload(conn, upload_id)
    assert upload["status"] == "failed" and died.run_id in upload["error"]
    assert not list((zone.root / "incoming").iterdir())
    assert (zone.root / "failed" / f"{upload_id}--doomed.csv").exists()
