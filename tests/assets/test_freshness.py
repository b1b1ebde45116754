"""Lateness shows: the freshness daemon, with a frozen clock, finds yesterday's day late after
02:00 UTC and an analytics table late a day after its last refresh.

No public API evaluates a freshness policy, so this drives the daemon's own iteration on the
code location (as tests/assets/test_generation.py drives the scheduler's)."""

import datetime as dt
import os

from dagster import AssetKey, AssetMaterialization, instance_for_test
from dagster._core.test_utils import create_test_daemon_workspace_context, freeze_time
from dagster._core.workspace.load_target import ModuleTarget
from dagster._daemon.freshness import FreshnessDaemon

DAILY, SPEND = AssetKey("daily_transactions"), AssetKey("user_daily_spend")
TARGET = ModuleTarget(
    module_name="txn_assets.definitions",
    attribute=None,
    working_directory=os.getcwd(),
    location_name="txn_assets",
)


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=dt.UTC)


def states(instance, context, now: dt.datetime) -> dict[str, str]:
    with freeze_time(now):
        list(FreshnessDaemon().run_iteration(context))
    records = instance.get_freshness_state_records([DAILY, SPEND])
    return {key.path[-1]: records[key].freshness_state.value for key in (DAILY, SPEND)}


def test_a_day_that_did_not_arrive_and_analytics_that_did_not_refresh_are_late():
    with instance_for_test() as instance:
        with freeze_time(at(10, 0, 5)):  # the schedule's run for 9 March, and its refresh
            instance.report_runless_asset_event(AssetMaterialization(DAILY, partition="2026-03-09"))
            instance.report_runless_asset_event(AssetMaterialization(SPEND))
        with create_test_daemon_workspace_context(TARGET, instance) as context:
            assert states(instance, context, at(10, 3)) == {
                "daily_transactions": "PASS",
                "user_daily_spend": "PASS",
            }
            # 11 March, 01:35: the refresh is 25.5 h old; the day is not due before 02:00.
            assert states(instance, context, at(11, 1, 35)) == {
                "daily_transactions": "PASS",
                "user_daily_spend": "WARN",
            }
            # 02:00 passed without 10 March's day; the refresh is 26.5 h old.
            assert states(instance, context, at(11, 2, 35)) == {
                "daily_transactions": "FAIL",
                "user_daily_spend": "FAIL",
            }
