"""The analytics benchmark runs end to end on tiny sizes and reports every phase.

It proves the benchmark works (its own server, both APIs under uvicorn, its JSON) and that what
it compares is comparable: the incremental path leaves the same tables as a full rebuild, and our
API gives the reference queries' answers. It never judges timings.
"""

import json
import shutil
import tempfile
from pathlib import Path

import pytest

from bench import analytics
from bench.analytics_endpoints import ENDPOINTS
from bench.analytics_refresh import TABLES


@pytest.fixture
def bench_dir():
    # Not under pytest's private tmp folders: the benchmark's server runs as another account
    # when we are root and must reach its data folder.
    folder = Path(tempfile.mkdtemp(prefix="txn-bench-analytics-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_analytics_benchmark_reports_every_phase(bench_dir, capsys):
    argv = [
        "--rows",
        "20000",
        "--day-rows",
        "2000",
        "--requests",
        "24",
        "--reference-requests",
        "12",
        "--clients",
        "4",
        "--reference-risk-requests",
        "4",
        "--single-client-requests",
        "4",
        "--check-users",
        "4",
        "--dir",
        str(bench_dir),
    ]
    report = analytics.main(argv)

    saved = json.loads((bench_dir / "analytics.json").read_text())
    phases = saved["phases"]
    assert (
        set(phases)
        == set(report["phases"])
        == {
            "load",
            "full_rebuild",
            "incremental",
            "disk",
            "api",
            "answers",
            "sql_alone",
            "plans",
        }
    )

    # What the warehouse takes on disk, every table of ours counted, the reference's not.
    disk = phases["disk"]
    assert disk["tables_mib"]["transactions"] > 0 and disk["tables_mib"]["user_spend_trend"] > 0
    assert "transactions_ref" not in disk["tables_mib"]
    assert disk["total_mib"] == pytest.approx(sum(disk["tables_mib"].values()))
    assert disk["mib_per_million_rows"] == pytest.approx(disk["total_mib"] / 20000 * 1e6)

    # Both stores hold the same rows.
    assert phases["load"]["ours"]["rows_loaded"] == 20000
    assert phases["load"]["reference_copy"]["rows"] == 20000

    # The full rebuild and the incremental path, per table, and they end equal.
    for result in (
        phases["full_rebuild"],
        phases["incremental"],
        phases["incremental"]["full_rebuild_after"],
    ):
        assert set(result["tables"]) == set(TABLES)
        assert result["seconds"] > 0
    incremental = phases["incremental"]
    assert incremental["day_rows"] == incremental["load"]["rows_loaded"] == 2000
    assert incremental["equal_to_full_rebuild"] is True
    assert incremental["differences"] == []
    assert incremental["fingerprints"] == incremental["full_rebuild_after"]["fingerprints"]
    assert int(incremental["fingerprints"]["user_risk_profile"]["rows"]) > 0
    assert incremental["ratio_to_full_rebuild"] > 0

    # Every endpoint on both sides, every request answered.
    api = phases["api"]
    assert api["workers"] == 1 and api["clients"] == 4
    assert set(api["endpoints"]) == set(ENDPOINTS)
    for endpoint, result in api["endpoints"].items():
        for side in ("ours", "reference"):
            run = result[side]
            assert run["errors"] == 0, (endpoint, side, run["status_codes"])
            assert (
                run["requests"]
                == {
                    ("ours", endpoint): 24,
                    ("reference", endpoint): 4 if endpoint == "risk-profile" else 12,
                }[side, endpoint]
            )
            assert run["p50_ms"] > 0 and run["p99_ms"] >= run["p50_ms"] and run["rps"] > 0
        assert result["speedup_rps"] > 0
        # The reference's query alone, for the same users, beside our API.
        alone = result["reference_sql"]
        assert alone["errors"] == 0 and alone["requests"] == result["reference"]["requests"]
        assert alone["rps"] > 0 and result["speedup_vs_sql"]["rps"] > 0

    # Our answers are the reference queries' for every checked user and endpoint.
    answers = phases["answers"]
    assert len(answers["users"]) == 4
    assert len(answers["checks"]) == 4 * len(ENDPOINTS)
    assert answers["all_equal"], [check for check in answers["checks"] if not check["equal"]]

    printed = capsys.readouterr().out
    assert "incremental / full rebuild" in printed and "speed-up" in printed
    # The server is stopped and its data removed unless --keep is given.
    assert not (bench_dir / "pg-analytics").exists()
