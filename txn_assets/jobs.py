"""Jobs: what sensors, schedules and the Launchpad run."""

from dagster import define_asset_job, in_process_executor, job

from txn_assets.assets.generation import generate_bulk_file

# Partitions come from the selected assets. One process per run: each job is a single step,
# and a subprocess per step would add seconds.
ingest_upload_job = define_asset_job(
    "ingest_upload",
    selection=["raw_uploads"],
    executor_def=in_process_executor,
    tags={"txn/pipeline": "ingestion"},
    description="Loads one landed file (one `uploads` partition) into the warehouse.",
)

generate_days_job = define_asset_job(
    "generate_days",
    selection=["daily_transactions"],
    executor_def=in_process_executor,
    tags={"txn/pipeline": "ingestion"},
    description="Generates and loads simulated transactions for days of `daily_transactions`.",
)


@job(
    executor_def=in_process_executor,
    description=(
        "Bulk Data Generator: writes a CSV with a chosen number of simulated transactions over a "
        "date range into the landing zone (set num_rows, start_date, end_date in the Launchpad); "
        "the landing-zone sensor ingests it like an upload."
    ),
)
def bulk_generate():
    generate_bulk_file()
