"""The analytics tables' numbers on small hand-made cases, and incremental = full rebuild."""

import asyncio
import datetime as dt
import json
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from tests.helpers import (
    ANALYTICS_TABLES,
    HEADER,
    analytics_snapshot,
    assert_analytics_equal_a_full_rebuild,
    write_csv,
)
from txn_core import bulk_refresh, reads, refresh, refresh_steps
from txn_core.sql import load_sql, one

_ids = iter(range(1, 100_000))
TABLES = ANALYTICS_TABLES


def tx(user: int, when: str, amount: str) -> str:
    return f"00000000-0000-4000-8000-{next(_ids):012d},{user},1,{when},{amount}"


def refresh_days(conn, days):
    """Fold in what the loads queued; they queued exactly `days`."""
    result = refresh.refresh_analytics(conn)
    assert result.days == [dt.date.fromisoformat(day) for day in days]


@pytest.fixture
def conn(warehouse_url):
    with psycopg.connect(warehouse_url, autocommit=True) as connection:
        yield connection


def test_trend_fills_gap_days_with_zero_and_averages_over_existing_days(tmp_path, load, conn):
    load(
        write_csv(
            tmp_path / "a.csv",
            [
                HEADER,
                tx(1, "2024-01-01 10:00:00", "10.00"),
                tx(1, "2024-01-03 10:00:00", "20.00"),
                tx(1, "2024-01-03 11:00:00", "30.00"),
            ],
        )
    )
    refresh_days(conn, ["2024-01-01", "2024-01-03"])
    rows = conn.execute(
        "SELECT spend_date::text, daily_total, rolling_7d_avg FROM user_spend_trend "
        "WHERE user_id = 1 ORDER BY spend_date"
    ).fetchall()
    assert rows == [
        ("2024-01-01", Decimal("10.00"), Decimal("10.00")),
        ("2024-01-02", Decimal("0.00"), Decimal("5.00")),
        ("2024-01-03", Decimal("50.00"), Decimal("20.00")),
    ]


def test_a_day_appended_after_a_gap_fills_the_days_between(tmp_path, load, conn):
    load(write_csv(tmp_path / "a.csv", [HEADER, tx(5, "2024-01-01 10:00:00", "7.00")]))
    refresh_days(conn, ["2024-01-01"])
    load(write_csv(tmp_path / "b.csv", [HEADER, tx(5, "2024-01-04 10:00:00", "14.00")]))
    refresh_days(conn, ["2024-01-04"])
    rows = conn.execute(
        "SELECT spend_date::text, daily_total, rolling_7d_avg FROM user_spend_trend "
        "WHERE user_id = 5 ORDER BY spend_date"
    ).fetchall()
    assert rows == [
        ("2024-01-01", Decimal("7.00"), Decimal("7.00")),
        ("2024-01-02", Decimal("0.00"), Decimal("3.50")),
        ("2024-01-03", Decimal("0.00"), Decimal("2.33")),
        ("2024-01-04", Decimal("14.00"), Decimal("5.25")),
    ]


def test_risk_profile_numbers(tmp_path, load, conn):
    load(
        write_csv(
            tmp_path / "a.csv",
            [
                HEADER,
                # user 1: two transactions 90 seconds apart across midnight, one earlier
                # that day; all three fall in the 24 hours up to the latest
                tx(1, "2024-01-01 09:00:00", "10.00"),
                tx(1, "2024-01-01 23:59:30", "30.00"),
                tx(1, "2024-01-02 00:01:00", "20.00"),
                # user 2: one transaction, the biggest spender
                tx(2, "2024-01-02 12:00:00", "500.00"),
                # user 3: ties user 1's total
                tx(3, "2024-01-02 12:00:00", "60.00"),
                # user 4: of the day before its latest, only the one after 07:00 counts
                tx(4, "2024-01-01 06:59:59", "1.00"),
                tx(4, "2024-01-01 07:00:01", "1.00"),
                tx(4, "2024-01-02 07:00:00", "1.00"),
            ],
        )
    )
    refresh_days(conn, ["2024-01-01", "2024-01-02"])
    profile = {
        row[0]: row[1:]
        for row in conn.execute(
            "SELECT user_id, tx_count, total_spend, mean_amount, stddev_amount, volatility_index, "
            "global_whale_rank, max_single_transaction, shortest_gap_minutes, active_days, "
            "tx_per_active_day, tx_last_24h FROM user_risk_profile"
        )
    }
    # mean 20, population stddev sqrt(200/3) = 8.16, volatility 8.16 / 20 = 0.41
    assert profile[1] == (
        3,
        Decimal("60.00"),
        Decimal("20.00"),
        Decimal("8.16"),
        Decimal("0.41"),
        2,
        Decimal("30.00"),
        1.5,
        2,
        Decimal("1.50"),
        3,
    )
    assert profile[4][5] == 3 and profile[4][-1] == 2
    assert profile[2][5:8] == (1, Decimal("500.00"), None)  # rank 1; one transaction: no gap
    assert profile[2][4] == Decimal("0.00")
    assert profile[3][5] == 2  # dense rank: ties share a rank


