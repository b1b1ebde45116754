"""Schedules: yesterday's simulated transactions, a few minutes after midnight UTC."""

import datetime as dt

from dagster import (
    AssetKey,
    DefaultScheduleStatus,
    RunRequest,
    ScheduleEvaluationContext,
    SkipReason,
    schedule,
)

from txn_assets.jobs import generate_days_job
from txn_core.settings import get_settings

CATCH_UP_DAYS = 7
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def contiguous_ranges(days: list[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """[d1, d2, d3, d5] -> [(d1, d3), (d5, d5)] for sorted, distinct days."""
    ranges: list[tuple[dt.date, dt.date]] = []
    for day in days:
        if ranges and day - ranges[-1][1] == dt.timedelta(days=1):
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return ranges


@schedule(
    job=generate_days_job,
    cron_schedule="5 0 * * *",
    execution_timezone="UTC",
    # Simulated data is opt-in (TXN_GENERATE_DAILY): `make run` asks for it, production not.
    default_status=DefaultScheduleStatus.RUNNING
    if get_settings().generate_daily
    else DefaultScheduleStatus.STOPPED,
    description=(
        "Generates and appends yesterday's transactions at 00:05 UTC. After downtime it also "
        f"catches up every missing day of the last {CATCH_UP_DAYS}, in one run per gap; a day "
        "that already has its rows gains nothing."
    ),
)
def generate_yesterday(context: ScheduleEvaluationContext):
    # Dagster's own catch-up does not apply to asset jobs: a tick after downtime only sees
    # its own day, so this schedule looks back for days that never got their data.
    today = context.scheduled_execution_time.astimezone(dt.UTC).date()
    first = max(get_settings().history_start, today - dt.timedelta(days=CATCH_UP_DAYS))
    done = context.instance.get_materialized_partitions(AssetKey("daily_transactions"))
    missing = [
        first + dt.timedelta(days=offset)
        for offset in range((today - first).days)
        if (first + dt.timedelta(days=offset)).isoformat() not in done
    ]
    if not missing:
        return SkipReason("Every day of the last week already has its transactions.")
    return [
        RunRequest(
            run_key=f"{start}..{end}",
            tags={RANGE_START_TAG: start.isoformat(), RANGE_END_TAG: end.isoformat()},
        )
        for start, end in contiguous_ranges(missing)
    ]
