"""Peak memory of one benchmark phase: the phase runs in a child process of its own.

`run_phase("bench.loads:copy_file", {...})` starts `python -m bench.memory`, which imports the
function, calls it with the keyword arguments (JSON) and writes its JSON result to a file. The
parent reaps the child with `os.wait4`, whose resource usage gives that one child's peak resident
set (ru_maxrss, the kernel's VmHWM): interpreter and imports included, nothing of the parent or
of other phases.

The PostgreSQL backend that serves the phase is a process of the server, not of the child, so
its memory is not in that figure. `BackendMemory` samples the private memory (RssAnon) of the
phase database's backends while the phase runs; shared_buffers are shared memory, counted by
neither figure.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import psycopg

PROJECT_ROOT = Path(__file__).resolve().parents[1]


class PhaseFailed(RuntimeError):
    pass


@dataclass
class ChildRun:
    result: dict[str, Any]
    peak_rss_bytes: int
    wall_seconds: float


def run_phase(target: str, kwargs: dict[str, Any]) -> ChildRun:
    """Run `module:function(**kwargs)` in a fresh interpreter; its result and peak memory."""
    with tempfile.TemporaryDirectory(prefix="bench-phase-") as folder:
        args_file, result_file = Path(folder) / "args.json", Path(folder) / "result.json"
        args_file.write_text(json.dumps(kwargs))
        started = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-m", "bench.memory", target, str(args_file), str(result_file)],
            cwd=PROJECT_ROOT,
        )
        try:
            # wait4 rather than Popen.wait: it returns this child's own resource usage.
            _, status, usage = os.wait4(child.pid, 0)
        except BaseException:
            child.kill()
            child.wait()
            raise
        child.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        if child.returncode != 0:
            raise PhaseFailed(f"{target} exited with status {child.returncode}")
        result = json.loads(result_file.read_text())
    return ChildRun(result=result, peak_rss_bytes=usage.ru_maxrss * 1024, wall_seconds=wall)


def _private_bytes(pid: int) -> int | None:
    """RssAnon of a process: its own memory, without shared buffers or mapped files."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


class Sampler:
    """Runs `_sample` on a thread of its own while its `with` block runs; `_sample` loops until
    `_stop` is set."""

    _stop: threading.Event
    _thread: threading.Thread

    def __enter__(self) -> Self:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name=type(self).__name__, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        raise NotImplementedError


class BackendMemory(Sampler):
    """Samples the private memory of one database's server backends while a phase runs.

    Every `interval` seconds: the backends connected to `database` (pg_stat_activity) and the
    sum of their RssAnon; `peak_bytes` is the largest sum seen (None where /proc is not
    readable). A sample, so a peak shorter than the interval can be missed.
    """

    def __init__(self, admin_url: str, database: str, interval: float = 0.2) -> None:
        self.admin_url = admin_url
        self.database = database
        self.interval = interval
        self.peak_bytes: int | None = None

    def _sample(self) -> None:
        try:
            conn = psycopg.connect(self.admin_url, autocommit=True)
        except psycopg.Error:
            return
        with conn:
            while not self._stop.is_set():
                pids = conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s", [self.database]
                ).fetchall()
                sizes = [size for (pid,) in pids if (size := _private_bytes(pid)) is not None]
                if sizes:
                    self.peak_bytes = max(self.peak_bytes or 0, sum(sizes))
                self._stop.wait(self.interval)


def _child_main(target: str, args_file: str, result_file: str) -> None:
    module_name, _, function_name = target.partition(":")
    function = getattr(importlib.import_module(module_name), function_name)
    result = function(**json.loads(Path(args_file).read_text()))
    Path(result_file).write_text(json.dumps(result, default=str))


if __name__ == "__main__":
    _child_main(*sys.argv[1:4])
