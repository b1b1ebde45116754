"""End to end: a file uploaded over HTTP, or dropped into the landing folder, is ingested by a
run that the sensor launches in the real Dagster daemon, and the ledger says so."""

import datetime as dt
import os
import re
import signal
import time

import httpx
import psycopg
import pytest

from tests.helpers import HEADER
from txn_core.generator import rows_for_day

pytestmark = pytest.mark.e2e

ROWS = [
    f"00000000-0000-4000-8000-{i:012d},{1 + i % 5},3,2024-05-0{1 + i % 3} 12:00:00,1{i}.25"
    for i in range(200)
]


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
        assert (
            conn.execute(
                "SELECT count(*) FROM transactions WHERE upload_id = %s", [upload_id]
            ).fetchone()[0]
            == 200
        )


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
    # The run files the file away just after the load commits.
    processed = platform.landing / "processed" / f"{row[0]}--dropped.csv"
    deadline = time.monotonic() + 30
    while not processed.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert processed.exists()
    assert not (platform.landing / "incoming" / "dropped.csv").exists()
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
        {"params": {"assetSelection": [{"path": ["daily_transactions"]}], "partitionNames": days}},
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
    """No click: uploads refresh the analytics in their own run, and the backlog sensor
    refreshes the days the UI's backfill of `daily_transactions` queued, until the three
    tables agree with `transactions`."""
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        with psycopg.connect(platform.warehouse_url) as conn:
            facts = conn.execute(
                "SELECT count(*), sum(transaction_amount) FROM transactions"
            ).fetchone()
            risk = conn.execute(
                "SELECT sum(tx_count), sum(total_spend) FROM user_risk_profile"
            ).fetchone()
            trend_total = conn.execute("SELECT sum(daily_total) FROM user_spend_trend").fetchone()[
                0
            ]
        if facts[0] and risk == facts and trend_total == facts[1]:
            break
        time.sleep(2)
    else:
        pytest.fail(f"analytics did not catch up: transactions {facts}, risk {risk}")
    summary = httpx.get(f"{platform.api}/analytics/risk-profile/1", timeout=10)
    assert summary.status_code == 200, summary.text


def upload(platform, name: str, lines: list[str]) -> str:
    body = "\n".join([HEADER, *lines]) + "\n"
    response = httpx.post(
        f"{platform.api}/upload", files={"file": (name, body, "text/csv")}, timeout=120
    )
    assert response.status_code == 202, response.text
    return response.json()["upload_id"]


def test_rows_of_any_date_are_readable_within_seconds_of_their_upload(platform):
    """Before the history start, today and years ahead: no daily partition holds these days,
    and every answer counts their rows all the same."""
    today = dt.datetime.now(dt.UTC).date()
    days = ["2023-12-31", today.isoformat(), "2043-05-17"]
    lines = [
        f"22222222-2222-4000-8000-{i:012d},{900_000 + i % 3},1,{days[i % 3]}T12:00:00Z,{i + 1}.50"
        for i in range(30)
    ]
    uploaded = time.monotonic()
    upload(platform, "any-day.csv", lines)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        answers = [
            httpx.get(f"{platform.api}{path}", timeout=10)
            for user in (900_000, 900_001, 900_002)
            for path in (
                f"/summary/{user}",
                f"/analytics/risk-profile/{user}",
                f"/analytics/spend-trend/{user}",
            )
        ]
        if all(answer.status_code == 200 for answer in answers):
            break
        time.sleep(0.25)
    else:
        pytest.fail(f"not readable: {[answer.status_code for answer in answers]}")
    print(f"readable {time.monotonic() - uploaded:.1f} s after the upload")
    summary = httpx.get(f"{platform.api}/summary/900000", timeout=10).json()
    assert summary["transaction_count"] == 10  # rows 0, 3, ..., 27: all on 2023-12-31
    risk = httpx.get(f"{platform.api}/analytics/risk-profile/900002", timeout=10).json()
    assert risk["risk_metrics"]["transaction_count"] == 10
    trend = httpx.get(f"{platform.api}/analytics/spend-trend/900001", timeout=10).json()
    assert trend[-1]["spend_date"] == today.isoformat()
    assert sum(day["daily_total"] for day in trend) == sum(i + 1.5 for i in range(1, 30, 3))


