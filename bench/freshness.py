"""Freshness benchmark: how long from uploading a file to reading its numbers.

`python -m bench.freshness` (`make bench-freshness`) starts the whole platform as `make run` does,
on free ports in a temporary folder, uploads small CSV files over HTTP one at a time, each for new
users, and times each stage after the 202 of `POST /upload` (see bench/README.md). Its baseline,
in the same run: the same kind of files loaded and refreshed directly in this process, without
Dagster or HTTP. It prints a table and writes var/bench/freshness.json and freshness.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bench.freshness_platform import (
    Platform,
    add_platform_options,
    database_url,
    run_platform_benchmark,
    running_platform,
)
from bench.harness import (
    Column,
    execute,
    percentile,
    ratio,
    say,
    step,
    table,
)
from bench.loads import load_ours
from txn_core import refresh
from txn_core.migrate import upgrade

SEED = 7
STAGES = {"picked_up": "picked up", "run_started": "run started", "loaded": "loaded"}
STAGES |= {"refreshed": "refreshed", "readable": "readable"}
HISTORY_START = dt.date(2024, 1, 1)  # the default TXN_HISTORY_START: the first daily partition
PAST_DAYS, USERS_PER_UPLOAD, FIRST_USER = 3, 4, 50_000_000  # far from simulated users (1-999)
POLL_SECONDS, IDLE_SECONDS, QUIET_SECONDS = 0.15, 180, 20
READS = ("/summary/{}", "/analytics/risk-profile/{}", "/analytics/spend-trend/{}")
RUN_TIMES = ("creationTime", "startTime", "endTime")
REFRESHED_SQL = """
SELECT (SELECT coalesce(sum(tx_count), 0) FROM user_risk_profile WHERE user_id = ANY(%(users)s)),
       (SELECT coalesce(sum(daily_total), 0) FROM user_spend_trend WHERE user_id = ANY(%(users)s))
"""


@dataclass
class UploadFile:
    body: bytes
    expected: dict[int, tuple[int, Decimal]]  # per user: rows and total amount
    days: list[dt.date]
    outside: bool  # also rows on days outside the daily partitions
    rows: int
    total: Decimal


def make_files(count: int, rows: int, seed: int) -> list[UploadFile]:
    """`count` files of `rows` rows, each for users of its own, over the last PAST_DAYS days;
    the last one also has rows on the day before the first partition and today."""
    rng, today, files = random.Random(seed), dt.datetime.now(dt.UTC).date(), []
    for index in range(count):
        outside = index == count - 1 and count > 1
        days = [today - dt.timedelta(days=back) for back in range(PAST_DAYS, 0, -1)]
        days = [HISTORY_START - dt.timedelta(days=1), *days, today] if outside else days
        first = FIRST_USER + index * USERS_PER_UPLOAD
        expected = {user: (0, Decimal(0)) for user in range(first, first + USERS_PER_UPLOAD)}
        lines = ["transaction_id,user_id,product_id,timestamp,transaction_amount"]
        for row in range(rows):
            user, day = first + row % USERS_PER_UPLOAD, days[row % len(days)]
            at = dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=rng.randrange(86_400))
            amount = Decimal(rng.randrange(1, 100_000)) / 100
            transaction = uuid.UUID(int=rng.getrandbits(128), version=4)
            lines.append(f"{transaction},{user},{rng.randrange(1, 50)},{at.isoformat()}Z,{amount}")
            expected[user] = (expected[user][0] + 1, expected[user][1] + amount)
        total = sum((amount for _, amount in expected.values()), Decimal(0))
        body = ("\n".join(lines) + "\n").encode()
        files.append(UploadFile(body, expected, days, outside, rows, total))
    return files


# --- Following one upload through its stages -------------------------------------------------


def _refreshed(conn: psycopg.Connection, file: UploadFile) -> bool:
    count, total = conn.execute(REFRESHED_SQL, {"users": list(file.expected)}).fetchone()
    return count == file.rows and total == file.total


def _readable(api: httpx.Client, file: UploadFile) -> bool:
    """Every user's three answers count every row of the file (a missing user answers 404)."""
    for user, (count, total) in file.expected.items():
        answers = [api.get(path.format(user)) for path in READS]
        if any(answer.status_code != 200 for answer in answers):
            return False
        summary, risk, trend = (answer.json() for answer in answers)
        counts = {summary["transaction_count"], risk["risk_metrics"]["transaction_count"]}
        if counts != {count} or sum(Decimal(str(day["daily_total"])) for day in trend) != total:
            return False
    return True


def _unknown(api: httpx.Client, file: UploadFile) -> bool:
    return all(api.get(p.format(u)).status_code == 404 for u in file.expected for p in READS)


