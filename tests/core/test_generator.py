"""The simulated-transactions generator: determinism, the data contract, and what the data shows.

Pure file checks (DuckDB and the csv module); no warehouse needed.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import re
import uuid
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from txn_core import generator
from txn_core.generator import rows_for_day, write_bulk, write_days
from txn_core.validate import checked_file

JAN_1 = dt.date(2024, 1, 1)  # a Monday
JAN_10 = dt.date(2024, 1, 10)
ROW_PATTERN = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12},"
    r"[1-9][0-9]*,[1-9][0-9]*,\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,[0-9]+\.[0-9]{2}"
)


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as file:
        return list(csv.DictReader(file))


def day_ids(stream: str, day: dt.date, rows: int) -> set[str]:
    """The ids the generator documents for a day: md5 of '<stream>:<day>:<i>' as a UUID v4."""
    return {
        str(
            uuid.UUID(
                int=int.from_bytes(hashlib.md5(f"{stream}:{day}:{i}".encode()).digest(), "little"),
                version=4,
            )
        )
        for i in range(rows)
    }


def sql(path: Path, query: str) -> list[tuple]:
    """Runs `query` against the file as table `t`, with the contract's column types."""
    with duckdb.connect() as con:
        con.execute(
            "CREATE TABLE t AS SELECT * FROM read_csv(?, header = true, columns = {"
            "'transaction_id': 'UUID', 'user_id': 'BIGINT', 'product_id': 'BIGINT', "
            "'timestamp': 'TIMESTAMP', 'transaction_amount': 'DECIMAL(12, 2)'})",
            [str(path)],
        )
        return con.execute(query).fetchall()


@pytest.fixture(scope="module")
def year(tmp_path_factory) -> generator.GeneratedFile:
    """A year at the default 150 rows per day (about 60,000 rows)."""
    path = tmp_path_factory.mktemp("year") / "year.csv"
    return write_days(path, dt.date(2024, 1, 1), dt.date(2024, 12, 31))


def test_a_day_has_the_same_rows_alone_and_inside_a_range(tmp_path: Path):
    ranged = write_days(tmp_path / "range.csv", JAN_1, JAN_10)
    again = write_days(tmp_path / "again.csv", JAN_1, JAN_10)
    alone = write_days(tmp_path / "alone.csv", dt.date(2024, 1, 5), dt.date(2024, 1, 5))

    assert ranged.path.read_bytes() == again.path.read_bytes()
    lines = ranged.path.read_text().splitlines()
    jan_5 = [line for line in lines if ",2024-01-05 " in line]
    assert jan_5 == alone.path.read_text().splitlines()[1:]
    assert len(jan_5) == rows_for_day(dt.date(2024, 1, 5), 150)


def test_ids_are_the_documented_md5_uuids_and_each_row_lies_in_its_day(tmp_path: Path):
    generated = write_days(tmp_path / "days.csv", JAN_1, JAN_10, 300)
    rows = read_rows(generated.path)

    ids = [uuid.UUID(row["transaction_id"]) for row in rows]
    assert all(i.version == 4 and i.variant == uuid.RFC_4122 for i in ids)
    assert len(set(ids)) == len(ids) == generated.rows
    for offset in range(10):
        day = JAN_1 + dt.timedelta(days=offset)
        expected = day_ids("day", day, rows_for_day(day, 300))
        # The row made for (day, i) carries the id of (day, i) and a timestamp within that day.
        assert {
            row["transaction_id"] for row in rows if row["timestamp"].startswith(str(day))
        } == expected


def test_every_row_satisfies_the_data_contract(tmp_path: Path, year):
    small = write_days(tmp_path / "tiny.csv", JAN_1, JAN_10, 1, users=1, products=1)
    for generated in (year, small):
        text = generated.path.read_text()
        header, *lines = text.splitlines()
        assert header == "transaction_id,user_id,product_id,timestamp,transaction_amount"
        assert all(ROW_PATTERN.fullmatch(line) for line in lines)
        assert text.endswith("\n") and "\r" not in text

        with checked_file(generated.path, tmp_path / "check", upload_id="x") as checked:
            list(checked.accepted)
            assert checked.rows_rejected == 0
            assert checked.rows_read == checked.rows_valid == generated.rows
            assert checked.accepted.rows_written == generated.rows  # no duplicate ids
    (low, high) = sql(year.path, "SELECT min(transaction_amount), max(transaction_amount) FROM t")[
        0
    ]
    assert low >= 1 and high < 100_000_000


