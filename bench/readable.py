"""Readable benchmark: how soon a big upload is readable, through the running platform.

`python -m bench.readable` (`make bench-readable`) starts the whole platform as `make run` does
(bench.freshness_platform), sends the reference-shaped file of --rows rows as one streamed
`POST /upload`, and times from its 202: the run picked up, the load started and finished, the
refresh committed, and every user's summary, risk profile and trend counting the file's rows.
What we aim for: readable within twice the load's own time (1.5x at best), and within two
minutes at 10M rows. It prints a table and writes var/bench/readable.json (see bench/README.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

from bench.freshness_platform import (
    Platform,
    add_platform_options,
    run_platform_benchmark,
    running_platform,
)
from bench.harness import ratio, say, step
from bench.readable_answers import CheckPass, Figures, figures_in_file, figures_in_warehouse
from bench.readable_platform import PlatformMemory, finished_runs, log_marks
from bench.readable_report import render
from bench.readable_wait import Watch, post_upload, wait_loaded, wait_readable, wait_refreshed
from bench.reference_data import MAIN_SEED, reference_file
from txn_core.sql import one

RUN_TIMES = ("creationTime", "startTime", "endTime")
STEP_TIMES = ("startTime", "endTime")
LOG_STAGES = ("check_started", "check_finished", "refresh_logged")


def _epoch(timestamp: str | None) -> float | None:
    return dt.datetime.fromisoformat(timestamp).timestamp() if timestamp else None


def stage_times(
    watch: Watch, ledger: dict | None, runs: list[dict], marks: dict[str, float]
) -> dict[str, float]:
    """Seconds after the 202 of each moment known: the run's, the ledger's, the run's log's
    and those seen while waiting."""
    at: dict[str, float | None] = dict(watch.seen)
    if runs:
        at |= {"picked_up": runs[0]["creationTime"], "run_started": runs[0]["startTime"]}
    if ledger:
        at["load_started"] = _epoch(ledger["started_at"])
    if ledger and ledger["status"] == "succeeded":
        # The ledger's finished_at is now() of the load's transaction, stamped when it began
        # (before its COPY); the loader's last line is logged once the transaction committed.
        at["load_finished"] = marks.get("load_committed", watch.seen["ledger_ended_seen"])
        at["ledger_finished_at"] = _epoch(ledger["finished_at"])
    at |= {name: marks[name] for name in LOG_STAGES if name in marks}
    return {name: moment - watch.accepted for name, moment in at.items() if moment}


def _run_rows(runs: list[dict], accepted: float) -> list[dict[str, Any]]:
    """The upload's runs, their times and their steps' in seconds after the 202."""

    def after(times: dict, keys: tuple[str, ...]) -> dict[str, float | None]:
        return {key: times[key] and times[key] - accepted for key in keys}

    rows = []
    for run in runs:
        steps = [{"stepKey": s["stepKey"], **after(s, STEP_TIMES)} for s in run["stepStats"]]
        row = {key: run[key] for key in ("runId", "jobName", "status")}
        rows.append(row | after(run, RUN_TIMES) | {"steps": steps})
    return rows


def _pass_row(checked: CheckPass, accepted: float) -> dict[str, Any]:
    matched = [at - accepted for at in checked.matched.values()]
    return {
        "users": checked.users,
        "seconds": checked.seconds,
        "matched": len(matched),
        "first_matched": min(matched, default=None),
        "last_matched": max(matched, default=None),
        "mismatches": checked.mismatches,
    }


def _rows_in_warehouse(url: str) -> int:
    with psycopg.connect(url) as conn:
        return one(conn.execute("SELECT count(*) FROM transactions"))[0]


def follow_upload(
    pf: Platform, path: Path, expected: dict[int, Figures], args: argparse.Namespace
) -> dict[str, Any]:
    """Upload the file, wait until every user's answers count its rows (or the timeout), then
    read what the run and the warehouse say about it."""
    rows_before = _rows_in_warehouse(pf.warehouse_url)
    with step(f"POST /upload of {path.name} ({path.stat().st_size / 2**20:,.0f} MiB, streamed)"):
        accepted_body, sent, accepted = post_upload(pf.api, path)
    upload_id, watch, passes = accepted_body["upload_id"], Watch(accepted, args.timeout), []
    say(f"-> waiting until every user's answers count the file's rows (upload {upload_id})")
    ledger = wait_loaded(pf.api, watch, upload_id)
    if ledger and ledger["status"] == "failed":
        watch.note = f"the load failed: {ledger['error']}"
    elif ledger and wait_refreshed(
        pf.warehouse_url, watch, upload_id, rows_before + ledger["rows_loaded"]
    ):
        passes = wait_readable(str(pf.api.base_url).rstrip("/"), watch, expected, args.clients)
    with step("the run's times and log, the warehouse's per-user figures"):
        runs = finished_runs(pf, upload_id)
        marks: dict[str, float] = {}
        for run in runs:  # a mark is the first run's that logged it (a retry logs anew)
            marks = log_marks(pf, run["runId"]) | marks
        in_warehouse = figures_in_warehouse(pf.warehouse_url)
    return {
        "upload_id": upload_id,
        "send_seconds": accepted - sent,
        "rows_before": rows_before,
        "ledger": ledger,
        "stages": stage_times(watch, ledger, runs, marks),
        "refresh_seconds_logged": marks.get("refresh_seconds"),
        "load_step_materializations": marks.get("load_step_materializations"),
        "runs": _run_rows(runs, accepted),
        "checks": [_pass_row(checked, accepted) for checked in passes],
        "warehouse_matches_file": in_warehouse == expected,
        "note": watch.note,
    }


def summarise(report: dict[str, Any]) -> None:
    """The load's own time (the ledger's start to the commit) and readable over it."""
    stages = report["upload"]["stages"]
    load = None
    if {"load_started", "load_finished"} <= stages.keys():
        load = stages["load_finished"] - stages["load_started"]
    report["load_seconds"] = load
    report["readable_over_load"] = ratio(stages.get("readable"), load)


def measure(args: argparse.Namespace, scratch: Path, report: dict[str, Any]) -> None:
    path = reference_file(args.dir, args.rows, MAIN_SEED)
    with step(f"per-user figures of {path.name} (DuckDB, before the clock starts)"):
        expected = figures_in_file(path)
    report["file"] = {"name": path.name, "bytes": path.stat().st_size, "users": len(expected)}
    say("-> starting the platform (python -m txn_dev.run_local)")
    started = time.perf_counter()
    with running_platform(args.database_url, scratch) as pf:
        report["startup_seconds"] = time.perf_counter() - started
        say(f"   API and Dagster answer after {report['startup_seconds']:.1f} s")
        own_server = None if args.database_url else scratch / "pg" / "postmaster.pid"
        with PlatformMemory(pf.process_id, own_server) as memory:
            report["upload"] = follow_upload(pf, path, expected, args)
        report["memory"] = {"peak_pss_bytes": memory.peaks, "largest_rss": memory.largest}
        say("-> stopping the platform")
    summarise(report)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.readable",
        description="From the 202 of one big streamed POST /upload until every user's summary, "
        "risk profile and trend count the file's rows, through the whole platform.",
    )
    parser.add_argument(
        "--rows", type=int, default=10_000_000, help="rows of the file (default: 10,000,000)"
    )
    parser.add_argument(
        "--timeout", type=float, default=1800.0, help="from the 202 to readable (default: 1800 s)"
    )
    parser.add_argument(
        "--clients", type=int, default=8, help="users' answers checked at a time (default: 8)"
    )
    add_platform_options(parser)
    args = parser.parse_args(argv)
    if args.rows < 1 or args.clients < 1:
        parser.error("--rows and --clients must be at least 1")
    return args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    return run_platform_benchmark("readable", args, {"rows": args.rows}, measure, render)


if __name__ == "__main__":
    main(sys.argv[1:])
