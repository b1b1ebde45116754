"""Row-level rules of the data contract: a bad row is rejected alone, with line and reason."""

import datetime as dt

import pytest

from tests.conftest import HEADER, write_csv

GOOD = "6f1c2a48-3f0c-4a57-9a43-0c3f8b0f7a11,1,2,2024-03-01 10:00:00,12.50"
OTHER_ID = "9b6d3f1e-2c4a-4b8e-8f0d-5a7c9e1b3d20"


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (",1,2,2024-03-01 10:00:00,1.00", "missing transaction_id"),
        ("not-a-uuid,1,2,2024-03-01 10:00:00,1.00", "transaction_id is not a UUID"),
        (f"{OTHER_ID},,2,2024-03-01 10:00:00,1.00", "missing user_id"),
        (f"{OTHER_ID},0,2,2024-03-01 10:00:00,1.00", "user_id is not a positive integer"),
        (f"{OTHER_ID},-4,2,2024-03-01 10:00:00,1.00", "user_id is not a positive integer"),
        (f"{OTHER_ID},1.5,2,2024-03-01 10:00:00,1.00", "user_id is not a positive integer"),
        (f"{OTHER_ID},99999999999,2,2024-03-01 10:00:00,1.00", "user_id is not a positive integer"),
        (f"{OTHER_ID},1,abc,2024-03-01 10:00:00,1.00", "product_id is not a positive integer"),
        (f"{OTHER_ID},1,,2024-03-01 10:00:00,1.00", "missing product_id"),
        (f"{OTHER_ID},1,2,,1.00", "missing timestamp"),
        (f"{OTHER_ID},1,2,yesterday,1.00", "timestamp is not an ISO 8601 date-time"),
        (f"{OTHER_ID},1,2,2024-02-30 10:00:00,1.00", "timestamp is not an ISO 8601 date-time"),
        (f"{OTHER_ID},1,2,2024-03-01 10:00:00,", "missing transaction_amount"),
        (f"{OTHER_ID},1,2,2024-03-01 10:00:00,1.005", "at most 2 places"),
        (f"{OTHER_ID},1,2,2024-03-01 10:00:00,-3.00", "at most 2 places"),
        (f"{OTHER_ID},1,2,2024-03-01 10:00:00,12abc", "at most 2 places"),
        (f"{OTHER_ID},1,2,2024-03-01 10:00:00,100000000.00", "below 100,000,000"),
        (f"{OTHER_ID},1,2,2024-03-01 10:00:00", "malformed CSV row: missing columns"),
        (f"{OTHER_ID},1,2,2024-03-01 10:00:00,1.00,surplus", "malformed CSV row: too many columns"),
    ],
)
def test_each_kind_of_bad_row_is_rejected_alone_with_its_line_and_reason(
    tmp_path, load, db, row, reason
):
    path = write_csv(tmp_path / "rows.csv", [HEADER, GOOD, row, GOOD.replace("6f1c", "7f1c")])
    result = load(path)
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (3, 2, 1)
    line, stored_reason, raw = db.execute(
        "SELECT line_number, reason, raw_line FROM rejected_rows"
    ).fetchone()
    assert line == 3
    assert reason in stored_reason
    assert raw.startswith(row.split(",")[0])


def test_quoting_extra_columns_offsets_and_utc_day(tmp_path, load, db):
    path = write_csv(
        tmp_path / "quoted.csv",
        [
            "note,transaction_amount,timestamp,product_id,user_id,transaction_id",
            f'"a, quoted ""note""","7.5",2024-03-01T23:30:00-02:00,2,1,{OTHER_ID}',
            f'plain,10,2024-03-01T10:00:00Z,3,4,{GOOD.split(",")[0]}',
        ],
        newline="\r\n",
    )
    result = load(path)
    assert (result.rows_loaded, result.rows_rejected) == (2, 0)
    row = db.execute(
        "SELECT \"timestamp\", transaction_date, transaction_amount::text, user_id "
        "FROM transactions WHERE transaction_id = %s",
        [OTHER_ID],
    ).fetchone()
    assert row[0] == dt.datetime(2024, 3, 2, 1, 30, tzinfo=dt.UTC)
    assert row[1] == dt.date(2024, 3, 2)  # the UTC day, not the local one
    assert row[2:] == ("7.50", 1)
    assert result.days_touched == [dt.date(2024, 3, 1), dt.date(2024, 3, 2)]


def test_line_numbers_stay_true_deep_in_a_large_file_after_malformed_rows(tmp_path, load, db):
    """Thousands of rows are parsed in parallel; rejected lines must still point at the right
    line, also after rows the CSV reader could not parse at all."""
    rows = [f"00000000-0000-4000-8000-{i:012d},{1 + i % 9},1,2024-03-01 10:00:00,1.00"
            for i in range(300_000)]
    bad_lines = {50_000: "short,row", 150_001: f"{rows[0][:-4]}x.yz", 250_123: "a,b,c,d,e,f"}
    for line, text in bad_lines.items():
        rows[line - 2] = text  # line 1 is the header
    path = write_csv(tmp_path / "big.csv", [HEADER, *rows])
    result = load(path)
    assert result.rows_rejected == 3
    assert result.rows_loaded == 300_000 - 3
    found = db.execute("SELECT line_number, reason FROM rejected_rows ORDER BY 1").fetchall()
    assert [line for line, _ in found] == sorted(bad_lines)
    assert "malformed" in found[0][1] and "2 places" in found[1][1] and "malformed" in found[2][1]
