"""Refreshes the analytics tables in PostgreSQL, set-based, touching only what changed.

Every load queues the days it added rows to (`analytics_pending_days`, in the load's own
transaction). A refresh folds the queue in with one transaction: it rebuilds those days of
`user_daily_spend` (and their months) from `transactions`, checks that they reconcile, rewrites
the trend and the risk profile of exactly the users whose days changed, from their earliest
changed day on, merging daily aggregates instead of rereading transactions, and deletes the
queue entries it read.

A refresh that rewrites most days (a first load, a file spanning years, a full rebuild) takes
the bulk path: it builds the day-grained tables afresh in `analytics_next` (the risk profile,
a row per user, is updated in place), indexes them once and swaps them in at the end, in the
same transaction, rather than updating indexed tables row by row. The paths share their SQL
but for the months' merge, and give the same tables.

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

from txn_core.sql import load_sql, load_statements, one

OnStage = Callable[[str], None]

# A refresh takes the bulk path when it rewrites at least half of the days there are, and
# enough of them that building tables afresh pays for itself.
BULK_SHARE_OF_DAYS, BULK_MIN_DAYS = 0.5, 28


class AnalyticsMismatch(RuntimeError):
    """The rebuilt days do not add up to their transactions: nothing of the refresh is kept."""


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


def _run_script(cur: psycopg.Cursor, name: str, params: dict | None = None) -> int:
    """Runs every statement of `sql/<name>.sql`; returns the last statement's row count."""
    for statement in load_statements(name):
        cur.execute(statement, params or {})
    return cur.rowcount


def _rebuild_days(cur: psycopg.Cursor, days: list[dt.date]) -> int:
    """Replaces the given days of user_daily_spend, whole, from `transactions`, and their
    months of user_monthly_spend; raises AnalyticsMismatch unless both add up."""
    cur.execute(load_sql("refresh/delete_daily_spend"), {"days": days})
    cur.execute(load_sql("refresh/insert_daily_spend"), {"days": days})
    written = cur.rowcount
    _run_script(cur, "refresh/rebuild_monthly_spend", {"days": days})
    _reconcile(cur, days, days)
    return written


def _reconcile(cur: psycopg.Cursor, days: list[dt.date], months_of: list[dt.date]) -> None:
    """Raises AnalyticsMismatch unless the rebuilt `days` add up to their transactions and the
    months of `months_of` to their days."""
    mismatched_days = cur.execute(load_sql("refresh/reconcile_days"), {"days": days}).fetchall()
    mismatched_months = cur.execute(
        load_sql("refresh/reconcile_months"), {"days": months_of}
    ).fetchall()
    if mismatched_days or mismatched_months:
        raise AnalyticsMismatch(
            f"daily spend does not reconcile with transactions on {len(mismatched_days)} day(s) "
            f"{[str(row[0]) for row in mismatched_days[:5]]} and {len(mismatched_months)} "
            f"month(s) {[str(row[0]) for row in mismatched_months[:5]]}; nothing was refreshed"
        )


def _index_new_table(cur: psycopg.Cursor, table: str) -> None:
    """Gives a table built in analytics_next its keys and indexes, and its statistics."""
    for (statement,) in cur.execute(
        load_sql("refresh/bulk_index_ddl"), {"table": table}
    ).fetchall():
        cur.execute(statement)
    cur.execute(f"ANALYZE analytics_next.{table}")


def _takes_bulk_path(cur: psycopg.Cursor, days: list[dt.date]) -> bool:
    """Whether the claimed days are most of the days there are."""
    stored = one(cur.execute(load_sql("refresh/stored_days")))[0]
    every_day = set(stored) | set(days)
    return len(days) >= BULK_MIN_DAYS and len(days) >= BULK_SHARE_OF_DAYS * len(every_day)


def _rebuild_in_bulk(cur: psycopg.Cursor, days: list[dt.date]) -> int:
    """user_daily_spend and user_monthly_spend built afresh in analytics_next: the unclaimed
    days' rows kept, the claimed days rebuilt from `transactions`; raises AnalyticsMismatch
    unless they add up. Every user's trend and risk profile are then redone."""
    _run_script(cur, "refresh/bulk_begin", {"days": days})
    cur.execute(load_sql("refresh/insert_daily_spend"), {"days": days})
    written = cur.rowcount
    _index_new_table(cur, "user_daily_spend")
    cur.execute(load_sql("refresh/bulk_monthly_spend"))
    _index_new_table(cur, "user_monthly_spend")
    # The months are whole, merged from the days in one statement: only the days can disagree
    # with their transactions.
    _reconcile(cur, days, [])
    _run_script(cur, "refresh/bulk_changed_users")
    return written


def _scope(cur: psycopg.Cursor, name: str) -> dict[str, dt.date | None]:
    """Creates the temporary table `name` by `sql/refresh/<name>.sql`; returns its earliest
    changed day, as the parameter `earliest` of the statements that use it."""
    _run_script(cur, f"refresh/{name}")
    return {"earliest": one(cur.execute(f"SELECT min(changed_from) FROM {name}"))[0]}


def _refresh_trend(cur: psycopg.Cursor, bulk: bool) -> tuple[int, int]:
    earliest = _scope(cur, "trend_scope")
    written = _run_script(cur, "refresh/rewrite_spend_trend", earliest)
    if bulk:
        _index_new_table(cur, "user_spend_trend")
    _run_script(cur, "refresh/render_spend_trend", earliest)
    if bulk:
        _index_new_table(cur, "user_spend_trend_months")
    return written, one(cur.execute("SELECT count(*) FROM trend_scope"))[0]


def _refresh_risk(cur: psycopg.Cursor) -> int:
    earliest = _scope(cur, "risk_scope")
    _run_script(cur, "refresh/refresh_risk_profile", earliest)
    _run_script(cur, "refresh/finish_risk_profile")
    return one(cur.execute("SELECT count(*) FROM risk_scope"))[0]


def refresh_analytics(
    conn: psycopg.Connection, on_stage: OnStage | None = None, bulk: bool | None = None
) -> RefreshResult:
    """Folds every queued day into the analytics tables, in one transaction; returns what it
    did (no days when the queue was empty). `on_stage` hears each step as it completes.
    `bulk` forces one path or the other (tests and benchmarks); by default the share of days
    rewritten decides."""
    started = last = time.monotonic()
    result = RefreshResult()

    def stage(name: str) -> None:
        nonlocal last
        now = time.monotonic()
        result.stage_seconds[name], last = now - last, now
        if on_stage:
            on_stage(name)

    with conn.transaction(), conn.cursor() as cur:
        _run_script(cur, "refresh/begin_refresh")
        result.days = one(cur.execute(load_sql("refresh/claimed_days")))[0]
        if result.days:
            stage("claimed")
            result.bulk = _takes_bulk_path(cur, result.days) if bulk is None else bulk
            if result.bulk:
                result.daily_rows = _rebuild_in_bulk(cur, result.days)
            else:
                result.daily_rows = _rebuild_days(cur, result.days)
            stage("daily_spend")
            result.trend_rows, result.trend_users = _refresh_trend(cur, result.bulk)
            stage("trend")
            result.risk_users = _refresh_risk(cur)
            stage("risk")
            if result.bulk:
                _run_script(cur, "refresh/bulk_swap")
            result.uploads = [
                UploadDays(*row) for row in cur.execute(load_sql("refresh/claimed_uploads"))
            ]
            cur.execute(load_sql("refresh/release_claimed_days"))
    stage("committed")
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