def test_incremental_refresh_equals_a_full_rebuild(tmp_path, load, warehouse_url, conn):
    days = ["2024-01-30", "2024-01-31", "2024-02-01", "2024-02-02", "2024-02-03"]  # two months
    for index, day in enumerate(days):
        load(
            write_csv(
                tmp_path / f"{day}.csv",
                [
                    HEADER,
                    *[
                        tx(
                            user,
                            f"{day} {hour:02d}:{17 * user % 60:02d}:00",
                            f"{user * 3 + hour}.25",
                        )
                        for user in range(1, 6 + index)
                        for hour in (1, 9, 23)
                    ],
                ],
            )
        )
        result = refresh.refresh_analytics(conn)  # day by day
        # An appended day rewrites one trend row per user active that day, no more.
        assert result.days == [dt.date.fromisoformat(day)]
        assert result.trend_rows == result.trend_users == 5 + index
        assert result.risk_users == 5 + index
    # A late upload into an earlier day, then the day is rebuilt and changes merge again.
    load(write_csv(tmp_path / "late.csv", [HEADER, tx(2, "2024-02-02 05:00:00", "999.99")]))
    refresh_days(conn, ["2024-02-02"])

    assert_analytics_equal_a_full_rebuild(conn)
    full = analytics_snapshot(conn)
    # users 1-5 span all 5 days; user 6 joins on day 2 (4 rows), ..., user 9 on day 5 (1 row)
    assert len(full["user_spend_trend"]) == 5 * 5 + 4 + 3 + 2 + 1
    assert len(full["user_monthly_spend"]) == 6 + 9  # January: users 1-6; February: 1-9


def test_a_duplicate_upload_changes_no_number(tmp_path, load, conn):
    path = write_csv(tmp_path / "a.csv", [HEADER, tx(4, "2024-03-01 10:00:00", "12.00")])
    load(path)
    refresh_days(conn, ["2024-03-01"])
    before = conn.execute("SELECT * FROM user_risk_profile").fetchall()
    load(path)
    refresh_days(conn, [])  # nothing new was loaded, so nothing was queued
    refresh.rebuild_everything(conn)
    assert conn.execute("SELECT * FROM user_risk_profile").fetchall() == before


def test_a_refresh_that_does_not_reconcile_keeps_nothing_and_its_days_stay_queued(
    tmp_path, load, conn
):
    """A day whose daily spend would not add up (a bug, simulated by a trigger that skews what
    the rebuild writes) must not reach the trend and the risk profile."""
    load(write_csv(tmp_path / "a.csv", [HEADER, tx(8, "2024-03-01 10:00:00", "10.00")]))
    refresh_days(conn, ["2024-03-01"])
    before = {table: conn.execute(f"SELECT * FROM {table}").fetchall() for table in TABLES}
    conn.execute(
        "CREATE FUNCTION skew() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN NEW.total_amount := NEW.total_amount + 1; RETURN NEW; END $$"
    )
    conn.execute(
        "CREATE TRIGGER skew BEFORE INSERT ON user_daily_spend FOR EACH ROW EXECUTE FUNCTION skew()"
    )
    load(write_csv(tmp_path / "b.csv", [HEADER, tx(8, "2024-03-02 10:00:00", "5.00")]))
    with pytest.raises(refresh.AnalyticsMismatch, match="2024-03-02"):
        refresh.refresh_analytics(conn)
    assert {table: conn.execute(f"SELECT * FROM {table}").fetchall() for table in TABLES} == before
    assert refresh.backlog(conn).days == 1  # still queued, for the refresh after the fix

    conn.execute("DROP TRIGGER skew ON user_daily_spend")
    refresh_days(conn, ["2024-03-02"])
    assert conn.execute("SELECT total_spend FROM user_risk_profile").fetchone() == (15,)


