"""Partitions shared by assets, jobs, schedules and sensors."""

import datetime as dt

from dagster import DailyPartitionsDefinition, DynamicPartitionsDefinition

from txn_core.settings import get_settings

# One partition per landed file; the key is the upload's id in the ledger.
UPLOAD_PARTITIONS = "uploads"
upload_partitions = DynamicPartitionsDefinition(name=UPLOAD_PARTITIONS)

# One partition per UTC day, from the configured start to yesterday (the last complete day).
daily_partitions = DailyPartitionsDefinition(
    start_date=get_settings().history_start.isoformat(), timezone="UTC"
)


def is_daily_partition(day: dt.date) -> bool:
    """Whether `day` is a key of `daily_partitions` today (not before the start, not today)."""
    today = dt.datetime.now(dt.UTC).date()
    return get_settings().history_start <= day < today
