"""Jobs: what sensors, schedules and the Launchpad run.

The ingestion and generation jobs refresh the analytics in the same run, right after their load:
a new upload is readable without waiting for another run to start. Every job runs in one
process (the in-process executor, the code location's default, so Materialize and backfills
from the UI do too): a subprocess per step would add seconds.
"""

from dagster import AssetSelection, define_asset_job, job

from txn_assets.assets.analytics import analytics_tables
from txn_assets.assets.generation import daily_transactions, generate_bulk_file
from txn_assets.assets.ingestion import raw_uploads

# Runs with this tag refresh the analytics before they end (the backlog sensor waits for them).
REFRESHES_ANALYTICS = {"txn/refreshes_analytics": "true"}
ANALYTICS = AssetSelection.assets(analytics_tables)

# Partitions come from the selected partitioned asset; the analytics are unpartitioned.
ingest_upload_job = define_asset_job(
    "ingest_upload",
    selection=AssetSelection.assets(raw_uploads) | ANALYTICS,
    tags={"txn/pipeline": "ingestion", **REFRESHES_ANALYTICS},
    description="Loads one landed file (one `uploads` partition), then refreshes the analytics.",
)

generate_days_job = define_asset_job(
    "generate_days",
    selection=AssetSelection.assets(daily_transactions) | ANALYTICS,
    tags={"txn/pipeline": "ingestion", **REFRESHES_ANALYTICS},
    description=(
        "Generates and loads simulated transactions for days of `daily_transactions`, then "
        "refreshes the analytics."
    ),
)

refresh_analytics_job = define_asset_job(
    "refresh_analytics",
    selection=ANALYTICS,
    tags={"txn/pipeline": "analytics", **REFRESHES_ANALYTICS},
    description="Folds every day that received rows into the analytics tables.",
)


@job(
    description=(
        "Bulk Data Generator: writes a CSV with a chosen number of simulated transactions over a "
        "date range into the landing zone (set num_rows, start_date, end_date in the Launchpad); "
        "the landing-zone sensor ingests it like an upload."
    ),
)
def bulk_generate():
    generate_bulk_file()