def test_no_aggregate_overflows_on_a_day_the_contract_accepts(conn):
    """A million transactions of 99,999,999.99 in one user's day: 10^14, past numeric(16, 2)."""
    conn.execute(
        'INSERT INTO transactions (transaction_id, user_id, product_id, "timestamp", '
        "  transaction_amount, transaction_date, upload_id) "
        "SELECT gen_random_uuid(), 3, 1, '2024-03-01 00:00:00+00'::timestamptz "
        "       + i * interval '10 ms', 99999999.99, '2024-03-01', 'big' "
        "FROM generate_series(1, 1000001) AS i"
    )
    conn.execute("INSERT INTO analytics_pending_days (spend_date, upload_id) VALUES "
                 "('2024-03-01', 'big')")  # fmt: skip
    refresh_days(conn, ["2024-03-01"])
    total = Decimal("99999999.99") * 1000001
    assert conn.execute("SELECT total_amount FROM user_daily_spend").fetchone() == (total,)
    assert conn.execute("SELECT total_amount FROM user_monthly_spend").fetchone() == (total,)
    assert conn.execute("SELECT daily_total FROM user_spend_trend").fetchone() == (total,)
    risk = conn.execute("SELECT total_spend, mean_amount FROM user_risk_profile").fetchone()
    assert risk == (total, Decimal("99999999.99"))


def _trend_json(conn, name: str, params: dict) -> list[dict]:
    return json.loads(one(conn.execute(load_sql(name), params))[0])


def _whole_trend(conn, user_id: int) -> list[dict]:
    with conn.cursor(binary=True) as cur:
        rows = cur.execute(load_sql("reads/spend_trend_months"), {"user_id": user_id})
        return json.loads(reads.trend_from_months(body for (body,) in rows))


def test_the_whole_trend_read_from_its_rendered_months_equals_one_read_from_its_days(
    tmp_path, load, conn
):
    """Months rendered, then extended by an append inside the last month and one past it, then
    changed by a late day in an early month: the months still say what the days say."""
    load(
        write_csv(
            tmp_path / "a.csv",
            [HEADER, tx(9, "2024-01-30 10:00:00", "5.00"), tx(9, "2024-02-10 10:00:00", "6.00")],
        )
    )
    refresh_days(conn, ["2024-01-30", "2024-02-10"])
    load(write_csv(tmp_path / "b.csv", [HEADER, tx(9, "2024-02-12 09:00:00", "7.25")]))
    refresh_days(conn, ["2024-02-12"])
    load(write_csv(tmp_path / "c.csv", [HEADER, tx(9, "2024-04-02 09:00:00", "1.10")]))
    refresh_days(conn, ["2024-04-02"])
    load(write_csv(tmp_path / "d.csv", [HEADER, tx(9, "2024-01-31 23:00:00", "100.00")]))
    refresh_days(conn, ["2024-01-31"])

    whole = _whole_trend(conn, 9)
    every_day = _trend_json(
        conn,
        "reads/spend_trend_json",
        {"user_id": 9, "start_date": dt.date(2000, 1, 1), "end_date": dt.date(2100, 1, 1)},
    )
    assert whole == every_day
    assert [day["spend_date"] for day in whole][:3] == ["2024-01-30", "2024-01-31", "2024-02-01"]
    assert whole[-1] == {"spend_date": "2024-04-02", "daily_total": 1.1, "rolling_7d_avg": 0.16}
    assert len(whole) == (dt.date(2024, 4, 2) - dt.date(2024, 1, 30)).days + 1
    assert _whole_trend(conn, 10) == []
    assert_analytics_equal_a_full_rebuild(conn)


