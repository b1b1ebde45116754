"""The infrastructure fails under a load: PostgreSQL restarts, S3 throttles, the scratch disk
fills. Each failure is transient (retried, never final), leaves nothing half-done, and the
retry ends as if nothing had happened."""

import os
import shutil
import tempfile
from pathlib import Path

import boto3
import psycopg
import pytest
from dagster import instance_for_test

from tests.faults.ingestion_run import FAILED_EXIT
from tests.faults.steps import (
    HEADER,
    drop_file,
    rows,
    run_ingestion,
    start_ingestion,
    wait_for_copy,
)
from tests.faults.throttling_proxy import ThrottlingProxy
from tests.helpers import assert_platform_consistent, free_port
from txn_assets.definitions import defs
from txn_assets.resources import LandingZoneResource, WarehouseResource
from txn_core import ingest, ledger
from txn_core.failures import is_transient
from txn_core.landing.s3 import CLIENT_CONFIG, S3LandingZone
from txn_core.migrate import upgrade
from txn_dev.local_postgres import LocalPostgres


@pytest.fixture
def own_server():
    """A PostgreSQL server of this test's own, free to restart (outside pytest's private
    folders: the server may run as an unprivileged user)."""
    base = Path(tempfile.mkdtemp(prefix="txn-test-restart-"))
    base.chmod(0o755)
    server = LocalPostgres(base / "pg", free_port())
    server.settings.update({"fsync": "off", "shared_buffers": "128MB"})
    server.start()
    upgrade(server.url("txn"))
    yield server
    server.stop()
    shutil.rmtree(base, ignore_errors=True)


