"""The scaling benchmark runs end to end on tiny sizes and reports every figure's growth.

It proves the benchmark works (its own server, a database per size, the API under uvicorn, its
JSON) and that each size measured what it says: the rows loaded, the refreshes folding them in,
the reads answered. It never judges timings.
"""

import json
import math
import shutil
import tempfile
from pathlib import Path

import pytest

from bench import scaling
from bench.scaling_report import FIGURES, STAGES

SIZES = (2000, 6000)
DAY_ROWS = 500
REQUESTS = 50


@pytest.fixture
def bench_dir():
    # Not under pytest's private tmp folders: the benchmark's server runs as another account
    # when we are root and must reach its data folder.
    folder = Path(tempfile.mkdtemp(prefix="txn-bench-scaling-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def check_size(size: dict, rows: int) -> None:
    """One size: its rows loaded, folded in by the full refresh, one more day by the next."""
    assert size["rows"] == rows
    ingest = size["ingest"]
    assert ingest["rows_loaded"] == ingest["rows_in_table"] == rows
    assert ingest["rows_rejected"] == ingest["rows_duplicate"] == 0
    assert ingest["peak_rss_bytes"] > 0

    # The reference file has a row a minute: the load queued each of its days.
    full = size["full_refresh"]
    assert full["days"] == math.ceil(rows / 1440)
    assert full["risk_profile_transactions"] == rows
    assert full["daily_rows_written"] > 0 and full["trend_rows_written"] > 0
    assert set(full["stage_seconds"]) == set(STAGES)

    incremental = size["incremental"]
    assert incremental["days"] == 1
    assert incremental["day"] > size["last_day"]
    assert incremental["load"]["rows_loaded"] == incremental["day_rows"] >= DAY_ROWS
    assert incremental["risk_profile_transactions"] == rows + incremental["day_rows"]

    assert size["disk"]["total_mib"] > 0
    reads = size["reads"]
    assert set(reads["endpoints"]) == set(scaling.READS)
    for endpoint, run in reads["endpoints"].items():
        assert run["requests"] == REQUESTS and run["errors"] == 0, (endpoint, run["status_codes"])
    assert reads["api_peak_rss_bytes"] > 0


def test_scaling_benchmark_reports_every_size_and_growth(bench_dir, capsys):
    argv = [*("--sizes", ",".join(map(str, SIZES)), "--requests", str(REQUESTS))]
    argv += ["--day-rows", str(DAY_ROWS), "--delete-files", "--dir", str(bench_dir)]
    report = scaling.main(argv)

    saved = json.loads((bench_dir / "scaling.json").read_text())
    assert [size["rows"] for size in saved["sizes"]] == list(SIZES)
    for size, rows in zip(saved["sizes"], SIZES, strict=True):
        check_size(size, rows)

    # An exponent per figure; only a backend's sampled memory may be missed by a tiny phase.
    assert set(saved["growth"]) == {figure.key for figure in FIGURES} == set(report["growth"])
    for key, grown in saved["growth"].items():
        if not key.endswith("_backend_mib"):
            assert math.isfinite(grown["exponent"]), key
            assert grown["ratio_largest_to_smallest"] > 0, key
    assert saved["growth"]["ingest_rows_per_second"]["exponent_of"] == "ingest_seconds"
    assert set(saved["stage_exponents"]["full_refresh"]) == set(STAGES)

    printed = capsys.readouterr().out
    assert "exponent" in printed and "aim (never asserted)" in printed
    # Each size's database is dropped once measured, the server removed, the CSVs deleted
    # because --delete-files says so (they are kept by default).
    assert all(f"dropping bench_scaling_{rows}" in printed for rows in SIZES)
    assert not (bench_dir / "pg-scaling").exists()
    assert not list(bench_dir.glob("reference-*.csv"))
    assert scaling.parse_args([]).delete_files is False
