"""The one place that assembles the code location's Definitions."""

from dagster import Definitions, in_process_executor

from txn_assets.assets.analytics import analytics_tables
from txn_assets.assets.generation import daily_transactions
from txn_assets.assets.ingestion import raw_uploads
from txn_assets.catalog import with_code_links
from txn_assets.jobs import (
    bulk_generate,
    generate_days_job,
    ingest_upload_job,
    refresh_analytics_job,
)
from txn_assets.notifications import (
    asset_check_failure_alert_sensor,
    run_failure_alert_sensor,
)
from txn_assets.resources import resources_for
from txn_assets.schedules import generate_yesterday
from txn_assets.sensors import analytics_backlog_sensor, landing_zone_sensor
from txn_core.settings import get_settings

settings = get_settings()

defs = Definitions(
    assets=with_code_links(
        [raw_uploads, daily_transactions, analytics_tables],
        settings.source_url,
        settings.source_revision,
    ),
    jobs=[ingest_upload_job, generate_days_job, refresh_analytics_job, bulk_generate],
    schedules=[generate_yesterday],
    sensors=[
        landing_zone_sensor,
        analytics_backlog_sensor,
        run_failure_alert_sensor,
        asset_check_failure_alert_sensor,
    ],
    resources=resources_for(settings),
    # One process per run, steps in turn: every run, Materialize and backfills included.
    executor=in_process_executor,
)
