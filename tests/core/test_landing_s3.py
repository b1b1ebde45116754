"""The S3 landing zone over real HTTP (moto's S3 server on loopback), end to end through the
sensor and the uploads asset, with the same ledger and counts as a folder."""

import boto3
import psycopg
from dagster import DagsterInstance, build_sensor_context, materialize

from tests.helpers import HEADER
from txn_assets.assets.ingestion import raw_uploads
from txn_assets.resources import LandingZoneResource, WarehouseResource
from txn_assets.sensors import landing_zone_sensor
from txn_core import ledger
from txn_core.landing import landing_zone_from_url
from txn_core.landing.s3 import PART_BYTES, S3LandingZone

ROWS = [
    f"00000000-0000-4000-8000-{i:012d}, {1 + i % 4}, 2, 2024-04-0{1 + i % 2} 08:00:00, 3.50"
    for i in range(40)
]


def test_multipart_upload_appears_only_when_committed(s3_landing, tmp_path):
    zone = landing_zone_from_url(s3_landing)
    assert isinstance(zone, S3LandingZone)
    writer = zone.open_upload("u" + "1" * 32, "big.csv")
    chunk = b"x" * (1024 * 1024)
    for _ in range(PART_BYTES // len(chunk) * 2 + 3):  # two full parts and a tail
        writer.write(chunk)
        assert zone.list_incoming() == []  # nothing visible before commit
    key = writer.commit()
    (landed,) = zone.list_incoming()
    assert landed.key == key and landed.size == (PART_BYTES * 2 + 3 * len(chunk))
    assert zone.local_path(key, tmp_path).stat().st_size == landed.size

    aborted = zone.open_upload("u" + "2" * 32, "gone.csv")
    aborted.write(b"partial")
    aborted.abort()
    assert [item.key for item in zone.list_incoming()] == [key]


def test_an_object_dropped_in_s3_is_ingested_once_with_the_ledger(s3_landing, warehouse_url):
    bucket = s3_landing.split("/")[2]
    body = "\n".join([HEADER, *ROWS, ROWS[0], "oops"]) + "\n"
    boto3.client("s3").put_object(Bucket=bucket, Key="landing/incoming/april.csv", Body=body)
    resources = {
        "warehouse": WarehouseResource(database_url=warehouse_url),
        "landing": LandingZoneResource(url=s3_landing, settle_seconds=0.0),
    }
    with DagsterInstance.ephemeral() as instance:
        with build_sensor_context(instance=instance, resources=resources) as context:
            first = landing_zone_sensor(context)
        with build_sensor_context(
            instance=instance, resources=resources, cursor=first.cursor
        ) as context:
            second = landing_zone_sensor(context)
        (request,) = second.run_requests
        instance.add_dynamic_partitions("uploads", [request.partition_key])
        result = materialize(
            [raw_uploads],
            instance=instance,
            resources=resources,
            partition_key=request.partition_key,
        )
    assert result.success
    with psycopg.connect(warehouse_url) as conn:
        upload = ledger.get_upload(conn, request.partition_key)
    assert (upload["status"], upload["source"]) == ("succeeded", "landing")
    assert (upload["rows_read"], upload["rows_loaded"]) == (42, 40)
    assert (upload["rows_duplicate"], upload["rows_rejected"]) == (1, 1)
    keys = [o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == [f"landing/processed/{request.partition_key}--april.csv"]


def test_an_upload_through_the_api_streams_to_s3_and_loads_with_the_same_counts(
    s3_landing, warehouse_url
):
    """The API writes a multipart upload to the bucket; the sensor and the asset take it from
    there exactly as from a folder."""
    from fastapi.testclient import TestClient

    from txn_api.main import create_app
    from txn_core.settings import Settings

    settings = Settings(database_url=warehouse_url, landing=s3_landing, api_key=None)
    body = "\n".join([HEADER, *ROWS, "bad,row"]) + "\n"
    with TestClient(create_app(settings)) as client:
        response = client.post("/upload", files={"file": ("s3.csv", body, "text/csv")})
    assert response.status_code == 202, response.text
    upload_id = response.json()["upload_id"]
    (landed,) = S3LandingZone(s3_landing).list_incoming()
    assert landed.key == f"incoming/{upload_id}--s3.csv" and landed.size == len(body)

    resources = {
        "warehouse": WarehouseResource(database_url=warehouse_url),
        "landing": LandingZoneResource(url=s3_landing, settle_seconds=0.0),
    }
    with DagsterInstance.ephemeral() as instance:
        with build_sensor_context(instance=instance, resources=resources) as context:
            (request,) = landing_zone_sensor(context).run_requests
        assert request.partition_key == upload_id
        instance.add_dynamic_partitions("uploads", [upload_id])
        assert materialize(
            [raw_uploads], instance=instance, resources=resources, partition_key=upload_id
        ).success
    with psycopg.connect(warehouse_url) as conn:
        upload = ledger.get_upload(conn, upload_id)
    assert (upload["status"], upload["source"]) == ("succeeded", "api")
    assert (upload["rows_read"], upload["rows_loaded"], upload["rows_rejected"]) == (41, 40, 1)
