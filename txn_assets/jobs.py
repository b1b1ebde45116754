"""Jobs: what sensors and schedules launch."""

from dagster import define_asset_job, in_process_executor

from txn_assets.partitions import upload_partitions

# One process per run: a load is one asset, and a subprocess per step would add seconds.
ingest_upload_job = define_asset_job(
    "ingest_upload",
    selection=["raw_uploads"],
    partitions_def=upload_partitions,
    executor_def=in_process_executor,
    tags={"txn/pipeline": "ingestion"},
    description="Loads one landed file (one `uploads` partition) into the warehouse.",
)
