"""The scaling benchmark's figures per size, how each grows with the rows, and the report.

A figure's growth is the least-squares slope of log(figure) against log(rows): 0 is flat, 1
grows as the rows do. For ingest and the full refresh the slope is fitted to their seconds, so
1 means a flat rows/s; every other figure's slope is its own.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Any

from bench.harness import Column, table

READ_ENDPOINTS = ("summary", "risk-profile", "spend-trend")
STAGES = ("claimed", "daily_spend", "trend", "risk", "committed")
GIB_AIM = "< 1 GiB at every size"


@dataclass(frozen=True)
class Figure:
    key: str  # in each size's "figures"
    label: str
    format: str
    aim: str = ""
    fitted: str = ""  # the figure whose exponent is fitted, when not this one (the seconds)


def _read_figures() -> list[Figure]:
    figures = []
    for endpoint in READ_ENDPOINTS:
        # The trend answers a user's every day, and the history grows with the rows here.
        flat = "grows with history only" if endpoint == "spend-trend" else "flat"
        figures += [
            Figure(f"{endpoint}_p50_ms", f"{endpoint} p50 ms", ",.1f", flat),
            Figure(f"{endpoint}_p99_ms", f"{endpoint} p99 ms", ",.1f", flat),
            Figure(f"{endpoint}_rps", f"{endpoint} requests/s", ",.0f", flat),
            # Where the requests/s come from: the API's one process is what saturates.
            Figure(f"{endpoint}_api_cpu_ms", f"{endpoint} API CPU ms/request", ",.2f", flat),
        ]
    return figures


RATE_AIM = "rows/s within 25% (time exponent ~1)"
FIGURES = (
    Figure("ingest_rows_per_second", "ingest rows/s", ",.0f", RATE_AIM, "ingest_seconds"),
    Figure(
        "full_refresh_rows_per_second",
        "full refresh rows/s",
        ",.0f",
        RATE_AIM,
        "full_refresh_seconds",
    ),
    Figure("incremental_refresh_seconds", "one-day incremental refresh s", ".2f", "within 2x"),
    *_read_figures(),
    Figure("ingest_peak_rss_mib", "ingest peak RSS MiB", ",.0f", GIB_AIM),
    Figure("ingest_backend_mib", "ingest backend MiB", ",.0f", GIB_AIM),
    Figure("full_refresh_backend_mib", "full refresh backend MiB", ",.0f", GIB_AIM),
    Figure("incremental_backend_mib", "incremental backend MiB", ",.0f", GIB_AIM),
    Figure("api_peak_rss_mib", "API peak RSS MiB", ",.0f", GIB_AIM),
    Figure("disk_mib_per_million_rows", "disk MiB per million rows", ",.0f"),
)


def size_label(rows: int) -> str:
    """1000000 -> "1M", 300000 -> "300k", 2500 -> "2.5k"."""
    for unit, scale in (("M", 1_000_000), ("k", 1_000)):
        if rows >= scale:
            return f"{rows / scale:g}{unit}"
    return str(rows)


def _mib(size: int | None) -> float | None:
    return None if size is None else size / 2**20


def size_figures(result: dict[str, Any]) -> dict[str, float | None]:
    """The figures of one measured size, flat, by the keys of FIGURES (None: not measured)."""
    rows, ingest = result["rows"], result.get("ingest", {})
    full, incremental = result.get("full_refresh", {}), result.get("incremental", {})
    figures: dict[str, float | None] = {
        "ingest_seconds": ingest.get("seconds"),
        "ingest_rows_per_second": ingest.get("rows_per_second"),
        "full_refresh_seconds": full.get("seconds"),
        "full_refresh_rows_per_second": rows / full["seconds"] if full.get("seconds") else None,
        "incremental_refresh_seconds": incremental.get("seconds"),
        "ingest_peak_rss_mib": _mib(ingest.get("peak_rss_bytes")),
        "ingest_backend_mib": _mib(ingest.get("backend_private_peak_bytes")),
        "full_refresh_backend_mib": _mib(full.get("backend_private_peak_bytes")),
        "incremental_backend_mib": _mib(incremental.get("backend_private_peak_bytes")),
        "api_peak_rss_mib": _mib(result.get("reads", {}).get("api_peak_rss_bytes")),
        "disk_mib_per_million_rows": result.get("disk", {}).get("mib_per_million_rows"),
    }
    for endpoint, run in result.get("reads", {}).get("endpoints", {}).items():
        for figure in ("p50_ms", "p99_ms", "rps", "api_cpu_ms"):
            figures[f"{endpoint}_{figure}"] = run.get(figure)
    return figures


def _measured(value: float | None) -> bool:
    return value is not None and math.isfinite(value) and value > 0


def exponent(rows: list[int], values: list[float | None]) -> float | None:
    """The least-squares slope of log(value) against log(rows), over the sizes that have the
    figure; None with fewer than two."""
    points = [(math.log(n), math.log(v)) for n, v in zip(rows, values, strict=True) if _measured(v)]
    if len({x for x, _ in points}) < 2:
        return None
    return statistics.linear_regression(*zip(*points, strict=True)).slope


def growth(sizes: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per figure: its exponent (of the seconds, for the rates) and largest size / smallest."""
    rows = [size["rows"] for size in sizes]
    result = {}
    for figure in FIGURES:
        fitted = figure.fitted or figure.key
        values = [size["figures"].get(figure.key) for size in sizes]
        first, last = values[0], values[-1]
        result[figure.key] = {
            "exponent": exponent(rows, [size["figures"].get(fitted) for size in sizes]),
            "exponent_of": fitted,
            "ratio_largest_to_smallest": last / first
            if _measured(first) and _measured(last)
            else None,
            "aim": figure.aim,
        }
    return result


