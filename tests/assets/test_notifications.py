"""Failures reach people: failed runs and failed asset checks are posted once to a webhook.

A real HTTP receiver, a real Dagster instance with its storage in PostgreSQL (as dagster.yaml
configures it), runs that really fail; the sensors evaluated with Dagster's testing helpers.
"""

import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg
import pytest
from dagster import (
    AssetCheckResult,
    Definitions,
    StaticPartitionsDefinition,
    asset,
    asset_check,
    build_run_status_sensor_context,
    build_sensor_context,
    define_asset_job,
    instance_for_test,
    job,
    op,
)

from txn_assets import notifications
from txn_assets.notifications import asset_check_failure_alert_sensor, run_failure_alert_sensor
from txn_core.settings import get_settings

UI = "https://dagster.example.com/dagster"
ERROR_LINE = "ValueError: the ledger does not add up"


@op
def check_ledger():
    raise ValueError("the ledger does not add up\nrows_read 10 != 9 + 0 + 0")


@job(partitions_def=StaticPartitionsDefinition(["2024-01-31"]))
def nightly_load():
    check_ledger()


@asset
def risk_profile() -> None:
    return None


@asset_check(asset=risk_profile)
def one_row_per_user() -> AssetCheckResult:
    return AssetCheckResult(passed=False, metadata={"users": 3, "risk_rows": 2})


@asset_check(asset=risk_profile)
def no_negative_spend() -> AssetCheckResult:
    return AssetCheckResult(passed=True)


checked_defs = Definitions(
    assets=[risk_profile],
    asset_checks=[one_row_per_user, no_negative_spend],
    jobs=[define_asset_job("refresh_risk", selection=[risk_profile])],
)


def fail_a_run(instance):
    result = nightly_load.execute_in_process(
        instance=instance, partition_key="2024-01-31", raise_on_error=False
    )
    assert not result.success
    return result


def fail_a_check(instance) -> str:
    result = checked_defs.resolve_job_def("refresh_risk").execute_in_process(instance=instance)
    assert result.success  # a failed check does not fail its run: only the check sensor sees it
    return result.run_id


def run_failure_context(instance, result):
    return build_run_status_sensor_context(
        sensor_name=run_failure_alert_sensor.name,
        dagster_event=result.get_run_failure_event(),
        dagster_instance=instance,
        dagster_run=result.dagster_run,
    ).for_run_failure()


def evaluate_check_sensor(instance, cursor: str | None):
    return asset_check_failure_alert_sensor(build_sensor_context(instance=instance, cursor=cursor))


