"""Daily partitions, the generator asset, yesterday's schedule with catch-up, bulk generation."""

import datetime as dt
import logging
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from dagster import (
    AssetKey,
    AssetMaterialization,
    build_schedule_context,
    build_sensor_context,
    materialize,
)
from dagster._core.test_utils import (
    create_test_daemon_workspace_context,
    freeze_time,
    instance_for_test,
)
from dagster._core.workspace.load_target import ModuleTarget
from dagster._scheduler.scheduler import launch_scheduled_runs

from txn_assets.assets.generation import daily_transactions
from txn_assets.assets.ingestion import raw_uploads
from txn_assets.definitions import defs
from txn_assets.partitions import daily_partitions
from txn_assets.schedules import RANGE_END_TAG, RANGE_START_TAG, generate_yesterday
from txn_assets.sensors import landing_zone_sensor
from txn_core.generator import rows_for_day
from txn_core.settings import get_settings

DAILY = AssetKey("daily_transactions")


def day_range(first: str, last: str) -> list[dt.date]:
    start, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


def test_one_partition_per_day_from_the_start_to_yesterday():
    now = dt.datetime(2024, 3, 1, 15, 30, tzinfo=dt.UTC)
    keys = daily_partitions.get_partition_keys(current_time=now)
    assert keys[0] == "2024-01-01"
    assert keys[-1] == "2024-02-29"  # yesterday: today is not complete yet
    assert len(keys) == 60


def test_a_range_of_days_is_one_run_that_loads_each_day_and_a_rerun_adds_nothing(
    instance, resources, warehouse_url
):
    config = {"ops": {"daily_transactions": {"config": {"rows_per_day": 40}}}}
    tags = {RANGE_START_TAG: "2024-01-05", RANGE_END_TAG: "2024-01-09"}
    result = materialize(
        [daily_transactions],
        instance=instance,
        resources=resources,
        tags=tags,
        run_config=config,
    )
    assert result.success
    expected = sum(rows_for_day(day, 40) for day in day_range("2024-01-05", "2024-01-09"))
    assert len(instance.get_runs()) == 1
    assert instance.get_materialized_partitions(DAILY) == {
        day.isoformat() for day in day_range("2024-01-05", "2024-01-09")
    }
    with psycopg.connect(warehouse_url) as conn:
        assert conn.execute("SELECT count(*) FROM transactions").fetchone()[0] == expected
        source, loaded = conn.execute("SELECT source, rows_loaded FROM uploads").fetchone()
    assert (source, loaded) == ("generator", expected)

    again = materialize(
        [daily_transactions],
        instance=instance,
        resources=resources,
        partition_key="2024-01-07",
        run_config=config,
    )
    assert again.success
    with psycopg.connect(warehouse_url) as conn:
        assert conn.execute("SELECT count(*) FROM transactions").fetchone()[0] == expected
        duplicates = conn.execute(
            "SELECT rows_duplicate FROM uploads WHERE upload_id LIKE 'g20240107-20240107%'"
        ).fetchone()[0]
    assert duplicates == rows_for_day(dt.date(2024, 1, 7), 40)


def test_the_schedule_targets_yesterday(instance):
    for day in day_range("2026-03-01", "2026-03-08"):
        instance.report_runless_asset_event(AssetMaterialization(DAILY, partition=day.isoformat()))
    context = build_schedule_context(
        instance=instance,
        scheduled_execution_time=dt.datetime(2026, 3, 10, 0, 5, tzinfo=dt.UTC),
    )
    (request,) = generate_yesterday.evaluate_tick(context).run_requests
    assert (request.tags[RANGE_START_TAG], request.tags[RANGE_END_TAG]) == (
        "2026-03-09",
        "2026-03-09",
    )


def schedule_status(**env: str) -> str:
    """The generating schedule's default status in a fresh process with `env`."""
    check = (
        "from txn_assets.schedules import generate_yesterday as s; print(s.default_status.value)"
    )
    environment = {k: v for k, v in os.environ.items() if k != "TXN_GENERATE_DAILY"} | env
    result = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, env=environment, check=True
    )
    return result.stdout.strip()


def test_simulated_days_are_generated_only_when_asked():
    """Off by default (production); `make run` asks for them locally."""
    assert schedule_status() == "STOPPED"
    assert schedule_status(TXN_GENERATE_DAILY="false") == "STOPPED"
    assert schedule_status(TXN_GENERATE_DAILY="true") == "RUNNING"