def _days_file(tmp_path, name: str, first: dt.date, days: int, users: range) -> Path:
    """Two transactions per user and day, at times and amounts that differ from day to day."""
    rows = [
        tx(
            user,
            f"{first + dt.timedelta(days=offset)} {hour:02d}:{(7 * user + offset) % 60:02d}:00",
            f"{user + offset % 13}.{hour:02d}",
        )
        for offset in range(days)
        for user in users
        for hour in (8, 19)
    ]
    return write_csv(tmp_path / name, [HEADER, *rows])


def test_a_refresh_of_most_days_takes_the_bulk_path_and_a_small_one_does_not(tmp_path, load, conn):
    """Six weeks at once are rebuilt in bulk; a day appended then merges incrementally; a
    late file across most days is rebuilt in bulk again, keeping the days it does not touch.
    Every state equals a rebuild from scratch and the incremental path's own result."""
    start = dt.date(2024, 1, 1)
    load(_days_file(tmp_path, "weeks.csv", start, 42, range(1, 8)))
    assert refresh.refresh_analytics(conn).bulk

    load(_days_file(tmp_path, "day.csv", start + dt.timedelta(days=42), 1, range(3, 10)))
    appended = refresh.refresh_analytics(conn)
    assert not appended.bulk and appended.trend_users == 7

    # A late file over 30 of the 43 days (for other users too), as a correction would be.
    load(_days_file(tmp_path, "late.csv", start + dt.timedelta(days=5), 30, range(5, 12)))
    late = refresh.refresh_analytics(conn)
    assert late.bulk and len(late.days) == 30
    assert conn.execute("SELECT count(DISTINCT spend_date) FROM user_daily_spend").fetchone() == (
        43,
    )
    bulk = analytics_snapshot(conn)
    assert_analytics_equal_a_full_rebuild(conn)

    # The same late file folded in by the incremental path gives the same tables.
    conn.execute(
        "INSERT INTO analytics_pending_days (spend_date, upload_id) "
        "SELECT day, 'again' FROM unnest(%s::date[]) AS day",
        (late.days,),
    )
    assert not refresh.refresh_analytics(conn, bulk=False).bulk
    assert analytics_snapshot(conn) == bulk


def test_the_bulk_path_and_the_incremental_path_give_the_same_trend_across_idle_days(
    tmp_path, load, conn
):
    """Users idle for 1 to 20 days between active ones (6 and 7 on either side of the moving
    average's window), starting and ending on different days, over three months: the bulk path
    fills the idle days from the active ones, the incremental path from a calendar; both give
    the same tables."""
    start = dt.date(2024, 1, 20)
    idle_run = {1: 0, 2: 1, 3: 3, 4: 6, 5: 7, 6: 13, 7: 20}
    rows = [
        tx(user, f"{start + dt.timedelta(days=offset)} 10:{user:02d}:00", f"{user}.{offset:02d}")
        for user, idle in idle_run.items()
        for offset in range(user, 80 - user)
        if offset % (idle + 1) == 0
    ]
    load(write_csv(tmp_path / "idle.csv", [HEADER, *rows]))
    assert not refresh.refresh_analytics(conn, bulk=False).bulk
    incremental = analytics_snapshot(conn)
    idle_days = [row for row in incremental["user_spend_trend"] if row[2] == 0]
    assert len(idle_days) > 100

    refresh.queue_every_day(conn)
    assert refresh.refresh_analytics(conn, bulk=True, workers=2).bulk
    assert analytics_snapshot(conn) == incremental


