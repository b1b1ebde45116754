"""A range of simulated days, month by month: one upload per month, resumable after a failure."""

import datetime as dt
import logging
import threading

import pytest

from txn_core import generated_days, generator
from txn_core.generated_days import load_generated_days, monthly_batches

D = dt.date


def expected_rows(first: dt.date, last: dt.date, rows_per_day: int) -> int:
    days = (last - first).days + 1
    return sum(generator.rows_for_day(first + dt.timedelta(i), rows_per_day) for i in range(days))


def test_a_range_is_cut_at_calendar_months():
    batches = monthly_batches(D(2024, 1, 30), D(2024, 3, 2), 10)
    assert [(b.first_day, b.last_day) for b in batches] == [
        (D(2024, 1, 30), D(2024, 1, 31)),
        (D(2024, 2, 1), D(2024, 2, 29)),  # a leap year
        (D(2024, 3, 1), D(2024, 3, 2)),
    ]
    assert batches[1].upload_id == "g20240201-20240229-10"
    assert monthly_batches(D(2024, 12, 31), D(2024, 12, 31), 10)[0].last_day == D(2024, 12, 31)
    with pytest.raises(ValueError, match="before"):
        monthly_batches(D(2024, 2, 1), D(2024, 1, 31), 10)


class Recorder(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines: list[tuple[str, str]] = []

    def emit(self, record):
        self.lines.append((record.threadName, record.getMessage()))


def test_each_month_is_its_own_upload_and_every_log_line_comes_from_the_callers_thread(
    warehouse_url, db
):
    recorder = Recorder()
    logger = logging.Logger("test-generated-days")
    logger.addHandler(recorder)
    result = load_generated_days(warehouse_url, D(2024, 1, 25), D(2024, 3, 5), 20, logger=logger)

    total = expected_rows(D(2024, 1, 25), D(2024, 3, 5), 20)
    assert (result.rows_read, result.rows_loaded, result.rows_duplicate) == (total, total, 0)
    assert result.days_touched[0] == D(2024, 1, 25) and result.days_touched[-1] == D(2024, 3, 5)
    assert len(result.days_touched) == 41
    uploads = db.execute(
        "SELECT upload_id, source, status, rows_loaded FROM uploads ORDER BY upload_id"
    ).fetchall()
    assert [(u[0], u[1], u[2]) for u in uploads] == [
        ("g20240125-20240131-20", "generator", "succeeded"),
        ("g20240201-20240229-20", "generator", "succeeded"),
        ("g20240301-20240305-20", "generator", "succeeded"),
    ]
    assert uploads[1][3] == expected_rows(D(2024, 2, 1), D(2024, 2, 29), 20)
    assert db.execute("SELECT count(*) FROM transactions").fetchone()[0] == total

    threads = {thread for thread, _ in recorder.lines}
    assert threads == {threading.current_thread().name}
    messages = [message for _, message in recorder.lines]
    assert any(m.startswith("Checking") for m in messages)  # the loader's lines, relayed
    assert [m for m in messages if m.startswith("Month")][-1].startswith("Month 3 of 3")


def test_a_failed_month_keeps_the_months_before_and_a_rerun_loads_only_the_rest(
    warehouse_url, db, monkeypatch
):
    real_write_days = generator.write_days

    def disk_full_in_march(path, first_day, last_day, rows_per_day, **kwargs):
        if first_day.month == 3:
            raise OSError("No space left on device")
        return real_write_days(path, first_day, last_day, rows_per_day, **kwargs)

    monkeypatch.setattr(generated_days.generator, "write_days", disk_full_in_march)
    with pytest.raises(OSError, match="No space left"):
        load_generated_days(warehouse_url, D(2024, 1, 1), D(2024, 4, 30), 10)
    loaded = db.execute("SELECT count(*) FROM transactions").fetchone()[0]
    # January and February committed; April may have started alongside March, so it may be
    # there too, but never half of a month.
    months = db.execute(
        "SELECT upload_id FROM uploads WHERE status = 'succeeded' ORDER BY 1"
    ).fetchall()
    assert {m for (m,) in months} >= {"g20240101-20240131-10", "g20240201-20240229-10"}
    assert "g20240301-20240331-10" not in {m for (m,) in months}
    assert loaded == sum(
        expected_rows(b.first_day, b.last_day, 10)
        for b in monthly_batches(D(2024, 1, 1), D(2024, 4, 30), 10)
        if (b.upload_id,) in months
    )

    monkeypatch.setattr(generated_days.generator, "write_days", real_write_days)
    again = load_generated_days(warehouse_url, D(2024, 1, 1), D(2024, 4, 30), 10)
    total = expected_rows(D(2024, 1, 1), D(2024, 4, 30), 10)
    assert db.execute("SELECT count(*) FROM transactions").fetchone()[0] == total
    assert again.rows_read == total and not again.already_loaded
    assert db.execute("SELECT count(*) FROM uploads WHERE status = 'succeeded'").fetchone()[0] == 4
