"""Whole-file checks: a wrong file fails the upload with a clear error and loads nothing."""

import gzip

import pytest

from tests.helpers import HEADER, write_csv
from txn_core.contract import SNIFF_BYTES, FileRejected, inspect_file
from txn_core.ledger import get_upload

ROW = "6f1c2a48-3f0c-4a57-9a43-0c3f8b0f7a11,1,2,2024-03-01 10:00:00,12.50"


def test_header_columns_are_found_by_name_in_any_order_and_case(tmp_path):
    path = write_csv(
        tmp_path / "a.csv",
        ["Note,TRANSACTION_AMOUNT,timestamp,product_id,user_id,transaction_id", "x,1,2,3,4,5"],
    )
    layout = inspect_file(path)
    assert layout.positions["transaction_id"] == 5
    assert layout.positions["transaction_amount"] == 1
    assert layout.column_count == 6


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (b"transaction_id,user_id,product_id,timestamp,transaction_amount,n\xe9\n", "UTF-8"),
        (HEADER.encode() + b",\x00\n" + ROW.encode() + b",x\n", "a NUL byte"),
        (HEADER.encode() + b",\x1b[0m\n" + ROW.encode() + b",x\n", "control character U"),
        (b"transaction_id,user_id\n\xff\xfe,1\n", "missing required column"),
        (b'{"transaction_id": 1}\n', "missing required column"),
        (b"transaction_id,user_id,product_id,timestamp\n", "transaction_amount"),
        (b"\x1f\x8b\x08\x00garbage", "gzip"),
        (HEADER.encode() + b",user_id\n", "more than once"),
    ],
    ids=[
        "empty",
        "png",
        "latin1-header",
        "nul-header",
        "control-header",
        "short-header-binary-row",
        "json",
        "missing-amount",
        "broken-gzip",
        "repeated",
    ],
)
def test_a_wrong_file_fails_whole_with_a_clear_error_and_loads_nothing(
    tmp_path, load, db, content, message
):
    path = tmp_path / "wrong.csv"
    path.write_bytes(content)
    with pytest.raises(FileRejected, match=message):
        load(path, upload_id="wrong")
    upload = get_upload(db, "wrong")
    assert upload["status"] == "failed"
    assert message.lower() in upload["error"].lower()
    assert upload["rows_read"] == upload["rows_loaded"] == 0
    assert db.execute("SELECT count(*) FROM transactions").fetchone()[0] == 0


def test_gzip_file_with_bom_and_crlf_loads(tmp_path, load, db):
    body = ("\ufeff" + HEADER + "\r\n" + ROW + "\r\n").encode()
    path = tmp_path / "day.csv.gz"
    path.write_bytes(gzip.compress(body))
    result = load(path)
    assert (result.rows_read, result.rows_loaded) == (1, 1)
    assert db.execute("SELECT transaction_amount::text FROM transactions").fetchone() == ("12.50",)


@pytest.mark.parametrize(
    "row",
    [b"\x00" * 100, b"\xff\xfe,1,2,3,4", ROW.encode() + b"\x07", b"\x89PNG\r\n\x1a\n\x00\x00"],
    ids=["nul", "not-utf8", "control", "png"],
)
def test_only_the_header_must_be_clean_text(tmp_path, row):
    """Binary data after the header, in the first 64 KiB or later, is for the rows' check:
    it rejects those rows alone (tests/core/test_rows.py), not the whole file."""
    early = tmp_path / "early.csv"
    early.write_bytes(HEADER.encode() + b"\n" + row + b"\n" + ROW.encode() + b"\n")
    late = tmp_path / "late.csv"
    late.write_bytes(
        HEADER.encode() + b"\n" + (ROW.encode() + b"\n") * (SNIFF_BYTES // len(ROW) - 4) + row
    )
    for path in (early, late):
        assert inspect_file(path).column_count == 5


def test_a_header_name_may_be_quoted_across_lines(tmp_path):
    path = tmp_path / "quoted.csv"
    path.write_bytes(b'"a\r\nnote",' + HEADER.encode() + b"\r\n\x00\xff," + ROW.encode() + b"\r\n")
    layout = inspect_file(path)
    assert layout.column_count == 6
    assert layout.positions["transaction_id"] == 1


def test_a_file_with_bad_rows_early_still_loads_its_good_rows(tmp_path, load, db):
    """What used to refuse the whole file (binary data in its first 64 KiB after the header)
    now rejects those rows alone."""
    path = tmp_path / "rows.csv"
    path.write_bytes(
        HEADER.encode() + b"\n" + b"\x00\x01\x02\n" + b"\xe9t\xe9,1,2,3,4\n" + ROW.encode() + b"\n"
    )
    result = load(path, upload_id="mixed")
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (3, 1, 2)
    assert get_upload(db, "mixed")["status"] == "succeeded"
    assert db.execute("SELECT line_number, reason FROM rejected_rows ORDER BY 1").fetchall() == [
        (2, "row contains a NUL byte"),
        (3, "row is not valid UTF-8"),
    ]