def test_readers_wait_only_for_the_bulk_swap_and_then_read_the_new_tables(
    tmp_path, load, conn, warehouse_url
):
    """A reader that holds the old table keeps the swap waiting; one arriving meanwhile waits
    too, its prepared statement intact, and then reads the new table, not an error."""
    load(_days_file(tmp_path, "a.csv", dt.date(2024, 1, 1), 30, range(1, 4)))
    refresh.refresh_analytics(conn)
    load(_days_file(tmp_path, "b.csv", dt.date(2024, 1, 1), 30, range(4, 6)))
    total = "SELECT sum(tx_count) FROM user_daily_spend"
    new_total = conn.execute("SELECT count(*) FROM transactions").fetchone()[0]

    with (
        psycopg.connect(warehouse_url) as holder,
        psycopg.connect(warehouse_url, autocommit=True) as reader,
        psycopg.connect(warehouse_url, autocommit=True) as watcher,
        ThreadPoolExecutor(2) as pool,
    ):
        old_total = reader.execute(total, prepare=True).fetchone()[0]
        assert holder.execute(total).fetchone()[0] == old_total  # its lock lasts until commit
        refreshing = pool.submit(refresh.refresh_analytics, conn)
        _wait_for_lock_waiters(watcher, 1)
        reading = pool.submit(lambda: reader.execute(total, prepare=True).fetchone()[0])
        _wait_for_lock_waiters(watcher, 2)
        assert not refreshing.done() and not reading.done()
        holder.commit()
        assert refreshing.result(timeout=30).bulk
        assert reading.result(timeout=30) == new_total != old_total


def _wait_for_lock_waiters(conn, count: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        waiting = conn.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE wait_event_type = 'Lock' AND datname = current_database()"
        ).fetchone()[0]
        if waiting >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"fewer than {count} sessions waited for a lock")


def test_any_number_of_bulk_workers_gives_the_same_tables(tmp_path, load, conn):
    """The workers' slices of users cover every user exactly once, however many they are."""
    load(_days_file(tmp_path, "weeks.csv", dt.date(2024, 1, 1), 40, range(1, 12)))
    assert refresh.refresh_analytics(conn, workers=1).bulk
    alone = analytics_snapshot(conn)
    for workers in (2, 3):
        refresh.queue_every_day(conn)
        assert refresh.refresh_analytics(conn, bulk=True, workers=workers).bulk
        assert analytics_snapshot(conn) == alone


def test_a_bulk_refresh_whose_worker_dies_keeps_nothing_and_the_next_one_finishes(
    tmp_path, load, conn, warehouse_url
):
    """A worker's backend killed between stages fails the refresh: the tables in public and the
    queue stay as they were, and the next refresh builds everything over what was left."""
    load(_days_file(tmp_path, "a.csv", dt.date(2024, 1, 1), 30, range(1, 6)))
    refresh.refresh_analytics(conn)
    load(_days_file(tmp_path, "b.csv", dt.date(2024, 1, 1), 30, range(6, 9)))
    before, queued = analytics_snapshot(conn), refresh.backlog(conn).days

    def kill_a_worker(stage: str) -> None:
        if stage == "daily_spend":
            with psycopg.connect(warehouse_url, autocommit=True) as admin:
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND state = 'idle in transaction' "
                    "AND pid <> %s LIMIT 1",
                    (conn.info.backend_pid,),
                )

    with pytest.raises(psycopg.OperationalError):
        refresh.refresh_analytics(conn, on_stage=kill_a_worker)
    assert analytics_snapshot(conn) == before
    assert refresh.backlog(conn).days == queued

    assert refresh.refresh_analytics(conn).bulk
    assert (
        conn.execute("SELECT sum(tx_count) FROM user_risk_profile").fetchone()
        == conn.execute("SELECT count(*) FROM transactions").fetchone()
    )
    assert_analytics_equal_a_full_rebuild(conn)


KEYS_AND_INDEXES = """
SELECT table_class.relname, index_class.relname, pg_get_indexdef(i.indexrelid),
       con.conname, pg_get_constraintdef(con.oid)
FROM pg_index AS i
JOIN pg_class AS table_class ON table_class.oid = i.indrelid
JOIN pg_class AS index_class ON index_class.oid = i.indexrelid
LEFT JOIN pg_constraint AS con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid
WHERE table_class.relnamespace = 'public'::regnamespace AND table_class.relname = ANY(%(tables)s)
UNION ALL
SELECT table_class.relname, NULL, NULL, con.conname, pg_get_constraintdef(con.oid)
FROM pg_constraint AS con
JOIN pg_class AS table_class ON table_class.oid = con.conrelid
WHERE table_class.relnamespace = 'public'::regnamespace AND table_class.relname = ANY(%(tables)s)
  AND con.conindid = 0
ORDER BY 1, 2, 4
"""