def _poll_stages(pf: Platform, upload: str, file: UploadFile, timeout: float) -> tuple[dict, str]:
    """The wall-clock time of each stage reached, and why the rest were not."""
    marks: dict[str, float] = {}
    posted, partition = time.time(), [{"key": "dagster/partition", "value": upload}]
    with psycopg.connect(pf.warehouse_url, autocommit=True) as conn:
        while "readable" not in marks:
            if time.time() > posted + timeout:
                return marks, f"not readable within {timeout:.0f} s"
            if "run_started" not in marks and (runs := pf.runs(tags=partition)):
                run = min(runs, key=lambda run: run["creationTime"])  # a retry is a later run
                marks["picked_up"] = run["creationTime"]
                if run["startTime"]:
                    marks["run_started"] = run["startTime"]
            if "loaded" not in marks:
                ledger = pf.api.get(f"/uploads/{upload}").json()
                if ledger["status"] == "failed":
                    return marks, f"failed: {ledger['error']}"
                if ledger["status"] == "succeeded":  # finished_at: inside the load's transaction
                    marks["loaded"] = dt.datetime.fromisoformat(ledger["finished_at"]).timestamp()
            elif "refreshed" not in marks:
                if _refreshed(conn, file):
                    marks["refreshed"] = time.time()
            elif _readable(pf.api, file):
                marks["readable"] = time.time()
            time.sleep(POLL_SECONDS)
    return marks, ""


def _wait_idle(pf: Platform) -> None:
    """No run and no backfill for QUIET_SECONDS, longer than the backlog sensor's interval:
    a refresh it has yet to request (after an upload that timed out) is seen too."""
    deadline, quiet_since = time.monotonic() + IDLE_SECONDS, time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - quiet_since < QUIET_SECONDS:
        if pf.busy():
            quiet_since = time.monotonic()
        time.sleep(0.5)


def follow_upload(pf: Platform, file: UploadFile, timeout: float) -> dict[str, Any]:
    """Upload `file`, time its stages after the 202, wait until the platform is idle again, and
    keep every run created since the 202 with its times (where the time went)."""
    if not _unknown(pf.api, file):
        raise RuntimeError(f"the users {list(file.expected)} are not new")
    response = pf.api.post("/upload", files={"file": ("fresh.csv", file.body, "text/csv")})
    accepted = time.time()
    if response.status_code != 202:
        raise RuntimeError(f"POST /upload answered {response.status_code}: {response.text}")
    upload_id = response.json()["upload_id"]
    marks, note = _poll_stages(pf, upload_id, file, timeout)
    _wait_idle(pf)
    runs = sorted(pf.runs(createdAfter=accepted - 1), key=lambda run: run["creationTime"])
    for run in runs:
        run.update({key: run[key] and run[key] - accepted for key in RUN_TIMES})
        run["assetSelection"] = [key["path"][-1] for key in run["assetSelection"] or []]
    stages = {name: at - accepted for name, at in marks.items()}
    upload = {"upload_id": upload_id, "days": [day.isoformat() for day in file.days]}
    return upload | {"outside": file.outside, "stages": stages, "note": note, "runs": runs}


# --- The baseline: the same work in one process ----------------------------------------------


