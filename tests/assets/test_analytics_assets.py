"""The analytics on real resources: the ingestion and generation jobs refresh them in the same
run, whatever the days' dates; the backlog sensor launches a refresh for whatever else queued
days, and only when no run in flight will."""

import datetime as dt
import uuid

import psycopg
from dagster import AssetKey, DagsterRun, DagsterRunStatus, build_sensor_context, materialize

from tests.helpers import HEADER, assert_analytics_equal_a_full_rebuild
from txn_assets.assets.analytics import analytics_tables
from txn_assets.assets.generation import daily_transactions
from txn_assets.definitions import defs
from txn_assets.jobs import REFRESHES_ANALYTICS
from txn_assets.schedules import RANGE_END_TAG, RANGE_START_TAG
from txn_assets.sensors import analytics_backlog_sensor
from txn_core import bulk_refresh, ledger, refresh

RANGE = {RANGE_START_TAG: "2024-01-01", RANGE_END_TAG: "2024-01-14"}


def materialized(result) -> dict[str, dict]:
    return {
        event.asset_key.path[-1]: {key: value.value for key, value in event.metadata.items()}
        for event in result.get_asset_materialization_events()
        for event in [event.event_specific_data.materialization]
    }


def test_a_generated_range_is_refreshed_in_the_same_run_and_every_check_passes(
    instance, resources, warehouse_url
):
    job = defs.resolve_job_def("generate_days")
    result = job.execute_in_process(
        instance=instance,
        resources=resources,
        tags=RANGE,
        run_config={"ops": {"daily_transactions": {"config": {"rows_per_day": 300}}}},
    )
    assert result.success
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks == {
        "reconciles_with_transactions": True,
        "keeps_up_with_loads": True,
        "no_missing_day": True,
        "one_row_per_user": True,
    }
    metadata = materialized(result)
    assert metadata["user_daily_spend"]["days_refreshed"] == 14
    # The generator's days are its own partitions: the refresh does not record them again.
    assert [
        event.partition for event in result.asset_materializations_for_node("analytics_tables")
    ] == [None, None, None]
    assert metadata["user_risk_profile"]["users_touched"] > 100
    assert "| rank | user |" in metadata["user_risk_profile"]["top_spenders"]

    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        facts = conn.execute(
            "SELECT count(*), sum(transaction_amount), count(DISTINCT user_id) FROM transactions"
        ).fetchone()
        assert (
            conn.execute("SELECT sum(tx_count), sum(total_amount) FROM user_daily_spend").fetchone()
            == facts[:2]
        )
        assert (
            conn.execute(
                "SELECT sum(tx_count), sum(total_spend), count(*) FROM user_risk_profile"
            ).fetchone()
            == facts
        )
        assert refresh.backlog(conn).days == 0

    again = materialize([analytics_tables], instance=instance, resources=resources)
    assert materialized(again)["user_daily_spend"]["days_refreshed"] == 0  # nothing new


def test_an_upload_of_any_date_is_readable_after_its_ingestion_run(
    instance, resources, zone, warehouse_url
):
    """Days before the history start, today and decades ahead are not daily partitions; their
    rows reach the analytics all the same."""
    lines = [
        "00000000-0000-4000-8000-000000000001,41,1,2023-12-31T23:00:00Z,10.00",
        "00000000-0000-4000-8000-000000000002,41,1,2043-05-17T08:00:00Z,30.00",
        "00000000-0000-4000-8000-000000000003,42,1,2024-03-01T08:00:00Z,5.00",
    ]
    upload_id = _land(zone, warehouse_url, instance, "any-day.csv", lines)
    result = _ingest(instance, resources, upload_id)
    assert result.success
    assert materialized(result)["user_daily_spend"]["days_refreshed"] == 3
    # Once readable, the upload's days that are daily partitions show as updated there.
    days = [
        (event.partition, event.metadata["upload_id"].value)
        for event in result.asset_materializations_for_node("analytics_tables")
        if event.asset_key.path == ["daily_transactions"]
    ]
    assert days == [("2024-03-01", upload_id)]
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        profile = conn.execute(
            "SELECT tx_count, total_spend, mean_amount FROM user_risk_profile WHERE user_id = 41"
        ).fetchone()
        assert profile == (2, 40, 20)
        trend_days = conn.execute(
            "SELECT count(*), sum(daily_total) FROM user_spend_trend WHERE user_id = 41"
        ).fetchone()
        assert trend_days == (7078, 40)  # every day from 2023-12-31 to 2043-05-17
        assert_analytics_equal_a_full_rebuild(conn)