def test_a_bulk_refresh_gives_its_tables_the_keys_and_indexes_of_those_it_replaces(
    tmp_path, load, conn
):
    """The new tables' indexes are built side by side and their keys attached after: the
    tables in public end with the same keys, indexes and checks, under the same names."""
    tables = {"tables": list(bulk_refresh.NEW_TABLES)}
    before = conn.execute(KEYS_AND_INDEXES, tables).fetchall()
    assert sum(row[3] is not None and row[3].endswith("_pkey") for row in before) == 5
    load(_days_file(tmp_path, "weeks.csv", dt.date(2024, 1, 1), 30, range(1, 6)))
    assert refresh.refresh_analytics(conn, workers=2).bulk
    assert conn.execute(KEYS_AND_INDEXES, tables).fetchall() == before


def test_a_bulk_refresh_whose_key_cannot_be_built_keeps_nothing(tmp_path, load, conn, monkeypatch):
    """Months written twice over fail their key's build, after the workers committed: the
    refresh fails naming the key, the tables in public and the queue stay as they were, and
    the next refresh finishes."""
    statements = refresh_steps.load_statements

    def months_twice(name: str) -> list[str]:
        return statements(name) * (2 if name == "refresh/bulk_months_and_risk" else 1)

    _refresh_a_second_load(tmp_path, load, conn)
    monkeypatch.setattr(refresh_steps, "load_statements", months_twice)
    _fails_keeping_nothing(conn, monkeypatch, psycopg.errors.UniqueViolation, "monthly_spend_pkey")


def _refresh_a_second_load(tmp_path, load, conn) -> None:
    """Five users' month refreshed, then three more users' over the same days, not yet."""
    load(_days_file(tmp_path, "a.csv", dt.date(2024, 1, 1), 30, range(1, 6)))
    refresh.refresh_analytics(conn)
    load(_days_file(tmp_path, "b.csv", dt.date(2024, 1, 1), 30, range(6, 9)))


def _fails_keeping_nothing(conn, monkeypatch, error: type[Exception], match: str) -> None:
    """The refresh, broken by `monkeypatch`, raises `error`; the tables in public and the queue
    stay as they were, and once mended the next refresh finishes, equal to a full rebuild."""
    before, queued = analytics_snapshot(conn), refresh.backlog(conn).days
    with pytest.raises(error, match=match):
        refresh.refresh_analytics(conn)
    assert analytics_snapshot(conn) == before
    assert refresh.backlog(conn).days == queued

    monkeypatch.undo()
    assert refresh.refresh_analytics(conn).bulk
    assert_analytics_equal_a_full_rebuild(conn)


RANGE = {"start_date": dt.date(2024, 1, 20), "end_date": dt.date(2024, 2, 3)}


def _trends_as_the_api_reads_them(warehouse_url: str, users: range) -> dict[int, tuple]:
    """Each user's whole trend as JSON, and the days of RANGE as JSON and as rows."""

    async def read() -> dict[int, tuple]:
        async with await psycopg.AsyncConnection.connect(warehouse_url) as api:
            return {
                user: (
                    json.loads(await reads.spend_trend_json(api, user)),
                    json.loads(await reads.spend_trend_json(api, user, **RANGE)),
                    await reads.spend_trend(api, user, **RANGE),
                )
                for user in users
            }

    return asyncio.run(read())


