"""Sensors: the landing zone watcher that turns each landed file into one ingestion run."""

import json
import time

from dagster import (
    DefaultSensorStatus,
    RunRequest,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from txn_assets.jobs import ingest_upload_job
from txn_assets.partitions import upload_partitions
from txn_assets.resources import LandingZoneResource, WarehouseResource
from txn_core import ledger
from txn_core.landing import UPLOAD_ID_PATTERN, LandedFile


def _is_complete(landed: LandedFile, last_seen: dict, settle_ns: int, now_ns: int) -> bool:
    """API uploads appear whole (an atomic rename). A dropped file counts as complete once two
    ticks saw the same size and mtime and it has not changed for the settle time, so a file
    still being copied is never picked up half-way."""
    if UPLOAD_ID_PATTERN.match(landed.name):
        return True
    unchanged = last_seen.get(landed.key) == [landed.size, landed.modified_ns]
    return unchanged and now_ns - landed.modified_ns >= settle_ns


@sensor(
    job=ingest_upload_job,
    minimum_interval_seconds=5,
    default_status=DefaultSensorStatus.RUNNING,
    description=(
        "Watches the landing zone's incoming/ folder and launches one ingestion run per "
        "complete file (run key = the upload id, so a file is never loaded twice)."
    ),
)
def landing_zone_sensor(
    context: SensorEvaluationContext, warehouse: WarehouseResource, landing: LandingZoneResource
):
    zone = landing.zone()
    landed = zone.list_incoming()
    last_seen = json.loads(context.cursor) if context.cursor else {}
    settle_ns = int(landing.settle_seconds * 1e9)
    now_ns = time.time_ns()
    complete = [item for item in landed if _is_complete(item, last_seen, settle_ns, now_ns)]
    cursor = json.dumps({item.key: [item.size, item.modified_ns] for item in landed})
    if not complete:
        return SensorResult(skip_reason=SkipReason("No new complete files."), cursor=cursor)

    with warehouse.connect() as conn:
        known = ledger.uploads_by_landing_key(conn, [item.key for item in complete])
        for item in complete:
            if item.key not in known:
                ledger.register_upload(
                    conn, upload_id=item.upload_id, source="landing",
                    file_name=item.original_name, landing_key=item.key, size_bytes=item.size,
                )
                known[item.key] = item.upload_id

    # One partition lookup per tick: each has_dynamic_partition call is a database round trip.
    existing = set(context.instance.get_dynamic_partitions(upload_partitions.name))
    upload_ids = [known[item.key] for item in complete]
    new_ids = [upload_id for upload_id in upload_ids if upload_id not in existing]
    return SensorResult(
        run_requests=[
            RunRequest(partition_key=upload_id, run_key=upload_id) for upload_id in upload_ids
        ],
        dynamic_partitions_requests=[upload_partitions.build_add_request(new_ids)]
        if new_ids
        else [],
        cursor=cursor,
    )
