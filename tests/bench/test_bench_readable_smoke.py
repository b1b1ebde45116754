"""The readable benchmark runs end to end on a tiny file and reports every stage in order.

It proves the benchmark works (the whole platform started as `make run` starts it, on fresh
databases of the test server, one streamed upload, every user's three answers checked against
the file, its JSON and its table); it never judges timings.
"""

import json
import re
import shutil
import tempfile
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from bench import readable
from bench.readable_answers import Figures, mismatch
from bench.readable_report import STAGES

ROWS = 5000
NUMBER = r"\d+\.\d"


@pytest.fixture
def bench_dir():
    folder = Path(tempfile.mkdtemp(prefix="txn-bench-readable-test-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _answers(count: int, risk_count: int, daily_totals: list[str]) -> list[str]:
    """The three bodies as the API sends them: the trend's amounts are JSON numbers."""
    days = ",".join(f'{{"spend_date": "2024-01-01", "daily_total": {t}}}' for t in daily_totals)
    return [
        json.dumps({"transaction_count": count}),
        json.dumps({"risk_metrics": {"transaction_count": risk_count}}),
        f"[{days}]",
    ]


def test_a_user_is_readable_only_when_all_three_answers_count_every_row():
    want = Figures(3, Decimal("10.30"))
    assert mismatch(_answers(3, 3, ["10.2", "0.10"]), want) is None
    assert mismatch(_answers(2, 3, ["10.2", "0.10"]), want) is not None  # summary behind
    assert mismatch(_answers(3, 2, ["10.2", "0.10"]), want) is not None  # risk profile behind
    assert mismatch(_answers(3, 3, ["10.2"]), want) is not None  # a trend day missing


@pytest.mark.e2e
@pytest.mark.timeout(900)
def test_readable_benchmark_times_the_upload_until_every_user_reads_its_rows(
    postgres_server, bench_dir, capsys
):
    argv = ["--rows", str(ROWS), "--timeout", "300", "--database-url", postgres_server]
    report = readable.main([*argv, "--dir", str(bench_dir)])

    saved = json.loads((bench_dir / "readable.json").read_text())
    upload = saved["upload"]
    # The streamed upload succeeded with every row accepted, and nothing was cut short.
    ledger = upload["ledger"]
    assert ledger["status"] == "succeeded" and upload["note"] == ""
    assert ledger["rows_read"] == ledger["rows_loaded"] == ROWS
    assert ledger["rows_duplicate"] == ledger["rows_rejected"] == 0
    # Every stage reached, in order: readable comes after the load finished and the refresh.
    times = [upload["stages"][stage] for stage in STAGES]
    assert times == sorted(times) and times[0] > 0
    assert upload["stages"]["load_finished"] < upload["stages"]["readable"]
    assert report["load_seconds"] > 0 and report["readable_over_load"] > 1
    # Every user of the file (about 1,000) had all three answers match, and the warehouse holds
    # exactly the file's per-user figures.
    users = saved["file"]["users"]
    assert users > 900 and sum(check["matched"] for check in upload["checks"]) == users
    assert upload["warehouse_matches_file"]
    assert upload["runs"][0]["jobName"] == "ingest_upload"

    printed = capsys.readouterr().out
    for label, _ in STAGES.values():
        assert re.search(rf"^{label} +{NUMBER} +\+{NUMBER}  ", printed, re.M), label
    assert re.search(rf"readable / the load's own time: {NUMBER}+x", printed)
    # Its fresh databases (warehouse, Dagster's) are dropped at the end.
    with psycopg.connect(postgres_server) as conn:
        left = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'bench_fresh%'")
        assert left.fetchall() == []
