"""Sensors: the landing zone watcher (one ingestion run per landed file) and the analytics
backlog watcher (a refresh for queued days that no run in flight will fold in)."""

import json
import time

from dagster import (
    AssetCheckEvaluation,
    AssetKey,
    DagsterRunStatus,
    DefaultSensorStatus,
    RunRequest,
    RunsFilter,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from txn_assets.assets.analytics import DAILY_SPEND, KEEPS_UP, keeps_up
from txn_assets.jobs import REFRESHES_ANALYTICS, ingest_upload_job, refresh_analytics_job
from txn_assets.partitions import UPLOAD_PARTITIONS, upload_partitions
from txn_assets.resources import LandingZoneResource, WarehouseResource
from txn_core import ingest, ledger, refresh
from txn_core.landing.zone import UPLOAD_ID_PATTERN, LandedFile


def _is_complete(landed: LandedFile, last_seen: dict, settle_ns: int, now_ns: int) -> bool:
    """API uploads appear whole (an atomic rename). A dropped file counts as complete once two
    ticks saw the same size and mtime and it has not changed for the settle time, so a file
    still being copied is never picked up half-way."""
    if UPLOAD_ID_PATTERN.match(landed.name):
        return True
    unchanged = last_seen.get(landed.key) == [landed.size, landed.modified_ns]
    return unchanged and now_ns - landed.modified_ns >= settle_ns


IN_FLIGHT = [
    DagsterRunStatus.QUEUED,
    DagsterRunStatus.NOT_STARTED,
    DagsterRunStatus.STARTING,
    DagsterRunStatus.STARTED,
]

PARTITION_TAG = "dagster/partition"
# A run that died this long ago had its chance to be run again (run retries act within seconds).
ABANDONED_AFTER_SECONDS = 120

# Statuses of uploads that still need their run (queued includes waiting for a retry).
WAITING = ("queued", "running")


@sensor(
    job=ingest_upload_job,
    # The daemon evaluates sensors every 5 s at most; asking for 5 s here would make it skip
    # every other pass (a tick comes slightly under 5 s after the last), and a new file would
    # wait up to 10 s to be seen.
    minimum_interval_seconds=1,
    default_status=DefaultSensorStatus.RUNNING,
    description=(
        "Watches the landing zone's incoming/ folder and launches one ingestion run per "
        "complete file (run key = the upload id, so a file is never loaded twice). A file whose "
        "upload already ended but that is still in incoming/ (its run stopped before filing "
        "it) is filed under processed/ or failed/; one whose runs all died, and will not run "
        "again, is given up under failed/ with the reason."
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

    statuses = _register_new(warehouse, complete)
    for upload_id, status in statuses.items():
        if status == "succeeded":
            ingest.file_away(warehouse.database_url, zone, upload_id)
        elif status == "failed":
            ingest.file_failed(warehouse.database_url, zone, upload_id)
    waiting = [upload_id for upload_id, status in statuses.items() if status in WAITING]
    for upload_id in list(waiting):
        if reason := _abandoned(context.instance, upload_id):
            ingest.give_up(warehouse.database_url, zone, upload_id, reason)
            waiting.remove(upload_id)

    # One partition lookup per tick: each has_dynamic_partition call is a database round trip.
    existing = set(context.instance.get_dynamic_partitions(UPLOAD_PARTITIONS))
    new_ids = [upload_id for upload_id in waiting if upload_id not in existing]
    return SensorResult(
        run_requests=[
            RunRequest(partition_key=upload_id, run_key=upload_id) for upload_id in waiting
        ],
        dynamic_partitions_requests=[upload_partitions.build_add_request(new_ids)]
        if new_ids
        else [],
        cursor=cursor,
    )


def _abandoned(instance, upload_id: str) -> str | None:
    """Why no run will load the upload any more, once every run of it stopped without loading
    it and Dagster had time to run a dead one again; None while a run may still load it."""
    records = instance.get_run_records(RunsFilter(tags={PARTITION_TAG: upload_id}))
    if not records or not all(record.dagster_run.is_finished for record in records):
        return None
    last = max(records, key=lambda record: record.create_timestamp)
    ended = last.end_time or time.time()
    if last.dagster_run.status != DagsterRunStatus.FAILURE:
        return None
    if time.time() - ended < ABANDONED_AFTER_SECONDS:
        return None
    return (
        f"its runs stopped without loading it ({len(records)} run(s), the last "
        f"{last.dagster_run.run_id}); drop the file again, or materialise its partition"
    )


def _register_new(warehouse: WarehouseResource, complete: list[LandedFile]) -> dict[str, str]:
    """Each complete file's upload and its status, registering the files the ledger lacks.

    A dropped file's upload id comes from its name, size and mtime: a fixed file dropped under
    the name of a failed one is a new upload."""
    files = {item.upload_id: item for item in complete}
    with warehouse.connect() as conn:
        statuses = ledger.statuses(conn, list(files))
        for upload_id, item in files.items():
            if upload_id not in statuses:
                ledger.register_upload(
                    conn,
                    upload_id=upload_id,
                    source="landing",
                    file_name=item.original_name,
                    landing_key=item.key,
                    size_bytes=item.size,
                )
                statuses[upload_id] = "queued"
    return statuses


@sensor(
    job=refresh_analytics_job,
    minimum_interval_seconds=5,
    default_status=DefaultSensorStatus.RUNNING,
    description=(
        "Refreshes the analytics when days wait in the refresh queue and no run that refreshes "
        "them is on its way (a Materialize or backfill of the ingestion assets alone, or a run "
        "that stopped after its load committed). The queue lives in the warehouse, written with "
        "the rows, so nothing a load committed is ever forgotten."
    ),
)
def analytics_backlog_sensor(context: SensorEvaluationContext, warehouse: WarehouseResource):
    with warehouse.connect() as conn:
        waiting = refresh.backlog(conn)
    keeping_up = _keeps_up_when_it_changes(context, waiting)
    if not waiting.days:
        return SensorResult(skip_reason="No day waits for a refresh.", **keeping_up)
    in_flight = context.instance.get_run_records(
        RunsFilter(statuses=IN_FLIGHT, tags=REFRESHES_ANALYTICS), limit=1
    )
    if in_flight:
        run_id = in_flight[0].dagster_run.run_id
        return SensorResult(
            skip_reason=f"{waiting.days} day(s) wait; run {run_id} refreshes them.", **keeping_up
        )
    # A new key only when new work was queued: a refresh that failed for good is not repeated
    # every tick, and the next load's entries launch it again.
    return SensorResult(
        run_requests=[RunRequest(run_key=f"backlog-{waiting.newest_entry}")], **keeping_up
    )


def _keeps_up_when_it_changes(context: SensorEvaluationContext, waiting: refresh.Backlog):
    """The `keeps_up_with_loads` check, reported when its outcome changes (the cursor holds the
    last one), so a stalled refresh shows in the UI, and reaches people, without a run."""
    passed, metadata = keeps_up(waiting)
    cursor = "passed" if passed else "failed"
    if cursor == context.cursor:
        return {"cursor": cursor}
    evaluation = AssetCheckEvaluation(
        asset_key=AssetKey(DAILY_SPEND),
        check_name=KEEPS_UP,
        passed=passed,
        metadata=metadata,
        description=None if passed else "The analytics lag the newest load.",
    )
    return {"cursor": cursor, "asset_events": [evaluation]}
