"""The bulk path of a refresh: the analytics built afresh by workers side by side.

A refresh that rewrites most days (a first load, a file spanning years, a full rebuild) builds
the day-grained tables and the risk profile anew in the schema `analytics_next`
(bulk_begin.sql). Its workers each take a slice of the users, on connections of their own, in
the refresh's snapshot: every worker reads exactly what the refresh claimed, and PostgreSQL
gives each slice a core. They go through the stages in step (the daily spend, with its months
and risk profiles merged from it in one pass; the trend) and commit into `analytics_next`,
which no reader looks at. The tables are then indexed once, and every user's last figures given
(finish_risk.sql); the refresh's own transaction swaps them into `public` as it commits
(bulk_swap.sql). If anything fails before that commit, `public` and the queue stay as they
were, and the next bulk refresh starts by dropping what was left.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import ExitStack, contextmanager
from dataclasses import astuple, dataclass
from functools import partial
from itertools import pairwise

import psycopg
from psycopg import sql

from txn_core.refresh_steps import (
    ALL_USERS,
    AnalyticsMismatch,
    index_new_table,
    reconcile,
    run_script,
)
from txn_core.sql import load_sql, one

# The new tables, the costliest to index first (dealt out to the workers in turn).
NEW_TABLES = (
    "user_daily_spend",
    "user_spend_trend",
    "user_spend_trend_months",
    "user_monthly_spend",
    "user_risk_profile",
)


@dataclass
class BulkCounts:
    daily_rows: int = 0
    trend_rows: int = 0
    trend_users: int = 0
    risk_users: int = 0


def connect_like(conn: psycopg.Connection, **kwargs) -> psycopg.Connection:
    """Another connection to the database of `conn`, as the same role."""
    return psycopg.connect(conn.info.dsn, password=conn.info.password or None, **kwargs)


class _Slice:
    """A worker's slice of the users (`low <= user_id < high`, a bound None when open), built
    in a transaction of its own on a connection of its own."""

    def __init__(self, conn: psycopg.Connection, snapshot: str, users: dict, days: list) -> None:
        self.conn, self.days, self.users = conn, days, users
        self.counts = BulkCounts()
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        self.cur = conn.cursor()
        self.cur.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(snapshot)))
        run_script(self.cur, "refresh/bulk_transaction")

    def daily_spend(self) -> None:
        params = {"days": self.days, **self.users}
        run_script(self.cur, "refresh/bulk_keep_days", params)
        self.cur.execute(load_sql("refresh/insert_daily_spend"), params)
        self.counts.daily_rows = self.cur.rowcount
        if not one(self.cur.execute(load_sql("refresh/bulk_days_add_up"), params))[0]:
            reconcile(self.cur, self.days, [], self.users)  # raises, naming the days
            raise AnalyticsMismatch("daily spend does not add up to its transactions")
        # The months are whole, merged from the days in the same statement as the risk
        # profiles: only the days could disagree with their transactions.
        self.counts.risk_users = run_script(self.cur, "refresh/bulk_months_and_risk")

    def trend(self) -> None:
        self.counts.trend_rows = run_script(self.cur, "refresh/bulk_spend_trend")
        run_script(self.cur, "refresh/bulk_render_spend_trend")
        self.counts.trend_users = self.counts.risk_users  # every user with days has both

    def finish_risk(self) -> None:
        """Every user's figures derived from the merged sums, 24-hour count and whale rank,
        once the tables are indexed."""
        with self.conn.transaction():
            for script in ("bulk_transaction", "bulk_risk_scope", "finish_risk"):
                run_script(self.cur, f"refresh/{script}")

    def index(self, tables: tuple[str, ...]) -> None:
        """Indexes new tables, once every worker has committed (in a transaction of its own)."""
        with self.conn.transaction():
            run_script(self.cur, "refresh/bulk_transaction")
            for table in tables:
                index_new_table(self.cur, table)


def _in_step(pool: ThreadPoolExecutor, calls: list[Callable[[], None]]) -> None:
    """Runs one stage's calls at once, a worker each; raises the first failure once all have
    ended."""
    futures = [pool.submit(call) for call in calls]
    wait(futures)
    for future in futures:
        future.result()


def _share(tables: tuple[str, ...], slices: list[_Slice]) -> list[Callable[[], None]]:
    """The new tables' indexes dealt out to the slices' connections in turn."""
    return [
        partial(slice_.index, tables[position :: len(slices)])
        for position, slice_ in enumerate(slices)
    ]


def _user_ranges(cur: psycopg.Cursor, count: int) -> list[dict]:
    """`count` ranges of user_id of about as many transactions each, covering every user."""
    fractions = [slice_ / count for slice_ in range(1, count)]
    bounds = one(cur.execute(load_sql("refresh/bulk_user_slices"), {"fractions": fractions}))[0]
    if not bounds or None in bounds:  # nothing sampled: the first slice takes every user
        return [ALL_USERS, *[{"low": 0, "high": 0}] * (count - 1)]
    return [{"low": low, "high": high} for low, high in pairwise([None, *bounds, None])]


@contextmanager
def _slices(
    conn: psycopg.Connection, snapshot: str, days: list[dt.date], ranges: list[dict]
) -> Iterator[list[_Slice]]:
    """A slice per range of users, each on a connection of its own, closed (and rolled back
    unless committed) on the way out."""
    with ExitStack() as stack:
        connections = [stack.enter_context(connect_like(conn)) for _ in ranges]
        yield [
            _Slice(slice_conn, snapshot, users, days)
            for users, slice_conn in zip(ranges, connections, strict=True)
        ]


def rebuild_in_bulk(
    conn: psycopg.Connection,
    cur: psycopg.Cursor,
    days: list[dt.date],
    workers: int,
    stage: Callable[[str], None],
) -> BulkCounts:
    """Builds every new table in analytics_next from the refresh's snapshot (that of `cur`'s
    transaction), ready for bulk_swap.sql; `stage` hears "daily_spend" (the days, their months
    and the risk profiles), "trend" and "risk" (indexed, and the last figures given) as each
    ends. Raises AnalyticsMismatch unless the days add up to their transactions."""
    snapshot = one(cur.execute("SELECT pg_export_snapshot()"))[0]
    with connect_like(conn, autocommit=True) as setup:
        run_script(setup.cursor(), "refresh/bulk_begin")
    ranges = _user_ranges(cur, workers)
    with _slices(conn, snapshot, days, ranges) as slices, ThreadPoolExecutor(workers) as pool:
        for name in ("daily_spend", "trend"):
            _in_step(pool, [getattr(slice_, name) for slice_ in slices])
            stage(name)
        _in_step(pool, [slice_.conn.commit for slice_ in slices])
        _in_step(pool, _share(NEW_TABLES, slices))
        slices[0].finish_risk()
        counts = [slice_.counts for slice_ in slices]
    stage("risk")
    return BulkCounts(*(sum(column) for column in zip(*map(astuple, counts), strict=True)))
