"""End to end: a file uploaded over HTTP, or dropped into the landing folder, is ingested by a
run that the sensor launches in the real Dagster daemon, and the ledger says so."""

import datetime as dt
import time

import httpx
import psycopg
import pytest

from tests.conftest import HEADER
from txn_core.generator import rows_for_day

pytestmark = pytest.mark.e2e

ROWS = [f"00000000-0000-4000-8000-{i:012d},{1 + i % 5},3,2024-05-0{1 + i % 3} 12:00:00,1{i}.25"
        for i in range(200)]


def wait_for_ledger(platform, upload_id: str, timeout: float = 180) -> tuple[dict, list[str]]:
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        upload = httpx.get(f"{platform.api}/uploads/{upload_id}", timeout=10).json()
        if not seen or seen[-1] != upload["status"]:
            seen.append(upload["status"])
        if upload["status"] in ("succeeded", "failed"):
            return upload, seen
        time.sleep(0.5)
    pytest.fail(f"upload {upload_id} still {seen[-1:]} after {timeout} s")


def wait_for_run(platform, partition_key: str, timeout: float = 60) -> dict:
    """The one run of a partition, once it has finished (the ledger commits a moment before)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        (run,) = runs_for(platform, partition_key)
        if run["status"] in ("SUCCESS", "FAILURE", "CANCELED"):
            return run
        time.sleep(0.5)
    pytest.fail(f"the run of {partition_key} did not finish within {timeout} s")


def runs_for(platform, partition_key: str) -> list[dict]:
    data = platform.graphql(
        """
        query Runs($filter: RunsFilter) {
          runsOrError(filter: $filter) {
            ... on Runs { results { runId status tags { key value } } }
          }
        }
        """,
        {"filter": {"tags": [{"key": "dagster/partition", "value": partition_key}]}},
    )
    return data["runsOrError"]["results"]


def test_an_upload_over_http_is_ingested_by_a_sensor_run(platform):
    body = "\n".join([HEADER, *ROWS, ROWS[0], "broken,row"]) + "\n"
    response = httpx.post(
        f"{platform.api}/upload", files={"file": ("may.csv", body, "text/csv")}, timeout=30
    )
    assert response.status_code == 202, response.text
    upload_id = response.json()["upload_id"]
    assert response.json()["status"] == "queued"

    upload, statuses = wait_for_ledger(platform, upload_id)
    assert upload["status"] == "succeeded", upload
    assert statuses[0] == "queued"
    assert (upload["rows_read"], upload["rows_loaded"]) == (202, 200)
    assert (upload["rows_duplicate"], upload["rows_rejected"]) == (1, 1)

    assert wait_for_run(platform, upload_id)["status"] == "SUCCESS"  # one run, in the UI
    with psycopg.connect(platform.warehouse_url) as conn:
        assert conn.execute(
            "SELECT count(*) FROM transactions WHERE upload_id = %s", [upload_id]
        ).fetchone()[0] == 200


def test_a_file_dropped_into_the_landing_folder_is_ingested_once(platform):
    rows = [row.replace("00000000-0000", "11111111-1111") for row in ROWS[:50]]
    staging = platform.landing / "drop.tmp"
    staging.write_text("\n".join([HEADER, *rows]) + "\n")
    dropped_at = time.monotonic()
    staging.rename(platform.landing / "incoming" / "dropped.csv")

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with psycopg.connect(platform.warehouse_url) as conn:
            row = conn.execute(
                "SELECT upload_id, status, rows_loaded FROM uploads WHERE file_name = 'dropped.csv'"
            ).fetchone()
        if row and row[1] == "succeeded":
            break
        time.sleep(0.5)
    else:
        pytest.fail(f"dropped file not ingested: {row}")
    print(f"dropped file ingested {time.monotonic() - dropped_at:.1f} s after landing")
    assert row[2] == 50
    assert (platform.landing / "processed" / "dropped.csv").exists()
    time.sleep(8)  # more sensor ticks: the file must not be loaded again
    assert len(runs_for(platform, row[0])) == 1


def test_a_backfill_from_the_ui_is_one_run_that_loads_every_day(platform):
    days = [f"2024-01-{day:02d}" for day in range(1, 11)]
    launched = platform.graphql(
        """
        mutation Launch($params: LaunchBackfillParams!) {
          launchPartitionBackfill(backfillParams: $params) {
            __typename
            ... on LaunchBackfillSuccess { backfillId }
            ... on PythonError { message }
          }
        }
        """,
        {"params": {"assetSelection": [{"path": ["daily_transactions"]}],
                    "partitionNames": days}},
    )["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    backfill_id = launched["backfillId"]

    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        status = platform.graphql(
            """
            query Backfill($id: String!) {
              partitionBackfillOrError(backfillId: $id) { ... on PartitionBackfill { status } }
            }
            """,
            {"id": backfill_id},
        )["partitionBackfillOrError"]["status"]
        if status in ("COMPLETED", "COMPLETED_SUCCESS", "FAILED", "COMPLETED_FAILED", "CANCELED"):
            break
        time.sleep(1)
    assert status in ("COMPLETED", "COMPLETED_SUCCESS"), status

    runs = platform.graphql(
        """
        query Runs($filter: RunsFilter) {
          runsOrError(filter: $filter) { ... on Runs { results { status } } }
        }
        """,
        {"filter": {"tags": [{"key": "dagster/backfill", "value": backfill_id}]}},
    )["runsOrError"]["results"]
    assert [run["status"] for run in runs] == ["SUCCESS"]  # one run for ten days

    expected = sum(rows_for_day(dt.date.fromisoformat(day), 150) for day in days)
    with psycopg.connect(platform.warehouse_url) as conn:
        loaded = conn.execute(
            "SELECT count(*) FROM transactions WHERE transaction_date BETWEEN %s AND %s",
            [days[0], days[-1]],
        ).fetchone()[0]
    assert loaded == expected


def test_analytics_refresh_by_themselves_after_new_data(platform):
    """No click: the automation sensor refreshes the days that uploads and the backfill
    touched, then the trend and the risk profile, until they agree with `transactions`."""
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        with psycopg.connect(platform.warehouse_url) as conn:
            facts = conn.execute(
                "SELECT count(*), sum(transaction_amount) FROM transactions"
            ).fetchone()
            risk = conn.execute(
                "SELECT sum(tx_count), sum(total_spend) FROM user_risk_profile"
            ).fetchone()
            trend_total = conn.execute(
                "SELECT sum(daily_total) FROM user_spend_trend"
            ).fetchone()[0]
        if facts[0] and risk == facts and trend_total == facts[1]:
            break
        time.sleep(2)
    else:
        pytest.fail(f"analytics did not catch up: transactions {facts}, risk {risk}")
    summary = httpx.get(f"{platform.api}/analytics/risk-profile/1", timeout=10)
    assert summary.status_code == 200, summary.text
