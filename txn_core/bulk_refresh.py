"""The bulk path of a refresh: the analytics built afresh by workers side by side.

A refresh that rewrites most days (a first load, a file spanning years, a full rebuild) builds
the day-grained tables and the risk profile anew in the schema `analytics_next`
(bulk_begin.sql). Its workers each take a slice of the users, on connections of their own, in
the refresh's snapshot: every worker reads exactly what the refresh claimed, and PostgreSQL
gives each slice a core. They build the daily spend, with its months and risk profiles merged
from it in one pass, and commit into `analytics_next`, which no reader looks at. The tables are
then indexed once, every index on a connection of its own at the same time: the daily spend's
key and its date index take about as long each, and the small ones fit beside them. Every
user's last figures are given (finish_risk.sql), and the refresh's own transaction swaps the
tables into `public` as it commits (bulk_swap.sql). If anything fails before that commit,
`public` and the queue stay as they were, and the next bulk refresh starts by dropping what was
left.

The trend goes in empty, and the workers build it right after that commit, with its rendered
months (render_missing_trends): a quarter of the refresh that need not keep the rows from being
read. Until a user's trend is there, readers get the same rows from their days
(user_spend_trend_of). A build that dies is caught up by the next refresh.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
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
    reconcile,
    render_missing_trends,
    run_script,
)
from txn_core.sql import load_sql, one

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

    def finish_risk(self) -> None:
        """Every user's figures derived from the merged sums, 24-hour count and whale rank,
        once the tables are indexed."""
        with self.conn.transaction():
            for script in ("bulk_transaction", "bulk_risk_scope", "finish_risk"):
                run_script(self.cur, f"refresh/{script}")


def _at_once(calls: list[Callable[[], None]]) -> None:
    """Runs the calls at once, a thread each; raises the first failure once all have ended."""
    with ThreadPoolExecutor(len(calls)) as pool:
        futures = [pool.submit(call) for call in calls]
        wait(futures)
    for future in futures:
        future.result()


def _on_a_connection_of_its_own(
    conn: psycopg.Connection, statements: Sequence[sql.SQL | sql.Composed]
) -> None:
    """Runs the statements in one transaction, with the bulk path's settings, on a new
    connection to the database of `conn`."""
    with connect_like(conn) as own, own.transaction(), own.cursor() as cur:
        run_script(cur, "refresh/bulk_transaction")
        for statement in statements:
            cur.execute(statement)


def _index_new_tables(conn: psycopg.Connection, cur: psycopg.Cursor) -> None:
    """Gives the new tables the keys and indexes of those in public, and their statistics,
    once every worker has committed: every index built at once, then each table's keys made
    constraints over them and the table analysed."""
    ddl = cur.execute(load_sql("refresh/bulk_index_ddl"), {"tables": list(NEW_TABLES)})
    indexes = ddl.fetchall()
    _at_once(
        [partial(_on_a_connection_of_its_own, conn, [sql.SQL(build)]) for _, build, _ in indexes]
    )
    finishing: list[list[sql.SQL | sql.Composed]] = [
        [
            *(sql.SQL(attach) for name, _, attach in indexes if name == table and attach),
            sql.SQL("ANALYZE analytics_next.{}").format(sql.Identifier(table)),
        ]
        for table in NEW_TABLES
    ]
    _at_once([partial(_on_a_connection_of_its_own, conn, steps) for steps in finishing])


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


def build_trends(conn: psycopg.Connection, workers: int) -> tuple[int, int]:
    """Builds the trend, and its rendered months, of every user who has days but no trend
    (render_missing_trends), a slice of the users per worker, each committing on its own: a
    user has the whole trend or none. It takes the refresh's lock, so that no refresh changes a
    trend meanwhile. Returns the trend rows written and the users."""
    with conn.transaction(), conn.cursor() as cur:
        run_script(cur, "refresh/lock_refreshes")
        ranges = _user_ranges(cur, workers)
        built = [(0, 0)] * len(ranges)

        def build(slice_: int) -> None:
            with connect_like(conn) as own, own.transaction(), own.cursor() as own_cur:
                own_cur.execute("SET LOCAL max_parallel_workers_per_gather = 0")  # a core each
                built[slice_] = render_missing_trends(own_cur, ranges[slice_])

        _at_once([partial(build, slice_) for slice_ in range(len(ranges))])
        cur.execute("ANALYZE user_spend_trend, user_spend_trend_months")
    rows, users = zip(*built, strict=True)
    return sum(rows), sum(users)


def rebuild_in_bulk(
    conn: psycopg.Connection,
    cur: psycopg.Cursor,
    days: list[dt.date],
    workers: int,
    stage: Callable[[str], None],
) -> BulkCounts:
    """Builds every new table in analytics_next from the refresh's snapshot (that of `cur`'s
    transaction), ready for bulk_swap.sql, the trend left empty (build_trends comes after);
    `stage` hears "daily_spend" (the days, their months and the risk profiles) and "risk"
    (indexed, and the last figures given) as each ends. Raises AnalyticsMismatch unless the
    days add up to their transactions."""
    snapshot = one(cur.execute("SELECT pg_export_snapshot()"))[0]
    with connect_like(conn, autocommit=True) as setup:
        run_script(setup.cursor(), "refresh/bulk_begin")
    ranges = _user_ranges(cur, workers)
    with _slices(conn, snapshot, days, ranges) as slices:
        _at_once([slice_.daily_spend for slice_ in slices])
        stage("daily_spend")
        _at_once([slice_.conn.commit for slice_ in slices])
        _index_new_tables(conn, cur)
        slices[0].finish_risk()
        counts = [slice_.counts for slice_ in slices]
    stage("risk")
    return BulkCounts(*(sum(column) for column in zip(*map(astuple, counts), strict=True)))
