"""The one place that assembles the code location's Definitions."""

from dagster import Definitions

from txn_assets.assets.ingestion import raw_uploads
from txn_assets.jobs import ingest_upload_job
from txn_assets.resources import resources_for
from txn_assets.sensors import landing_zone_sensor
from txn_core.settings import get_settings

defs = Definitions(
    assets=[raw_uploads],
    jobs=[ingest_upload_job],
    sensors=[landing_zone_sensor],
    resources=resources_for(get_settings()),
)