def test_row_counts_follow_the_weekly_rhythm(year):
    per_day = dict(sql(year.path, 'SELECT CAST("timestamp" AS DATE), count(*) FROM t GROUP BY 1'))
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=n) for n in range(366)]

    assert per_day == {day: rows_for_day(day, 150) for day in days}
    assert year.rows == sum(per_day.values())
    by_weekday = {day.strftime("%A"): count for day, count in per_day.items()}
    assert by_weekday["Saturday"] == by_weekday["Sunday"] > by_weekday["Tuesday"]
    assert by_weekday["Tuesday"] > by_weekday["Monday"]
    assert [rows_for_day(JAN_1 + dt.timedelta(days=n), 150) for n in range(7)] == [
        135,
        150,
        150,
        150,
        165,
        195,
        195,
    ]
    assert {rows_for_day(day, 1) for day in days[:7]} == {1}
    assert rows_for_day(dt.date(2024, 1, 6), 30_000) == 39_000


def test_timestamps_follow_a_daily_rhythm(year):
    per_hour = dict(sql(year.path, 'SELECT hour("timestamp"), count(*) FROM t GROUP BY 1'))
    night = sum(per_hour.get(h, 0) for h in range(1, 5))
    evening = sum(per_hour[h] for h in range(17, 21))
    assert evening > 10 * night > 0


def test_users_have_their_own_spending_levels_and_some_are_whales(year):
    (p10, p50, p90), whales, users = sql(
        year.path,
        """
        WITH per_user AS (
            SELECT user_id, avg(transaction_amount) AS mean FROM t GROUP BY user_id
        )
        SELECT quantile_cont(mean, [0.1, 0.5, 0.9]),
               count(*) FILTER (WHERE mean > 8 * (SELECT median(mean) FROM per_user)),
               count(*)
        FROM per_user
    """,
    )[0]
    assert p90 > 3 * p10  # a wide spread of user means
    assert 20 < p50 < 300
    assert users > 900
    assert 3 <= whales <= 20  # about 1% of 999 users


def test_activity_is_skewed_towards_a_few_users(year):
    counts = sorted(Counter(row["user_id"] for row in read_rows(year.path)).values())
    top_tenth = sum(counts[-len(counts) // 10 :])
    assert top_tenth > 0.3 * year.rows
    assert counts[-1] > 20 * counts[len(counts) // 2]


def test_some_users_make_bursts_of_transactions(year):
    (bursty_users,) = sql(
        year.path,
        """
        SELECT count(DISTINCT user_id) FROM (
            SELECT user_id, count(*) OVER (
                PARTITION BY user_id ORDER BY "timestamp"
                RANGE BETWEEN INTERVAL 10 MINUTES PRECEDING AND CURRENT ROW) AS within_10_min
            FROM t
        )
        WHERE within_10_min >= 3
    """,
    )[0]
    # About 2% of 999 users burst; a very active user may also happen to.
    assert 10 <= bursty_users <= 40


def test_bulk_writes_exactly_num_rows_within_the_range(tmp_path: Path):
    first = write_bulk(tmp_path / "a.csv", 1234, JAN_1, JAN_10, seed=1)
    same = write_bulk(tmp_path / "b.csv", 1234, JAN_1, JAN_10, seed=1)
    other = write_bulk(tmp_path / "c.csv", 1234, JAN_1, JAN_10, seed=2)
    days = write_days(tmp_path / "d.csv", JAN_1, JAN_10, 150)

    assert first.path.read_bytes() == same.path.read_bytes()
    assert first.rows == other.rows == 1234
    for generated in (first, other):
        (rows, unique, low, high) = sql(
            generated.path,
            """
            SELECT count(*), count(DISTINCT transaction_id), min("timestamp"), max("timestamp")
            FROM t
        """,
        )[0]
        assert rows == unique == 1234
        assert dt.datetime(2024, 1, 1) <= low and high < dt.datetime(2024, 1, 11)
    ids = [{row["transaction_id"] for row in read_rows(g.path)} for g in (first, other, days)]
    assert not ids[0] & ids[1] and not ids[0] & ids[2] and not ids[1] & ids[2]

    assert write_bulk(tmp_path / "few.csv", 3, JAN_1, dt.date(2024, 12, 31)).rows == 3
    assert write_bulk(tmp_path / "none.csv", 0, JAN_1, JAN_10).rows == 0


def test_compressed_output_and_bad_arguments(tmp_path: Path):
    generated = write_days(tmp_path / "day.csv.gz", JAN_1, JAN_1, 20)
    with gzip.open(generated.path, "rt") as file:
        assert len(file.read().splitlines()) == 1 + rows_for_day(JAN_1, 20)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["day.csv.gz"]  # no leftovers

    with pytest.raises(ValueError, match="before"):
        write_days(tmp_path / "x.csv", JAN_10, JAN_1)
    with pytest.raises(ValueError, match="rows_per_day"):
        write_days(tmp_path / "x.csv", JAN_1, JAN_1, 0)
    with pytest.raises(ValueError, match="users"):
        write_bulk(tmp_path / "x.csv", 10, JAN_1, JAN_1, users=0)