def run_worker_pid(platform, run_id: str) -> int | None:
    data = platform.graphql(
        """
        query Logs($runId: ID!) {
          logsForRun(runId: $runId) {
            ... on EventConnection { events { ... on MessageEvent { message } } }
          }
        }
        """,
        {"runId": run_id},
    )
    for event in data["logsForRun"]["events"]:
        if match := re.search(r"Started process for run \(pid: (\d+)\)", event.get("message", "")):
            return int(match.group(1))
    return None


def test_a_run_killed_mid_load_is_run_again_and_loads_everything_once(platform):
    lines = [
        f"33333333-3333-4000-8000-{i:012d},{800_000 + i % 50},1,2024-02-0{1 + i % 9}T08:00:00Z,1.25"
        for i in range(400_000)
    ]
    upload_id = upload(platform, "killed.csv", lines)
    deadline = time.monotonic() + 120
    with psycopg.connect(platform.warehouse_url, autocommit=True) as conn:
        while not conn.execute("SELECT count(*) FROM pg_stat_progress_copy").fetchone()[0]:
            assert time.monotonic() < deadline, "the load never reached its COPY"
            time.sleep(0.05)
    (run,) = runs_for(platform, upload_id)
    pid = run_worker_pid(platform, run["runId"])
    assert pid, "the run worker's pid is not in the run's log"
    os.kill(pid, signal.SIGKILL)

    upload_row, _ = wait_for_ledger(platform, upload_id, timeout=240)
    assert upload_row["status"] == "succeeded", upload_row
    assert upload_row["rows_loaded"] == 400_000
    deadline = time.monotonic() + 120
    while sorted(r["status"] for r in runs_for(platform, upload_id)) != ["FAILURE", "SUCCESS"]:
        assert time.monotonic() < deadline, runs_for(platform, upload_id)  # the retry finishes it
        time.sleep(0.5)
    assert (platform.landing / "processed" / f"{upload_id}--killed.csv").exists()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        risk = httpx.get(f"{platform.api}/analytics/risk-profile/800000", timeout=10)
        if risk.status_code == 200 and risk.json()["risk_metrics"]["transaction_count"] == 8_000:
            break
        time.sleep(0.5)
    else:
        pytest.fail(f"user 800000's risk profile never counted the upload: {risk.text}")


CATALOG = """
query Catalog($keys: [AssetKeyInput!]) {
  assetNodes(assetKeys: $keys) {
    assetKey { path }
    pools
    owners { ... on TeamAssetOwner { team } }
    internalFreshnessPolicy {
      __typename
      ... on TimeWindowFreshnessPolicy { failWindowSeconds }
      ... on CronFreshnessPolicy { deadlineCron }
    }
    metadataEntries {
      label
      ... on TextMetadataEntry { text }
      ... on TableSchemaMetadataEntry { schema { columns { name description } } }
    }
  }
}
"""


def test_the_ui_shows_what_each_table_holds_who_owns_it_and_when_it_is_late(platform):
    """Read from the real webserver, as the catalog page does."""
    keys = [{"path": [name]} for name in ("raw_uploads", "daily_transactions", "user_risk_profile")]
    nodes = {
        node["assetKey"]["path"][-1]: node
        for node in platform.graphql(CATALOG, {"keys": keys})["assetNodes"]
    }
    for name, table, pool in [
        ("raw_uploads", "public.transactions", "ingestion"),
        ("daily_transactions", "public.transactions", "ingestion"),
        ("user_risk_profile", "public.user_risk_profile", "analytics"),
    ]:
        node = nodes[name]
        entries = {entry["label"]: entry for entry in node["metadataEntries"]}
        assert entries["dagster/table_name"]["text"] == table
        columns = entries["dagster/column_schema"]["schema"]["columns"]
        assert all(column["description"] for column in columns)
        assert "dagster/code_references" in entries
        assert node["owners"] == [{"team": "data-platform"}]
        assert node["pools"] == [pool]
    assert nodes["daily_transactions"]["internalFreshnessPolicy"]["deadlineCron"] == "0 2 * * *"
    assert nodes["user_risk_profile"]["internalFreshnessPolicy"]["failWindowSeconds"] == 26 * 3600