def test_after_downtime_the_next_tick_catches_up_the_missed_days_in_one_run(monkeypatch, request):
    """The real scheduler loop, with a frozen clock: the platform ran on 10 March, was down for
    three midnights, and starts again on 13 March."""
    monkeypatch.setenv("TXN_GENERATE_DAILY", "true")  # as `make run` sets it
    get_settings.cache_clear()
    request.addfinalizer(get_settings.cache_clear)
    launcher = {"module": "dagster._core.test_utils", "class": "MockedRunLauncher"}
    overrides = {"run_launcher": launcher}
    target = ModuleTarget(
        module_name="txn_assets.definitions",
        attribute=None,
        working_directory=os.getcwd(),
        location_name="txn_assets",
    )

    def scheduler_tick(context, now):
        with freeze_time(now):
            list(launch_scheduled_runs(context, logging.getLogger("test"), now, {}))

    def requested(instance):
        return sorted(
            (run.tags[RANGE_START_TAG], run.tags[RANGE_END_TAG]) for run in instance.get_runs()
        )

    with instance_for_test(overrides=overrides) as instance:
        for day in day_range("2026-03-01", "2026-03-08"):
            instance.report_runless_asset_event(
                AssetMaterialization(DAILY, partition=day.isoformat())
            )
        with create_test_daemon_workspace_context(target, instance) as context:
            scheduler_tick(context, dt.datetime(2026, 3, 10, 0, 4, tzinfo=dt.UTC))
            scheduler_tick(context, dt.datetime(2026, 3, 10, 0, 6, tzinfo=dt.UTC))
            assert requested(instance) == [("2026-03-09", "2026-03-09")]
            instance.report_runless_asset_event(AssetMaterialization(DAILY, partition="2026-03-09"))

            scheduler_tick(context, dt.datetime(2026, 3, 13, 9, 0, tzinfo=dt.UTC))
            assert requested(instance) == [
                ("2026-03-09", "2026-03-09"),
                ("2026-03-10", "2026-03-12"),
            ]


def test_bulk_generation_lands_a_file_that_the_sensor_ingests(
    instance, resources, zone, warehouse_url
):
    job = defs.resolve_job_def("bulk_generate")
    config = {
        "ops": {
            "generate_bulk_file": {
                "config": {
                    "num_rows": 2_500,
                    "start_date": "2024-02-01",
                    "end_date": "2024-02-10",
                    "seed": 7,
                }
            }
        }
    }
    result = job.execute_in_process(run_config=config, instance=instance, resources=resources)
    assert result.success
    upload_id = result.output_for_node("generate_bulk_file")
    (landed,) = (Path(zone.root) / "incoming").iterdir()
    assert landed.name.startswith(upload_id)

    with build_sensor_context(instance=instance, resources=resources) as context:
        (request,) = landing_zone_sensor(context).run_requests  # complete on arrival
    assert request.partition_key == upload_id
    instance.add_dynamic_partitions("uploads", [upload_id])
    assert materialize(
        [raw_uploads], instance=instance, resources=resources, partition_key=upload_id
    ).success
    with psycopg.connect(warehouse_url) as conn:
        row = conn.execute(
            "SELECT source, status, rows_loaded, first_timestamp::date, last_timestamp::date "
            "FROM uploads WHERE upload_id = %s",
            [upload_id],
        ).fetchone()
    assert row == ("bulk", "succeeded", 2_500, dt.date(2024, 2, 1), dt.date(2024, 2, 10))


@pytest.mark.parametrize(
    ("config", "reason"),
    [
        ({"start_date": "2024-02-30"}, "'2024-02-30' is not a day written YYYY-MM-DD"),
        ({"start_date": "2024-02-10", "end_date": "2024-02-01"}, "is before start_date"),
        ({"num_rows": 0}, "greater than or equal to 1"),
    ],
)
def test_bad_generator_config_stops_the_run_before_any_work(
    instance, resources, zone, config, reason
):
    """Dagster's config types cannot refuse a date in the Launchpad form: the run refuses it
    first thing, with the reason, and writes nothing."""
    result = defs.resolve_job_def("bulk_generate").execute_in_process(
        run_config={"ops": {"generate_bulk_file": {"config": config}}},
        instance=instance,
        resources=resources,
        raise_on_error=False,
    )
    assert not result.success
    failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
    assert reason in str(failure.step_failure_data.error)
    assert not list((Path(zone.root) / "incoming").iterdir())
