"""The analytics benchmark's printed report: refresh times, the APIs under load, the compared
answers, and where the time goes."""

from __future__ import annotations

from collections import Counter
from typing import Any

from bench.analytics_endpoints import ENDPOINTS
from bench.analytics_refresh import INCREMENTAL_AIM, TABLES
from bench.analytics_sql import execution_ms
from bench.harness import Column, table

REFRESH_COLUMNS = (
    Column("refresh", 34, "<"),
    Column("full rebuild", 13),
    Column("again (N+day)", 14),
    Column("incremental", 12),
    Column("incr/full", 10),
)

API_COLUMNS = (
    Column("endpoint", 14, "<"),
    Column("side", 10, "<"),
    Column("requests", 8),
    Column("p50 ms", 9),
    Column("p99 ms", 9),
    Column("req/s", 9),
    Column("errors", 6),
    Column("1-client p50", 12),
    Column("speed-up rps", 12, gap=3),
    Column("p50", 8),
    Column("p99", 8),
    Column("aim", 0, "<", gap=3),
)
SIDES = ("ours", "reference")


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.1f}"


def _refresh_lines(rebuild: dict, incremental: dict) -> list[str]:
    again = incremental["full_rebuild_after"]
    rows: list[list[str]] = []
    for name in TABLES:
        full_s, again_s = rebuild["tables"][name]["seconds"], again["tables"][name]["seconds"]
        incr_s = incremental["tables"][name]["seconds"]
        rows.append(
            [
                name,
                f"{full_s:.2f} s",
                f"{again_s:.2f} s",
                f"{incr_s:.3f} s",
                f"{100 * incr_s / full_s:.2f}%",
            ]
        )
    rows.append(
        [
            "(listing the days)",
            f"{rebuild['finding_days_seconds']:.2f} s",
            f"{again['finding_days_seconds']:.2f} s",
            "-",
        ]
    )
    rows.append(
        [
            "total",
            f"{rebuild['seconds']:.2f} s",
            f"{again['seconds']:.2f} s",
            f"{incremental['seconds']:.3f} s",
            f"{100 * incremental['ratio_to_full_rebuild']:.2f}%",
        ]
    )
    equal = incremental["equal_to_full_rebuild"]
    return [
        *table(REFRESH_COLUMNS, rows),
        f"incremental / full rebuild: {100 * incremental['ratio_to_full_rebuild']:.2f}% "
        f"(against the rebuild over the same N+day rows: "
        f"{100 * incremental['ratio_to_full_rebuild_after']:.2f}%); aim < "
        f"{100 * INCREMENTAL_AIM:.0f}%",
        f"loading the day (load_upload, before the refresh): "
        f"{incremental['load']['seconds']:.2f} s for {incremental['load']['rows_loaded']:,} rows",
        "incremental tables = full rebuild's (count, sums, hash of every row): "
        + ("yes" if equal else "NO: " + "; ".join(incremental["differences"])),
    ]


def _load_cells(name: str, side: str, row: dict[str, Any]) -> list[str]:
    return [
        name,
        side,
        f"{row['requests']:,}",
        f"{row['p50_ms']:,.1f}",
        f"{row['p99_ms']:,.1f}",
        f"{row['rps']:,.1f}",
        str(row["errors"]),
        f"{row['single_client']['p50_ms']:,.1f} ms",
    ]


def _speedup_cells(rps: float, p50: float, p99: float, aim: str) -> list[str]:
    return [f"{rps:,.1f}x", f"{p50:,.1f}x", f"{p99:,.1f}x", aim]


def _api_rows(endpoint: str, result: dict[str, Any]) -> list[list[str]]:
    """Ours (with its speed-ups over the reference's API), the reference's API, and the
    reference's SQL alone (with ours over HTTP against it)."""
    aim = result["aim"]
    aim_text = f">= {aim['speedup']}x" + (f", p99 < {aim['p99_ms']} ms" if aim["p99_ms"] else "")
    over_sql = result["speedup_vs_sql"]
    return [
        _load_cells(endpoint, "ours", result["ours"])
        + _speedup_cells(
            result["speedup_rps"], result["speedup_p50"], result["speedup_p99"], aim_text
        ),
        _load_cells("", "reference", result["reference"]),
        _load_cells("", "ref. SQL", result["reference_sql"])
        + _speedup_cells(
            over_sql["rps"], over_sql["p50"], over_sql["p99"], "(ours over HTTP vs this)"
        ),
    ]


