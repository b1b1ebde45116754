"""The backfill benchmark runs end to end on a few tiny days and reports every phase's rows.

It proves the benchmark works (its own server, a real Dagster run, its JSON); it never judges
timings.
"""

import datetime as dt
import json
import shutil
import tempfile
from pathlib import Path

import pytest

from bench import backfill
from txn_core.generator import rows_for_day

DAYS, ROWS_PER_DAY = 7, 200  # a whole week: every weekday's share


@pytest.fixture
def bench_dir():
    # Not under pytest's private tmp folders: the benchmark's server runs as another account
    # when we are root and must reach its data folder.
    folder = Path(tempfile.mkdtemp(prefix="txn-bench-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_backfill_benchmark_reports_every_phase(bench_dir, capsys):
    argv = ["--days", str(DAYS), "--rows-per-day", str(ROWS_PER_DAY), "--dir", str(bench_dir)]
    report = backfill.main(argv)

    first = dt.date(2024, 1, 1)
    expected = sum(rows_for_day(first + dt.timedelta(days=i), ROWS_PER_DAY) for i in range(DAYS))
    assert expected != DAYS * ROWS_PER_DAY  # the weekday rhythm is in the count

    saved = json.loads((bench_dir / "backfill.json").read_text())
    assert saved["phases"].keys() == report["phases"].keys() == {"a", "b", "c"}
    assert saved["expected_rows"] == expected
    assert (saved["options"]["first_day"], saved["options"]["last_day"]) == (
        "2024-01-01",
        "2024-01-07",
    )
    phases = saved["phases"]

    # (a) one Dagster run loaded every day's rows, and recorded one materialization per day.
    backfill_run = phases["a"]
    assert backfill_run["success"] is True
    assert backfill_run["rows_read"] == backfill_run["rows_loaded"] == expected
    assert backfill_run["rows_duplicate"] == backfill_run["rows_rejected"] == 0
    assert backfill_run["rows_in_table"] == expected
    assert backfill_run["materializations"] == DAYS
    # (b) the same work without Dagster: the same rows.
    work = phases["b"]
    assert work["rows_generated"] == work["rows_read"] == work["rows_loaded"] == expected
    assert work["rows_in_table"] == expected
    # (c) plain COPY of (b)'s file: the same number again.
    assert phases["c"]["rows_loaded"] == phases["c"]["rows_in_table"] == expected

    for phase in phases.values():
        assert phase["seconds"] > 0
        assert phase["peak_rss_bytes"] > 0
    assert set(saved["ratios"]) == {"a/c", "b/c"}
    # The split of (a) comes from the asset's and the loader's lines in the run's event log.
    assert {"dagster_before_body", "body", "before_first_copy"} <= backfill_run["stages"].keys()
    assert backfill_run["uploads"] == work["uploads"] == 1  # one month
    assert {"share", "process_share", "event_log_share"} <= saved["dagster_overhead"].keys()

    printed = capsys.readouterr().out
    assert "(a)/(c)" in printed and "Dagster overhead" in printed
    # The server, its data and the CSV are removed unless --keep is given.
    assert not (bench_dir / backfill.SERVER_FOLDER).exists()
    assert not Path(saved["csv"]).exists()
