"""The one place that assembles the code location's Definitions."""

from dagster import (
    AssetSelection,
    AutomationConditionSensorDefinition,
    DefaultSensorStatus,
    Definitions,
)

from txn_assets.assets.analytics import user_daily_spend, user_risk_profile, user_spend_trend
from txn_assets.assets.generation import daily_transactions
from txn_assets.assets.ingestion import raw_uploads
from txn_assets.jobs import bulk_generate, generate_days_job, ingest_upload_job
from txn_assets.resources import resources_for
from txn_assets.schedules import generate_yesterday
from txn_assets.sensors import landing_zone_sensor
from txn_core.settings import get_settings

# Declarative automation is off unless a sensor runs it: this one is on from the start.
# emit_backfills keeps a many-day update as one run instead of one per day.
analytics_automation = AutomationConditionSensorDefinition(
    "analytics_automation",
    target=AssetSelection.groups("analytics"),
    default_status=DefaultSensorStatus.RUNNING,
    emit_backfills=True,
    minimum_interval_seconds=10,
    description="Refreshes the analytics tables after new data, touching only what changed.",
)

defs = Definitions(
    assets=[raw_uploads, daily_transactions, user_daily_spend, user_spend_trend, user_risk_profile],
    jobs=[ingest_upload_job, generate_days_job, bulk_generate],
    schedules=[generate_yesterday],
    sensors=[landing_zone_sensor, analytics_automation],
    resources=resources_for(get_settings()),
)
