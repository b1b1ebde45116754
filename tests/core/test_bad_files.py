"""A file with too many bad rows, or too big once decompressed, is refused whole: quickly,
with a clear error, holding no lock while it is checked, loading nothing."""

import gzip
import threading

import psycopg
import pytest

from tests.helpers import HEADER, write_csv
from txn_core.contract import FileRejected
from txn_core.failures import is_transient
from txn_core.ledger import get_upload
from txn_core.validate import RejectLimits


def good(count: int, first: int = 0) -> list[str]:
    return [f"00000000-0000-4000-8000-{i:012d},1,1,2024-03-01T10:00:00Z,1.00"
            for i in range(first, first + count)]  # fmt: skip


def test_more_than_a_tenth_and_at_least_a_thousand_bad_rows_refuse_the_file(tmp_path, load, db):
    lines = [*good(8_000), *["not,a,row"] * 700, *[f"x{i},1,1,2024-03-01,1" for i in range(1_300)]]
    with pytest.raises(FileRejected) as refused:
        load(write_csv(tmp_path / "junk.csv", [HEADER, *lines]), upload_id="junk")
    message = str(refused.value)
    assert "2,000 of 10,000 (20.0%)" in message
    assert "transaction_id is not a UUID (1,300)" in message
    assert "malformed CSV row: missing columns (700)" in message
    assert not is_transient(refused.value)  # it would fail the same way again: not retried
    assert db.execute("SELECT count(*) FROM transactions").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM rejected_rows").fetchone()[0] == 0
    upload = get_upload(db, "junk")
    assert upload["status"] == "failed" and "too many bad rows" in upload["error"]


@pytest.mark.parametrize(
    ("good_rows", "bad_rows"),
    [(9_000, 1_000), (100, 999)],  # exactly 10%; most rows bad but fewer than 1,000
    ids=["a-tenth", "under-a-thousand"],
)
def test_up_to_the_limit_the_bad_rows_are_rejected_alone(tmp_path, load, good_rows, bad_rows):
    lines = [*good(good_rows), *["bad"] * bad_rows]
    result = load(write_csv(tmp_path / "edge.csv", [HEADER, *lines]))
    assert (result.rows_loaded, result.rows_rejected) == (good_rows, bad_rows)


def test_the_limits_are_configurable(tmp_path, load):
    path = write_csv(tmp_path / "strict.csv", [HEADER, *good(90), *["bad"] * 10])
    with pytest.raises(FileRejected, match="10 of 100"):
        load(path, limits=RejectLimits(fraction=0.05, min_rows=5))


def test_a_small_gzip_of_millions_of_bad_lines_is_refused_without_taking_the_lock(
    tmp_path, load, warehouse_url
):
    bomb = tmp_path / "bomb.csv.gz"
    with gzip.open(bomb, "wb") as out:
        out.write((HEADER + "\n").encode())
        for _ in range(30):
            out.write(b"x,y\n" * 100_000)
    assert bomb.stat().st_size < 50_000  # 12 MB of junk in a few KB
    with psycopg.connect(warehouse_url) as holder:
        # Another load holds the ingestion lock all along: the check must not wait for it.
        holder.execute("LOCK TABLE transactions IN SHARE ROW EXCLUSIVE MODE")
        outcome: list[BaseException] = []
        checking = threading.Thread(target=lambda: _capture(outcome, load, bomb))
        checking.start()
        checking.join(timeout=120)
        assert not checking.is_alive(), "the check waited for the ingestion lock"
    (refused,) = outcome
    assert isinstance(refused, FileRejected)
    assert "3,000,000 of 3,000,000 records (100.0%) are not CSV rows" in str(refused)


def _capture(outcome: list, load, path) -> None:
    try:
        load(path)
    except BaseException as exc:
        outcome.append(exc)


def test_a_gzip_bigger_than_the_cap_once_decompressed_is_refused(tmp_path, load, db):
    path = tmp_path / "big.csv.gz"
    with gzip.open(path, "wt") as out:
        out.write("\n".join([HEADER, *good(40_000)]) + "\n")  # about 2.7 MB decompressed
    with pytest.raises(FileRejected, match="larger than the limit of 1,000,000 bytes"):
        load(path, upload_id="big", limits=RejectLimits(max_decompressed_bytes=1_000_000))
    assert get_upload(db, "big")["status"] == "failed"
    assert load(path, upload_id="big-again").rows_loaded == 40_000  # under the default cap


def test_every_member_of_a_multi_member_gzip_is_read(tmp_path, load):
    path = tmp_path / "joined.csv.gz"
    path.write_bytes(
        gzip.compress(("\n".join([HEADER, *good(100)]) + "\n").encode())
        + gzip.compress(("\n".join(good(50, first=100)) + "\n").encode())
    )
    assert load(path).rows_loaded == 150


def test_a_gzip_cut_short_is_refused_as_unreadable(tmp_path, load):
    data = gzip.compress(("\n".join([HEADER, *good(5_000)]) + "\n").encode())
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(FileRejected, match="not a readable gzip file"):
        load(path)


def test_a_file_that_mixes_line_ends_loads_and_a_lone_cr_rejects_its_row_alone(tmp_path, load, db):
    """DuckDB's reader refuses such a file whole; it is checked again with one line end."""
    lines = good(3)
    body = (
        f"{HEADER}\r\n{lines[0]}\n{lines[1]}\r\nx\rz,1,1,2024-03-01T10:00:00Z,1.00\n{lines[2]}\r\n"
    )
    path = tmp_path / "mixed.csv"
    path.write_bytes(body.encode())
    result = load(path)
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (4, 3, 1)
    line, reason, raw = db.execute(
        "SELECT line_number, reason, raw_line FROM rejected_rows"
    ).fetchone()
    assert (line, reason) == (4, "row contains a control character")
    assert raw.startswith("x\ufffdz,")


def test_a_row_the_csv_reader_would_lose_uncounted_refuses_the_file(tmp_path, load, db):
    """DuckDB records at most about 2M unparsable lines of a file and drops the rest without a
    word; the records counted beforehand show it, and the file is refused, not miscounted."""
    path = tmp_path / "lossy.csv"
    with path.open("w") as out:
        out.write(HEADER + "\n")
        out.writelines("x,y\n" for _ in range(2_100_000))
    with pytest.raises(FileRejected, match=r"accounted for 1,9.* of the file.s 2,100,000 records"):
        load(path, upload_id="lossy", limits=RejectLimits(fraction=1.0))
    assert get_upload(db, "lossy")["status"] == "failed"
