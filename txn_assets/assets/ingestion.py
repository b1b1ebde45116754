"""Ingestion assets: landed files into the `transactions` table."""

import tempfile
from pathlib import Path

from dagster import (
    AssetExecutionContext,
    AssetMaterialization,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)

from txn_assets.partitions import is_daily_partition, upload_partitions
from txn_assets.resources import LandingZoneResource, WarehouseResource
from txn_core import ledger
from txn_core.contract import FileRejected
from txn_core.loader import LoadResult, load_upload


def _rejected_preview(result: LoadResult) -> str:
    if not result.rejected_sample:
        return "No rejected rows."
    rows = "\n".join(
        f"| {line} | {reason} | `{raw[:80].replace('|', '/')}` |"
        for line, reason, raw in result.rejected_sample
    )
    return f"| line | reason | raw line |\n| --- | --- | --- |\n{rows}"


def load_metadata(result: LoadResult) -> dict:
    """What a user reads in the UI about one load."""
    days = [day.isoformat() for day in result.days_touched]
    return {
        "rows_read": result.rows_read,
        "rows_loaded": result.rows_loaded,
        "rows_duplicate": result.rows_duplicate,
        "rows_rejected": result.rows_rejected,
        "days_touched": len(days),
        "first_day": days[0] if days else None,
        "last_day": days[-1] if days else None,
        "seconds": round(result.seconds, 2),
        "rows_per_second": round(result.rows_read / result.seconds) if result.seconds else None,
        "already_loaded": result.already_loaded,
        "rejected_preview": MetadataValue.md(_rejected_preview(result)),
    }


@asset(
    partitions_def=upload_partitions,
    group_name="ingestion",
    kinds={"duckdb", "postgres"},
    description=(
        "One partition per landed CSV file (an API upload, a file dropped into the landing "
        "zone, or a generated day). Materialising a partition checks the file against the "
        "data contract with DuckDB and loads its new rows into `transactions` with COPY, "
        "exactly once and atomically, with the ledger's counts in the same transaction: rows "
        "read = loaded + duplicate + rejected. Bad rows go to `rejected_rows` with their line "
        "and reason."
    ),
    tags={"txn/pipeline": "ingestion"},
)
def raw_uploads(
    context: AssetExecutionContext, warehouse: WarehouseResource, landing: LandingZoneResource
) -> MaterializeResult:
    upload_id = context.partition_key
    with warehouse.connect() as conn:
        upload = ledger.get_upload(conn, upload_id)
    if upload is None:
        raise Failure(f"Upload {upload_id} is not in the ledger.", allow_retries=False)

    if upload["status"] == "succeeded":
        context.log.info(f"Upload {upload_id} was already loaded; nothing to do.")
        return MaterializeResult(metadata=load_metadata(LoadResult.from_ledger(upload)))

    zone = landing.zone()
    with tempfile.TemporaryDirectory(prefix="txn-load-") as scratch:
        try:
            path = zone.local_path(upload["landing_key"], Path(scratch))
        except FileNotFoundError as exc:
            with warehouse.connect() as conn:
                ledger.mark_failed(conn, upload_id, str(exc))
            raise Failure(str(exc), allow_retries=False) from exc
        try:
            result = load_upload(
                warehouse.database_url, upload_id, path,
                run_id=context.run.run_id, logger=context.log, workdir=Path(scratch),
            )
        except FileRejected as exc:
            raise Failure(
                f"{upload['file_name']} was rejected as a whole: {exc}",
                metadata={"upload_id": upload_id},
                allow_retries=False,
            ) from exc
    with warehouse.connect() as conn:
        ledger.set_landing_key(conn, upload_id, zone.mark_processed(upload["landing_key"]))
    mark_days_updated(context, result)
    return MaterializeResult(metadata=load_metadata(result))


def mark_days_updated(context: AssetExecutionContext, result: LoadResult) -> None:
    """Record the days this upload added rows to as updated partitions of daily_transactions,
    so the UI shows every day that has data and downstream assets refresh exactly those."""
    if not result.rows_loaded:
        return
    for day in filter(is_daily_partition, result.days_touched):
        context.log_event(
            AssetMaterialization(
                asset_key="daily_transactions",
                partition=day.isoformat(),
                description=f"Rows added by upload {result.upload_id}",
                metadata={"upload_id": result.upload_id},
            )
        )
