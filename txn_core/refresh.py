"""Refreshes the analytics tables in PostgreSQL, set-based, touching only what changed.

Every load queues the days it added rows to (`analytics_pending_days`, in the load's own
transaction). A refresh folds the queue in with one transaction: it rebuilds those days of
`user_daily_spend` (and their months) from `transactions`, checks that they reconcile, rewrites
the trend and the risk profile of exactly the users whose days changed, from their earliest
changed day on, merging daily aggregates instead of rereading transactions, and deletes the
queue entries it read.

A refresh that rewrites most days (a first load, a file spanning years, a full rebuild) takes
the bulk path (txn_core.bulk_refresh): workers build the tables afresh, each a slice of the
users on a core of its own, in the refresh's snapshot; they are indexed once and swapped in as
the refresh commits, rather than updated row by row, and the trend is built once the rest is
readable (readers get it from the days meanwhile). The paths share their SQL but for the
months' merge and the trend's scope, and give the same tables.

Refreshes take turns, and each sees one snapshot: none can skip a change or apply one twice,
whatever order loads and refreshes commit in. A crash anywhere leaves the queue as it was, for
the next refresh. Readers see the old tables or the new ones; they never wait, but for the
moment a bulk refresh swaps its tables in.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg

from txn_core import bulk_refresh
from txn_core.refresh_steps import (
    ALL_USERS,
    reconcile,
    render_missing_trends,
    rewrite_trend,
    run_script,
    update_risk_profiles,
)
from txn_core.refresh_steps import (
    AnalyticsMismatch as AnalyticsMismatch,  # raised by refresh_analytics
)
from txn_core.settings import get_settings
from txn_core.sql import load_sql, one

OnStage = Callable[[str], None]

# A refresh takes the bulk path when it rewrites at least half of the days there are, and
# enough of them that building tables afresh pays for itself.
BULK_SHARE_OF_DAYS, BULK_MIN_DAYS = 0.5, 28


@dataclass(frozen=True)
class UploadDays:
    """The days of one upload that a refresh made readable."""

    upload_id: str
    source: str | None  # "api", "landing", "bulk", "generator"; None once the ledger forgot it
    days: list[dt.date]


@dataclass
class RefreshResult:
    days: list[dt.date] = field(default_factory=list)
    uploads: list[UploadDays] = field(default_factory=list)
    daily_rows: int = 0
    trend_rows: int = 0
    trend_users: int = 0
    risk_users: int = 0
    bulk: bool = False
    seconds: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)  # "daily_spend", "trend"...


class TrendBuildFailed(RuntimeError):
    """A bulk refresh committed, then building its trend failed: `result` is what it made
    readable; the next refresh builds the missing trends (raised from the failure)."""

    def __init__(self, result: RefreshResult) -> None:
        super().__init__("the refresh committed, then building its trend failed")
        self.result = result


def _takes_bulk_path(cur: psycopg.Cursor, days: list[dt.date]) -> bool:
    """Whether the claimed days are most of the days there are."""
    stored = one(cur.execute(load_sql("refresh/stored_days")))[0]
    every_day = set(stored) | set(days)
    return len(days) >= BULK_MIN_DAYS and len(days) >= BULK_SHARE_OF_DAYS * len(every_day)


def _refresh_incrementally(
    cur: psycopg.Cursor, days: list[dt.date], result: RefreshResult, stage: OnStage
) -> None:
    """Rebuilds the claimed days of user_daily_spend (and their months) whole from
    `transactions`, then the trend and risk profile of exactly the users they belong to."""
    run_script(cur, "refresh/changed_users")
    cur.execute(load_sql("refresh/delete_daily_spend"), {"days": days})
    cur.execute(load_sql("refresh/insert_daily_spend"), {"days": days, **ALL_USERS})
    result.daily_rows = cur.rowcount
    cur.execute(load_sql("refresh/rebuilt_days_users"), {"days": days})
    run_script(cur, "refresh/rebuild_monthly_spend", {"days": days})
    reconcile(cur, days, days)
    stage("daily_spend")
    result.trend_rows, result.trend_users = rewrite_trend(cur)
    stage("trend")
    result.risk_users = update_risk_profiles(cur)
    run_script(cur, "refresh/finish_risk")
    stage("risk")


def _refresh_in_bulk(
    conn: psycopg.Connection,
    cur: psycopg.Cursor,
    days: list[dt.date],
    result: RefreshResult,
    stage: OnStage,
    workers: int,
) -> None:
    """Builds the tables afresh, side by side (txn_core.bulk_refresh), and swaps them in."""
    counts = bulk_refresh.rebuild_in_bulk(conn, cur, days, workers, stage)
    result.daily_rows, result.risk_users = counts.daily_rows, counts.risk_users
    run_script(cur, "refresh/bulk_swap")


def refresh_analytics(
    conn: psycopg.Connection,
    on_stage: OnStage | None = None,
    bulk: bool | None = None,
    workers: int | None = None,
) -> RefreshResult:
    """Folds every queued day into the analytics tables, in one transaction; returns what it
    did (no days when the queue was empty). `on_stage` hears each step as it completes.
    `bulk` forces one path or the other (tests and benchmarks); by default the share of days
    rewritten decides. `workers` is how many connections share a bulk refresh (by default
    TXN_REFRESH_WORKERS)."""
    started = last = time.monotonic()
    result = RefreshResult()
    worker_count = workers or get_settings().refresh_workers

    def stage(name: str) -> None:
        nonlocal last
        now = time.monotonic()
        result.stage_seconds[name], last = now - last, now
        if on_stage:
            on_stage(name)

    with conn.transaction(), conn.cursor() as cur:
        run_script(cur, "refresh/begin_refresh")
        result.days = one(cur.execute(load_sql("refresh/claimed_days")))[0]
        if result.days:
            stage("claimed")
            result.bulk = _takes_bulk_path(cur, result.days) if bulk is None else bulk
        if result.bulk:
            _refresh_in_bulk(conn, cur, result.days, result, stage, worker_count)
        else:
            # The trends a build that died left behind, before any of them changes.
            render_missing_trends(cur, ALL_USERS)
            if result.days:
                _refresh_incrementally(cur, result.days, result, stage)
        if result.days:
            result.uploads = [
                UploadDays(*row) for row in cur.execute(load_sql("refresh/claimed_uploads"))
            ]
            cur.execute(load_sql("refresh/release_claimed_days"))
    stage("committed")
    if result.bulk:  # readable already: readers get the trends from the days meanwhile
        try:
            result.trend_rows, result.trend_users = bulk_refresh.build_trends(conn, worker_count)
        except Exception as exc:
            raise TrendBuildFailed(result) from exc
        stage("trend")
    result.seconds = time.monotonic() - started
    return result


@dataclass(frozen=True)
class Backlog:
    days: int
    newest_entry: int | None
    oldest_queued_at: dt.datetime | None


def oldest_wait(waiting: Backlog, now: dt.datetime) -> dt.timedelta:
    """How long the longest-waiting queued day has waited (zero when none waits)."""
    if waiting.oldest_queued_at is None:
        return dt.timedelta(0)
    return max(dt.timedelta(0), now - waiting.oldest_queued_at)


def backlog(conn: psycopg.Connection) -> Backlog:
    """What waits for a refresh."""
    return Backlog(*one(conn.execute(load_sql("refresh/pending_work"))))


def queue_every_day(conn: psycopg.Connection, reason: str = "full rebuild") -> int:
    """Queues every day that has transactions or daily spend; returns how many."""
    return conn.execute(load_sql("refresh/queue_every_day"), {"reason": reason}).rowcount


def rebuild_everything(conn: psycopg.Connection) -> RefreshResult:
    """Every day refreshed from `transactions`, by the bulk path (the incremental path's
    yardstick)."""
    queue_every_day(conn)
    return refresh_analytics(conn, bulk=True)


def top_spenders(conn: psycopg.Connection, limit: int = 10) -> list[tuple]:
    return conn.execute(load_sql("refresh/top_spenders"), {"limit": limit}).fetchall()


def table_rows(conn: psycopg.Connection) -> tuple[int, int, int]:
    """Rows of user_daily_spend, user_spend_trend and user_risk_profile."""
    return one(conn.execute(load_sql("refresh/table_rows")))


def trend_gaps(conn: psycopg.Connection) -> list[tuple]:
    return conn.execute(load_sql("refresh/trend_gaps")).fetchall()


def risk_coverage(conn: psycopg.Connection) -> tuple[int, int, int]:
    return one(conn.execute(load_sql("refresh/risk_coverage")))
