"""Row-level rules of the data contract: a bad row is rejected alone, with line and reason."""

import datetime as dt
import unicodedata

import pytest

from tests.helpers import HEADER, write_csv
from txn_core.contract import SNIFF_BYTES

GOOD = "6f1c2a48-3f0c-4a57-9a43-0c3f8b0f7a11,1,2,2024-03-01 10:00:00,12.50"
OTHER_ID = "9b6d3f1e-2c4a-4b8e-8f0d-5a7c9e1b3d20"
NOT_RFC_3339 = "timestamp is not an RFC 3339 date-time"


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
        (f"{OTHER_ID},1,2,yesterday,1.00", NOT_RFC_3339),
        (f"{OTHER_ID},1,2,2024-02-30 10:00:00,1.00", NOT_RFC_3339),
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
            f"plain,10,2024-03-01T10:00:00Z,3,4,{GOOD.split(',')[0]}",
        ],
        newline="\r\n",
    )
    result = load(path)
    assert (result.rows_loaded, result.rows_rejected) == (2, 0)
    row = db.execute(
        'SELECT "timestamp", transaction_date, transaction_amount::text, user_id '
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
    rows = [
        f"00000000-0000-4000-8000-{i:012d},{1 + i % 9},1,2024-03-01 10:00:00,1.00"
        for i in range(300_000)
    ]
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


def utc(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("text", "instant"),
    [
        ("2024-03-01T10:00:00Z", utc(2024, 3, 1, 10)),
        ("2024-03-01t10:00:00z", utc(2024, 3, 1, 10)),
        ("2024-03-01 10:00:00", utc(2024, 3, 1, 10)),  # no offset: UTC
        ("2024-03-01T10:00:00", utc(2024, 3, 1, 10)),
        ("2024-03-01T10:00:00+00:00", utc(2024, 3, 1, 10)),
        ("2024-03-01T10:00:00-00:00", utc(2024, 3, 1, 10)),
        ("2024-03-01 10:00:00+01:00", utc(2024, 3, 1, 9)),
        ("2024-03-01T10:00:00.5-02:00", utc(2024, 3, 1, 12, 0, 0, 500_000)),
        # Digits past the microsecond are dropped, not rounded.
        ("2024-03-01T10:00:00.123456789+05:30", utc(2024, 3, 1, 4, 30, 0, 123_456)),
        ("2024-03-01T00:30:00+23:59", utc(2024, 2, 29, 0, 31)),
        ("2024-03-01T23:30:00-23:59", utc(2024, 3, 2, 23, 29)),
        ("2024-02-29T12:00:00Z", utc(2024, 2, 29, 12)),
        # A leap second reads as PostgreSQL reads it: the next minute's :00.
        ("2024-12-31T23:59:60Z", utc(2025, 1, 1)),
        ("2016-12-31t23:59:60.000z", utc(2017, 1, 1)),
        ("2015-07-01T08:59:60+09:00", utc(2015, 7, 1)),
    ],
)
def test_an_rfc_3339_timestamp_is_stored_as_its_utc_instant(tmp_path, load, db, text, instant):
    path = write_csv(tmp_path / "ts.csv", [HEADER, f"{OTHER_ID},1,2,{text},1.00"])
    result = load(path)
    assert (result.rows_loaded, result.rows_rejected) == (1, 0)
    stored, day = db.execute('SELECT "timestamp", transaction_date FROM transactions').fetchone()
    assert stored == instant
    assert day == instant.date()


@pytest.mark.parametrize(
    "text",
    [
        "2024-03-01T10:00:00+99",
        "2024-03-01T10:00:00+24:00",
        "2024-03-01T10:00:00+0100",  # no colon
        "2024-03-01T10:00:00+01",
        "2024-03-01T10:00:00+01:60",
        "2024-03-01T10:00:00+05:30:00",
        "2024-03-01T10:00:00 +01:00",  # a space before the offset
        "2024-03-01T10:00:00 Z",
        "2024-03-01T10:00:00ZZ",
        "2024-03-01T10:00",  # no seconds
        "2024-03-01T10:00Z",
        "2024-03-01T24:00:00",
        "2024-03-01T10:60:00",
        "2024-03-01T10:00:61",
        "2024-12-31T23:59:60.5Z",  # PostgreSQL refuses a fraction of a leap second
        "2024-03-01T10:00:00.Z",
        "2024-02-30T10:00:00",
        "2023-02-29T10:00:00",
        "2024-13-01T10:00:00",
        "2024-02-30T23:59:60Z",
        "2024-03-01",
        "2024-3-1T10:00:00",
        "20240301T100000Z",
        "2024-03-01X10:00:00",
        "2024-03-01  10:00:00",
        "2024-03-01T10:00:00 America/New_York",
        "\uff12\uff10\uff12\uff14-03-01T10:00:00",  # digits, but not ASCII ones
    ],
)
def test_a_timestamp_that_is_not_rfc_3339_is_rejected(tmp_path, load, db, text):
    path = write_csv(tmp_path / "ts.csv", [HEADER, GOOD, f"{OTHER_ID},1,2,{text},1.00"])
    result = load(path)
    assert (result.rows_loaded, result.rows_rejected) == (1, 1)
    assert db.execute("SELECT line_number, reason FROM rejected_rows").fetchall() == [
        (3, NOT_RFC_3339)
    ]


def good_rows(count: int, first: int = 0) -> list[bytes]:
    return [
        f"00000000-0000-4000-8000-{i:012d},1,2,2024-03-01 10:00:00,1.00".encode()
        for i in range(first, first + count)
    ]


def assert_safe(raw: str) -> None:
    """Storable anywhere: at most 1,000 characters, no control characters but tab, CR, LF."""
    assert len(raw) <= 1000
    assert not [c for c in raw if unicodedata.category(c) == "Cc" and c not in "\t\r\n"], raw


def bad(row: bytes) -> bytes:
    return OTHER_ID.encode() + b"," + row


BAD_BYTES = [
    (bad(b"1,2,2024-03-01 10:00:00,1.\x0000"), "row contains a NUL byte",
     f"{OTHER_ID},1,2,2024-03-01 10:00:00,1.\ufffd00"),
    (b"\x00" * 40, "row contains a NUL byte", "\ufffd" * 40),
    (bad(b"1,2,2024-03-01 10:00:00,1.00\xff\xfe"), "row is not valid UTF-8",
     f"{OTHER_ID},1,2,2024-03-01 10:00:00,1.00??"),
    (bad(b"1,2,2024-03-01 10:00:00,1.0\xc3"), "row is not valid UTF-8",
     f"{OTHER_ID},1,2,2024-03-01 10:00:00,1.0?"),
    (bad(b"1,2,2024-03-01 10:00:00,\xff\x00"), "row contains a NUL byte",
     f"{OTHER_ID},1,2,2024-03-01 10:00:00,?\ufffd"),
    (bad(b"\x07,2,2024-03-01 10:00:00,1.00"), "row contains a control character",
     f"{OTHER_ID},\ufffd,2,2024-03-01 10:00:00,1.00"),
    (bad(b'1,2,"2024-03-01 10:00:00\x1b[0m",1.00'), "row contains a control character",
     f"{OTHER_ID},1,2,2024-03-01 10:00:00\ufffd[0m,1.00"),
    (bad("1,2,2024-03-01 10:00:00,1.00\x7f\u0085".encode()),
     "row contains a control character", f"{OTHER_ID},1,2,2024-03-01 10:00:00,1.00\ufffd\ufffd"),
    (bad(b"1,2,2024-03-01 10:00:00,\x01,1.00"), "row contains a control character",
     f"{OTHER_ID},1,2,2024-03-01 10:00:00,\ufffd,1.00"),
]  # fmt: skip


@pytest.mark.parametrize("late", [False, True], ids=["early", "after-64KiB"])
@pytest.mark.parametrize(
    ("row", "reason", "raw"),
    BAD_BYTES,
    ids=[
        "nul",
        "nul-only",
        "not-utf8",
        "cut-utf8",
        "not-utf8-and-nul",
        "bell",
        "escape",
        "del-and-c1",
        "control-and-surplus-column",
    ],
)
def test_a_row_with_binary_bytes_is_rejected_alone_and_stored_made_safe(
    tmp_path, load, db, row, reason, raw, late
):
    """Only the header must be clean text: NUL, bytes that are not UTF-8 and control
    characters reject their row alone, in the file's first 64 KiB or later."""
    before = good_rows(1200 if late else 1)
    rows = [HEADER.encode(), *before, row, *good_rows(2, first=len(before))]
    path = tmp_path / "binary.csv"
    path.write_bytes(b"\n".join(rows) + b"\n")
    assert (path.read_bytes().index(row) > SNIFF_BYTES) == late
    result = load(path)
    assert (result.rows_read, result.rows_rejected) == (len(before) + 3, 1)
    assert result.rows_loaded == len(before) + 2
    found = db.execute("SELECT line_number, reason, raw_line FROM rejected_rows").fetchall()
    assert found == [(len(before) + 2, reason, raw)]
    assert_safe(found[0][2])


def test_binary_rows_keep_every_line_number_true_and_raw_text_short(tmp_path, load, db):
    """Rows the CSV reader refuses (not UTF-8) and rows it passes on (NUL, control
    characters) mixed, after a quoted field spanning lines: each has its own line."""
    long_nul = bad(b"1,2,2024-03-01 10:00:00,1.00," + b"\x00x" * 1500)
    lines = [
        HEADER.encode() + b",note",
        *[r + b",ok" for r in good_rows(3)],
        OTHER_ID.encode() + b',1,2,2024-03-01 10:00:00,1.00,"two\nlines, a\ttab and\r\nCRLF"',
        bad(b"1,2,2024-03-01 10:00:00,1.00,\xe9t\xe9"),  # line 6: Latin-1
        bad(b"1,2,2024-03-01 10:00:00,1.00,\x00"),  # NUL in an extra column
        *[r + b",ok" for r in good_rows(1000, first=10)],
        long_nul,  # line 1008
        bad(b"1,2,2024-03-01 10:00:00,1.00,\x80,surplus"),  # not UTF-8, too many columns
        bad(b"1,2,2024-03-01 10:00:00,1.00,\x08"),
        *[r + b",ok" for r in good_rows(3, first=2000)],
    ]
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"\n".join(lines) + b"\n")
    result = load(path)
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (1012, 1007, 5)
    found = db.execute(
        "SELECT line_number, reason, raw_line FROM rejected_rows ORDER BY 1"
    ).fetchall()
    assert [(line, reason) for line, reason, _ in found] == [
        (6, "row is not valid UTF-8"),
        (7, "row contains a NUL byte"),
        (1008, "row contains a NUL byte"),
        (1009, "row is not valid UTF-8"),
        (1010, "row contains a control character"),
    ]
    for _, _, raw in found:
        assert_safe(raw)
    # The reader puts "?" for bytes that are not UTF-8 (and those it took as their tail).
    assert found[0][2].startswith(f"{OTHER_ID},1,2,2024-03-01 10:00:00,1.00,?")
    assert len(found[2][2]) == 1000
    assert found[2][2].endswith("\ufffdx\ufffdx")
    # Tab, CR and LF inside quotes are CSV text: that row loaded.
    assert db.execute(
        "SELECT count(*) FROM transactions WHERE transaction_id = %s", [OTHER_ID]
    ).fetchone() == (1,)
