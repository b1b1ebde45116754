"""Ingestion assets: landed files into the `transactions` table."""

import tempfile
from pathlib import Path

from dagster import (
    AssetExecutionContext,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)

from txn_assets.catalog import OWNERS, TRANSACTIONS, partition_row_count, table
from txn_assets.partitions import upload_partitions
from txn_assets.pools import INGESTION_POOL
from txn_assets.resources import LandingZoneResource, WarehouseResource
from txn_assets.retries import TRANSIENT_RETRIES, attempts_left
from txn_core import ingest
from txn_core.failures import is_transient, public_reason
from txn_core.landing.zone import LandingZone
from txn_core.loader import LoadResult, UploadNotRegistered


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
    retry_policy=TRANSIENT_RETRIES,
    pool=INGESTION_POOL,
    owners=OWNERS,
    metadata=table("transactions", TRANSACTIONS),
    description=(
        "One partition per landed CSV file (an API upload, a file dropped into the landing "
        "zone, or a generated bulk file); writes its rows into `transactions`. Materialising a "
        "partition checks the file against the data contract with DuckDB and loads its new rows "
        "with COPY, exactly once and atomically, with the ledger's counts and the days to "
        "refresh in the same transaction: rows read = loaded + duplicate + rejected. Bad rows go "
        "to `rejected_rows` with their line and reason; a file with too many is refused whole. "
        "The file then moves to processed/ (or failed/, with its reason). Re-materialising "
        "finishes what a crashed run left and changes nothing that succeeded."
    ),
    tags={"txn/pipeline": "ingestion"},
)
def raw_uploads(
    context: AssetExecutionContext, warehouse: WarehouseResource, landing: LandingZoneResource
) -> MaterializeResult:
    upload_id = context.partition_key
    zone = landing.zone()
    try:
        with tempfile.TemporaryDirectory(prefix="txn-load-") as scratch:
            result = ingest.ingest_upload(
                warehouse.database_url,
                zone,
                upload_id,
                scratch=Path(scratch),
                run_id=context.run.run_id,
                logger=context.log,
            )
    except UploadNotRegistered as exc:
        raise Failure(str(exc), allow_retries=False) from exc
    except Exception as exc:
        raise _failed_attempt(context, warehouse, zone, upload_id, exc) from exc
    return MaterializeResult(
        metadata={**load_metadata(result), **partition_row_count(result.rows_loaded)}
    )


def _failed_attempt(
    context: AssetExecutionContext,
    warehouse: WarehouseResource,
    zone: LandingZone,
    upload_id: str,
    exc: Exception,
) -> Exception:
    """What a failed attempt raises: the error itself, for the retry policy, when it is
    transient and attempts are left; else a Failure that is never retried, with the upload
    given up (failed in the ledger, its file under failed/ with the reason)."""
    reason = public_reason(exc)
    context.log.warning(f"Attempt {context.retry_number + 1} failed: {type(exc).__name__}: {exc}")
    if is_transient(exc) and attempts_left(context.retry_number):
        ingest.retry_later(
            warehouse.database_url,
            upload_id,
            f"attempt {context.retry_number + 1} failed, retrying: {reason}",
        )
        return exc
    ingest.give_up(warehouse.database_url, zone, upload_id, reason)
    return Failure(
        f"Upload {upload_id} failed: {reason}",
        metadata={"upload_id": upload_id},
        allow_retries=False,
    )