def stage_exponents(sizes: list[dict[str, Any]]) -> dict[str, dict[str, float | None]]:
    """Each refresh stage's exponent of its seconds: where a refresh's growth comes from."""
    rows = [size["rows"] for size in sizes]
    return {
        refresh: {
            stage: exponent(rows, [size[refresh]["stage_seconds"].get(stage) for size in sizes])
            for stage in STAGES
        }
        for refresh in ("full_refresh", "incremental")
    }


def _cell(value: float | None, spec: str) -> str:
    return f"{value:{spec}}" if _measured(value) else "n/a"


def _growth_lines(report: dict[str, Any]) -> list[str]:
    sizes, grown = report["sizes"], report["growth"]
    columns = (
        Column("figure", 30, "<"),
        *(Column(size_label(size["rows"]), 10) for size in sizes),
        Column("exponent", 9, gap=2),
        Column("of", 5, "<"),
        Column("last/first", 10),
        Column("aim (never asserted)", 0, "<", gap=2),
    )
    rows = [
        [
            figure.label,
            *(_cell(size["figures"].get(figure.key), figure.format) for size in sizes),
            _cell_signed(grown[figure.key]["exponent"]),
            "time" if figure.fitted else "",
            _ratio(grown[figure.key]["ratio_largest_to_smallest"]),
            figure.aim,
        ]
        for figure in FIGURES
    ]
    return table(columns, rows)


def _cell_signed(value: float | None) -> str:
    return "n/a" if value is None else f"{value:+.2f}"


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def _stage_lines(sizes: list[dict[str, Any]], exponents: dict[str, dict]) -> list[str]:
    columns = (
        Column("refresh stage, seconds", 30, "<"),
        *(Column(size_label(size["rows"]), 10) for size in sizes),
        Column("exponent", 9, gap=2),
    )
    rows = [
        [
            f"{name} {stage}",
            *(_cell(size[refresh]["stage_seconds"].get(stage), ".2f") for size in sizes),
            _cell_signed(exponents[refresh][stage]),
        ]
        for refresh, name in (("full_refresh", "full"), ("incremental", "incremental"))
        for stage in STAGES
    ]
    return table(columns, rows)


def _size_line(size: dict[str, Any]) -> str:
    full, incremental, reads = size["full_refresh"], size["incremental"], size["reads"]
    errors = sum(run["errors"] for run in reads["endpoints"].values())
    return (
        f"  {size_label(size['rows'])}: {size['ingest']['rows_loaded']:,} rows loaded "
        f"({size['first_day']}..{size['last_day']}), {full['days']:,} days refreshed, risk "
        f"profiles count {full['risk_profile_transactions']:,}; +{incremental['day_rows']:,} "
        f"rows on {incremental['day']} (loaded in {incremental['load']['seconds']:.2f} s), then "
        f"{incremental['risk_profile_transactions']:,}; disk {size['disk']['total_mib']:,.0f} "
        f"MiB in tables ({size['disk']['database_mib']:,.0f} MiB database); read errors {errors}"
    )


def render(report: dict[str, Any]) -> str:
    sizes, options, machine = report["sizes"], report["options"], report["machine"]
    title = (
        f"Scaling benchmark: {', '.join(size_label(size['rows']) for size in sizes)} reference "
        f"rows (~1,000 users, a row a minute from 2024-01-01); {machine['cpus']} CPUs; load "
        f"average at start {machine['load_average_start']}, at end {machine['load_average_end']}"
    )
    return "\n".join(
        [
            title,
            "",
            *_growth_lines(report),
            "exponent: least-squares slope of log(figure) against log(rows) (0 flat, 1 "
            "proportional); 'time': fitted to the seconds, so ~1 is a flat rows/s. last/first: "
            "the largest size's figure over the smallest's.",
            f"reads: {options['requests']:,} requests per endpoint from {options['clients']} "
            "concurrent clients, random users, one uvicorn worker; the summary over a user's "
            "whole history. Memory: peak RSS of the loading process (interpreter and imports "
            "included) and of the API; backend: the PostgreSQL backend's private memory, sampled "
            "every 0.2 s (n/a: a phase shorter than a sample).",
            "",
            *_stage_lines(sizes, report["stage_exponents"]),
            "",
            "per size:",
            *(_size_line(size) for size in sizes),
        ]
    )
