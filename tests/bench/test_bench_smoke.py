"""The ingestion benchmark runs end to end on tiny files and reports every phase's rows.

It proves the benchmark works (its own server, its files, its JSON); it never judges timings.
"""

import json
import shutil
import tempfile
from pathlib import Path

import pytest

from bench import ingest


@pytest.fixture
def bench_dir():
    # Not under pytest's private tmp folders: the benchmark's server runs as another account
    # when we are root and must reach its data folder.
    folder = Path(tempfile.mkdtemp(prefix="txn-bench-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_ingest_benchmark_reports_every_phase(bench_dir, capsys):
    argv = ["--rows", "20000", "--reference-rows", "5000", "--second-rows", "5000"]
    report = ingest.main([*argv, "--dir", str(bench_dir)])

    saved = json.loads((bench_dir / "ingest.json").read_text())
    assert saved["phases"].keys() == report["phases"].keys() == set("abcdef")
    phases = saved["phases"]

    # (a) and (e): our loader, with its ledger's arithmetic.
    assert phases["a"]["rows_read"] == phases["a"]["rows_loaded"] == 20000
    assert phases["a"]["rows_duplicate"] == phases["a"]["rows_rejected"] == 0
    assert phases["e"]["rows_read"] == phases["e"]["rows_loaded"] == 5000
    assert phases["e"]["rows_in_table"] == 25000
    # (b), (d), (f): plain COPY; (c): the reference's method on its prefix.
    assert phases["b"]["rows_loaded"] == phases["b"]["rows_in_table"] == 20000
    assert phases["c"]["rows_read"] == phases["c"]["rows_loaded"] == 5000
    assert phases["c"]["rows_in_table"] == 5000
    assert phases["d"]["rows_loaded"] == phases["d"]["rows_in_table"] == 20000
    assert phases["f"]["rows_loaded"] == 5000
    assert phases["f"]["rows_in_table"] == 25000

    for phase in phases.values():
        assert phase["seconds"] > 0
        assert phase["peak_rss_bytes"] > 0
    assert set(saved["ratios"]) == {"a/b", "a/c", "e/b", "e/f", "a/d"}
    assert all(value > 0 for value in saved["ratios"].values())

    printed = capsys.readouterr().out
    assert "(a)/(b)" in printed and "rows/s" in printed
    # The server is stopped and its data removed unless --keep is given.
    assert not (bench_dir / "pg").exists()