def baseline(beside: str, files: list[UploadFile], workdir: Path) -> list[dict[str, Any]]:
    """Each file registered and loaded (`load_ours`), then refreshed, in a fresh database on
    the server of the database `beside`."""
    name = f"bench_freshness_{uuid.uuid4().hex[:8]}_baseline"
    url, results = database_url(beside, name), []
    execute(beside, f'CREATE DATABASE "{name}"')
    try:
        upgrade(url)
        for index, file in enumerate(files):
            (path := workdir / f"baseline-{index}.csv").write_bytes(file.body)
            load = load_ours(url, f"baseline-{index}", path, workdir / "work")["seconds"]
            with psycopg.connect(url, autocommit=True) as conn:
                started = time.perf_counter()
                refresh.refresh_analytics(conn)  # what an ingestion run does next
                refreshed = time.perf_counter() - started
                complete = _refreshed(conn, file)
            results.append(
                {
                    "load": load,
                    "refresh": refreshed,
                    "total": load + refreshed,
                    "complete": complete,
                }
            )
        return results
    finally:
        execute(beside, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- Report ----------------------------------------------------------------------------------


def summarise(uploads: list[dict], base: list[dict]) -> dict[str, Any]:
    def spread(values: list[float]) -> dict[str, Any]:
        values = sorted(values)
        top = values[-1] if values else None
        return {"p50": percentile(values, 0.5), "p90": percentile(values, 0.9), "max": top}

    stages = {}
    for stage in STAGES:
        reached = [upload["stages"][stage] for upload in uploads if stage in upload["stages"]]
        stages[stage] = {"reached": len(reached), **spread(reached)}
    costs = {part: spread([run[part] for run in base])["p50"] for part in ("load", "refresh")}
    costs["total"] = spread([run["total"] for run in base])["p50"]
    readable = stages["readable"]["p50"]
    overhead = ratio(readable, costs["total"])
    return {"stages": stages, "baseline_p50": costs, "platform_overhead": overhead}


def _s(value: float | None, width: int = 8) -> str:
    return f"{'n/a':>{width}}" if value is None else f"{value:>{width}.1f}"


STAGE_COLUMNS = (
    Column("stage", 12, "<"),
    Column("reached", 8),
    Column("p50 s", 8),
    Column("p90 s", 8),
    Column("max s", 8),
)
UPLOAD_COLUMNS = (
    Column("per upload", 10, "<"),
    *(Column(label, 11) for label in STAGES.values()),
    Column("", 0, "<", gap=2),  # the upload's days, and why a stage was not reached
)


def _upload_rows(uploads: list[dict]) -> list[list[str] | str]:
    """One row per upload, then a line per Dagster run created after its 202."""
    rows: list[list[str] | str] = []
    for number, upload in enumerate(uploads, 1):
        stages = [_s(upload["stages"].get(stage), 11) for stage in STAGES]
        days = "+ 2023-12-31, today" if upload["outside"] else "past days only"
        rows.append([f"#{number}", *stages, f"({days}) {upload['note']}"])
        for run in upload["runs"]:
            times = " ".join(f"{key[:-4]} {_s(run[key], 5)}" for key in RUN_TIMES)
            rows.append(f"{'':>12}run {run['jobName']:<22} {times}  {run['assetSelection']}")
    return rows


def render(report: dict[str, Any]) -> str:
    uploads, summary, base = report["uploads"], report["summary"], report["baseline"]
    title = f"{len(uploads)} uploads of {report['options']['rows']} rows, one at a time"
    stages = []
    for stage, label in STAGES.items():
        row = summary["stages"][stage]
        spread = (_s(row[key]) for key in ("p50", "p90", "max"))
        stages.append([label, f"{row['reached']:>4}/{len(uploads):<3}", *spread])
    costs, overhead = summary["baseline_p50"], summary["platform_overhead"]
    load = report["load_average"]
    lines = [
        f"{title}, idle platform: seconds after the 202 of POST /upload",
        "",
        *table(STAGE_COLUMNS, stages, rule=False),
        "",
        *table(UPLOAD_COLUMNS, _upload_rows(uploads), rule=False),
        "",
        f"baseline, one process, no Dagster or HTTP (p50 of {len(base)}): load "
        f"{costs['load']:.3f} s + refresh {costs['refresh']:.3f} s = {costs['total']:.3f} s"
        f" (every row refreshed: {all(run['complete'] for run in base)})",
        "platform overhead, readable p50 / baseline load+refresh p50: "
        + ("n/a (nothing readable)" if overhead is None else f"{overhead:,.0f}x"),
        f"platform up in {report['startup_seconds']:.1f} s; load average "
        f"{load['start']} at start, {load.get('end')} at end",
    ]
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.freshness",
        description="From POST /upload to readable answers, stage by stage, through the whole "
        "platform, against the same work in one process.",
    )
    parser.add_argument("--uploads", type=int, default=10, help="timed uploads (default: 10)")
    parser.add_argument("--rows", type=int, default=200, help="rows per upload (default: 200)")
    parser.add_argument("--timeout", type=float, default=120.0, help="per upload (default: 120 s)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 2 uploads")
    add_platform_options(parser)
    args = parser.parse_args(argv)
    args.uploads = 2 if args.quick else args.uploads
    if args.uploads < 1 or args.rows < USERS_PER_UPLOAD:
        parser.error(f"--uploads must be at least 1 and --rows at least {USERS_PER_UPLOAD}")
    return args


def measure(args: argparse.Namespace, scratch: Path, report: dict[str, Any]) -> None:
    files = make_files(1 + args.uploads, args.rows, SEED)
    say("-> starting the platform (python -m txn_dev.run_local)")
    started = time.perf_counter()
    with running_platform(args.database_url, scratch) as pf:
        report["startup_seconds"] = time.perf_counter() - started
        say(f"   API and Dagster answer after {report['startup_seconds']:.1f} s")
        with step("warm-up upload (not counted)"):
            report["warmup"] = follow_upload(pf, files[0], args.timeout)
        uploads = report["uploads"] = []
        for number, file in enumerate(files[1:], 1):
            with step(f"upload {number} of {args.uploads}: {file.rows} rows"):
                uploads.append(follow_upload(pf, file, args.timeout))
            reached = [f"{STAGES[name]} {at:.1f} s" for name, at in uploads[-1]["stages"].items()]
            say("   " + ", ".join(filter(None, [*reached, uploads[-1]["note"]])))
        with step("baseline: the same kind of files loaded and refreshed in this process"):
            others = make_files(1 + args.uploads, args.rows, SEED + 1)
            report["baseline"] = baseline(pf.warehouse_url, others, scratch)[1:]  # [0] warms up
        say("-> stopping the platform")
    report["summary"] = summarise(uploads, report["baseline"])


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    options = {"uploads": args.uploads, "rows": args.rows}
    report = run_platform_benchmark("freshness", args, options, measure, render)
    (args.dir / "freshness.md").write_text(f"# Freshness benchmark\n\n```\n{render(report)}\n```\n")
    return report


if __name__ == "__main__":
    main(sys.argv[1:])
