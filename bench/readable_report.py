"""The printed report of the readable benchmark: one table of stages, then where the time went."""

from __future__ import annotations

from typing import Any

from bench.harness import Column, mib, table

AIM_RATIO, STRETCH_RATIO, AIM_SECONDS, AIM_ROWS = 2.0, 1.5, 120, 10_000_000
STAGES = {
    "picked_up": ("picked up", "the upload's Dagster run is created (its creationTime)"),
    "run_started": ("run started", "that run starts (its startTime)"),
    "load_started": ("load started", "the ledger's started_at"),
    "load_finished": ("load finished", "the load's last line in the run's log, once committed"),
    "refreshed": ("refreshed", "SQL: no day of the upload queued, risk profiles count every row"),
    "readable": ("readable", "refreshed, when the first pass after it found every answer right"),
    "verified": ("verified", "the last user's summary, risk profile and trend count its rows"),
}
STAGE_COLUMNS = (
    Column("stage", 13, "<"),
    Column("seconds", 8),
    Column("+ s", 7),
    Column("from", 0, "<", gap=2),
)


def _s(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds:,.1f} s"


def _stage_rows(stages: dict[str, float]) -> list[list[str]]:
    rows, previous = [], 0.0
    for key, (label, source) in STAGES.items():
        if key not in stages:
            rows.append([label, "n/a", "", source])
            continue
        rows.append([label, f"{stages[key]:.1f}", f"{stages[key] - previous:+.1f}", source])
        previous = stages[key]
    return rows


def _load_lines(report: dict[str, Any]) -> list[str]:
    stages, load, over = (
        report["upload"]["stages"],
        report["load_seconds"],
        report["readable_over_load"],
    )
    split = ""
    if {"load_started", "check_finished", "load_finished"} <= stages.keys():
        check = stages["check_finished"] - stages["load_started"]
        split = f": the DuckDB check {_s(check)}, COPY and commit {_s(load - check)}"
    readable = stages.get("readable")
    within = "n/a" if readable is None else ("yes" if readable <= AIM_SECONDS else "no")
    return [
        f"the load's own time, load started -> finished: {_s(load)}{split}",
        f"readable / the load's own time: {'n/a' if over is None else f'{over:.2f}x'} "
        f"(aim <= {AIM_RATIO:g}x, stretch {STRETCH_RATIO:g}x)",
        f"readable within {AIM_SECONDS} s, the aim at {AIM_ROWS:,} rows (this run: "
        f"{report['options']['rows']:,}): {within}",
        f"the ledger's finished_at: {_s(stages.get('ledger_finished_at'))} (now() of the "
        "load's transaction: stamped when it began, before its COPY)",
    ]


def _step_times(report: dict[str, Any], step_key: str) -> dict[str, Any]:
    for run in report["upload"]["runs"]:
        for step in run["steps"]:
            if step["stepKey"] == step_key:
                return step
    return {"startTime": None, "endTime": None}


def _after_commit(report: dict[str, Any]) -> str:
    """What the run did between the load's commit and the refresh's step."""
    committed = report["upload"]["stages"].get("load_finished")
    load_end = _step_times(report, "raw_uploads")["endTime"]
    refresh_start = _step_times(report, "analytics_tables")["startTime"]
    if None in (committed, load_end, refresh_start):
        return "after the load's commit: n/a"
    recorded = report["upload"]["load_step_materializations"]
    return (
        f"after the load's commit: its step went on {_s(load_end - committed)}, recording "
        f"{recorded:,} materialization(s); the refresh's step began "
        f"{_s(refresh_start - load_end)} later"
    )


def _run_lines(report: dict[str, Any]) -> list[str]:
    lines = []
    for run in report["upload"]["runs"]:
        times = ", ".join(f"{key[:-4]} {_s(run[key])}" for key in ("creationTime", "endTime"))
        steps = ", ".join(
            f"{step['stepKey']} {_s(step['startTime'])} -> {_s(step['endTime'])}"
            for step in run["steps"]
        )
        lines.append(f"run {run['jobName']} ({run['status']}): {times}; steps {steps}")
    logged = report["upload"]["refresh_seconds_logged"]
    return [
        *lines,
        _after_commit(report),
        f"the refresh timed itself at {_s(logged)} (its stages are not in the run's log)",
    ]


def _answer_lines(report: dict[str, Any]) -> list[str]:
    upload, users = report["upload"], report["file"]["users"]
    checks = upload["checks"]
    matched = sum(check["matched"] for check in checks)
    first = _s(checks[0]["seconds"]) if checks else "n/a"
    lines = [
        f"answers: {users:,} users x 3 reads in {len(checks)} pass(es) (the first took {first}); "
        f"users whose answers matched: {matched:,} of {users:,}; transactions hold the file's "
        f"per-user figures: {'yes' if upload['warehouse_matches_file'] else 'no'}",
    ]
    if checks and checks[-1]["mismatches"]:
        lines += [f"  user {user}: {why}" for user, why in checks[-1]["mismatches"].items()]
    return lines


def _upload_line(report: dict[str, Any]) -> str:
    upload, ledger = report["upload"], report["upload"]["ledger"] or {}
    counts = ", ".join(
        f"{ledger.get(f'rows_{kind}', 0):,} {kind}"
        for kind in ("read", "loaded", "duplicate", "rejected")
    )
    return (
        f"upload {upload['upload_id']}: {mib(report['file']['bytes'])} streamed in "
        f"{_s(upload['send_seconds'])} before the 202; the ledger: {counts}"
    )


def _memory_line(report: dict[str, Any]) -> str:
    peaks, (largest, rss) = report["memory"]["peak_pss_bytes"], report["memory"]["largest_rss"]
    # PostgreSQL is n/a on a server given with --database-url: not the platform's to count.
    return (
        f"peak memory (PSS, sampled every 5 s): platform processes "
        f"{mib(peaks.get('platform'))}, PostgreSQL {mib(peaks.get('postgres'))}; the largest "
        f"process (RSS, every second): {largest or 'n/a'}, {mib(rss)}"
    )


def render(report: dict[str, Any]) -> str:
    file, stages = report["file"], report["upload"]["stages"]
    load = report["load_average"]
    lines = [
        f"One upload of {report['options']['rows']:,} reference-shaped rows ({file['users']:,} "
        "users) through the whole platform: seconds after the 202 of POST /upload",
        "",
        *table(STAGE_COLUMNS, _stage_rows(stages)),
        "",
        *_load_lines(report),
        *_run_lines(report),
        _upload_line(report),
        *_answer_lines(report),
        _memory_line(report),
        f"platform up in {report['startup_seconds']:.1f} s; load average {load['start']} at "
        f"start, {load.get('end')} at end",
    ]
    if report["upload"]["note"]:
        lines.append(f"NOTE: {report['upload']['note']}")
    return "\n".join(lines)
