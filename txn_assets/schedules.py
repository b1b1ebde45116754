"""Schedules: yesterday's simulated transactions, a few minutes after midnight UTC."""

from dagster import DefaultScheduleStatus, build_schedule_from_partitioned_job

from txn_assets.jobs import generate_days_job

# Targets the day that just ended. After downtime the scheduler launches the missed days too
# (`max_catchup_runs` in dagster.yaml); a day that already has its rows gains nothing.
yesterday_schedule = build_schedule_from_partitioned_job(
    generate_days_job,
    name="generate_yesterday",
    hour_of_day=0,
    minute_of_hour=5,
    default_status=DefaultScheduleStatus.RUNNING,
    description="Generates and appends yesterday's transactions at 00:05 UTC.",
)