def _land(zone, warehouse_url: str, instance, name: str, lines: list[str]) -> str:
    """A file of `lines` dropped into the landing zone and registered as its sensor would."""
    (zone.root / "incoming" / name).write_text("\n".join([HEADER, *lines]) + "\n")
    (landed,) = zone.list_incoming()
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        ledger.register_upload(
            conn,
            upload_id=landed.upload_id,
            source="landing",
            file_name=name,
            landing_key=landed.key,
            size_bytes=landed.size,
        )
    instance.add_dynamic_partitions("uploads", [landed.upload_id])
    return landed.upload_id


def _ingest(instance, resources, upload_id: str):
    return defs.resolve_job_def("ingest_upload").execute_in_process(
        instance=instance, resources=resources, partition_key=upload_id
    )


def test_a_trend_build_that_fails_after_the_commit_records_the_days_and_its_retry_builds_it(
    instance, resources, zone, warehouse_url, monkeypatch
):
    """A month of days takes the bulk path, which commits before it builds the trend. When that
    build fails (a dropped connection), the upload's days, readable already, are recorded then,
    and the step's retry builds every trend."""
    first = dt.date(2024, 1, 1)
    days = [first + dt.timedelta(days=offset) for offset in range(30)]
    lines = [
        f"{uuid.UUID(int=offset * 100 + user)},{user},1,{day.isoformat()}T08:00:00Z,10.00"
        for offset, day in enumerate(days)
        for user in (41, 42)
    ]
    upload_id = _land(zone, warehouse_url, instance, "month.csv", lines)
    build, builds = bulk_refresh.build_trends, []

    def fails_once(conn, workers: int) -> tuple[int, int]:
        builds.append(workers)
        if len(builds) == 1:
            raise psycopg.OperationalError("the server closed the connection")
        return build(conn, workers)

    monkeypatch.setattr(bulk_refresh, "build_trends", fails_once)
    result = _ingest(instance, resources, upload_id)

    assert result.success
    recorded = instance.fetch_materializations(AssetKey("daily_transactions"), limit=100)
    assert sorted(record.partition_key for record in recorded.records) == [
        day.isoformat() for day in days
    ]
    assert builds == [2]  # the retry's refresh found the trends missing and built them itself
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        trends = conn.execute(
            "SELECT user_id, count(*) FROM user_spend_trend GROUP BY 1 ORDER BY 1"
        ).fetchall()
        assert trends == [(41, 30), (42, 30)]
        assert_analytics_equal_a_full_rebuild(conn)


def tick(instance, resources, cursor=None):
    with build_sensor_context(instance=instance, resources=resources, cursor=cursor) as context:
        return analytics_backlog_sensor(context)


def skipped(result) -> str:
    return result.skip_reason.skip_message


def test_the_backlog_sensor_refreshes_what_no_run_in_flight_will(
    instance, resources, warehouse_url
):
    assert "No day waits" in skipped(tick(instance, resources))

    # A backfill of the generator alone queues days and refreshes nothing.
    assert materialize(
        [daily_transactions],
        instance=instance,
        resources=resources,
        tags={RANGE_START_TAG: "2024-01-01", RANGE_END_TAG: "2024-01-03"},
    ).success
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        assert refresh.backlog(conn).days == 3

    in_flight = instance.add_run(
        DagsterRun(
            job_name="ingest_upload",
            run_id=str(uuid.uuid4()),
            status=DagsterRunStatus.STARTED,
            tags=REFRESHES_ANALYTICS,
        )
    )
    assert in_flight.run_id in skipped(tick(instance, resources))
    instance.report_run_failed(in_flight)

    (request,) = tick(instance, resources).run_requests
    assert request.run_key.startswith("backlog-")
    (again,) = tick(instance, resources).run_requests
    assert again.run_key == request.run_key  # no new work, no new run

    result = defs.resolve_job_def("refresh_analytics").execute_in_process(
        instance=instance, resources=resources
    )
    assert materialized(result)["user_daily_spend"]["days_refreshed"] == 3
    assert "No day waits" in skipped(tick(instance, resources))


def test_a_refresh_that_falls_behind_the_loads_fails_its_check_without_a_run(
    instance, resources, warehouse_url
):
    """A day waiting ten minutes means no refresh is coming: the sensor says so, once, and
    again once the analytics caught up."""
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO analytics_pending_days (spend_date, upload_id, queued_at) "
            "VALUES ('2024-03-01', 'late', now() - interval '10 minutes')"
        )
    behind = tick(instance, resources, cursor="passed")
    (evaluation,) = behind.asset_events
    assert (evaluation.check_name, evaluation.passed) == ("keeps_up_with_loads", False)
    assert evaluation.metadata["longest_wait_minutes"].value >= 10
    assert not tick(instance, resources, cursor=behind.cursor).asset_events  # said once

    defs.resolve_job_def("refresh_analytics").execute_in_process(
        instance=instance, resources=resources
    )
    caught_up = tick(instance, resources, cursor=behind.cursor)
    (evaluation,) = caught_up.asset_events
    assert evaluation.passed