def test_postgres_restarted_mid_load_fails_the_attempt_and_the_retry_loads_all(
    own_server, landing_root, tmp_path
):
    url = own_server.url("txn")
    data = rows(400_000)
    upload_id = drop_file(url, landing_root, "big.csv", data.lines)
    run = start_ingestion(url, landing_root, upload_id, tmp_path / "s1")
    wait_for_copy(url, run)
    own_server.stop()  # fast shutdown: sessions are terminated, open transactions roll back
    own_server.start()
    output = run.communicate(timeout=120)[0]
    assert run.returncode == FAILED_EXIT, output
    assert "failed transient=True" in output
    with psycopg.connect(url, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM transactions").fetchone()[0] == 0
        assert ledger.get_upload(conn, upload_id)["status"] != "failed"

    retry = run_ingestion(url, landing_root, upload_id, tmp_path / "s2")
    assert retry.returncode == 0, retry.stdout + retry.stderr
    assert_platform_consistent(url, landing_root, data.count, data.total)


@pytest.fixture
def throttled_s3(s3_endpoint, s3_landing):
    proxy = ThrottlingProxy(s3_endpoint)
    client = boto3.client("s3", endpoint_url=proxy.url, config=CLIENT_CONFIG)
    yield proxy, S3LandingZone(s3_landing, client=client)
    proxy.close()


def _drop_in_s3(zone: S3LandingZone, warehouse_url: str, name: str, lines: list[str]) -> str:
    body = "\n".join([HEADER, *lines]) + "\n"
    zone.client.put_object(Bucket=zone.bucket, Key=f"{zone.prefix}/incoming/{name}", Body=body)
    (landed,) = zone.list_incoming()
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        ledger.register_upload(
            conn, upload_id=landed.upload_id, source="landing", file_name=name,
            landing_key=landed.key, size_bytes=landed.size,
        )  # fmt: skip
    return landed.upload_id


def test_s3_throttling_is_retried_and_never_taken_for_a_missing_file(
    throttled_s3, warehouse_url, tmp_path
):
    proxy, zone = throttled_s3
    data = rows(1_000)
    upload_id = _drop_in_s3(zone, warehouse_url, "april.csv", data.lines)

    proxy.throttle_reads = 2  # absorbed by the client's own retries, with backoff
    ingest.ingest_upload(warehouse_url, zone, upload_id, scratch=tmp_path / "a")
    assert proxy.throttled == 2

    again = _drop_in_s3(zone, warehouse_url, "may.csv", rows(500, first=9_000).lines)
    proxy.throttle_reads = 1_000  # outlasts them: the attempt fails, as a transient failure
    with pytest.raises(Exception) as failed:
        ingest.ingest_upload(warehouse_url, zone, again, scratch=tmp_path / "b")
    assert is_transient(failed.value) and not isinstance(failed.value, FileNotFoundError)
    proxy.throttle_reads = 0  # S3 recovers; the retry loads it
    ingest.ingest_upload(warehouse_url, zone, again, scratch=tmp_path / "c")

    zone.client.delete_object(Bucket=zone.bucket, Key=f"{zone.prefix}/processed/{again}--may.csv")
    with pytest.raises(FileNotFoundError) as missing:
        zone.local_path(f"processed/{again}--may.csv", tmp_path)
    assert not is_transient(missing.value)
    keys = [item.key for item in zone.list_incoming()]
    assert keys == []
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        loaded = conn.execute("SELECT count(*) FROM transactions").fetchone()[0]
    assert loaded == data.count + 500


def test_a_dagster_run_retries_s3_throttling_with_backoff_and_succeeds(
    s3_landing, warehouse_url, monkeypatch
):
    proxy = ThrottlingProxy(os.environ["AWS_ENDPOINT_URL"])
    monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # it keeps the endpoint it first read
    resources = {
        "warehouse": WarehouseResource(database_url=warehouse_url),
        "landing": LandingZoneResource(url=s3_landing, settle_seconds=0.0),
    }
    zone = resources["landing"].zone()
    data = rows(800)
    upload_id = _drop_in_s3(zone, warehouse_url, "june.csv", data.lines)
    proxy.throttle_reads = 8  # more than the client's own attempts absorb in one run attempt
    try:
        with instance_for_test() as instance:
            instance.add_dynamic_partitions("uploads", [upload_id])
            result = defs.resolve_job_def("ingest_upload").execute_in_process(
                instance=instance, resources=resources, partition_key=upload_id
            )
    finally:
        proxy.close()
    assert result.success
    retried = [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert len(retried) == 1 and proxy.throttled == 8
    assert_platform_consistent(warehouse_url, None, data.count, data.total)


def _in_a_full_disk(scratch, megabytes: int) -> tuple[str, ...]:
    """Runs a command with `scratch` on a tmpfs of its own size, in a private mount namespace
    (no privilege needed where user namespaces are allowed)."""
    assert shutil.which("unshare"), "util-linux's unshare is needed for the full-disk test"
    script = 'mount -t tmpfs -o size="$1" tmpfs "$2" && shift 2 && exec "$@"'
    return ("unshare", "--map-root-user", "--mount", "sh", "-c", script, "sh",
            f"{megabytes}m", str(scratch))  # fmt: skip


def test_a_full_scratch_disk_fails_the_attempt_and_the_retry_loads_all(
    warehouse_url, landing_root, tmp_path
):
    data = rows(200_000)  # about 14 MB of CSV; the load's scratch files do not fit in 2 MB
    upload_id = drop_file(warehouse_url, landing_root, "wide.csv", data.lines)
    scratch = tmp_path / "small"
    scratch.mkdir()
    full = run_ingestion(
        warehouse_url, landing_root, upload_id, scratch, prefix=_in_a_full_disk(scratch, 2)
    )
    assert full.returncode == FAILED_EXIT, full.stdout + full.stderr
    assert "failed transient=True" in full.stdout
    assert "No space left on device" in full.stdout
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM transactions").fetchone()[0] == 0

    retry = run_ingestion(warehouse_url, landing_root, upload_id, tmp_path / "roomy")
    assert retry.returncode == 0, retry.stdout + retry.stderr
    assert_platform_consistent(warehouse_url, landing_root, data.count, data.total)
