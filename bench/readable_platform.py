"""What the running platform says about one upload, for the readable benchmark: its Dagster run
(times, steps and the lines its load and refresh logged), and how much memory its processes
held while it ran.

Everything from Dagster is read once, after the upload is readable: its own timestamps need no
polling, and GraphQL queries during the wait would take CPU from the run being timed.
"""

from __future__ import annotations

import contextlib
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from bench.freshness_platform import Platform
from bench.memory import Sampler

RUNS_QUERY = """query Runs($filter: RunsFilter) { runsOrError(filter: $filter) { ... on Runs {
  results { runId jobName status creationTime startTime endTime
    stepStats { stepKey startTime endTime } } } } }"""
LOGS_QUERY = """query Logs($runId: ID!, $after: String) {
  logsForRun(runId: $runId, afterCursor: $after, limit: 1000) { ... on EventConnection {
    events { ... on MessageEvent { message timestamp stepKey eventType } } cursor hasMore } } }"""
LOAD_STEP = "raw_uploads"
# The loader's and the refresh's own lines (txn_core.loader, txn_assets.assets.analytics): a
# reworded line loses its mark, never gives a wrong one.
LOG_MARKS = {
    "check_started": re.compile(r"Checking .* against the data contract"),
    "check_finished": re.compile(r"Checked [\d,]+ rows"),
    "load_committed": re.compile(r"Upload \S+: [\d,]+ read, .* rejected in "),
    "refresh_logged": re.compile(r"Refreshed [\d,]+ day\(s\) in ([\d.]+) s"),
}


def upload_runs(pf: Platform, upload_id: str) -> list[dict[str, Any]]:
    """Every Dagster run of the upload's partition, the first created first (a retry is a
    later run)."""
    run_filter = {"tags": [{"key": "dagster/partition", "value": upload_id}]}
    found = pf.graphql(RUNS_QUERY, filter=run_filter)["runsOrError"]["results"]
    return sorted(found, key=lambda run: run["creationTime"])


FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}


def finished_runs(pf: Platform, upload_id: str, timeout: float = 180.0) -> list[dict[str, Any]]:
    """The upload's runs once each has ended (or the timeout passed): a run goes on after the
    answers are readable, recording the days it made readable, and its log is read whole."""
    deadline = time.monotonic() + timeout
    while True:
        runs = upload_runs(pf, upload_id)
        if all(run["status"] in FINISHED for run in runs) or time.monotonic() > deadline:
            return runs
        time.sleep(1.0)


def _run_events(pf: Platform, run_id: str) -> list[dict[str, Any]]:
    events, cursor = [], None
    while True:
        page = pf.graphql(LOGS_QUERY, runId=run_id, after=cursor)["logsForRun"]
        events += [event for event in page["events"] if "message" in event]
        if not page["hasMore"]:
            return events
        cursor = page["cursor"]


def log_marks(pf: Platform, run_id: str) -> dict[str, float]:
    """When the run logged each of LOG_MARKS first (epoch seconds), the seconds the refresh
    reported for itself, and how many materializations the load's step recorded."""
    marks: dict[str, float] = {"load_step_materializations": 0}
    for event in _run_events(pf, run_id):
        if event["eventType"] == "ASSET_MATERIALIZATION" and event["stepKey"] == LOAD_STEP:
            marks["load_step_materializations"] += 1
        for name, pattern in LOG_MARKS.items():
            if name not in marks and (found := pattern.search(event["message"])):
                marks[name] = float(event["timestamp"]) / 1000
                if found.groups():
                    marks["refresh_seconds"] = float(found.group(1))
    return marks


# --- Memory ----------------------------------------------------------------------------------


def _tree(pid: int | None) -> list[psutil.Process]:
    if pid is None:
        return []
    with contextlib.suppress(psutil.Error):
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    return []


def _postmaster(pid_file: Path | None) -> int | None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        return int(pid_file.read_text().split()[0]) if pid_file else None
    return None


def _label(process: psutil.Process) -> str:
    """What a process runs: its command, or its parent's for a child that multiprocessing
    spawned (Dagster's code server starts each run so)."""
    command = process.cmdline()[:4]
    if "multiprocessing.spawn" in " ".join(command) and (parent := process.parent()):
        return f"a child spawned by {_label(parent)}"
    return " ".join([Path(command[0]).name, *command[1:]])[:60] if command else process.name()


@dataclass
class PlatformMemory(Sampler):
    """Samples the memory of the platform's processes while it runs: every `interval` seconds
    the largest single process's RSS, and every `pss_every` samples the summed PSS (shared
    pages split between their processes, so PostgreSQL's shared buffers count once) of
    run_local's process tree (Dagster, its runs, the API) and of the PostgreSQL server when the
    platform started its own. PSS costs the kernel a walk of each process's pages, a few
    milliseconds per backend: sampled every second it would take a share of the CPU the run
    measured needs. A sample: a peak shorter than the interval can be missed."""

    platform_pid: int | None
    postmaster_pid_file: Path | None = None
    interval: float = 1.0
    pss_every: int = 5
    peaks: dict[str, int] = field(default_factory=dict)
    largest: tuple[str, int] = ("", 0)

    def _sample(self) -> None:
        samples = 0
        while not self._stop.is_set():
            groups = {"platform": _tree(self.platform_pid)}
            if (postmaster := _postmaster(self.postmaster_pid_file)) is not None:
                groups["postgres"] = _tree(postmaster)
            for name, processes in groups.items():
                self._rss(processes)
                if samples % self.pss_every == 0:
                    self.peaks[name] = max(self.peaks.get(name, 0), self._pss(processes))
            samples += 1
            self._stop.wait(self.interval)

    def _rss(self, processes: list[psutil.Process]) -> None:
        for process in processes:
            with contextlib.suppress(psutil.Error):
                if (rss := process.memory_info().rss) > self.largest[1]:
                    self.largest = (_label(process), rss)

    def _pss(self, processes: list[psutil.Process]) -> int:
        total = 0
        for process in processes:
            with contextlib.suppress(psutil.Error):
                total += process.memory_full_info().pss
        return total