def test_trends_are_read_from_their_days_until_a_bulk_refresh_builds_them(
    tmp_path, load, conn, monkeypatch, warehouse_url
):
    """A bulk refresh commits its tables with the trend still to build, then builds it, a
    slice of the users per worker. A worker's backend killed before its commit leaves the
    refresh's rows committed and its users without a trend: every trend, whole or a range, is
    read from its days meanwhile, the same answers as from a built trend, and each user has all
    of it or none. The next refresh builds the missing trends first."""
    users = range(1, 10)
    load(_days_file(tmp_path, "weeks.csv", dt.date(2024, 1, 1), 42, range(1, 8)))
    _kill_the_first_trend_builder(monkeypatch, warehouse_url)
    with pytest.raises(refresh.TrendBuildFailed) as failed:
        refresh.refresh_analytics(conn, workers=2)
    assert isinstance(failed.value.__cause__, psycopg.OperationalError)
    assert [len(upload.days) for upload in failed.value.result.uploads] == [42]  # readable
    assert refresh.backlog(conn).days == 0
    built = _users_of(conn, "user_spend_trend")
    assert 0 < len(built) < 7 and _users_of(conn, "user_spend_trend_months") == built
    from_days = _trends_as_the_api_reads_them(warehouse_url, users)
    assert [len(from_days[user][0]) for user in users] == [42] * 7 + [0, 0]
    assert [len(from_days[user][2]) for user in users] == [15] * 7 + [0, 0]

    monkeypatch.undo()
    refresh.rebuild_everything(conn)
    assert _users_of(conn, "user_spend_trend") == _users_of(conn, "user_spend_trend_months")
    assert _users_of(conn, "user_spend_trend") == set(range(1, 8))
    assert _trends_as_the_api_reads_them(warehouse_url, users) == from_days

    _kill_the_first_trend_builder(monkeypatch, warehouse_url)
    with pytest.raises(refresh.TrendBuildFailed):
        refresh.rebuild_everything(conn)
    monkeypatch.undo()
    load(_days_file(tmp_path, "day.csv", dt.date(2024, 2, 12), 1, range(3, 10)))
    assert not refresh.refresh_analytics(conn).bulk
    assert _users_of(conn, "user_spend_trend_months") == set(users)
    after_the_day = _trends_as_the_api_reads_them(warehouse_url, users)
    assert after_the_day[1] == from_days[1] and after_the_day[2] == from_days[2]
    assert after_the_day[3][0][:42] == from_days[3][0] and len(after_the_day[3][0]) == 43
    assert_analytics_equal_a_full_rebuild(conn)


def _kill_the_first_trend_builder(monkeypatch, warehouse_url: str) -> None:
    """The bulk path's first trend builder (the lowest users) has its backend terminated once
    it has built its users' trends, before it commits."""
    build = bulk_refresh.render_missing_trends

    def build_then_die(cur: psycopg.Cursor, users: dict) -> tuple[int, int]:
        built = build(cur, users)
        if users["low"] is None:
            with psycopg.connect(warehouse_url, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (cur.connection.info.backend_pid,))
        return built

    monkeypatch.setattr(bulk_refresh, "render_missing_trends", build_then_die)


def _users_of(conn, table: str) -> set[int]:
    return {user for (user,) in conn.execute(f"SELECT DISTINCT user_id FROM {table}")}


def test_the_rendered_months_are_compressed_with_lz4_where_the_server_has_it(conn):
    methods = one(
        conn.execute("SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'")
    )[0]
    stored = one(
        conn.execute(
            "SELECT attcompression FROM pg_attribute "
            "WHERE attrelid = 'user_spend_trend_months'::regclass AND attname = 'body'"
        )
    )[0]
    assert stored == ("l" if "lz4" in methods else "")


def test_a_bulk_refresh_whose_days_land_on_the_wrong_dates_keeps_nothing(
    tmp_path, load, conn, monkeypatch
):
    """The bulk path checks its days by totals, each row weighted by its day: a rebuild that
    put every row one day late (same rows, same amounts) fails, naming days, and keeps nothing."""

    def one_day_late(name: str) -> str:
        text = load_sql(name)
        if name == "refresh/insert_daily_spend":
            return text.replace(
                "SELECT user_id, transaction_date, count(*)",
                "SELECT user_id, transaction_date + 1, count(*)",
            )
        return text

    _refresh_a_second_load(tmp_path, load, conn)
    monkeypatch.setattr(bulk_refresh, "load_sql", one_day_late)
    _fails_keeping_nothing(conn, monkeypatch, refresh.AnalyticsMismatch, "2024-01-01")


def test_the_rendered_trend_has_iso_dates_whatever_the_session_date_style(tmp_path, load, conn):
    load(write_csv(tmp_path / "a.csv", [HEADER, tx(8, "2024-03-01 10:00:00", "10.00")]))
    conn.execute("SET datestyle = 'SQL, DMY'")
    refresh_days(conn, ["2024-03-01"])
    body = one(conn.execute("SELECT body FROM user_spend_trend_months WHERE user_id = 8"))[0]
    assert json.loads(f"[{body}]") == [
        {"spend_date": "2024-03-01", "daily_total": 10.0, "rolling_7d_avg": 10.0}
    ]
