"""The freshness benchmark runs end to end in quick mode and reports every stage and its baseline.

It proves the benchmark works (the whole platform started as `make run` starts it, on fresh
databases of the test server, uploads over HTTP, its JSON and its table); it never judges timings.
"""

import json
import re
import shutil
import tempfile
from pathlib import Path

import psycopg
import pytest

from bench import freshness

pytestmark = pytest.mark.e2e

NUMBER = r"\d+\.\d"


@pytest.fixture
def bench_dir():
    folder = Path(tempfile.mkdtemp(prefix="txn-bench-freshness-test-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.timeout(1200)  # today an upload outside the daily partitions waits out its 120 s
def test_freshness_benchmark_reports_every_stage_and_the_baseline(
    postgres_server, bench_dir, capsys
):
    argv = [
        "--quick",
        "--timeout",
        "120",
        "--database-url",
        postgres_server,
        "--dir",
        str(bench_dir),
    ]
    report = freshness.main(argv)

    saved = json.loads((bench_dir / "freshness.json").read_text())
    assert saved["options"]["uploads"] == 2 and len(saved["uploads"]) == 2
    assert "platform overhead" in (bench_dir / "freshness.md").read_text()
    # The first upload only has days inside the daily partitions: every stage, in order.
    first = report["uploads"][0]
    assert not first["outside"] and first["note"] == ""
    times = [first["stages"][stage] for stage in freshness.STAGES]
    assert times == sorted(times) and times[0] > 0
    assert first["runs"][0]["jobName"] == "ingest_upload"
    # The second one also has 2023-12-31 and today: loaded, whether or not it becomes readable.
    second = report["uploads"][1]
    assert second["outside"] and {"picked_up", "run_started", "loaded"} <= second["stages"].keys()
    assert second["note"] in ("", "not readable within 120 s")

    # The baseline did the same work (every row in the analytics tables) in one process.
    assert len(saved["baseline"]) == 2 and all(run["complete"] for run in saved["baseline"])
    assert saved["summary"]["platform_overhead"] > 1

    printed = capsys.readouterr().out
    for label in freshness.STAGES.values():
        assert re.search(rf"^{label} +[12]/2 +{NUMBER} +{NUMBER} +{NUMBER}$", printed, re.M), label
    assert re.search(r"readable p50 / baseline load\+refresh p50: [\d,]+x", printed)
    # Its fresh databases (warehouse, Dagster's, the baseline's) are dropped at the end.
    with psycopg.connect(postgres_server) as conn:
        left = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'bench_fresh%'")
        assert left.fetchall() == []