def _api_lines(api: dict[str, Any]) -> list[str]:
    endpoints = api["endpoints"]
    rows = [row for endpoint, result in endpoints.items() for row in _api_rows(endpoint, result)]
    lines = [
        f"read API over HTTP: uvicorn --workers {api['workers']}, {api['clients']} concurrent "
        f"clients, random users 1-999 (fixed seed); {api['connection']}",
        *table(API_COLUMNS, rows),
    ]
    reduced = endpoints["risk-profile"]["reference"]["requests"]
    reference_requests = endpoints["summary"]["reference"]["requests"]
    if reduced < reference_requests:
        lines.append(
            f"(the reference's risk profile ranks every user on every request: it ran "
            f"{reduced} requests, not {reference_requests:,})"
        )
    runs = [result[side] for result in endpoints.values() for side in SIDES]
    client_cpu = sum(run["client_cpu_seconds"] for run in runs)
    client_wall = sum(run["seconds"] for run in runs)
    return [
        *lines,
        "ref. SQL: the reference's query alone, no HTTP, one open connection per client thread, "
        "the same users; the speed-ups on the 'ours' rows are against the reference's own API",
        f"the load-generating client (aiohttp, asyncio, same machine) used "
        f"{client_cpu:,.1f} CPU-s over {client_wall:,.1f} s of load",
    ]


def _answer_lines(answers: dict[str, Any]) -> list[str]:
    by_endpoint = Counter(check["endpoint"] for check in answers["checks"] if check["equal"])
    users = answers["users"]
    counts = ", ".join(f"{name} {by_endpoint[name]}/{len(users)}" for name in ENDPOINTS)
    return [
        f"our answers = the reference's for users {users}: {counts}"
        + ("" if answers["all_equal"] else "  (DIFFERENCES: see analytics.json)"),
        f"  volatility: ours is stddev_pop / mean, the reference's STDDEV is stddev_samp; "
        f"equal after converting, equal as printed for {answers['volatility_equal_as_printed']}",
    ]


def _where_lines(alone: dict[str, Any], plans: dict[str, str]) -> list[str]:
    lines = ["where the time goes: the SQL alone on an open connection (median ms per user)"]
    for endpoint in ENDPOINTS:
        entry = alone[endpoint]
        lines.append(
            f"  {endpoint:<14} ours {_ms(entry['ours_ms']):>9}   reference "
            f"{_ms(entry['reference_ms']):>10} ({entry['reference_users']} users)"
        )
    executions = ", ".join(f"{name} {_ms(execution_ms(plan))} ms" for name, plan in plans.items())
    return [
        *lines,
        f"  opening a connection (both APIs keep a pool instead): {_ms(alone['connect_ms'])} ms",
        f"  EXPLAIN ANALYZE execution times (first user): {executions}",
    ]


def _disk_lines(disk: dict[str, Any]) -> list[str]:
    tables = ", ".join(
        f"{table} {mib:,.0f}" for table, mib in disk["tables_mib"].items() if mib >= 1
    )
    return [
        f"disk (tables, indexes, TOAST; MiB): {tables}; in all {disk['total_mib']:,.0f} MiB, "
        f"{disk['mib_per_million_rows']:,.0f} MiB per million rows loaded"
    ]


def render(report: dict[str, Any]) -> str:
    phases, options, machine = report["phases"], report["options"], report["machine"]
    incremental = phases["incremental"]
    title = (
        f"Analytics benchmark: {options['rows']:,} reference rows + one day of "
        f"{incremental['day_rows']:,} ({incremental['day']}); {machine['cpus']} CPUs; "
        f"load average at start {machine['load_average_start']}, "
        f"at end {machine['load_average_end']}"
    )
    return "\n".join(
        [
            title,
            "",
            *_refresh_lines(phases["full_rebuild"], incremental),
            *_disk_lines(phases["disk"]),
            "",
            *_api_lines(phases["api"]),
            "",
            *_answer_lines(phases["answers"]),
            "",
            *_where_lines(phases["sql_alone"], phases["plans"]),
        ]
    )