class Receiver:
    """A webhook on a free local port that records the JSON bodies POSTed to it."""

    def __init__(self, delay: float = 0.0):
        self.bodies: list[dict] = []
        self.closing = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.closing.wait(delay):
                    return  # a slow webhook's client gave up long ago
                receiver.bodies.append(json.loads(body))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/services/T000/B000/s3cr3t"

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.closing.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def pg_instance(postgres_server: str) -> Iterator:
    """A temporary Dagster instance whose runs and events live in a fresh PostgreSQL database.

    Not the SQLite `instance` fixture: SQLite shards the event log per run, so no storage id
    runs across runs there and the check sensor cannot keep a cursor (it says so, see below)."""
    name = f"dagster_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = postgres_server.rpartition("/")[0].replace("postgresql://", "postgresql+psycopg2://")
    storage = {"postgres": {"postgres_url": f"{url}/{name}"}}
    try:
        with instance_for_test(overrides={"storage": storage}) as instance:
            yield instance
    finally:
        with psycopg.connect(postgres_server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def alert_settings(monkeypatch):
    """Point the settings at a webhook (or none) through the real environment variables."""

    def configure(webhook_url: str) -> None:
        monkeypatch.setenv("TXN_ALERT_WEBHOOK_URL", webhook_url)
        monkeypatch.setenv("TXN_DAGSTER_UI_URL", UI)
        get_settings.cache_clear()

    yield configure
    get_settings.cache_clear()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_failed_run_is_posted_with_its_job_partition_first_error_line_and_link(
    pg_instance, receiver, alert_settings
):
    alert_settings(receiver.url)
    result = fail_a_run(pg_instance)

    run_failure_alert_sensor(run_failure_context(pg_instance, result))

    assert receiver.bodies == [
        {
            "text": "Run failed: job `nightly_load`, partition `2024-01-31`.\n"
            f"{ERROR_LINE}\n{UI}/runs/{result.run_id}"
        }
    ]


def test_the_daemon_posts_each_failed_run_once(pg_instance, receiver, alert_settings):
    """Evaluated as the daemon does (evaluate_tick), Dagster's own run status cursor: a run
    that failed before the sensor's first tick is not posted, a later one exactly once."""
    alert_settings(receiver.url)
    fail_a_run(pg_instance)

    def tick(cursor):
        context = build_sensor_context(instance=pg_instance, cursor=cursor)
        return run_failure_alert_sensor.evaluate_tick(context).cursor

    cursor = tick(None)
    result = fail_a_run(pg_instance)
    cursor = tick(cursor)
    cursor = tick(cursor)

    assert [body["text"].splitlines()[-1] for body in receiver.bodies] == [
        f"{UI}/runs/{result.run_id}"
    ]


def test_a_failed_asset_check_is_posted_once(pg_instance, receiver, alert_settings):
    alert_settings(receiver.url)
    fail_a_check(pg_instance)  # before the sensor's first tick: not posted
    first = evaluate_check_sensor(pg_instance, None)
    assert receiver.bodies == []

    run_id = fail_a_check(pg_instance)
    second = evaluate_check_sensor(pg_instance, first.cursor)
    third = evaluate_check_sensor(pg_instance, second.cursor)

    assert receiver.bodies == [
        {
            "text": "Asset check failed: `risk_profile:one_row_per_user` (ERROR), "
            "job `refresh_risk`.\nrisk_rows=2, users=3\n"
            f"{UI}/runs/{run_id}"
        }
    ]
    assert int(second.cursor) > int(first.cursor)
    assert third.cursor == second.cursor
    assert third.skip_reason.skip_message == "No failed check."


def test_without_a_webhook_the_message_is_logged_and_nothing_is_sent(
    pg_instance, receiver, alert_settings, capsys
):
    alert_settings("")
    cursor = evaluate_check_sensor(pg_instance, None).cursor
    result = fail_a_run(pg_instance)
    run_id = fail_a_check(pg_instance)
    capsys.readouterr()  # the runs' own logs

    run_failure_alert_sensor(run_failure_context(pg_instance, result))
    evaluate_check_sensor(pg_instance, cursor)

    sensor_log = capsys.readouterr().err
    assert receiver.bodies == []
    assert ERROR_LINE in sensor_log
    assert f"{UI}/runs/{result.run_id}" in sensor_log
    assert "risk_profile:one_row_per_user" in sensor_log
    assert f"{UI}/runs/{run_id}" in sensor_log
    assert sensor_log.count("TXN_ALERT_WEBHOOK_URL is unset: logged only") == 2


@pytest.mark.parametrize("webhook", ["down", "slow"])
def test_a_webhook_down_or_slow_is_logged_and_the_sensor_moves_on(
    pg_instance, alert_settings, capsys, monkeypatch, webhook
):
    monkeypatch.setattr(notifications, "DELIVERY_TIMEOUT_SECONDS", 0.5)
    with Receiver(delay=3.0) as slow:
        url = slow.url if webhook == "slow" else f"http://127.0.0.1:{free_port()}/s3cr3t"
        alert_settings(url)
        cursor = evaluate_check_sensor(pg_instance, None).cursor
        result = fail_a_run(pg_instance)
        fail_a_check(pg_instance)
        capsys.readouterr()

        started = time.monotonic()
        run_failure_alert_sensor(run_failure_context(pg_instance, result))
        after = evaluate_check_sensor(pg_instance, cursor)
        elapsed = time.monotonic() - started

    sensor_log = capsys.readouterr().err
    assert elapsed < 2.5  # each delivery gave up at its timeout, not when the webhook answered
    assert int(after.cursor) > int(cursor)  # the failure is not posted again next tick
    assert sensor_log.count("not sent: the webhook failed") == 2
    assert ERROR_LINE in sensor_log
    assert "s3cr3t" not in sensor_log  # the webhook's address is a secret


def test_the_check_sensor_on_sqlite_storage_says_what_it_needs(instance, alert_settings):
    alert_settings("")
    fail_a_check(instance)

    result = evaluate_check_sensor(instance, None)

    assert "PostgreSQL" in result.skip_message
