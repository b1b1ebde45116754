"""The raw_uploads asset and the landing-zone sensor, on a real warehouse and landing folder."""

import json
import time

import psycopg
from dagster import build_sensor_context, materialize

from tests.conftest import HEADER
from txn_assets.assets.ingestion import raw_uploads
from txn_assets.sensors import landing_zone_sensor
from txn_core import ledger

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
        "queued", "landing", "sales.csv"
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
    (event,) = [e for e in events if e.asset_key.path == ["raw_uploads"]]
    # The days the upload added rows to show as updated partitions of daily_transactions.
    days = sorted(e.partition for e in events if e.asset_key.path == ["daily_transactions"])
    assert days == ["2024-03-01", "2024-03-02"]
    metadata = {key: value.value for key, value in event.metadata.items()}
    assert (metadata["rows_read"], metadata["rows_loaded"]) == (3, 2)
    assert (metadata["rows_duplicate"], metadata["rows_rejected"]) == (0, 1)
    assert (metadata["first_day"], metadata["last_day"]) == ("2024-03-01", "2024-03-02")
    assert "transaction_id is not a UUID" in metadata["rejected_preview"]
    assert 0 < metadata["seconds"] < time.monotonic() - started + 1

    assert not list((zone.root / "incoming").iterdir())
    assert (zone.root / "processed" / "sales.csv").exists()
    with psycopg.connect(warehouse_url) as conn:
        upload = ledger.get_upload(conn, upload_id)
        assert upload["status"] == "succeeded"
        assert upload["landing_key"] == "processed/sales.csv"
        assert conn.execute("SELECT count(*) FROM transactions").fetchone()[0] == 2

    again = materialize(
        [raw_uploads], instance=instance, resources=resources, partition_key=upload_id
    )
    assert again.success  # a re-run finds the upload done and changes nothing
    with psycopg.connect(warehouse_url) as conn:
        assert conn.execute("SELECT count(*) FROM transactions").fetchone()[0] == 2


def test_a_wrong_file_fails_the_run_with_the_reason(instance, resources, zone, warehouse_url):
    drop(zone, "notes.csv", ["just some notes", "nothing tabular"])
    seen = tick(instance, resources)
    sensor_result = tick(instance, resources, cursor=seen.cursor)
    upload_id = sensor_result.run_requests[0].partition_key
    instance.add_dynamic_partitions("uploads", [upload_id])
    result = materialize(
        [raw_uploads], instance=instance, resources=resources, partition_key=upload_id,
        raise_on_error=False,
    )
    assert not result.success
    with psycopg.connect(warehouse_url) as conn:
        upload = ledger.get_upload(conn, upload_id)
    assert upload["status"] == "failed"
    assert "missing required column" in upload["error"]
